from __future__ import annotations

from pathlib import Path

import pytest

from interactiveai.server.settings import env_name, load_settings


def test_arguments_win_over_environment_over_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INTERACTIVEAI_PORT", "4000")
    monkeypatch.setenv("INTERACTIVEAI_DATA_DIR", str(tmp_path))
    assert load_settings().port == 4000
    assert load_settings(port=5000).port == 5000
    assert load_settings().resolved_database_url == f"sqlite:///{tmp_path / 'interactiveai.db'}"


def test_the_sdks_host_variable_never_becomes_the_listen_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """INTERACTIVEAI_HOST is the SDK's server URL; an app and its server may share one environment."""
    monkeypatch.setenv("INTERACTIVEAI_HOST", "http://localhost:3000")
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.base_url == "http://localhost:3000"
    monkeypatch.setenv("INTERACTIVEAI_LISTEN_HOST", "0.0.0.0")
    assert load_settings().host == "0.0.0.0"
    assert env_name("host") == "INTERACTIVEAI_LISTEN_HOST"


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERACTIVEAI_PORT", "three thousand")
    with pytest.raises(ValueError, match="INTERACTIVEAI_PORT"):
        load_settings()


def test_cookies_are_secure_behind_an_https_public_url() -> None:
    assert not load_settings(public_url="http://localhost:3000").cookies_secure
    assert load_settings(public_url="HTTPS://observe.example.com").cookies_secure
    assert load_settings(secure_cookies=True).cookies_secure


def test_trusted_proxies_take_addresses_and_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().trusted_proxy_networks == ()
    networks = load_settings(trusted_proxies=" 10.0.0.5, 192.168.0.0/16,::1 ").trusted_proxy_networks
    assert [str(n) for n in networks] == ["10.0.0.5/32", "192.168.0.0/16", "::1/128"]
    monkeypatch.setenv("INTERACTIVEAI_TRUSTED_PROXIES", "10.0.0.300")
    with pytest.raises(ValueError, match="INTERACTIVEAI_TRUSTED_PROXIES"):
        load_settings()
