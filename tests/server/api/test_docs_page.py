"""``/api/public/docs`` is Swagger UI from the server's own static files, under the UI's CSP."""

from __future__ import annotations

import re
from typing import Any


def test_the_docs_page_loads_only_its_own_files(client: Any) -> None:
    page = client.get("/api/public/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "http" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # no inline script: the start-up code is a file
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(urls) >= 3 and all(url.startswith("/static/") for url in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert 'data-openapi-url="/api/public/openapi.json"' in page.text


def test_the_vendored_files_keep_their_licence(client: Any) -> None:
    licence = client.get("/static/swagger-ui/LICENSE")
    assert licence.status_code == 200 and "Apache License" in licence.text
    assert client.get("/static/swagger-ui/NOTICE").status_code == 200


def test_no_cdn_route_is_left(client: Any) -> None:
    assert client.get("/docs/oauth2-redirect").status_code == 404
    assert "cdn" not in client.get("/api/public/docs").text.lower()
