"""The conventions in use, and the tables each instrumentation scope's spans are read with.

Adding a library is adding its module (a ``CONVENTION``) to ``CONVENTIONS`` and its test: ranks,
not this order, decide which key or rule wins (``registry``).
"""

from __future__ import annotations

from interactiveai.server.ingest.conventions import (
    gen_ai,
    generic,
    langfuse_sdk,
    litellm,
    logfire,
    mlflow,
    openinference,
    openllmetry,
    ours,
    pydantic_ai,
    vercel,
)
from interactiveai.server.ingest.conventions.registry import Convention, Profile, build_profile

CONVENTIONS: tuple[Convention, ...] = (
    ours.CONVENTION,
    langfuse_sdk.CONVENTION,
    generic.CONVENTION,
    openinference.CONVENTION,
    gen_ai.CONVENTION,
    litellm.CONVENTION,
    logfire.CONVENTION,
    logfire.LLM_CONVENTION,
    pydantic_ai.CONVENTION,
    vercel.CONVENTION,
    mlflow.CONVENTION,
    openllmetry.CONVENTION,
)
FIRST_PARTY_SCOPES = ("interactiveai", "langfuse")  # their spans keep no copy of unread attributes

_PROFILES: dict[str, Profile] = {}
_MAX_PROFILES = 1_000  # scope names are few in practice; a flood of new ones only rebuilds tables


def profile(scope: str) -> Profile:
    """The tables for spans of instrumentation scope ``scope`` (built once per scope name)."""
    found = _PROFILES.get(scope)
    if found is None:
        if len(_PROFILES) >= _MAX_PROFILES:
            _PROFILES.clear()
        found = _PROFILES[scope] = _profile([c for c in CONVENTIONS if c.applies_to(scope)])
    return found


_BY_SET: dict[tuple[str, ...], Profile] = {}


def _profile(conventions: list[Convention]) -> Profile:
    """Scopes that meet the same conventions share one profile."""
    names = tuple(c.name for c in conventions)
    shared = _BY_SET.get(names)
    if shared is None:
        shared = _BY_SET[names] = build_profile(conventions)
    return shared


ALL = build_profile(list(CONVENTIONS))
"""Every convention at once: what any scope may recognise (for tests and tools probing keys)."""
