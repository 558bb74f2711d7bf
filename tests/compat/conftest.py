"""Shared fixtures of the compatibility tests: a real server of ours and the fake OpenAI server.

Scenario scripts run in their own virtual environments (``tests/support/compat_venv.py``) and
export to ``live_server_for_compat`` with the real OTLP exporter of the library under test; their
OpenAI client talks to ``fake_openai``. Both are started once per session (per engine for the
server), so each test keeps its data apart by its own trace ids or names.
"""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import live_database_url
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_openai import fake_openai as run_fake_openai
from tests.support.live_server import live_server


@dataclass(frozen=True)
class CompatServer:
    """A running server of ours: where to send spans and how to read them back."""

    url: str
    project_id: str
    public_key: str
    secret_key: str
    dialect: str

    @property
    def authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.public_key}:{self.secret_key}".encode()).decode()

    @property
    def otlp_traces_endpoint(self) -> str:
        return f"{self.url}/api/public/otel/v1/traces"

    def otel_env(self) -> dict[str, str]:
        """Environment for a scenario's standard OTLP/HTTP exporter (as a user would configure it)."""
        return {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": self.otlp_traces_endpoint,
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "Authorization=" + urllib.parse.quote(self.authorization),
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
        }

    def get(self, path: str, **params: Any) -> Any:
        """GET ``/api/public/<path>`` and decode its JSON (raises on any status but 200)."""
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.url}/api/public/{path.lstrip('/')}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, headers={"Authorization": self.authorization})
        with urllib.request.urlopen(request, timeout=30) as response:
            return orjson.loads(response.read())

    def wait_for(self, read: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Poll ``read`` until it returns something truthy (spans are exported in the background)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = read()
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
                found = None
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


@pytest.fixture(scope="session")
def live_server_for_compat(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CompatServer]:
    """One real server per engine for the whole session."""
    data_dir: Path = tmp_path_factory.mktemp(f"compat-{dialect}")
    with live_server(data_dir, live_database_url(dialect, request)) as server:
        yield CompatServer(server.url, server.project_id, server.public_key, server.secret_key, dialect)


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    """The deterministic OpenAI-compatible server on loopback; ``base_url`` ends in ``/v1``."""
    with run_fake_openai() as fake:
        yield fake
