"""The registry of attribute conventions, and the per-scope tables built from it.

A convention (one module each, listed in ``CONVENTIONS``) declares what it reads: attribute keys
into named slots, attribute prefixes into families, and rules (``Stage``) for the fields that
need more than a key: observation type, name, input, output, usage, time to first token, and
adjustments before (``prepare``) and after (``refine``) the generic mapping. Everything a
convention declares carries a rank (lower wins); keys and rules without their own rank take the
convention's. "First match wins" is then one order per field across all conventions, as the
reference research lists it (§2.3), whatever the module order.

A convention may apply to spans of some instrumentation scopes only (``scopes``, exact names or
``prefix.*``). Spans of one scope always meet the same conventions, so the tables a span is
scanned with are built once per scope name (``profile``) and cached: the hot path does one dict
lookup more than a single global table, and a scope's keys are never read on another's spans.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from interactiveai.server.ingest.conventions.scan import Scan

Key = str | tuple[str, int]
"""An attribute key, or (key, rank) when it ranks apart from its convention."""

Rule = Callable[["Scan"], Any]
Stage = tuple[int, Rule] | tuple[int, Rule, tuple[str, ...]]
"""(rank, rule[, needs]): a rule returns the field's value, or None to let the next rule answer.
``needs`` names the slots or families (or ``"events"``) without which the rule has nothing to
read: a span with none of them skips it without a call (most spans, on the hot path). Needs are
checked for a field's rules together, so a rule still answers None when its own are missing."""
EVENTS = "events"
"""A need met by a span with span events."""


class Step(NamedTuple):
    """A field's rules in rank order, and what a span needs for any of them to run (None: always)."""

    rules: tuple[Rule, ...]
    needs: frozenset[str] | None

    def first(self, scan: Scan) -> Any:
        """The first answer of the rules (not None nor ""), or None."""
        needs = self.needs
        if (
            needs is not None
            and needs.isdisjoint(scan.found)
            and needs.isdisjoint(scan.families)
            and not (scan.span.events and EVENTS in needs)
        ):
            return None  # scan.meets(needs), inlined: most spans stop here
        for rule in self.rules:
            found = rule(scan)
            if found is not None and found != "":
                return found
        return None


@dataclass(frozen=True)
class Convention:
    name: str
    rank: int
    slots: Mapping[str, tuple[Key, ...]] = field(default_factory=dict)
    families: Mapping[str, str] = field(default_factory=dict)
    """Attribute prefix → family: every key with that prefix lands in ``scan.family(name)``."""
    scopes: tuple[str, ...] | None = None
    """Instrumentation scopes it applies to (``name`` or ``prefix.*``); None: every span."""
    types: tuple[Stage, ...] = ()
    names: tuple[Stage, ...] = ()
    inputs: tuple[Stage, ...] = ()
    outputs: tuple[Stage, ...] = ()
    usage: tuple[Stage, ...] = ()
    """Rules returning ``(raw usage map, inclusive)``, read by ``usage.normalise_usage``."""
    costs: tuple[Stage, ...] = ()
    """Rules returning a cost map the library provides (``{"total": …}`` or by usage type)."""
    parameters: tuple[Stage, ...] = ()
    """Rules returning the model parameters as JSON text."""
    first_token: tuple[Stage, ...] = ()
    """Rules returning the completion start time (µs since the epoch)."""
    prepare: Callable[[Scan], None] | None = None
    """Runs after the scan, before any field is read (may drop or add slots)."""
    refine: Callable[[Scan, dict[str, Any]], None] | None = None
    """Runs on the finished observation row (may change type, name or times)."""
    needs: tuple[str, ...] = ()
    """What a span needs for ``prepare`` and ``refine`` to run (empty: every span)."""

    def applies_to(self, scope: str) -> bool:
        if self.scopes is None:
            return True
        return any(scope.startswith(s[:-1]) if s.endswith("*") else scope == s for s in self.scopes)


# Families whose values are metadata: JSON-decoded as they are collected.
DECODED_FAMILIES = frozenset({"obs_meta", "trace_meta", "telemetry"})


@dataclass(frozen=True)
class Profile:
    """What the spans of one instrumentation scope are read with."""

    keys: dict[str, tuple[str, int]]
    prefixes: tuple[str, ...]
    families: dict[str, tuple[tuple[str, str, bool], ...]]
    """A prefix's first dotted segment → its (prefix, family, decoded), longest prefix first."""
    consumed: frozenset[str]
    types: Step
    names: Step
    inputs: Step
    outputs: Step
    usage: Step
    costs: Step
    parameters: Step
    first_token: Step
    prepare: tuple[tuple[Callable[[Scan], None], frozenset[str] | None], ...]
    refine: tuple[tuple[Callable[[Scan, dict[str, Any]], None], frozenset[str] | None], ...]
    conventions: frozenset[str]
    triggers: frozenset[str] | None
    """Everything any rule or hook needs (None when one needs nothing): a span with none of these
    is read by the first-party declarations and the defaults alone, without a rule call."""


_STEPS = ("types", "names", "inputs", "outputs", "usage", "costs", "parameters", "first_token")


def _ordered(conventions: list[Convention], attribute: str) -> Step:
    staged: list[tuple[int, int, int, Rule, tuple[str, ...] | None]] = []
    for index, convention in enumerate(conventions):
        for position, stage in enumerate(getattr(convention, attribute)):
            needs = stage[2] if len(stage) == 3 else None
            staged.append((stage[0], index, position, stage[1], needs))
    staged.sort(key=lambda item: item[:3])
    always = any(item[4] is None for item in staged)
    needs = None if always else frozenset(name for item in staged for name in item[4] or ())
    return Step(tuple(item[3] for item in staged), needs)


def _by_head(ordered: list[tuple[str, str]]) -> dict[str, tuple[tuple[str, str, bool], ...]]:
    heads: dict[str, list[tuple[str, str, bool]]] = {}
    for prefix, family in ordered:
        heads.setdefault(prefix.split(".", 1)[0], []).append((prefix, family, family in DECODED_FAMILIES))
    return {head: tuple(entries) for head, entries in heads.items()}


def _hooks(conventions: list[Convention], attribute: str) -> tuple[tuple[Any, frozenset[str] | None], ...]:
    return tuple(
        (getattr(c, attribute), frozenset(c.needs) if c.needs else None)
        for c in conventions
        if getattr(c, attribute) is not None
    )


def build_profile(conventions: list[Convention]) -> Profile:
    ranked: dict[str, list[tuple[int, int, int, str]]] = {}
    for index, convention in enumerate(conventions):
        for slot, keys in convention.slots.items():
            for position, key in enumerate(keys):
                name, rank = (key, convention.rank) if isinstance(key, str) else key
                ranked.setdefault(slot, []).append((rank, index, position, name))
    table: dict[str, tuple[str, int]] = {}
    for slot, entries in ranked.items():
        for order, (*_, name) in enumerate(sorted(entries)):
            table.setdefault(name, (slot, order))  # a key named twice keeps its best slot
    steps = {name: _ordered(conventions, name) for name in _STEPS}
    hooks = {name: _hooks(conventions, name) for name in ("prepare", "refine")}
    needs = [step.needs for step in steps.values() if step.rules] + [n for h in hooks.values() for _, n in h]
    triggers = None if any(n is None for n in needs) else frozenset().union(*(n for n in needs if n))
    families = {prefix: family for c in conventions for prefix, family in c.families.items()}
    ordered = sorted(families.items(), key=lambda item: -len(item[0]))
    return Profile(
        keys=table,
        prefixes=tuple(prefix for prefix, _ in ordered),
        families=_by_head(ordered),
        consumed=frozenset(table),
        **steps,
        prepare=hooks["prepare"],
        refine=hooks["refine"],
        conventions=frozenset(c.name for c in conventions),
        triggers=triggers,
    )
