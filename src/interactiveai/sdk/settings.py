"""Every ``INTERACTIVEAI_*`` environment variable the SDK reads, in one documented table.

Precedence is always: constructor argument > environment variable > default. A malformed
environment value never raises (the SDK must not break the host app): it is logged and the
default is used instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

logger = logging.getLogger("interactiveai")

DEFAULT_HOST: Final = "http://localhost:3000"

DEFAULT_MAX_QUEUE_BYTES: Final = 256 * 1024 * 1024
"""The span buffer's memory bound (256 MiB). A burst of 100,000 small observations fits in it even
if none had been encoded yet (~1.35 KB each as span objects by the processor's estimate; ~0.5 KB
once encoded, which the export thread does within milliseconds), and a receiver outage cannot grow
the process by more than this."""

DEFAULT_MAX_SCORE_QUEUE: Final = 10_000
"""Scores buffered when ``max_queue_size`` is not set."""

# CI/CD variables holding the deployed commit, tried in order when no release is configured.
RELEASE_FALLBACK_VARS: Final = (
    "RENDER_GIT_COMMIT",
    "CI_COMMIT_SHA",
    "CIRCLE_SHA1",
    "SOURCE_VERSION",
    "TRAVIS_COMMIT",
    "GIT_COMMIT",
    "GITHUB_SHA",
    "BITBUCKET_COMMIT",
    "BUILD_SOURCEVERSION",
    "DRONE_COMMIT_SHA",
)


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, value type, default and what it does."""

    env: str
    type: type
    default: Any
    doc: str


SETTINGS: Final[dict[str, Setting]] = {
    s.env: s
    for s in (
        Setting(
            "INTERACTIVEAI_PUBLIC_KEY", str, None, "Project public key (pk-...). Without it the client is disabled."
        ),
        Setting(
            "INTERACTIVEAI_SECRET_KEY", str, None, "Project secret key (sk-...). Without it the client is disabled."
        ),
        Setting("INTERACTIVEAI_HOST", str, DEFAULT_HOST, "Base URL of the InteractiveAI server."),
        Setting("INTERACTIVEAI_BASE_URL", str, None, "Alias of INTERACTIVEAI_HOST (used when HOST is unset)."),
        Setting("INTERACTIVEAI_TRACING_ENVIRONMENT", str, None, "Environment written on every span (production...)."),
        Setting("INTERACTIVEAI_RELEASE", str, None, "Release written on every span; falls back to CI commit vars."),
        Setting("INTERACTIVEAI_TRACING_ENABLED", bool, True, "false/0 turns the client into a no-op."),
        Setting("INTERACTIVEAI_SAMPLE_RATE", float, 1.0, "Fraction of traces exported, 0.0-1.0, by trace id."),
        Setting("INTERACTIVEAI_FLUSH_AT", int, 512, "Spans per export batch."),
        Setting("INTERACTIVEAI_FLUSH_INTERVAL", float, 1.0, "Seconds between background exports."),
        Setting("INTERACTIVEAI_TIMEOUT", float, 5.0, "Seconds allowed for one HTTP request to the server."),
        Setting("INTERACTIVEAI_DEBUG", bool, False, "Log the SDK's internals at DEBUG level."),
        Setting(
            "INTERACTIVEAI_MAX_QUEUE_BYTES",
            int,
            DEFAULT_MAX_QUEUE_BYTES,
            "Memory (bytes, estimated) that buffered spans may hold before new ones are dropped.",
        ),
        Setting(
            "INTERACTIVEAI_MAX_QUEUE_SIZE",
            int,
            None,
            "Optional cap on buffered spans (unset: only the memory bound); also the score queue (10,000).",
        ),
        Setting(
            "INTERACTIVEAI_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED",
            bool,
            True,
            "false/0 stops @observe capturing arguments and return values (explicit arguments win).",
        ),
    )
}

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


_PARSERS: Final[dict[type, Callable[[str], Any]]] = {
    str: lambda raw: raw,
    bool: _parse_bool,
    int: lambda raw: int(raw.strip()),
    float: lambda raw: float(raw.strip()),
}


def env_value(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The typed value of a declared variable: the environment's when set and valid, else its default."""
    setting = SETTINGS[name]
    env = os.environ if environ is None else environ
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return setting.default
    try:
        return _PARSERS[setting.type](raw)
    except ValueError:
        logger.warning(
            "Ignoring invalid %s=%r (expected %s); using %r", name, raw, setting.type.__name__, setting.default
        )
        return setting.default


def resolve(arg: Any, name: str, environ: Mapping[str, str] | None = None) -> Any:
    """Argument if given (``is not None``, so 0 and 0.0 count), else the environment, else the default."""
    return arg if arg is not None else env_value(name, environ)


@dataclass(frozen=True)
class ClientSettings:
    """The resolved configuration of one client."""

    public_key: str | None
    secret_key: str | None
    host: str
    environment: str | None
    release: str | None
    tracing_enabled: bool
    sample_rate: float
    flush_at: int
    flush_interval: float
    timeout: float
    debug: bool
    max_queue_size: int | None
    """Cap on buffered spans; None: only ``max_queue_bytes`` bounds them."""
    max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES


def _resolve_host(host: str | None, base_url: str | None, env: Mapping[str, str]) -> str:
    value = host or base_url or env.get("INTERACTIVEAI_HOST") or env.get("INTERACTIVEAI_BASE_URL") or DEFAULT_HOST
    return value.strip().rstrip("/")


def _resolve_release(release: str | None, env: Mapping[str, str]) -> str | None:
    if release:
        return release
    for name in ("INTERACTIVEAI_RELEASE", *RELEASE_FALLBACK_VARS):
        if env.get(name):
            return env[name]
    return None


def _clamp_rate(rate: float) -> float:
    if not 0.0 <= rate <= 1.0:
        logger.warning("sample_rate %r is outside [0, 1]; clamping it", rate)
        return min(max(rate, 0.0), 1.0)
    return rate


def load_client_settings(
    *,
    public_key: str | None = None,
    secret_key: str | None = None,
    host: str | None = None,
    base_url: str | None = None,
    environment: str | None = None,
    release: str | None = None,
    tracing_enabled: bool | None = None,
    sample_rate: float | None = None,
    flush_at: int | None = None,
    flush_interval: float | None = None,
    timeout: float | None = None,
    debug: bool | None = None,
    max_queue_size: int | None = None,
    max_queue_bytes: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientSettings:
    """Resolve every client option: argument > environment > default. Never raises."""
    env = os.environ if environ is None else environ
    queue_size = resolve(max_queue_size, "INTERACTIVEAI_MAX_QUEUE_SIZE", env)
    return ClientSettings(
        public_key=resolve(public_key, "INTERACTIVEAI_PUBLIC_KEY", env) or None,
        secret_key=resolve(secret_key, "INTERACTIVEAI_SECRET_KEY", env) or None,
        host=_resolve_host(host, base_url, env),
        environment=resolve(environment, "INTERACTIVEAI_TRACING_ENVIRONMENT", env) or None,
        release=_resolve_release(release, env),
        tracing_enabled=bool(resolve(tracing_enabled, "INTERACTIVEAI_TRACING_ENABLED", env)),
        sample_rate=_clamp_rate(float(resolve(sample_rate, "INTERACTIVEAI_SAMPLE_RATE", env))),
        flush_at=max(1, int(resolve(flush_at, "INTERACTIVEAI_FLUSH_AT", env))),
        flush_interval=max(0.01, float(resolve(flush_interval, "INTERACTIVEAI_FLUSH_INTERVAL", env))),
        timeout=max(0.1, float(resolve(timeout, "INTERACTIVEAI_TIMEOUT", env))),
        debug=bool(resolve(debug, "INTERACTIVEAI_DEBUG", env)),
        max_queue_size=None if queue_size is None else max(1, int(queue_size)),
        max_queue_bytes=max(1, int(resolve(max_queue_bytes, "INTERACTIVEAI_MAX_QUEUE_BYTES", env))),
    )


def io_capture_enabled() -> bool:
    """The global @observe I/O switch (read at decoration time)."""
    return bool(env_value("INTERACTIVEAI_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED"))
