"""Every recognised span attribute, for tests and tools that probe them.

The attributes each convention reads are declared in its module under ``conventions/`` and
gathered by ``conventions.catalog``; this module only lists them, as one table across all scopes.
"""

from __future__ import annotations

from interactiveai.server.ingest.conventions.catalog import ALL, CONVENTIONS
from interactiveai.server.ingest.conventions.vercel import TELEMETRY_PREFIX

KEYS: dict[str, tuple[str, int]] = dict(ALL.keys)
"""Recognised key → (slot, order among the slot's keys)."""
FAMILIES: tuple[str, ...] = tuple(prefix for prefix in ALL.prefixes if prefix != TELEMETRY_PREFIX)
"""Attribute prefixes read as families on spans of any scope."""
SCOPED_KEYS: dict[str, tuple[str, ...]] = {
    scope: tuple(key for keys in c.slots.values() for key in (k if isinstance(k, str) else k[0] for k in keys))
    for c in CONVENTIONS
    if c.scopes
    for scope in c.scopes
}
"""Keys read only on spans of one instrumentation scope, by scope."""

__all__ = ["FAMILIES", "KEYS", "SCOPED_KEYS", "TELEMETRY_PREFIX"]
