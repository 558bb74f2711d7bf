"""The single pass that sorts a span's attributes into slots and families.

A field usually has several candidate attributes (one per convention, in rank order). Rather
than probing every candidate of every field for every span, each recognised key maps to its
``(slot, order)`` in the span's profile, and one walk over the attributes the span actually has
keeps, per slot, the value of the best-ranked key present. Prefixed families (metadata keys,
usage counts, flattened messages) are collected in the same walk. This is the hot loop of
ingestion.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest.conventions.registry import Profile
from interactiveai.server.ingest.messages import decode_value
from interactiveai.server.ingest.otlp import Span

_EMPTY: dict[str, Any] = {}


class Scan:
    """A span's attributes sorted into slots (``found``) and families, with the span itself."""

    __slots__ = ("span", "profile", "found", "keys", "families", "start_us", "type", "quiet")

    def __init__(self, span: Span, profile: Profile) -> None:
        found: dict[str, Any] = {}
        winners: dict[str, int] = {}
        keys = profile.keys
        prefixes = profile.prefixes
        self.span = span
        self.profile = profile
        self.families: dict[str, dict[str, Any]] = {}
        for key, value in span.attributes.items():
            hit = keys.get(key)
            if hit is not None:
                if value is None or value == "":
                    continue
                slot, order = hit
                if slot not in found or order < winners[slot]:
                    found[slot] = value
                    winners[slot] = order
            elif key.startswith(prefixes):
                self._family(key, value)
        self.found = found
        self.keys = winners
        self.start_us = 0  # set by the mapping once known, with the observation type, for the rules
        self.type = "SPAN"
        triggers = profile.triggers
        # nothing any convention's rule reads: the declarations and the defaults decide every field
        self.quiet = (
            triggers is not None
            and triggers.isdisjoint(found)
            and triggers.isdisjoint(self.families)
            and not span.events
        )

    def get(self, slot: str) -> Any:
        return self.found.get(slot)

    def family(self, name: str) -> dict[str, Any]:
        """The keys of a family, their prefix removed (an empty mapping when none came)."""
        return self.families.get(name, _EMPTY)

    def meets(self, needs: frozenset[str]) -> bool:
        """Whether the span has one of these slots or families (or span events, for "events")."""
        return not (
            needs.isdisjoint(self.found)
            and needs.isdisjoint(self.families)
            and not (self.span.events and "events" in needs)
        )

    def won_by(self, slot: str, key: str) -> bool:
        """Whether ``slot`` was filled from ``key`` (rather than from a better-ranked one)."""
        hit = self.profile.keys.get(key)
        return hit is not None and hit[0] == slot and self.keys.get(slot) == hit[1]

    def _family(self, key: str, value: Any) -> None:
        for prefix, name, decoded in self.profile.families.get(key[: key.find(".")], ()):
            if key.startswith(prefix):
                members = self.families.get(name)
                if members is None:
                    members = self.families[name] = {}
                members[key[len(prefix) :]] = decode_value(value) if decoded else value
                return
