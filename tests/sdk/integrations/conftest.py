"""Fixtures of the integration tests: a real server of ours (per engine), the fake OpenAI server, and
an SDK client exporting to that server over loopback HTTP.

The real ``openai`` and ``langchain-core`` libraries drive the fake server; what they record is read
back through our REST API, as a user would see it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

import interactiveai.openai  # noqa: F401  (instruments the openai library for these tests)
from interactiveai import InteractiveAI
from tests.conftest import live_database_url
from tests.support.fake_openai import FakeOpenAI, fake_openai
from tests.support.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp(f"integrations-{dialect}"), live_database_url(dialect, request)
    ) as running:
        yield running


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


@pytest.fixture
def sdk(server: LiveServer) -> Iterator[InteractiveAI]:
    """The only client (so integrations find it with ``get_client()``), on its own provider."""
    provider = TracerProvider(shutdown_on_exit=False)
    client = InteractiveAI(
        public_key=server.public_key,
        secret_key=server.secret_key,
        host=server.url,
        tracer_provider=provider,
        flush_interval=0.05,
    )
    yield client
    client.shutdown(timeout=5)
    provider.shutdown()


def api(server: LiveServer, path: str, **params: Any) -> Any:
    response = httpx.get(f"{server.url}/api/public{path}", params=params, headers=server.auth_header, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def read_trace(server: LiveServer, client: InteractiveAI, trace_id: str, observations: int) -> dict[str, Any]:
    """The trace as the API returns it, once ``observations`` observations of it are stored."""
    assert client.flush(timeout=10)
    deadline = time.monotonic() + 20
    while True:
        response = httpx.get(f"{server.url}/api/public/traces/{trace_id}", headers=server.auth_header, timeout=30)
        if response.status_code == 200 and len(response.json()["observations"]) >= observations:
            trace: dict[str, Any] = response.json()
            return trace
        assert time.monotonic() < deadline, f"trace {trace_id}: {response.status_code} {response.text[:500]}"
        time.sleep(0.1)


def by_name(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The trace's observations by name (names are unique in these tests)."""
    found: dict[str, dict[str, Any]] = {}
    for observation in trace["observations"]:
        assert observation["name"] not in found, f"two observations named {observation['name']!r}"
        found[observation["name"]] = observation
    return found
