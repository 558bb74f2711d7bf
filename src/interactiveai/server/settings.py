"""Server settings: one table, each read from an argument, then INTERACTIVEAI_* env var, then default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from interactiveai.server.storage.engines import default_database_url


def _data_dir_default() -> Path:
    return Path(os.environ.get("INTERACTIVEAI_DATA_DIR") or Path.home() / ".interactiveai")


@dataclass(frozen=True)
class Settings:
    """Every server setting. The env var of a field is ``INTERACTIVEAI_<FIELD NAME IN CAPITALS>`` (see env_name)."""

    host: str = field(default="127.0.0.1", metadata={"doc": "Interface to listen on."})
    port: int = field(default=3000, metadata={"doc": "TCP port to listen on (0 picks a free one)."})
    data_dir: Path = field(
        default_factory=_data_dir_default, metadata={"doc": "Directory for the SQLite file and the session secret."}
    )
    database_url: str = field(
        default="", metadata={"doc": "SQLAlchemy URL; empty means a SQLite file in the data dir."}
    )
    public_url: str = field(
        default="", metadata={"doc": "Base URL users reach the server at, for links (default: http://host:port)."}
    )
    max_body_bytes: int = field(
        default=20 * 1024 * 1024, metadata={"doc": "Largest accepted ingestion body, after decompression."}
    )
    max_json_body_bytes: int = field(
        default=10 * 1024 * 1024, metadata={"doc": "Largest accepted JSON body of a REST API write."}
    )
    max_form_bytes: int = field(default=1024 * 1024, metadata={"doc": "Largest accepted web UI form post."})
    body_budget_bytes: int = field(
        default=160 * 1024 * 1024,
        metadata={"doc": "Request body bytes a server process holds at once, counted as they arrive; beyond, 429."},
    )
    retry_after_seconds: int = field(
        default=1, metadata={"doc": "Retry-After of a 429 (body budget or ingestion queue full)."}
    )
    header_timeout_seconds: int = field(
        default=5, metadata={"doc": "Time for a request's line and headers to arrive; then the connection closes."}
    )
    body_timeout_seconds: int = field(
        default=10, metadata={"doc": "How far a request body may fall behind 8 KiB/s; then 408 and close."}
    )
    ingest_queue_spans: int = field(
        default=200_000, metadata={"doc": "Spans waiting for commit before ingestion answers 429."}
    )
    ingest_queue_bytes: int = field(
        default=64 * 1024 * 1024,
        metadata={
            "doc": "Payload bytes (request bodies as decoded, uncompressed) of the spans waiting for commit "
            "before ingestion answers 429: bounds the queue's memory whatever the size of the spans."
        },
    )
    project_reserve_percent: int = field(
        default=25,
        metadata={
            "doc": "Percent of the body budget and of the ingestion queue one project cannot fill (0-50): kept "
            "for the projects holding little of them, so that one project's overload is 429 on its own requests only."
        },
    )
    ingest_batch_spans: int = field(default=5_000, metadata={"doc": "Most spans written in one transaction."})
    db_pool_size: int = field(default=10, metadata={"doc": "Database connections per server process."})
    workers: int = field(
        default=1, metadata={"doc": "Server processes sharing the port; each decodes and writes on its own."}
    )
    secure_cookies: bool = field(
        default=False,
        metadata={"doc": "Mark session cookies Secure; they are whenever public_url starts with https://."},
    )
    trusted_proxies: str = field(
        default="",
        metadata={
            "doc": "Comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed "
            "(default: none, the peer address is the client)."
        },
    )
    rollup_refresh_ms: int = field(
        default=1000,
        metadata={
            "doc": "How often each server process recomputes the dashboard roll-ups of the hours that changed "
            "(milliseconds; 0 stops it, and the dashboard then scans changed hours exactly)."
        },
    )
    encryption_key: str = field(
        default="",
        metadata={
            "doc": "Fernet key(s), comma-separated, that encrypt the API keys of model connections (the first "
            "encrypts); empty: the key file encryption.key in the data dir, created on first start."
        },
    )
    eval_poll_ms: int = field(
        default=1000,
        metadata={
            "doc": "How often each server process looks for new traces to evaluate and for due evaluations "
            "(milliseconds; 0 stops the evaluation worker of this process)."
        },
    )
    eval_scan_lag_ms: int = field(
        default=5000,
        metadata={"doc": "Age of a trace row before the evaluation worker first looks at it (commits in flight)."},
    )
    eval_concurrency: int = field(default=4, metadata={"doc": "Judge calls one server process makes at once."})
    eval_timeout_ms: int = field(default=60_000, metadata={"doc": "Time a judge has to answer one call."})
    eval_max_attempts: int = field(
        default=3, metadata={"doc": "Attempts of one evaluation before it is marked failed."}
    )
    eval_retry_ms: int = field(
        default=5000, metadata={"doc": "Wait before an evaluation's second attempt; doubled for each further one."}
    )
    log_level: str = field(default="info", metadata={"doc": "Log level of the server process."})

    def __post_init__(self) -> None:
        proxy_networks(self.trusted_proxies)  # a typo fails at start, not silently at the first login
        if not 0 <= self.project_reserve_percent <= 50:
            raise ValueError(f"{env_name('project_reserve_percent')}: must be between 0 and 50")

    @property
    def cookies_secure(self) -> bool:
        """Session and CSRF cookies carry ``Secure``: asked for, or implied by an https public URL."""
        return self.secure_cookies or self.public_url.strip().lower().startswith("https://")

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return proxy_networks(self.trusted_proxies)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url(self.data_dir)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"


def proxy_networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """``"10.0.0.1, 192.168.0.0/16"`` as networks; a ValueError names the setting's variable."""
    networks = []
    for part in value.split(","):
        if part.strip():
            try:
                networks.append(ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"{env_name('trusted_proxies')}: {exc}") from None
    return tuple(networks)


# INTERACTIVEAI_HOST is the SDK's server URL (DESIGN §2), so the listen address takes another name.
_ENV_OVERRIDES = {"host": "INTERACTIVEAI_LISTEN_HOST"}


def env_name(field_name: str) -> str:
    return _ENV_OVERRIDES.get(field_name, "INTERACTIVEAI_" + field_name.upper())


def load_settings(**overrides: Any) -> Settings:
    """Settings from explicit overrides (None means unset), then the environment, then defaults."""
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if overrides.get(f.name) is not None:
            values[f.name] = _cast(f.type, overrides[f.name], f.name)
        elif (raw := os.environ.get(env_name(f.name))) not in (None, ""):
            values[f.name] = _cast(f.type, raw, env_name(f.name))
    return Settings(**values)


def _cast(type_name: Any, value: Any, source: str) -> Any:
    try:
        if type_name in ("int", int):
            return int(value)
        if type_name in ("bool", bool):
            return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")
        if type_name in ("Path", Path):
            return Path(value).expanduser()
        return str(value)
    except ValueError as exc:
        raise ValueError(f"{source}: invalid value {value!r}: {exc}") from None
