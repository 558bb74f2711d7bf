"""The SDK with the lowest versions of its dependencies it declares (pyproject.toml): importing it
and recording a basic trace works, in a virtual environment holding exactly those versions.

``import interactiveai`` once failed with opentelemetry-sdk 1.30, the declared bound, because the
lean span path read ``TraceFlags.RANDOM_TRACE_ID`` (added in OTel 1.42) at import time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sdk.lower_bounds import sdk_lower_bounds
from tests.support.compat_venv import compat_venv
from tests.support.otlp_receiver import OtlpReceiver

SCENARIO = Path(__file__).parent / "scenarios" / "basic_trace.py"
SRC = Path(__file__).resolve().parents[2] / "src"


def test_lower_bounds_are_read_from_pyproject() -> None:
    pins = sdk_lower_bounds()
    assert any(pin.startswith("opentelemetry-sdk==") for pin in pins)
    assert all("==" in pin for pin in pins)


@pytest.mark.slow
def test_import_and_a_basic_trace_with_the_lowest_declared_dependencies() -> None:
    pins = sdk_lower_bounds()
    venv = compat_venv("sdk-lowest-dependencies", pins)
    with OtlpReceiver() as receiver:
        env = {
            "PYTHONPATH": str(SRC),
            "INTERACTIVEAI_PUBLIC_KEY": "pk-lowest",
            "INTERACTIVEAI_SECRET_KEY": "sk-lowest",
            "INTERACTIVEAI_HOST": receiver.base_url,
        }
        result = json.loads(venv.run(SCENARIO, env=env).stdout.strip().splitlines()[-1])
        spans = {span["name"]: span for span in receiver.wait_for_spans(4)}
    for pin in pins:  # the environment really holds the lowest versions
        name, version = pin.split("==")
        if name in result["versions"]:
            assert result["versions"][name].removesuffix(".0") == version.removesuffix(".0"), pin

    root = spans["lowest-dependencies"]
    assert root["parent_span_id"] is None
    assert root["attributes"]["user.id"] == "user-1"
    assert list(root["attributes"]["interactiveai.trace.tags"]) == ["lowest"]
    for name in ("answer", "fails", "checkpoint"):
        assert spans[name]["trace_id"] == root["trace_id"], name
        assert spans[name]["parent_span_id"] == root["span_id"], name
    answer = spans["answer"]["attributes"]
    assert answer["interactiveai.observation.type"] == "generation"
    assert answer["interactiveai.observation.model.name"] == "gpt-4o-mini"
    assert json.loads(answer["interactiveai.observation.output"]) == "Echo: Hello"
    assert json.loads(answer["interactiveai.observation.usage_details"]) == {"input": 12, "output": 3}
    assert spans["checkpoint"]["attributes"]["interactiveai.observation.type"] == "event"
    assert spans["fails"]["attributes"]["interactiveai.observation.level"] == "ERROR"
    assert spans["fails"]["status_code"] == 2
