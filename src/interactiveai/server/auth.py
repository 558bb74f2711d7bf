"""API-key authentication for the public API and ingestion: HTTP Basic ``public_key:secret_key``."""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError

from interactiveai.server.clock import now_us
from interactiveai.server.passwords import hash_api_secret
from interactiveai.server.storage.schema import api_keys

_CACHE_SECONDS = 10.0  # a revoked key stops working within this time on every replica


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    project_id: str
    public_key: str
    secret_hash: str


class ApiKeyVerifier:
    """Checks Basic credentials against hashed secrets, caching lookups briefly (auth is per request)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._lock = threading.Lock()
        self._last_used_written: dict[str, float] = {}

    def verify(self, authorization: str | None) -> ApiKey:
        public_key, secret_key = _parse_basic(authorization)
        key = self._lookup(public_key)
        if key is None or not hmac.compare_digest(key.secret_hash, hash_api_secret(secret_key)):
            raise HTTPException(status_code=401, detail="Invalid API key: unknown public key or wrong secret key")
        self._touch(key)
        return key

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    def _lookup(self, public_key: str) -> ApiKey | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(public_key)
        if cached is not None and now - cached[0] < _CACHE_SECONDS:
            return cached[1]
        try:
            with self._engine.connect() as conn:
                row = conn.execute(
                    select(api_keys.c.id, api_keys.c.project_id, api_keys.c.public_key, api_keys.c.secret_hash).where(
                        api_keys.c.public_key == public_key
                    )
                ).first()
        except OperationalError:
            # The client did nothing wrong: tell it to come back, as ingestion does when the DB is down.
            raise HTTPException(
                status_code=503, detail="Database unavailable, try again later", headers={"Retry-After": "5"}
            ) from None
        key = ApiKey(row[0], row[1], row[2], row[3]) if row is not None else None
        with self._lock:
            if len(self._cache) > 10_000:  # bound memory against floods of random keys
                self._cache.clear()
            self._cache[public_key] = (now, key)
        return key

    def _touch(self, key: ApiKey) -> None:
        # "last used" is informative; writing it at most once a minute keeps auth off the write path.
        now = time.monotonic()
        if now - self._last_used_written.get(key.key_id, -1e9) < 60:
            return
        self._last_used_written[key.key_id] = now
        try:
            with self._engine.begin() as conn:
                conn.execute(update(api_keys).where(api_keys.c.id == key.key_id).values(last_used_at_us=now_us()))
        except Exception:
            pass


def _parse_basic(authorization: str | None) -> tuple[str, str]:
    if not authorization:
        raise HTTPException(
            status_code=401,
            detail="Missing Authorization header: use HTTP Basic with public_key:secret_key",
            headers={"WWW-Authenticate": 'Basic realm="interactiveai"'},
        )
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise HTTPException(status_code=401, detail="Authorization must be HTTP Basic with public_key:secret_key")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise HTTPException(status_code=401, detail="Authorization header is not valid base64") from None
    public_key, sep, secret_key = decoded.partition(":")
    if not sep or not public_key or not secret_key:
        raise HTTPException(status_code=401, detail="Authorization must carry public_key:secret_key")
    return public_key, secret_key


def require_api_key(request: Request) -> ApiKey:
    """FastAPI dependency: the authenticated key; its project scopes everything the request touches."""
    verifier: ApiKeyVerifier = request.app.state.api_keys
    return verifier.verify(request.headers.get("authorization"))
