"""Shared by the peer-SDK scenarios (sdk_*.py): run inside a compat venv holding one release of
the existing SDK, never inside ours, so only the standard library and that SDK are imported.

A scenario does what a user of that release does, then reads everything back through the SDK's
own API client and writes a JSON summary to the path given as its first argument. The test
(tests/compat/test_peer_sdk.py) checks that summary and the same data through our REST API.

Every step runs in :func:`Summary.step`: an exception the SDK raises (a response it cannot
validate, a 404 on a route we lack) is recorded under ``errors`` with the step's name instead of
ending the scenario, so one failure does not hide the others. Every HTTP request the process
makes (the SDK's REST client and score queue through httpx, its OTLP exporter through requests)
is recorded with its status under ``requests``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import sys
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

REQUESTS: list[dict[str, Any]] = []


def _record(method: str, url: str, status: int | None) -> None:
    parsed = urllib.parse.urlsplit(url)
    REQUESTS.append({"method": method, "path": parsed.path, "query": parsed.query, "status": status})


def record_http() -> None:
    """Record every request of httpx (REST, scores) and requests (OTLP) with its status."""
    import httpx

    send = httpx.Client.send

    def recording_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            response = send(self, request, *args, **kwargs)
        except Exception:
            _record(request.method, str(request.url), None)
            raise
        _record(request.method, str(request.url), response.status_code)
        return response

    httpx.Client.send = recording_send  # type: ignore[method-assign]
    try:
        import requests
    except ImportError:  # pragma: no cover - the OTLP exporter always brings it
        return
    session_send = requests.Session.send

    def recording_session_send(self: Any, request: Any, **kwargs: Any) -> Any:
        try:
            response = session_send(self, request, **kwargs)
        except Exception:
            _record(request.method, request.url, None)
            raise
        _record(request.method, request.url, response.status_code)
        return response

    requests.Session.send = recording_session_send  # type: ignore[method-assign]


def sdk_version() -> tuple[int, int]:
    major, minor = importlib.metadata.version("langfuse").split(".")[:2]
    return int(major), int(minor)


def jsonable(value: Any) -> Any:
    """A response model of the SDK (pydantic v1 or v2, any Fern generation) as plain JSON."""
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json", by_alias=True))
    if hasattr(value, "dict") and hasattr(value, "__fields__"):
        return jsonable(value.dict(by_alias=True))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def field(value: Any, *names: str) -> Any:
    """``value.<name>`` for the first of ``names`` it has (snake_case in the SDK's models)."""
    for name in names:
        if isinstance(value, dict) and name in value:
            return value[name]
        if hasattr(value, name):
            return getattr(value, name)
    return None


class Summary:
    def __init__(self, scenario: str) -> None:
        major, minor = sdk_version()
        self.data: dict[str, Any] = {
            "scenario": scenario,
            "sdk_version": importlib.metadata.version("langfuse"),
            "major": major,
            "minor": minor,
            "errors": {},
            "requests": REQUESTS,
        }

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = jsonable(value)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # what the SDK raised is the finding
            self.data["errors"][name] = f"{type(exc).__name__}: {exc}"[:2000]
            print(f"step {name} failed:", file=sys.stderr)
            traceback.print_exc()

    def write(self) -> None:
        with open(sys.argv[1], "w") as out:
            json.dump(self.data, out, indent=1, default=str)


def poll(read: Callable[[], Any], ready: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    """``read()`` until ``ready`` of it (the server answers after committing, but the SDK exports
    in the background: a read right after flush() normally succeeds at once)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = read()
        except Exception:
            if time.monotonic() > deadline:
                raise
            value = None
        if value is not None and ready(value):
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def run_tag() -> str:
    """Names of this run's datasets, users and sessions carry it, to keep runs on one server apart."""
    return os.environ["PEER_RUN"]
