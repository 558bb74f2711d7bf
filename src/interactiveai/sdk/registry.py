"""The process-wide client registry behind ``get_client``.

One live client per public key. ``get_client()`` never leaks data across projects: with several
clients and no key it uses the client whose observation is current (work nested in a project's
observation belongs to that project), and otherwise returns a disabled client (and says why, once)
instead of guessing. The
registry also flushes every client at interpreter exit and resets its lock after ``os.fork``.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import os
import threading
import weakref
from typing import TYPE_CHECKING

from opentelemetry import trace

from interactiveai.sdk.export.filters import SDK_SCOPE_NAME

if TYPE_CHECKING:
    from interactiveai.sdk.client import InteractiveAI

logger = logging.getLogger("interactiveai")

# Set by @observe(interactiveai_public_key=...) so nested get_client() calls pick that project.
current_public_key: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "interactiveai_public_key", default=None
)

_lock = threading.RLock()
_clients: dict[str, InteractiveAI] = {}
_live: weakref.WeakSet[InteractiveAI] = weakref.WeakSet()
_env_fallback: tuple[tuple[str | None, ...], InteractiveAI] | None = None
_disabled: InteractiveAI | None = None
_warned: set[str] = set()


def register(client: InteractiveAI) -> InteractiveAI | None:
    """Make ``client`` the client of its public key; returns the client it replaces, if any."""
    global _env_fallback
    key = client.public_key
    assert key is not None
    with _lock:
        old = _clients.get(key)
        _clients[key] = client
        _live.add(client)
        _env_fallback = None
        _warned.clear()
    return old if old is not client else None


def unregister(client: InteractiveAI) -> None:
    with _lock:
        if client.public_key is not None and _clients.get(client.public_key) is client:
            del _clients[client.public_key]
        _live.discard(client)


def registered(public_key: str) -> InteractiveAI | None:
    """The live client of ``public_key``, if any."""
    return _clients.get(public_key)


def registered_clients() -> list[InteractiveAI]:
    with _lock:
        return list(_clients.values())


def warn_once(key: str, message: str, *args: object) -> None:
    """Log a warning once per process for ``key`` (until a client registers: a new setup may warn again)."""
    if key not in _warned:
        _warned.add(key)
        logger.warning(message, *args)


def disabled_client() -> InteractiveAI:
    """A shared no-op client; never registered, owns no threads."""
    global _disabled
    if _disabled is None:
        from interactiveai.sdk.client import InteractiveAI

        _disabled = InteractiveAI._disabled_instance()
    return _disabled


def _from_env() -> InteractiveAI:
    """The client configured by environment variables, built once per configuration."""
    global _env_fallback
    from interactiveai.sdk.client import InteractiveAI

    snapshot = tuple(
        os.environ.get(k)
        for k in (
            "INTERACTIVEAI_PUBLIC_KEY",
            "INTERACTIVEAI_SECRET_KEY",
            "INTERACTIVEAI_HOST",
            "INTERACTIVEAI_TRACING_ENABLED",
        )
    )
    with _lock:
        if _clients:
            return get_client()
        if _env_fallback is not None and _env_fallback[0] == snapshot:
            return _env_fallback[1]
        client = InteractiveAI()  # registers itself when the environment configures it
        if client.public_key is None or not client.enabled:
            _env_fallback = (snapshot, client)
        return client


def get_client(*, public_key: str | None = None) -> InteractiveAI:
    """The client of ``public_key`` (default: the only client, or one built from the environment).

    With several clients and no key, the client that started the current observation is used.
    Returns a disabled no-op client, with a warning, when the key is unknown or when several
    clients exist and neither a key nor the current observation says which one to use.

    Example::

        client = get_client()
        client.update_current_trace(user_id="u-1")
    """
    key = public_key or current_public_key.get()
    clients = _clients
    if key is None:
        if len(clients) == 1:
            for client in clients.values():
                return client
        if not clients:
            return _from_env()
        enclosing = clients.get(_current_observation_key() or "")
        if enclosing is not None:
            return enclosing
        warn_once(
            "ambiguous",
            "interactiveai: %d clients exist and no public key was given; returning a disabled client. "
            "Pass get_client(public_key=...) or interactiveai_public_key=... to @observe functions.",
            len(clients),
        )
        return disabled_client()
    found = clients.get(key)
    if found is not None:
        return found
    if not clients and os.environ.get("INTERACTIVEAI_PUBLIC_KEY") == key:
        return _from_env()
    warn_once("unknown:" + key, "interactiveai: no client with public key %r; returning a disabled client", key)
    return disabled_client()


def _current_observation_key() -> str | None:
    """The public key of the client that started the current span, when one of ours did."""
    scope = getattr(trace.get_current_span(), "instrumentation_scope", None)
    if scope is None or scope.name != SDK_SCOPE_NAME or not scope.attributes:
        return None
    key = scope.attributes.get("public_key")
    return key if isinstance(key, str) else None


def _shutdown_all() -> None:
    """atexit: flush and stop every live client, each within its own bounded timeout."""
    for client in list(_live):
        try:
            client.shutdown()
        except Exception as exc:
            logger.debug("interactiveai: shutdown at exit failed: %s", exc)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.RLock()  # the parent may have held it while forking
    for client in list(_live):
        client._after_fork_in_child()


atexit.register(_shutdown_all)
os.register_at_fork(after_in_child=_after_fork_in_child)
