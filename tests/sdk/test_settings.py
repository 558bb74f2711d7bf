"""The settings table: precedence, parsing, bad values, and that every variable is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interactiveai.sdk.settings import (
    DEFAULT_HOST,
    SETTINGS,
    env_value,
    io_capture_enabled,
    load_client_settings,
    resolve,
)

SDK_DIR = Path(__file__).resolve().parents[2] / "src" / "interactiveai" / "sdk"


def test_defaults() -> None:
    s = load_client_settings(environ={})
    assert s.public_key is None and s.secret_key is None
    assert s.host == DEFAULT_HOST == "http://localhost:3000"
    assert s.tracing_enabled is True and s.sample_rate == 1.0
    assert s.flush_at == 512 and s.flush_interval == 1.0 and s.timeout == 5.0
    assert s.environment is None and s.release is None


def test_argument_beats_env_beats_default() -> None:
    env = {"INTERACTIVEAI_FLUSH_AT": "10", "INTERACTIVEAI_SAMPLE_RATE": "0.3", "INTERACTIVEAI_HOST": "http://env:1"}
    assert load_client_settings(environ=env).flush_at == 10
    assert load_client_settings(flush_at=20, environ=env).flush_at == 20
    assert load_client_settings(sample_rate=0.0, environ=env).sample_rate == 0.0  # no `0.0 or env`
    assert load_client_settings(environ=env).sample_rate == 0.3
    assert load_client_settings(host="http://arg:2/", environ=env).host == "http://arg:2"
    assert resolve(0, "INTERACTIVEAI_FLUSH_AT", env) == 0


def test_host_alias_and_precedence() -> None:
    assert load_client_settings(environ={"INTERACTIVEAI_BASE_URL": "http://b"}).host == "http://b"
    both = {"INTERACTIVEAI_BASE_URL": "http://b", "INTERACTIVEAI_HOST": "http://h"}
    assert load_client_settings(environ=both).host == "http://h"
    assert load_client_settings(base_url="http://arg", environ=both).host == "http://arg"


def test_the_span_buffer_is_bounded_by_memory_by_default() -> None:
    s = load_client_settings(environ={})
    assert s.max_queue_bytes == 256 * 1024 * 1024
    assert s.max_queue_size is None  # no span-count cap unless asked for
    env = {"INTERACTIVEAI_MAX_QUEUE_BYTES": "1048576", "INTERACTIVEAI_MAX_QUEUE_SIZE": "500"}
    s = load_client_settings(environ=env)
    assert (s.max_queue_bytes, s.max_queue_size) == (1_048_576, 500)
    assert load_client_settings(max_queue_bytes=2048, environ=env).max_queue_bytes == 2048
    assert load_client_settings(environ={"INTERACTIVEAI_MAX_QUEUE_BYTES": "lots"}).max_queue_bytes == 256 * 1024 * 1024


def test_args_work_without_env() -> None:
    s = load_client_settings(flush_at=3, flush_interval=0.2, timeout=2, max_queue_size=9, environ={})
    assert (s.flush_at, s.flush_interval, s.timeout, s.max_queue_size) == (3, 0.2, 2.0, 9)


@pytest.mark.parametrize(
    "raw, expected", [("false", False), ("0", False), ("FALSE", False), ("true", True), ("1", True)]
)
def test_bool_parsing(raw: str, expected: bool) -> None:
    assert load_client_settings(environ={"INTERACTIVEAI_TRACING_ENABLED": raw}).tracing_enabled is expected


def test_invalid_env_values_fall_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    s = load_client_settings(environ={"INTERACTIVEAI_FLUSH_AT": "many", "INTERACTIVEAI_DEBUG": "maybe"})
    assert s.flush_at == 512 and s.debug is False
    assert "INTERACTIVEAI_FLUSH_AT" in caplog.text and "INTERACTIVEAI_DEBUG" in caplog.text


def test_sample_rate_out_of_range_is_clamped(caplog: pytest.LogCaptureFixture) -> None:
    assert load_client_settings(sample_rate=2.0, environ={}).sample_rate == 1.0
    assert load_client_settings(sample_rate=-1.0, environ={}).sample_rate == 0.0
    assert "clamping" in caplog.text


def test_release_from_ci_variables() -> None:
    assert load_client_settings(environ={"CI_COMMIT_SHA": "c1", "GITHUB_SHA": "g1"}).release == "c1"
    assert load_client_settings(environ={"INTERACTIVEAI_RELEASE": "r", "GITHUB_SHA": "g1"}).release == "r"
    assert load_client_settings(release="arg", environ={"INTERACTIVEAI_RELEASE": "r"}).release == "arg"


def test_io_capture_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert io_capture_enabled() is True
    monkeypatch.setenv("INTERACTIVEAI_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED", "0")
    assert io_capture_enabled() is False
    assert env_value("INTERACTIVEAI_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED") is False


def test_every_variable_read_is_in_the_table_and_documented() -> None:
    names: set[str] = set()
    for path in SDK_DIR.glob("*.py"):
        names |= set(re.findall(r'"(INTERACTIVEAI_[A-Z_]+)"', path.read_text()))
    assert names <= set(SETTINGS), names - set(SETTINGS)
    for setting in SETTINGS.values():
        assert setting.doc and setting.type in (str, bool, int, float)
