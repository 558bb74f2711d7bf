"""A 405's ``Allow`` lists every method the path supports, on every path of the app.

Starlette answers a wrong method from the first route whose path matched, so ``GET`` and
``DELETE`` on one path used to answer ``Allow: GET`` to a ``PUT``. Here each route's path is
requested with every method: the methods listed in ``Allow`` must be exactly those that do not
answer 405.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import iter_route_contexts

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def test_allow_lists_every_method_of_the_path(app: Any, client: Any) -> None:
    paths = {re.sub(r"\{[^}]+\}", "x", route.path_format) for route in iter_route_contexts(app.routes)}
    assert {"/api/public/traces/x", "/login", "/api/public/models/x", "/static/x"} <= paths
    problems = []
    answered_405 = 0
    for path in sorted(paths):
        responses = {method: client.request(method, path, follow_redirects=False) for method in METHODS}
        refused = {method for method, response in responses.items() if response.status_code == 405}
        for method in refused:
            allow = {m.strip() for m in responses[method].headers.get("allow", "").split(",") if m.strip()}
            if allow != set(METHODS) - refused:
                problems.append((path, method, sorted(allow), sorted(set(METHODS) - refused)))
        answered_405 += bool(refused)
    assert answered_405 > 50
    assert not problems, "\n".join(map(str, problems))


def test_the_405_body_is_the_api_error_shape(client: Any) -> None:
    response = client.put("/api/public/traces/abc")
    assert response.status_code == 405
    assert response.json() == {"message": "Method Not Allowed", "error": "MethodNotAllowedError"}
    assert response.headers["allow"] == "DELETE, GET"
    assert client.delete("/login").headers["allow"] == "GET, POST"
