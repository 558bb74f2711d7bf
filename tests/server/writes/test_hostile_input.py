"""Hostile values in every field of every write: refused with the field's name, and nothing stored.

The writes are called directly with the Python values a JSON parser can produce (Python's own
``json`` gives NaN, lone surrogates and integers of any size; the UI's forms give NUL), so the
rules hold whatever parser or form is in front of them. Every case runs on both engines and
checks that the database is exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from interactiveai.server.json_values import MAX_DEPTH
from interactiveai.server.storage import schema
from interactiveai.server.writes import datasets as ds
from interactiveai.server.writes.errors import InvalidInputError
from interactiveai.server.writes.score_configs import create_score_config, update_score_config
from interactiveai.server.writes.scores import upsert_scores


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def nested_object(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


NUL = "a\x00b"
SURROGATE = "a\ud800b"
BAD_TEXT = [NUL, SURROGATE, "\udfff"]
BAD_KEYS = [*BAD_TEXT, "😀" * 300]  # an indexed value: 300 characters, but 1,200 bytes
BAD_JSON = [
    nested(MAX_DEPTH + 1),
    {"deep": nested_object(MAX_DEPTH)},
    nested(5000),
    2**64,
    -(2**63),
    {"n": [1, 2**70]},
    float("nan"),
    {"x": float("inf")},
    {"s": SURROGATE},
    {SURROGATE: 1},
    [{"k": ["\udc00"]}],
]
BAD_NUMBERS = [float("nan"), float("inf"), float("-inf"), 1e301, -1e301, 2**64, 2**63, -(2**63)]
BAD_TIMES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:01", "+10000-01-01", 12345, NUL]


def _score(engine: Any, project_id: str, body: dict[str, Any]) -> Any:
    return upsert_scores(engine, project_id, [{"traceId": "t", "name": "n", "value": 1}, body])


def _config(engine: Any, project_id: str, body: dict[str, Any]) -> Any:
    return create_score_config(engine, project_id, body)


CASES: list[tuple[str, Callable[[Any, str, dict[str, Any]], Any], dict[str, Any], dict[str, list[Any]]]] = [
    (
        "score",
        _score,
        {"traceId": "t", "name": "n", "value": 1},
        {
            "id": BAD_KEYS,
            "traceId": BAD_KEYS,
            "sessionId": BAD_KEYS,
            "datasetRunId": BAD_KEYS,
            "name": BAD_KEYS,
            "environment": BAD_TEXT,
            "comment": BAD_TEXT,
            "metadata": [{"m": v} for v in BAD_JSON],
            "timestamp": BAD_TIMES,
            "value": BAD_NUMBERS,
        },
    ),
    (
        "categorical score",
        _score,
        {"traceId": "t", "name": "n", "value": "label", "dataType": "CATEGORICAL"},
        {"value": BAD_TEXT},
    ),
    ("text score", _score, {"traceId": "t", "name": "n", "value": "words", "dataType": "TEXT"}, {"value": BAD_TEXT}),
    (
        "score config",
        _config,
        {"name": "c", "dataType": "NUMERIC"},
        {"description": BAD_TEXT, "minValue": BAD_NUMBERS, "maxValue": BAD_NUMBERS, "name": [*BAD_TEXT, "x" * 36]},
    ),
    (
        "categorical score config",
        _config,
        {"name": "c", "dataType": "CATEGORICAL", "categories": [{"label": "a", "value": 1}]},
        {
            "categories": [
                *([{"label": "a", "value": v}] for v in BAD_NUMBERS),
                *([{"label": t, "value": 1}] for t in BAD_TEXT),
            ]
        },
    ),
    (
        "dataset",
        ds.upsert_dataset,
        {"name": "d2"},
        {"name": BAD_KEYS, "description": BAD_TEXT, "metadata": BAD_JSON},
    ),
    (
        "dataset item",
        ds.upsert_dataset_item,
        {"datasetName": "ds", "input": 1},
        {
            "id": BAD_KEYS,
            "datasetName": BAD_KEYS,
            "sourceTraceId": BAD_KEYS,
            "input": BAD_JSON,
            "expectedOutput": BAD_JSON,
            "metadata": BAD_JSON,
            "status": [NUL, 5],
        },
    ),
]


@pytest.fixture
def existing(engine: Any, project: Any) -> dict[str, str]:
    ds.upsert_dataset(engine, project.id, {"name": "ds"})
    item = ds.upsert_dataset_item(engine, project.id, {"datasetName": "ds", "input": 1})
    config = create_score_config(engine, project.id, {"name": "c0", "dataType": "NUMERIC"})
    return {"item": item.id, "config": config.id}


def _snapshot(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    tables = [schema.scores, schema.score_configs, schema.datasets, schema.dataset_items]
    tables += [schema.dataset_runs, schema.dataset_run_items]
    with engine.connect() as conn:
        return {t.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(t))) for t in tables}


def _refused(engine: Any, write: Callable[[], Any]) -> str | None:
    """None when ``write`` raised InvalidInputError and stored nothing, else what went wrong."""
    before = _snapshot(engine)
    try:
        write()
    except InvalidInputError:
        pass
    except Exception as exc:  # a database error is a 500 in the API
        return f"raised {type(exc).__name__}: {str(exc)[:200]}"
    else:
        return "accepted"
    if _snapshot(engine) != before:
        return "refused, but something was stored"
    return None


@pytest.mark.parametrize("case", range(len(CASES)), ids=[c[0] for c in CASES])
def test_every_field_refuses_what_no_reader_could_read(
    engine: Any, project: Any, existing: dict[str, str], case: int
) -> None:
    what, write, base, fields = CASES[case]
    write(engine, project.id, dict(base))  # the base body itself is fine
    problems = []
    for field, values in fields.items():
        for value in values:
            body = {**base, field: value}
            problem = _refused(engine, lambda body=body: write(engine, project.id, body))
            if problem:
                problems.append(f"{what}.{field}={str(value)[:40]!r}: {problem}")
    assert not problems, "\n".join(problems)


def test_run_items_refuse_bad_text_and_json(engine: Any, project: Any, existing: dict[str, str]) -> None:
    base = {"runName": "run", "datasetItemId": existing["item"], "traceId": "t"}
    ds.create_run_item(engine, project.id, base)
    fields: dict[str, list[Any]] = {
        "runName": BAD_KEYS,
        "datasetItemId": BAD_KEYS,
        "traceId": BAD_KEYS,
        "observationId": BAD_KEYS,
        "runDescription": BAD_TEXT,
        "metadata": BAD_JSON,
    }
    problems = []
    for field, values in fields.items():
        for value in values:
            body = {**base, "runName": "run2", field: value}
            problem = _refused(engine, lambda body=body: ds.create_run_item(engine, project.id, body))
            if problem:
                problems.append(f"{field}={str(value)[:40]!r}: {problem}")
    assert not problems, "\n".join(problems)


def test_a_config_update_refuses_them_too(engine: Any, project: Any, existing: dict[str, str]) -> None:
    for patch in ({"description": NUL}, {"minValue": float("nan")}, {"maxValue": 2**64}, {"name": SURROGATE}):
        update = lambda patch=patch: update_score_config(engine, project.id, existing["config"], patch)  # noqa: E731
        assert _refused(engine, update) is None


def test_a_batch_with_one_bad_score_stores_none(engine: Any, project: Any) -> None:
    good = [{"traceId": "t", "name": f"n{i}", "value": i} for i in range(5)]
    for bad in ({"comment": NUL}, {"metadata": nested(100)}, {"timestamp": "9999-12-31T23:59:59-23:59"}):
        message = _refused(engine, lambda bad=bad: upsert_scores(engine, project.id, [*good, {**good[0], **bad}]))
        assert message is None, message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("metadata", {"deepest": nested(MAX_DEPTH - 1)}),
        ("metadata", {"n": [2**63 - 1, -(2**63) + 1, 1e300]}),
        ("metadata", {"nul inside JSON": "a\x00b", "\x00": "key"}),
        ("comment", "😀 long, ok " * 1000),
        ("value", 1e300),
        ("timestamp", "9999-12-31T23:59:59.999999Z"),
        ("timestamp", "0001-01-01T00:00:00Z"),
        ("sessionId", "é" * 500),
    ],
)
def test_values_at_the_limits_are_stored(engine: Any, project: Any, field: str, value: Any) -> None:
    (score_id,) = upsert_scores(engine, project.id, [{"traceId": "t", "name": "n", "value": 1, field: value}])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.scores)).scalar_one() == 1
    assert score_id
