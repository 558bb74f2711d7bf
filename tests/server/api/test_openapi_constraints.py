"""The OpenAPI document calls valid exactly what the server accepts.

Its schemas state the rules the server checks (api/schemas.py), while the server keeps its own
checks and messages; these tests hold the two together:

- the known constrained parameters declare their values (enums, RFC 3339 date-times, patterns),
  no parameter is documented as null, and no input string is left able to hold a NUL character;
- each pattern agrees with the check it documents, character by character (property tests);
- requests built from the schemas' constraints: every body example, and each boundary value of
  each constrained field and parameter, is accepted when the document calls it valid, and
  answered 400 when it does not (one step past the boundary).

The Schemathesis fuzz (tests/fuzz/test_rest_api.py) explores the rest.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interactiveai.server.api.schemas import DATE_TIME_PATTERN, NO_NUL_PATTERN, PY_SPACE, START_DATE_PATTERN
from interactiveai.server.clock import MAX_US, MIN_US, parse_iso_to_us, us_to_iso
from interactiveai.server.costs import models as model_store
from interactiveai.server.query import filters, metrics_query
from interactiveai.server.query.datasets import ITEM_STATUSES
from tests.conftest import Project
from tests.fuzz.unstated import UNSTATED
from tests.server.api.routes_table import API

TIME_PARAMETERS = {"fromTimestamp", "toTimestamp", "fromStartTime", "toStartTime"}
EDGE_TIMES_ACCEPTED = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00-05:00",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59+23:59",
    "2016-12-31T23:59:60Z",  # a leap second, 23:59:60 UTC
    "2017-01-01T00:59:60+01:00",
    "2026-01-31t12:00:00.1234567z",
]
EDGE_TIMES_REFUSED = [
    "9999-12-31T23:59:59-23:59",  # year 10000 in UTC
    "0001-01-01T00:00:00+00:01",  # year 0 in UTC
    "9999-12-31T23:59:60Z",
    "0000-06-01T00:00:00Z",
    "2016-12-30T12:00:60Z",  # a second 60 that is no leap second
    "2026-02-30T00:00:00Z",
]
HYPOTHESIS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return bool(jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(value))


# --- the document ---------------------------------------------------------------------------------


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    spec: dict[str, Any] = client.get(f"{API}/openapi.json").json()
    return spec


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method, path, operation


def _parameter(document: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        p for p in document["paths"][f"{API}{path}"][method]["parameters"] if p["name"] == name
    )
    return found


def test_time_parameters_are_rfc3339_date_times(document: dict[str, Any]) -> None:
    found = 0
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["name"] in TIME_PARAMETERS:
                found += 1
                schema = parameter["schema"]
                assert schema["type"] == "string", (method, path, parameter["name"])
                assert schema["format"] == "date-time", (method, path, parameter["name"])
                assert schema["pattern"] == DATE_TIME_PATTERN, (method, path, parameter["name"])
    assert found >= 12  # traces, observations, sessions, scores (twice), metrics/daily


def test_constrained_parameters_declare_their_values(document: dict[str, Any]) -> None:
    status = _parameter(document, "get", "/dataset-items", "status")["schema"]
    assert status["enum"] == list(ITEM_STATUSES)
    for path in ("/scores", "/v2/scores"):
        operator = _parameter(document, "get", path, "operator")["schema"]
        assert operator["enum"] == list(filters._SCORE_OPERATORS)
    order = _parameter(document, "get", "/traces", "orderBy")["schema"]
    for column in filters.TRACE_SORT_COLUMNS:
        assert re.fullmatch(order["pattern"], f"{column}.asc") and re.fullmatch(order["pattern"], column)
    assert not re.fullmatch(order["pattern"], "timestamp.sideways")
    query = _parameter(document, "get", "/metrics", "query")
    assert query["required"] is True
    schema = query["content"]["application/json"]["schema"]
    assert schema["required"] == ["view", "fromTimestamp", "toTimestamp"]
    assert schema["properties"]["fromTimestamp"]["pattern"] == DATE_TIME_PATTERN
    operators = {
        op
        for view in schema["oneOf"]
        for item in view["properties"]["filters"]["items"]["oneOf"]
        for op in item["properties"]["operator"]["enum"]
    }
    assert operators == set(metrics_query._OPERATORS)


def _strings(schema: Any, bounded: bool = False) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every string schema in ``schema`` (not in conditions), with whether a pattern, enum, const
    or format bounds it or the union holding it."""
    if not isinstance(schema, dict):
        return
    bounded = bounded or any(key in schema for key in ("pattern", "enum", "const", "format"))
    if schema.get("type") == "string":
        yield schema, bounded
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, ()):
            yield from _strings(branch, bounded)
    for key in ("properties", "$defs"):
        for child in schema.get(key, {}).values():
            yield from _strings(child)
    for key in ("items", "additionalProperties"):
        yield from _strings(schema.get(key))


def test_no_input_string_may_hold_a_nul_character(document: dict[str, Any]) -> None:
    unbounded = []
    for method, path, operation in _operations(document):
        schemas = [p.get("schema") for p in operation.get("parameters", [])]
        schemas += [m.get("schema") for p in operation.get("parameters", []) for m in p.get("content", {}).values()]
        schemas += [m.get("schema") for m in operation.get("requestBody", {}).get("content", {}).values()]
        for schema in schemas:
            for string, bounded in _strings(schema):
                if not bounded:
                    unbounded.append(f"{method} {path}: {string}")
                if "pattern" in string:
                    assert not _valid({"pattern": string["pattern"]}, "a\x00"), (method, path, string["pattern"])
    assert not unbounded


def test_parameters_are_never_null(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            assert '"null"' not in json.dumps(parameter.get("schema", {})), (method, path, parameter["name"])


# --- each pattern agrees with the check it documents ---------------------------------------------------


@pytest.mark.parametrize("text", EDGE_TIMES_ACCEPTED)
def test_schema_valid_edge_times_are_accepted(text: str) -> None:
    assert _valid({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}, text)
    parse_iso_to_us(text)


@pytest.mark.parametrize("text", EDGE_TIMES_REFUSED)
def test_times_the_parser_refuses_are_outside_the_schema(text: str) -> None:
    assert not _valid({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}, text)
    with pytest.raises(ValueError):
        parse_iso_to_us(text)


_RFC3339 = (
    r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
    r"(\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
_EDGES = st.sampled_from(["0001-01-01", "9999-12-31", "2016-12-31", "1970-01-01", "2024-02-29"])
_TIMES = st.one_of(
    st.from_regex(_RFC3339, fullmatch=True),
    st.builds(lambda date, rest: date + rest[10:], _EDGES, st.from_regex(_RFC3339, fullmatch=True)),
)


@HYPOTHESIS
@given(_TIMES)
def test_every_schema_valid_time_parses(text: str) -> None:
    if _valid({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}, text):
        parse_iso_to_us(text)


@HYPOTHESIS
@given(st.one_of(_TIMES, _TIMES.map(lambda text: text[:10])))
def test_every_schema_valid_start_date_is_accepted(text: str) -> None:
    date_time = {"type": "string", "format": "date-time", "pattern": START_DATE_PATTERN}
    date = {"type": "string", "format": "date", "pattern": START_DATE_PATTERN}
    if _valid(date_time, text) or _valid(date, text):
        model_store.parse_start_date(text)


_SPACES = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_TRICKY = st.sampled_from([*_SPACES, "\x00", "\x01", "\x7f", "\x85", "\ufeff", "é", "\u0301", "_", "-", "."])
_MIXED = st.text(st.one_of(_TRICKY, st.characters(codec="utf-8")), max_size=12)


def test_the_space_class_is_what_str_strip_removes() -> None:
    assert [c for c in map(chr, range(0x110000)) if re.fullmatch(f"[{PY_SPACE}]", c)] == list(_SPACES)


@functools.cache
def _app_document() -> dict[str, Any]:
    """The document of an app on a fresh SQLite file (for the tests that send no request)."""
    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings

    data_dir = Path(tempfile.mkdtemp(prefix="openapi-"))
    url = f"sqlite:///{data_dir / 'openapi.db'}"
    app = create_app(load_settings(data_dir=data_dir, database_url=url), first_start=False)
    spec: dict[str, Any] = app.openapi()
    app.state.engine.dispose()
    shutil.rmtree(data_dir, ignore_errors=True)
    return spec


def _body_schema(method: str, path: str) -> dict[str, Any]:
    schema: dict[str, Any] = _app_document()["paths"][f"{API}{path}"][method]["requestBody"]["content"]
    return schema["application/json"]["schema"]  # type: ignore[no-any-return]


@HYPOTHESIS
@given(name=st.one_of(_MIXED, _MIXED.map(lambda s: s * 40)))
def test_model_name_pattern_is_the_server_rule(name: str) -> None:
    schema = _body_schema("post", "/models")["properties"]["modelName"]
    try:
        model_store._name(name)
        accepted = True
    except model_store.ModelValidationError:
        accepted = False
    assert _valid(schema, name) == accepted, repr(name)


@HYPOTHESIS
@given(key=_MIXED)
def test_usage_type_pattern_is_the_server_rule(key: str) -> None:
    prices = _body_schema("post", "/models")["properties"]["prices"]["anyOf"][0]
    try:
        model_store._merge_prices({key: 1.0})
        accepted = True
    except model_store.ModelValidationError:
        accepted = False
    assert _valid(prices, {key: 1.0}) == accepted, repr(key)


@HYPOTHESIS
@given(pattern=st.text(_TRICKY, max_size=4))
def test_a_blank_match_pattern_is_outside_the_schema(pattern: str) -> None:
    schema = _body_schema("post", "/models")["properties"]["matchPattern"]
    assert _valid(schema, pattern) == (bool(pattern.strip()) and "\x00" not in pattern), repr(pattern)


@HYPOTHESIS
@given(text=st.builds(lambda a, word, b: a + word + b, _MIXED, st.sampled_from(["true", "False", "TRUE", "x"]), _MIXED))
def test_boolean_score_text_pattern_is_the_server_rule(text: str) -> None:
    body = {"traceId": "t", "name": "n", "dataType": "BOOLEAN", "value": text}
    schema = _body_schema("post", "/scores")["oneOf"][0]
    assert _valid(schema, body) == (text.strip().lower() in ("true", "false") and "\x00" not in text), repr(text)


def test_config_name_letters_and_digits_are_pythons() -> None:
    """Every character Python's ``\\w`` takes is a letter or digit to the schema; the schema's
    only others are characters Python's Unicode tables do not know yet (unassigned)."""
    schema = _body_schema("post", "/score-configs")["properties"]["name"]
    one_character = jsonschema_rs.validator_for({**schema, "pattern": schema["pattern"].replace("{1,35}", "")})
    for code in range(0x30000):
        character = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        python = bool(re.fullmatch(r"[\w .()-]", character))
        if python != one_character.is_valid(character):
            assert not python and unicodedata.category(character) == "Cn", hex(code)


# --- requests built from the schemas' constraints -------------------------------------------------------


def _edges(schema: dict[str, Any]) -> Iterator[Any]:
    """Values at (and one step past) the bounds a schema states."""
    if "enum" in schema:
        yield from schema["enum"]
        yield "__not_in_enum__"
    if schema.get("format") == "date-time":
        yield from EDGE_TIMES_ACCEPTED
        yield from EDGE_TIMES_REFUSED
    if schema.get("type") == "string" and "maxLength" in schema and "pattern" not in schema:
        yield "a" * schema["maxLength"]
        yield "a" * (schema["maxLength"] + 1)
    if schema.get("type") == "string" and schema.get("minLength"):
        yield "a" * (schema["minLength"] - 1)
    if schema.get("type") in ("number", "integer"):
        for bound, step in (("minimum", -1), ("maximum", 1)):
            if bound in schema:
                yield schema[bound]
                yield schema[bound] * 10 if abs(schema[bound]) > 1e200 else schema[bound] + step


def _field_schemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    yield from schema.get("anyOf", ())


def _variants(schema: dict[str, Any], example: dict[str, Any]) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    for name, field in schema.get("properties", {}).items():
        for part in _field_schemas(field):
            for value in _edges(part):
                yield name, value, {**example, name: value}


@pytest.fixture
def rows(client: Any, project: Project) -> dict[str, str]:
    """What the examples refer to: a trace, a dataset with an item, a score config, a queue."""
    from interactiveai.server.tenancy import add_membership, create_user
    from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id

    engine = client.app.state.engine
    add_trace(engine, project.id, trace_id(1))
    add_observation(engine, project.id, trace_id(1), obs_id(1))
    h = project.headers
    assert client.post(f"{API}/datasets", json={"name": "eval/weather"}, headers=h).status_code == 200
    item = client.post(f"{API}/dataset-items", json={"datasetName": "eval/weather", "input": 1}, headers=h).json()
    config = client.post(f"{API}/score-configs", json={"name": "q", "dataType": "NUMERIC"}, headers=h).json()
    queue = client.post(f"{API}/annotation-queues", json={"name": "review"}, headers=h).json()
    reviewer = create_user(engine, "reviewer@example.com", "correct horse battery")
    add_membership(engine, reviewer, project.id, role="MEMBER")
    target = {"objectType": "TRACE", "objectId": trace_id(1)}
    queue_item = client.post(f"{API}/annotation-queues/{queue['id']}/items", json=target, headers=h).json()
    judge = {"name": "rows", "baseUrl": "http://127.0.0.1:9/v1", "model": "m"}
    connection = client.post(f"{API}/llm-connections", json=judge, headers=h).json()
    rated = {
        "name": "rows",
        "connectionId": connection["id"],
        "prompt": "{{output}}",
        "score": {"name": "s", "dataType": "BOOLEAN"},
    }
    evaluator = client.post(f"{API}/evaluators", json=rated, headers=h).json()
    return {
        "connectionId": connection["id"],
        "evaluatorId": evaluator["id"],
        "traceId": trace_id(1),
        "observationId": obs_id(1),
        "itemId": item["id"],
        "configId": config["id"],
        "queueId": queue["id"],
        "queueItemId": queue_item["id"],
        "userId": reviewer,
    }


def _body_operations(document: dict[str, Any], rows: dict[str, str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path template, path, body schema) of every JSON write."""
    found = []
    for method, path, operation in _operations(document):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None or "/otel/" in path or path == "/v1/traces":
            continue
        real = path.replace("{configId}", rows["configId"]).replace("{queueId}", rows["queueId"])
        real = real.replace("{queueItemId}", rows["queueItemId"])
        real = real.replace("{connectionId}", rows["connectionId"]).replace("{evaluatorId}", rows["evaluatorId"])
        found.append((method, path, real, body["schema"]))
    return found


def _unstated(method: str, template: str, message: str, body: Any) -> bool:
    """A 400 for a rule the document cannot state (tests/fuzz/unstated.py), said in its description."""
    return any(rule.explains(f"{method.upper()} {template}", message, body) for rule in UNSTATED)


def _examples(schema: dict[str, Any], rows: dict[str, str]) -> list[Any]:
    """The schema's examples, a run item's naming the item of ``rows`` (an id cannot be an example)."""
    own = schema.get("examples") or [e for branch in schema.get("oneOf", ()) for e in branch.get("examples", [])]
    examples = copy.deepcopy(own)
    for example in examples:
        if "datasetItemId" in example:
            example["datasetItemId"] = rows["itemId"]
        if example.get("objectType") == "TRACE":  # a comment or a queue item names a stored trace
            example["objectId"] = rows["traceId"]
        if "userId" in example:  # a queue's reviewer is a member of the project
            example["userId"] = rows["userId"]
        if "connectionId" in example:  # an evaluator's model connection is a stored one
            example["connectionId"] = rows["connectionId"]
    return examples


def _send(client: Any, project: Project, method: str, path: str, body: Any) -> Any:
    return client.request(method.upper(), path, json=body, headers=project.headers)


def test_body_examples_are_valid_and_accepted(client: Any, project: Project, rows: dict[str, str]) -> None:
    document = client.get(f"{API}/openapi.json").json()
    checked = 0
    for method, _template, path, schema in _body_operations(document, rows):
        examples = _examples(schema, rows)
        assert examples or path.endswith("/traces"), f"{method} {path} has no example"
        for example in examples:
            assert _valid(schema, example), (method, path, example)
            response = _send(client, project, method, path, example)
            batch = path == f"{API}/ingestion"  # answered 207, each event in the body
            assert response.status_code == (207 if batch else 200), (method, path, example, response.text)
            assert not batch or response.json()["errors"] == [], response.text
            checked += 1
    assert checked >= 10


def test_boundary_values_are_accepted_and_one_step_past_them_refused(
    client: Any, project: Project, rows: dict[str, str]
) -> None:
    document = client.get(f"{API}/openapi.json").json()
    problems = []
    tried = 0
    for method, template, path, schema in _body_operations(document, rows):
        examples = _examples(schema, rows)
        if not examples:
            continue
        one = schema if "properties" in schema else schema["oneOf"][0]
        for name, value, body in _variants(one, examples[0]):
            valid = _valid(schema, body)
            response = _send(client, project, method, path, body)
            status = response.status_code
            tried += 1
            if valid and status == 400 and _unstated(method, template, response.json()["message"], body):
                continue
            if (valid and status not in (200, 404, 409)) or (not valid and status != 400):
                problems.append(f"{method} {path} {name}={str(value)[:40]!r}: schema says valid={valid}, got {status}")
    assert tried > 80
    assert not problems, "\n".join(problems)


def test_constrained_parameter_values_the_document_allows_are_accepted(
    client: Any, project: Project, rows: dict[str, str]
) -> None:
    document = client.get(f"{API}/openapi.json").json()
    problems = []
    tried = 0
    for method, path, operation in _operations(document):
        if method != "get" or not path.startswith(API):
            continue
        parameters = operation.get("parameters", [])
        required = {p["name"]: _required_value(p, rows) for p in parameters if p.get("required")}
        url = path.format(
            **{p["name"]: quote(rows.get(p["name"], "x"), safe="") for p in parameters if p["in"] == "path"}
        )
        for parameter in parameters:
            schema = parameter.get("schema")
            if parameter["in"] != "query" or schema is None:
                continue
            for value in _edges(schema):
                if not _valid(schema, value):
                    continue
                params = {**required, parameter["name"]: value}
                if path.endswith("/metrics/daily") and parameter["name"] in TIME_PARAMETERS:
                    window = _daily_window(parameter["name"], value)
                    if window is None:
                        continue
                    params = window
                response = client.get(url, params=params, headers=project.headers)
                tried += 1
                if response.status_code not in (200, 404):
                    problems.append(f"GET {path} {params}: {response.status_code} {response.text[:200]}")
    assert tried > 50
    assert not problems, "\n".join(problems)


def _required_value(parameter: dict[str, Any], rows: dict[str, str]) -> str:
    if parameter["name"] == "query":  # GET /metrics
        return json.dumps(
            {"view": "traces", "fromTimestamp": "2026-01-01T00:00:00Z", "toTimestamp": "2026-01-02T00:00:00Z"}
        )
    known = {"datasetId": "no-such-dataset", "runName": "run", "fromStartTime": "2026-01-01T00:00:00Z"}
    return known.get(parameter["name"], rows.get(parameter["name"], "x"))


def _daily_window(name: str, value: str) -> dict[str, str] | None:
    """``value`` and the other end of a one-day window (the window's rules are not in the document);
    None when there is no time on that side of ``value``."""
    us, day = parse_iso_to_us(value), 86_400_000_000
    other = min(us + day, MAX_US) if name == "fromTimestamp" else max(us - day, MIN_US)
    if other == us:
        return None
    return {name: value, ("toTimestamp" if name == "fromTimestamp" else "fromTimestamp"): us_to_iso(other) or ""}


def test_no_nul_pattern_refuses_only_nul() -> None:
    assert re.fullmatch(NO_NUL_PATTERN, "any text é \n") and not re.fullmatch(NO_NUL_PATTERN, "a\x00b")
