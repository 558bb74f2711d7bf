"""What model names resolve to in one project: the definitions whose pattern matches, and the catalog model.

One ``ProjectNames`` per project holds its definitions (compiled, newest start date first) and the
names resolved so far. Resolving a name is the expensive step of pricing (every pattern of the
project searched, then the catalog), so it runs against a deadline set by the project's budget
(``budget.py``) and can be interrupted: the scan's progress is kept and resumed the next time the
name comes, so even a name that needs more than one burst of budget is resolved in the end.

Memory is bounded per project whatever names arrive: resolved names live in two generations of at
most ``GENERATION`` names each (a full young generation becomes the old one and the previous old
one is dropped; a name found in the old generation moves back to the young one), so the names a
project keeps using stay while a flood of one-off names only recycles that project's own entries,
at no cost to the hot path (one dict lookup). At most ``MAX_PENDING`` interrupted scans are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from interactiveai.server.costs.catalog import Catalog, CatalogModel
from interactiveai.server.costs.patterns import CompiledPattern, matching_until, subject_of

GENERATION = 1_000
"""Names per generation: a project keeps at most twice this many resolved names."""
MAX_PENDING = 8
"""Interrupted scans kept per project (the oldest is dropped first)."""


@dataclass(frozen=True)
class Definition:
    id: str
    start_date_us: int | None
    created_at_us: int
    prices: dict[str, float]


class Resolved:
    """A name's matching definitions (newest start date first) and catalog model.

    ``complete`` is False when resolving was cut short (budget spent): ``definitions`` are then the
    matches among the first patterns only, and ``catalog`` is what the catalog already knew (None
    if it had not resolved the name yet). The first applicable definition among them is still the
    right one (patterns are searched in precedence order); without one the answer is not known yet.
    """

    __slots__ = ("catalog", "complete", "definitions")

    def __init__(self, definitions: tuple[Definition, ...], catalog: CatalogModel | None, complete: bool) -> None:
        self.definitions = definitions
        self.catalog = catalog
        self.complete = complete

    def definition_at(self, start_time_us: int) -> Definition | None:
        """The definition that prices an observation starting then: the newest start date that has begun."""
        for definition in self.definitions:
            if definition.start_date_us is None or definition.start_date_us <= start_time_us:
                return definition
        return None


class ProjectNames:
    """One project's definitions and resolved names (see the module docstring)."""

    def __init__(self, loaded_at: float, key: object, patterns: Sequence[tuple[CompiledPattern, Definition]]) -> None:
        self.loaded_at = loaded_at  # time.monotonic() of the load
        self.key = key  # what was loaded: an unchanged reload keeps the names resolved so far
        self.patterns = patterns
        self.young: dict[str, Resolved] = {}  # read directly by the calculator's hot path
        self._old: dict[str, Resolved] = {}
        self._pending: dict[str, tuple[int, tuple[Definition, ...]]] = {}  # name → (resume at, matched so far)

    def recall(self, name: str) -> Resolved | None:
        """The name's answer from the old generation (moved back to the young one), if it has one."""
        found = self._old.pop(name, None)
        if found is not None:
            self._remember(name, found)
        return found

    def resolve(self, name: str, catalog: Catalog, deadline: float) -> Resolved:
        """Resolve ``name`` until ``deadline`` (``time.perf_counter()``); remembered once complete."""
        start, found = self._pending.pop(name, (0, ()))
        subject = subject_of(name)
        end = len(self.patterns)
        if subject is not None and start < end:
            start, more = matching_until(self.patterns, subject, start, deadline)
            found += tuple(more)
        if subject is not None and start < end:
            if len(self._pending) >= MAX_PENDING:
                del self._pending[next(iter(self._pending))]
            self._pending[name] = (start, found)
            return Resolved(found, catalog.peek(name)[1], complete=False)
        resolved = Resolved(found, catalog.resolve(name), complete=True)
        self._remember(name, resolved)
        return resolved

    def unresolved(self, name: str, catalog: Catalog) -> Resolved:
        """What is known of ``name`` without searching anything (no budget left); complete only by chance."""
        _start, found = self._pending.get(name, (0, ()))
        known, catalog_model = catalog.peek(name)
        if known and (not self.patterns or subject_of(name) is None):
            resolved = Resolved((), catalog_model, complete=True)  # nothing was left to search
            self._remember(name, resolved)
            return resolved
        return Resolved(found, catalog_model, complete=False)

    def _remember(self, name: str, resolved: Resolved) -> None:
        if len(self.young) >= GENERATION:
            self._old = self.young
            self.young = {}
        self.young[name] = resolved
