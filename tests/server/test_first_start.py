"""First start from INTERACTIVEAI_INIT_*: chosen secrets must be strong, and a weak one creates nothing."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.passwords import WeakSecretError
from interactiveai.server.tenancy import create_api_key, create_project, ensure_first_start, list_projects

SECRET = "sk-ia-" + "0123456789abcdef" * 2  # 38 characters


def test_a_headless_first_start_creates_what_it_is_given(engine: Any) -> None:
    created = ensure_first_start(
        engine,
        {
            "INTERACTIVEAI_INIT_PROJECT_ID": "p1",
            "INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY": "pk-ia-1",
            "INTERACTIVEAI_INIT_PROJECT_SECRET_KEY": SECRET,
            "INTERACTIVEAI_INIT_USER_EMAIL": "Admin@Example.com",
            "INTERACTIVEAI_INIT_USER_PASSWORD": "twelve chars",
        },
    )
    assert created is not None and created.key is not None and created.key.secret_key == SECRET
    assert created.user_email == "admin@example.com"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY": "pk-a", "INTERACTIVEAI_INIT_PROJECT_SECRET_KEY": "sk-a"}, "32"),
        ({"INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY": "pk-a", "INTERACTIVEAI_INIT_PROJECT_SECRET_KEY": "x" * 31}, "32"),
        ({"INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY": "pk:a", "INTERACTIVEAI_INIT_PROJECT_SECRET_KEY": SECRET}, "':'"),
        ({"INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY": "pk a"}, "spaces"),
        ({"INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY": SECRET, "INTERACTIVEAI_INIT_PROJECT_SECRET_KEY": SECRET}, "equal"),
        ({"INTERACTIVEAI_INIT_USER_EMAIL": "a@b.c", "INTERACTIVEAI_INIT_USER_PASSWORD": "short pass"}, "12"),
    ],
)
def test_weak_chosen_secrets_stop_the_start_before_anything_is_created(
    engine: Any, variables: dict[str, str], message: str
) -> None:
    environ = {"INTERACTIVEAI_INIT_PROJECT_ID": "p1", "INTERACTIVEAI_INIT_PROJECT_SECRET_KEY": SECRET, **variables}
    with pytest.raises(WeakSecretError, match=message) as error:
        ensure_first_start(engine, environ)
    assert "INTERACTIVEAI_INIT_" in str(error.value)
    assert list_projects(engine) == []


def test_keys_that_already_exist_are_left_alone(engine: Any) -> None:
    """A deployment that set a short key before the rule keeps starting (its key already exists)."""
    create_project(engine, "P", "p1")
    create_api_key(engine, "p1", public_key="pk-old", secret_key="sk-old")
    environ = {
        "INTERACTIVEAI_INIT_PROJECT_ID": "p1",
        "INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY": "pk-old",
        "INTERACTIVEAI_INIT_PROJECT_SECRET_KEY": "sk-old",
    }
    created = ensure_first_start(engine, environ)
    assert created is None or created.key is None


def test_generated_secrets_meet_the_rules(engine: Any) -> None:
    created = ensure_first_start(engine, {})
    assert created is not None and created.key is not None and created.user_password is not None
    assert len(created.key.secret_key) >= 32 and len(created.user_password) >= 12
