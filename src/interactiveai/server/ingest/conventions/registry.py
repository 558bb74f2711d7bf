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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interactiveai.server.ingest.conventions.scan import Scan

Key = str | tuple[str, int]
"""An attribute key, or (key, rank) when it ranks apart from its convention."""

Rule = Callable[["Scan"], Any]
Stage = tuple[int, Rule]
"""(rank, rule): a rule returns the field's value, or None to let the next rule answer."""


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
    families: tuple[tuple[str, str, bool], ...]  # (prefix, family, decoded), longest prefix first
    consumed: frozenset[str]
    types: tuple[Rule, ...]
    names: tuple[Rule, ...]
    inputs: tuple[Rule, ...]
    outputs: tuple[Rule, ...]
    usage: tuple[Rule, ...]
    costs: tuple[Rule, ...]
    parameters: tuple[Rule, ...]
    first_token: tuple[Rule, ...]
    prepare: tuple[Callable[[Scan], None], ...]
    refine: tuple[Callable[[Scan, dict[str, Any]], None], ...]
    conventions: frozenset[str]


def _ordered(conventions: list[Convention], attribute: str) -> tuple[Rule, ...]:
    staged = [
        (rank, index, position, rule)
        for index, convention in enumerate(conventions)
        for position, (rank, rule) in enumerate(getattr(convention, attribute))
    ]
    return tuple(rule for *_, rule in sorted(staged, key=lambda item: item[:3]))


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
    families = {prefix: family for c in conventions for prefix, family in c.families.items()}
    ordered = sorted(families.items(), key=lambda item: -len(item[0]))
    return Profile(
        keys=table,
        prefixes=tuple(prefix for prefix, _ in ordered),
        families=tuple((prefix, family, family in DECODED_FAMILIES) for prefix, family in ordered),
        consumed=frozenset(table),
        types=_ordered(conventions, "types"),
        names=_ordered(conventions, "names"),
        inputs=_ordered(conventions, "inputs"),
        outputs=_ordered(conventions, "outputs"),
        usage=_ordered(conventions, "usage"),
        costs=_ordered(conventions, "costs"),
        parameters=_ordered(conventions, "parameters"),
        first_token=_ordered(conventions, "first_token"),
        prepare=tuple(c.prepare for c in conventions if c.prepare is not None),
        refine=tuple(c.refine for c in conventions if c.refine is not None),
        conventions=frozenset(c.name for c in conventions),
    )
