"""The integrations with the lowest library versions they declare (openai 1.40, langchain-core 0.3,
langchain-openai 0.2) and the lowest versions of the SDK's own dependencies (opentelemetry 1.30,
orjson 3.10: the SDK's plain OTel span path), in a virtual environment of their own, read back
through our REST API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sdk.lower_bounds import sdk_lower_bounds
from tests.support.compat_venv import compat_venv
from tests.support.fake_openai import FakeOpenAI
from tests.support.live_server import LiveServer

from .conftest import api, by_name
from .test_openai_chat import USAGE

SCENARIO = Path(__file__).parent / "scenarios" / "lowest_versions.py"
SRC = Path(__file__).resolve().parents[3] / "src"
LOWEST = [
    "openai==1.40.0",
    "langchain-core==0.3.0",
    "langchain-openai==0.2.0",
    "httpx<0.28",  # openai 1.40 passes ``proxies``, which httpx 0.28 removed
    *sdk_lower_bounds(),  # our own requirements, at their lowest
]


@pytest.mark.slow
def test_lowest_supported_versions(server: LiveServer, fake: FakeOpenAI) -> None:
    venv = compat_venv("sdk-integrations-lowest", LOWEST)
    env = {
        "PYTHONPATH": str(SRC),
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "sk-fake",
        "INTERACTIVEAI_PUBLIC_KEY": server.public_key,
        "INTERACTIVEAI_SECRET_KEY": server.secret_key,
        "INTERACTIVEAI_HOST": server.url,
    }
    result = json.loads(venv.run(SCENARIO, env=env).stdout.strip().splitlines()[-1])
    assert result["openai"] == "1.40.0"
    trace = api(server, f"/traces/{result['trace_id']}")
    observations = by_name(trace)
    root = observations["lowest-versions"]
    for name in ("chat", "stream", "async", "embedding", "failed", "chain"):
        assert observations[name]["parentObservationId"] == root["id"], name
    for name in ("chat", "stream", "async"):
        assert observations[name]["output"]["content"] == "Echo: Hello", name
        assert observations[name]["usageDetails"] == USAGE, name
    assert observations["stream"]["completionStartTime"] is not None
    assert observations["embedding"]["type"] == "EMBEDDING"
    assert observations["failed"]["level"] == "ERROR"
    assert observations["ChatOpenAI"]["output"]["content"] == "Echo: chain"
    assert observations["ChatOpenAI"]["usageDetails"] == USAGE
