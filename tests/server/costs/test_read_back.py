"""Model definitions through the API: hostile values are a 400 that stores nothing; every accepted
value reads back the same on GET /models, GET /models/{id}, the settings page and its JSON twin."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.server.ui.conftest import PASSWORD, login

BASE = {"modelName": "m", "matchPattern": "^m$", "inputPrice": 1e-6}


@pytest.fixture
def member_ui(api: Any, engine: Any, project: Any) -> Any:
    """The same client, also logged in to the UI as a member of ``project``."""
    from interactiveai.server.tenancy import add_membership, create_user

    add_membership(engine, create_user(engine, "models@example.com", PASSWORD), project.id)
    assert login(api, "models@example.com").status_code == 303
    return api


def _stored(api: Any, project: Any) -> int:
    listed = api.get("/api/public/models", headers=project.headers)
    assert listed.status_code == 200, listed.text
    return int(listed.json()["meta"]["totalItems"])


@pytest.mark.parametrize(
    "change",
    [
        # dates: far future or past, offsets that leave years 1970–9999 in UTC, impossible dates
        {"startDate": "9999-12-31T23:59:59-23:59"},
        {"startDate": "0001-01-01T00:00:00+23:59"},
        {"startDate": "1969-12-31T23:59:59Z"},
        {"startDate": "10000-01-01"},
        {"startDate": "2026-02-30"},
        {"startDate": "2026-01-01T25:00:00Z"},
        {"startDate": 1767225600},
        {"startDate": "2026-01-01\u0000"},
        # prices: huge, non-finite, negative, beyond 64 bits, of the wrong type
        {"inputPrice": 1e308},
        {"inputPrice": 1_000_001},
        {"inputPrice": 2**64},
        {"inputPrice": 10**400},
        {"inputPrice": math.nan},
        {"inputPrice": math.inf},
        {"inputPrice": -1e-12},
        {"inputPrice": True},
        {"prices": {"output": 2**64}},
        {"prices": {"output": 10**400}},
        {"prices": {"output": -math.inf}},
        {"prices": {"output": {"price": math.nan}}},
        {"prices": {"output": None}},
        {"prices": ["output", 1]},
        # usage types: unknown shapes, NUL, huge, too many
        {"prices": {"": 1e-6}},
        {"prices": {"out put": 1e-6}},
        {"prices": {"out\u0000put": 1e-6}},
        {"prices": {"x" * 101: 1e-6}},
        {"prices": {f"k{i}": 1e-6 for i in range(51)}},
        # strings: NUL bytes, lone surrogates, control characters, huge strings, wrong types
        {"modelName": "m\u0000"},
        {"modelName": "m\ud800"},
        {"modelName": "m\nx"},
        {"modelName": "m" * 201},
        {"modelName": "m" * 100_000},
        {"modelName": 5},
        {"matchPattern": "^m\u0000$"},
        {"matchPattern": "^m\udfff$"},
        {"matchPattern": "^" + "m" * 100_000},
        {"matchPattern": "^(a|a){1,60000}$"},
        {"unit": "PARSECS"},
        {"unit": "TOKENS\u0000"},
        {"tokenizerId": "mine"},
        {"tokenizerId": 5},
    ],
    ids=lambda change: repr(change)[:60],
)
def test_hostile_values_are_a_400_and_store_nothing(api: Any, project: Any, change: dict[str, Any]) -> None:
    # Raw JSON text: NaN and Infinity reach the server as a hostile client sends them (httpx refuses).
    body = json.dumps({**BASE, **change}).encode()
    headers = {**project.headers, "Content-Type": "application/json"}
    response = api.post("/api/public/models", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["message"]
    assert _stored(api, project) == 0


@pytest.mark.parametrize(
    ("start_date", "shown"),
    [
        (None, None),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
        ("9999-12-31", "9999-12-31T00:00:00.000Z"),
        ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T00:00:00+23:59", "9999-12-30T00:01:00.000Z"),
        ("2026-01-01T00:00:00.123456-23:59", "2026-01-01T23:59:00.123Z"),
        ("5000-06-15T12:34:56.789+05:30", "5000-06-15T07:04:56.789Z"),
    ],
)
def test_accepted_values_read_back_everywhere(
    member_ui: Any, project: Any, start_date: str | None, shown: str | None
) -> None:
    api = member_ui
    body = {
        "modelName": "é-" + "m" * 198,
        "matchPattern": "(?i)^é-" + "m" * 198 + "$" + "|^zz" * 73,  # 498 characters
        "startDate": start_date,
        "unit": "images",
        "prices": {"input": 1_000_000, "output": 0, "input_cached_tokens": {"price": 5e-324}, "x:y.z-w": 12_345},
        "tokenizerId": "openai",
    }
    created = api.post("/api/public/models", json=body, headers=project.headers)
    assert created.status_code == 200, created.text
    model = created.json()
    assert model["startDate"] == shown and model["unit"] == "IMAGES" and model["inputPrice"] == 1e6
    assert api.get(f"/api/public/models/{model['id']}", headers=project.headers).json() == model
    assert api.get("/api/public/models", headers=project.headers).json()["data"] == [model]

    page = api.get(f"/project/{project.id}/settings")
    assert page.status_code == 200 and model["id"] in page.text
    twin = api.get(f"/project/{project.id}/settings.json?lookup=" + "É-" + "M" * 198)
    assert twin.status_code == 200, twin.text
    [row] = twin.json()["models"]
    assert (row["id"], row["startDate"], row["prices"]["input"]) == (model["id"], shown, 1e6)
    assert row["pricesPerMillion"]["input"] == 1e12
    applies_now = shown is None or shown < datetime.now(UTC).isoformat()
    assert (twin.json()["lookup"]["matchedModelId"] == model["id"]) is applies_now


def test_rows_an_older_version_stored_still_read_back(member_ui: Any, engine: Any, project: Any) -> None:
    """The issue's date was stored by the 500ing create; prices and patterns refused now may be stored too."""
    from sqlalchemy import insert

    from interactiveai.server.storage.schema import models

    rows = [
        ("m-year-10000", "^a$", 253_402_387_139_000_000, '{"input": 1e-06}'),
        ("m-before-1", "^b$", -62_135_596_800_000_001, '{"input": 1e-06}'),
        ("m-prices", "^c$", None, '{"input": 1e308, "output": Infinity, "total": NaN, "x": {"price": 1}}'),
        ("m-pattern", "^(a|a){1,60000}$", None, "[]"),
    ]
    with engine.begin() as conn:
        for model_id, pattern, start, prices in rows:
            conn.execute(
                insert(models).values(
                    project_id=project.id,
                    id=model_id,
                    model_name=model_id,
                    match_pattern=pattern,
                    start_date_us=start,
                    unit="TOKENS",
                    prices=prices,
                    tokenizer_id=None,
                    created_at_us=1,
                    updated_at_us=1,
                )  # fmt: skip
            )
    api = member_ui
    listed = api.get("/api/public/models", headers=project.headers)
    assert listed.status_code == 200 and listed.json()["meta"]["totalItems"] == 4
    for model_id, *_ in rows:
        assert api.get(f"/api/public/models/{model_id}", headers=project.headers).status_code == 200
    assert api.get(f"/project/{project.id}/settings").status_code == 200
    twin = api.get(f"/project/{project.id}/settings.json?lookup=" + "a" * 34 + "!")
    assert twin.status_code == 200 and twin.json()["lookup"]["source"] != "project model"
