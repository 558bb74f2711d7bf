from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException

from interactiveai.server.auth import ApiKeyVerifier
from interactiveai.server.storage import migrate
from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.tenancy import create_api_key, create_project, revoke_api_key


def _basic(public: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()


def test_valid_keys_give_their_project_and_everything_else_is_401(engine: Any) -> None:
    create_project(engine, "P", "p1")
    key = create_api_key(engine, "p1", public_key="pk-1", secret_key="sk-1")
    verifier = ApiKeyVerifier(engine)
    assert verifier.verify(_basic("pk-1", "sk-1")).project_id == "p1"
    for header in (
        None,
        "",
        "Bearer sk-1",
        "Basic !!!",
        _basic("pk-1", "wrong"),
        _basic("nobody", "sk-1"),
        "Basic " + base64.b64encode(b"no-colon").decode(),
    ):
        with pytest.raises(HTTPException) as error:
            verifier.verify(header)
        assert error.value.status_code == 401
    revoke_api_key(engine, key.id)
    verifier.invalidate()
    with pytest.raises(HTTPException):
        verifier.verify(_basic("pk-1", "sk-1"))


def test_an_unreachable_database_is_503_not_500(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    path.unlink()
    (tmp_path / "db.sqlite").mkdir()  # a directory where the file was: every connect fails
    verifier = ApiKeyVerifier(create_db_engine(f"sqlite:///{path}"))
    with pytest.raises(HTTPException) as error:
        verifier.verify(_basic("pk", "sk"))
    assert error.value.status_code == 503 and error.value.headers == {"Retry-After": "5"}
