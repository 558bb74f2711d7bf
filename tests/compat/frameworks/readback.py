"""Run a framework scenario against our server and read what it made back through our REST API.

A scenario script (Python in its compatibility environment, or JavaScript under Node) records
every span it exported and which traces each of its named scenarios made (``_export.py``). The
test then reads those traces through ``GET /api/public/traces/{id}``, as a user's tools would,
and keeps the library's own record beside them: an assertion that fails says what the library
sent for the observation in question, so a mapping fault can be reported precisely.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.compat.conftest import CompatServer

SCRIPTS = Path(__file__).resolve().parent
READABLE_ROLES = frozenset({"system", "user", "assistant", "tool", "developer", "model", "function"})


@dataclass
class Run:
    """One scenario script's run: its record and the traces our API returns for each scenario."""

    library: str
    record: dict[str, Any]
    traces: dict[str, list[dict[str, Any]]]
    versions: dict[str, str] = field(default_factory=dict)

    def trace(self, scenario: str) -> dict[str, Any]:
        found = self.traces[scenario]
        assert len(found) == 1, f"{self.library} {scenario}: {len(found)} traces, expected one"
        return found[0]

    def observations(self, scenario: str, type: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        return [
            obs
            for obs in self.trace(scenario)["observations"]
            if (type is None or obs["type"] == type) and (name is None or obs["name"] == name)
        ]

    def one(self, scenario: str, type: str | None = None, name: str | None = None) -> dict[str, Any]:
        found = self.observations(scenario, type, name)
        seen = [(obs["type"], obs["name"]) for obs in self.trace(scenario)["observations"]]
        assert len(found) == 1, f"{self.library} {scenario}: {len(found)} of {type} {name!r} among {seen}"
        return found[0]

    def sent(self, observation: dict[str, Any]) -> str:
        """What the library sent for this observation, for assertion messages."""
        for span in self.record["spans"]:
            if span["span_id"] == observation["id"]:
                return (
                    f"\nthe library sent {span['name']!r}: "
                    + json.dumps(
                        {"attributes": span["attributes"], "events": span["events"], "status": span["status"]},
                        default=str,
                    )[:4000]
                )
        return "\n(no recorded span with this id)"


def read_run(library: str, server: CompatServer, record_path: Path, versions: dict[str, str]) -> Run:
    record = json.loads(record_path.read_text())
    traces = {
        scenario: [server.get(f"traces/{trace_id}") for trace_id in trace_ids]
        for scenario, trace_ids in record["scenarios"].items()
    }
    return Run(library, record, traces, versions)


def _parts_text(content: Any) -> str | None:
    """The text of a message's content: a string, or a list of parts (OpenAI, gen_ai, Vercel)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [_parts_text(part.get("text", part.get("content"))) for part in content if isinstance(part, dict)]
        return " ".join(text for text in texts if text)
    return None


def messages(value: Any) -> list[tuple[str, str]]:
    """``(role, text)`` of each chat message in ``value``; empty when it is not a list of messages.

    Tool calls count as text too (the function's name and arguments), so an assistant turn that
    only calls a tool is readable.
    """
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    found = []
    for item in items:
        if not isinstance(item, dict) or str(item.get("role", "")).lower() not in READABLE_ROLES:
            return []
        text = _parts_text(item.get("content")) or _parts_text(item.get("parts")) or ""
        calls = json.dumps(item.get("tool_calls") or item.get("toolCalls") or "")
        found.append((str(item["role"]).lower(), f"{text} {calls}"))
    return found


def assert_readable_input(run: Run, observation: dict[str, Any], *texts: str) -> None:
    """The input is chat messages (role and text), each of ``texts`` in one of them."""
    found = messages(observation["input"])
    assert found, f"{run.library}: input of {observation['name']!r} is not messages: {observation['input']!r:.600}" + (
        run.sent(observation)
    )
    for text in texts:
        assert any(text in content for _, content in found), f"{text!r} not in {found}" + run.sent(observation)


def assert_readable_output(run: Run, observation: dict[str, Any], text: str) -> None:
    """The output is the answer itself, or assistant messages carrying it (or its tool call)."""
    output = observation["output"]
    if isinstance(output, str):
        assert text in output, f"{run.library}: {text!r} not in output {output!r:.600}" + run.sent(observation)
        return
    found = messages(output)
    assert found and all(role == "assistant" for role, _ in found), (
        f"{run.library}: output of {observation['name']!r} is not assistant messages: {output!r:.600}"
        + run.sent(observation)
    )
    assert any(text in content for _, content in found), f"{text!r} not in {found}" + run.sent(observation)


def _called_tools(item: Any) -> list[str]:
    """Names of the tools a tool call (OpenAI, OpenInference, gen_ai or Vercel shape) calls."""
    if not isinstance(item, dict):
        return []
    called = [str(item[key]) for key in ("toolName", "name") if isinstance(item.get(key), str)]
    function = item.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        called.append(function["name"])
    for key in ("tool_calls", "toolCalls", "parts", "content"):
        if isinstance(item.get(key), list):
            called += [name for part in item[key] for name in _called_tools(part)]
    return called


def assert_tool_call_output(run: Run, observation: dict[str, Any], tool: str) -> None:
    """The output is a call of ``tool``: an assistant message with tool calls, or the calls themselves."""
    output = observation["output"]
    items = output if isinstance(output, list) else [output]
    roles = {str(item.get("role")).lower() for item in items if isinstance(item, dict) and "role" in item}
    called = [name for item in items for name in _called_tools(item)]
    assert tool in called and roles <= {"assistant"}, (
        f"{run.library}: output of {observation['name']!r} is no readable call of {tool}: {output!r:.600}"
        + run.sent(observation)
    )


def ancestors(trace: dict[str, Any], observation: dict[str, Any]) -> list[dict[str, Any]]:
    """The observation's parents up to the root, each one stored in the same trace."""
    by_id = {obs["id"]: obs for obs in trace["observations"]}
    chain = []
    parent = observation["parentObservationId"]
    while parent is not None:
        assert parent in by_id, f"parent {parent} of {observation['name']!r} is not in the trace"
        chain.append(by_id[parent])
        parent = by_id[parent]["parentObservationId"]
    return chain


def names(observations: Iterable[dict[str, Any]]) -> list[str]:
    return [str(obs["name"]) for obs in observations]
