"""A tiny REST client for the server's public API (stdlib only, bounded timeouts).

Used for scores, ``auth_check`` and the project lookup behind ``get_trace_url``. It never
raises: every call returns an ``ApiResponse`` whose ``status`` is 0 on a network error.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

import orjson

from interactiveai.version import __version__

logger = logging.getLogger("interactiveai")

PROJECTS_PATH: Final = "/api/public/projects"
_RETRY_SECONDS: Final = 30.0  # after a failed lookup, do not block every caller again


@dataclass(frozen=True)
class ApiResponse:
    """Status 0 means the request never got an HTTP answer (refused, timed out...)."""

    status: int
    body: bytes = b""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status == 429 or self.status >= 500

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None


def sdk_headers(public_key: str, secret_key: str, additional: dict[str, str] | None = None) -> dict[str, str]:
    """Auth and SDK identification headers, with ``additional`` applied on top."""
    token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode("ascii")
    headers = {
        "Authorization": f"Basic {token}",
        "x-interactiveai-sdk-name": "python",
        "x-interactiveai-sdk-version": __version__,
        "x-interactiveai-public-key": public_key,
    }
    headers.update(additional or {})
    return headers


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class ApiClient:
    """Blocking JSON requests to ``{host}/api/public/...``; call it from background threads."""

    def __init__(self, host: str, headers: dict[str, str], timeout: float) -> None:
        self.host = host.rstrip("/")
        self.headers = headers
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None, *, timeout: float | None = None) -> ApiResponse:
        import urllib.error  # imported on first use: keeps `import interactiveai` fast
        import urllib.request

        data = None if body is None else orjson.dumps(body)
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.host + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                return ApiResponse(resp.status, resp.read())
        except urllib.error.HTTPError as err:
            try:
                payload = err.read()
            except Exception:
                payload = b""
            return ApiResponse(err.code, payload, _retry_after(err.headers.get("Retry-After")))
        except Exception as exc:  # refused, DNS, timeout, TLS...
            logger.debug("interactiveai: %s %s failed: %s", method, path, exc)
            return ApiResponse(0)

    def get(self, path: str, *, timeout: float | None = None) -> ApiResponse:
        return self.request("GET", path, timeout=timeout)

    def post(self, path: str, body: Any, *, timeout: float | None = None) -> ApiResponse:
        return self.request("POST", path, body, timeout=timeout)


class ProjectLookup:
    """The id of the project the keys belong to (first item of ``GET /api/public/projects``), cached."""

    def __init__(self, api: ApiClient, timeout: float) -> None:
        self._api = api
        self._timeout = timeout
        self._project_id: str | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def after_fork_in_child(self) -> None:
        # A parent thread may have held the lock at fork time; it does not exist in the child.
        self._lock = threading.Lock()

    def project_id(self) -> str | None:
        """The project id, or None when the server cannot tell (looked up again 30 s later)."""
        with self._lock:
            if self._project_id is not None:
                return self._project_id
            if self._checked_at is not None and time.monotonic() - self._checked_at < _RETRY_SECONDS:
                return None
            self._checked_at = time.monotonic()
            resp = self._api.get(PROJECTS_PATH, timeout=self._timeout)
            data = resp.json() if resp.ok else None
            items = data.get("data") if isinstance(data, dict) else None
            if isinstance(items, list) and items and isinstance(items[0], dict) and items[0].get("id"):
                self._project_id = str(items[0]["id"])
            else:
                logger.warning("interactiveai: could not look up the project (HTTP %s)", resp.status or "no answer")
            return self._project_id
