"""UI test fixtures: a member user, a logged-in client, seeded traces."""

from __future__ import annotations

import re
from typing import Any

import pytest

from interactiveai.server.tenancy import add_membership, create_user

PASSWORD = "s3cret password"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: Any, email: str, password: str = PASSWORD, next_url: str = "/") -> Any:
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )


@pytest.fixture
def member(engine: Any, project: Any) -> str:
    user_id = create_user(engine, "member@example.com", PASSWORD, name="Mia Member")
    add_membership(engine, user_id, project.id)
    return user_id


@pytest.fixture
def ui(client: Any, member: str) -> Any:
    """The test client, logged in as a member of ``project``."""
    response = login(client, "member@example.com")
    assert response.status_code == 303, response.text
    return client
