"""Evaluator prompts: ``{{variable}}`` placeholders filled from a trace or an observation.

A variable maps to a field of the trace (input, output, metadata, name, tags, userId, sessionId,
environment, release) or of an observation (input, output, metadata, name, type, model): the
evaluator's target observation, or the trace's first observation of a given name and/or type
(what a trace evaluator reads of, say, its "retrieve" span); optionally one key of
``metadata``. A variable named like a field of the target maps to it without being declared.
Values are inserted as text: a string as it is, anything else as JSON, each cut at
``MAX_VARIABLE_CHARS`` (with a marker) so one huge payload cannot make the judge's prompt
unbounded. A value is inserted once: placeholders in a trace's text are not filled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from interactiveai.server.query.records import Observation, Trace

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
MAX_VARIABLE_CHARS = 50_000

TRACE_FIELDS = ("input", "output", "metadata", "name", "tags", "userId", "sessionId", "environment", "release")
OBSERVATION_FIELDS = ("input", "output", "metadata", "name", "type", "model")


@dataclass(frozen=True, slots=True)
class Source:
    """Where one variable's value comes from."""

    source: str  # trace | observation
    field: str
    key: str | None = None
    observation_name: str | None = None  # source observation: which one of the trace …
    observation_type: str | None = None  # … (neither: the evaluator's target observation)

    @property
    def named(self) -> tuple[str | None, str | None] | None:
        """The (name, type) of the trace's observation it reads, if it names one."""
        if self.source != "observation" or (self.observation_name is None and self.observation_type is None):
            return None
        return (self.observation_name, self.observation_type)


def variables(prompt: str) -> list[str]:
    """The prompt's variables, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(prompt)))


def resolve_mapping(prompt: str, mapping: Mapping[str, Source], target: str) -> dict[str, Source]:
    """Every variable of ``prompt`` with its source; ValueError naming a variable without one, or
    a source the target cannot give."""
    resolved: dict[str, Source] = {}
    own_fields = TRACE_FIELDS if target == "trace" else OBSERVATION_FIELDS
    for name in variables(prompt):
        source = mapping.get(name)
        if source is None:
            if name not in own_fields:
                raise ValueError(
                    f"variable {{{{{name}}}}} has no mapping: add variableMapping.{name} "
                    f"(a field of the {target}, e.g. {{'source': '{target}', 'field': 'output'}})"
                )
            source = Source(target, name)
        resolved[name] = source
    for name, source in {**mapping, **resolved}.items():
        _check_source(name, source, target)
    return resolved


def _check_source(name: str, source: Source, target: str) -> None:
    if source.source == "observation" and target != "observation" and source.named is None:
        raise ValueError(
            f"variable {name}: an observation field needs target 'observation', or names the trace's "
            "observation to read (observationName and/or observationType)"
        )
    if source.source == "trace" and (source.observation_name is not None or source.observation_type is not None):
        raise ValueError(f"variable {name}: observationName and observationType apply to source 'observation' only")
    fields = TRACE_FIELDS if source.source == "trace" else OBSERVATION_FIELDS
    if source.field not in fields:
        raise ValueError(f"variable {name}: {source.source} has no field {source.field!r} (one of {', '.join(fields)})")
    if source.key is not None and source.field != "metadata":
        raise ValueError(f"variable {name}: key applies to field 'metadata' only")


def render(
    prompt: str,
    mapping: Mapping[str, Source],
    trace: Trace,
    observation: Observation | None,
    named: Mapping[tuple[str | None, str | None], Observation | None] | None = None,
) -> str:
    """The prompt with every variable replaced by its value ("" when the field is empty);
    ``named`` holds the observations that variables name, by (name, type)."""

    def value_of(match: re.Match[str]) -> str:
        source = mapping.get(match.group(1))
        if source is None:
            return match.group(0)
        key = source.named
        value = _field(trace, observation if key is None else (named or {}).get(key), source)
        return _as_text(value)

    return PLACEHOLDER.sub(value_of, prompt)


_TRACE_ATTRS = {"userId": "user_id", "sessionId": "session_id"}


def _field(trace: Trace, observation: Observation | None, source: Source) -> Any:
    if source.source == "observation":
        if observation is None:
            return None
        value = getattr(observation, source.field)
    else:
        value = getattr(trace, _TRACE_ATTRS.get(source.field, source.field))
    if source.key is not None:
        return value.get(source.key) if isinstance(value, dict) else None
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    if len(text) > MAX_VARIABLE_CHARS:
        cut = len(text) - MAX_VARIABLE_CHARS
        return text[:MAX_VARIABLE_CHARS] + f"… [{cut} characters cut]"
    return text
