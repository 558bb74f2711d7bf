"""The real server (`interactiveai server`, uvicorn) does not take X-Forwarded-For from loopback.

uvicorn's default believes the header from 127.0.0.1: a script on the same host (or any request a
local proxy relays) could then pick a new client address per attempt and never be throttled.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.support.live_server import live_server


def test_forwarded_for_from_loopback_is_ignored_without_trusted_proxies(tmp_path: Path) -> None:
    with live_server(tmp_path) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        statuses = []
        for index in range(10):  # the old per-account limit allowed 10 a minute
            form = http.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token is not None
            response = http.post(
                "/login",
                data={"email": server.email, "password": "wrong", "csrf_token": token.group(1)},
                headers={"X-Forwarded-For": f"203.0.113.{index}"},
            )
            statuses.append(response.status_code)
        assert statuses[:5] == [401] * 5
        assert 429 in statuses  # one client (the loopback peer) for one account, whatever the header said
