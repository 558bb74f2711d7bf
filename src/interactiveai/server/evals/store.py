"""Model connections and evaluators: create, read, update, delete; and the list of jobs.

Each write checks the rules no schema can state (``models.py``) and raises InvalidInputError
(400) or ConflictError (409, a name already used). An API key is encrypted before it is stored
and never read back out through here: the JSON shows ``apiKeyHint`` only.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, RowMapping, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from interactiveai.server.clock import now_us, us_to_iso
from interactiveai.server.evals.crypto import SecretBox, key_hint
from interactiveai.server.evals.models import (
    ConnectionCreate,
    ConnectionUpdate,
    EvaluatorCreate,
    EvaluatorUpdate,
    Variable,
)
from interactiveai.server.evals.templates import Source, resolve_mapping
from interactiveai.server.query._db import fetch_page, load_json_list, load_json_object
from interactiveai.server.query.filter_conditions import parse_filter
from interactiveai.server.query.pagination import Page
from interactiveai.server.storage.eval_schema import evaluator_jobs, evaluators, llm_connections
from interactiveai.server.writes.errors import InvalidInputError

_CLEARABLE = ("model", "observationName", "observationType", "traceProjectId")


class ConflictError(Exception):
    """A name already used in the project (409)."""


# --- connections --------------------------------------------------------------------------------


def create_connection(engine: Engine, box: SecretBox, project_id: str, body: ConnectionCreate) -> RowMapping:
    now = now_us()
    values: dict[str, Any] = {
        "project_id": project_id,
        "id": str(uuid.uuid4()),
        "name": body.name.strip(),
        "base_url": body.baseUrl.rstrip("/"),
        "model": body.model.strip(),
        "params": orjson.dumps(body.params).decode(),
        "created_at_us": now,
        "updated_at_us": now,
        **_key_columns(box, body.apiKey),
    }
    _write(engine, insert(llm_connections).values(values), f"a connection named {body.name.strip()!r}")
    return _found(get_connection(engine, project_id, values["id"]))


def update_connection(
    engine: Engine, box: SecretBox, project_id: str, connection_id: str, body: ConnectionUpdate
) -> RowMapping | None:
    if get_connection(engine, project_id, connection_id) is None:
        return None
    given = body.model_fields_set
    values: dict[str, Any] = {"updated_at_us": now_us()}
    if body.name is not None:
        values["name"] = body.name.strip()
    if body.baseUrl is not None:
        values["base_url"] = body.baseUrl.rstrip("/")
    if body.model is not None:
        values["model"] = body.model.strip()
    if body.params is not None:
        values["params"] = orjson.dumps(body.params).decode()
    if "apiKey" in given:
        values.update(_key_columns(box, body.apiKey))
    where = (llm_connections.c.project_id == project_id, llm_connections.c.id == connection_id)
    _write(engine, update(llm_connections).where(*where).values(values), f"a connection named {values.get('name')!r}")
    return get_connection(engine, project_id, connection_id)


def delete_connection(engine: Engine, project_id: str, connection_id: str) -> bool:
    with engine.begin() as conn:
        users = conn.execute(
            select(evaluators.c.name).where(
                evaluators.c.project_id == project_id, evaluators.c.connection_id == connection_id
            )
        ).scalars()
        names = sorted(users)
        if names:
            raise ConflictError(f"the connection is used by evaluators {', '.join(map(repr, names))}")
        where = (llm_connections.c.project_id == project_id, llm_connections.c.id == connection_id)
        return int(conn.execute(delete(llm_connections).where(*where)).rowcount or 0) > 0


def get_connection(db: Engine | Connection, project_id: str, connection_id: str) -> RowMapping | None:
    query = select(llm_connections).where(
        llm_connections.c.project_id == project_id, llm_connections.c.id == connection_id
    )
    if isinstance(db, Connection):
        return db.execute(query).mappings().first()
    with db.connect() as conn:
        return conn.execute(query).mappings().first()


def list_connections(engine: Engine, project_id: str, *, page: int, limit: int) -> Page[RowMapping]:
    mine = llm_connections.c.project_id == project_id
    query = select(llm_connections).where(mine).order_by(llm_connections.c.created_at_us.desc(), llm_connections.c.id)
    return fetch_page(
        engine, query, lambda r: r, page=page, limit=limit, counted=select(llm_connections.c.id).where(mine)
    )


def connection_json(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "projectId": row["project_id"],
        "name": row["name"],
        "baseUrl": row["base_url"],
        "model": row["model"],
        "apiKeyHint": row["api_key_hint"],
        "params": load_json_object(row["params"]),
        "createdAt": us_to_iso(row["created_at_us"]),
        "updatedAt": us_to_iso(row["updated_at_us"]),
    }


def _key_columns(box: SecretBox, api_key: str | None) -> dict[str, Any]:
    if not api_key:
        return {"api_key_encrypted": None, "api_key_hint": None}
    return {"api_key_encrypted": box.encrypt(api_key), "api_key_hint": key_hint(api_key)}


# --- evaluators ---------------------------------------------------------------------------------


def create_evaluator(
    engine: Engine, project_id: str, body: EvaluatorCreate, *, trace_projects: Collection[str] = ()
) -> RowMapping:
    """``trace_projects``: other projects the caller may have the judge's calls traced in (the
    UI's user's; an API key has its own project only)."""
    now = now_us()
    values = _evaluator_columns(engine, project_id, body.model_dump(), trace_projects)
    values.update(
        project_id=project_id,
        id=str(uuid.uuid4()),
        scan_created_us=now,  # only traces created from now on are evaluated
        scan_trace_id="",
        created_at_us=now,
        updated_at_us=now,
    )
    _write(engine, insert(evaluators).values(values), f"an evaluator named {values['name']!r}")
    return _found(get_evaluator(engine, project_id, values["id"]))


def update_evaluator(
    engine: Engine,
    project_id: str,
    evaluator_id: str,
    body: EvaluatorUpdate,
    *,
    trace_projects: Collection[str] = (),
) -> RowMapping | None:
    current = get_evaluator(engine, project_id, evaluator_id)
    if current is None:
        return None
    merged = evaluator_json(current)
    for name in body.model_fields_set:  # null clears an optional field and leaves a required one as it is
        value = getattr(body, name)
        if value is not None or name in _CLEARABLE:
            merged[name] = value
    try:
        merged = EvaluatorCreate.model_validate(
            {k: v for k, v in merged.items() if k in EvaluatorCreate.model_fields and v is not None}
        ).model_dump()
    except ValidationError as exc:
        raise InvalidInputError(f"the updated evaluator is not valid: {exc.errors()[0]['msg']}") from None
    # the project chosen before stays allowed: a change of anything else keeps it
    allowed = (*trace_projects, *([current["trace_project_id"]] if current["trace_project_id"] else []))
    values = _evaluator_columns(engine, project_id, merged, allowed)
    values["updated_at_us"] = now_us()
    if values["enabled"] and not current["enabled"]:  # traces of the pause are not evaluated
        values.update(scan_created_us=values["updated_at_us"], scan_trace_id="")
    where = (evaluators.c.project_id == project_id, evaluators.c.id == evaluator_id)
    _write(engine, update(evaluators).where(*where).values(values), f"an evaluator named {values['name']!r}")
    return get_evaluator(engine, project_id, evaluator_id)


def delete_evaluator(engine: Engine, project_id: str, evaluator_id: str) -> bool:
    """Delete an evaluator with its jobs (the scores it wrote stay)."""
    with engine.begin() as conn:
        conn.execute(
            delete(evaluator_jobs).where(
                evaluator_jobs.c.project_id == project_id, evaluator_jobs.c.evaluator_id == evaluator_id
            )
        )
        where = (evaluators.c.project_id == project_id, evaluators.c.id == evaluator_id)
        return int(conn.execute(delete(evaluators).where(*where)).rowcount or 0) > 0


def get_evaluator(engine: Engine, project_id: str, evaluator_id: str) -> RowMapping | None:
    with engine.connect() as conn:
        query = select(evaluators).where(evaluators.c.project_id == project_id, evaluators.c.id == evaluator_id)
        return conn.execute(query).mappings().first()


def list_evaluators(engine: Engine, project_id: str, *, page: int, limit: int) -> Page[RowMapping]:
    mine = evaluators.c.project_id == project_id
    query = select(evaluators).where(mine).order_by(evaluators.c.created_at_us.desc(), evaluators.c.id)
    return fetch_page(engine, query, lambda r: r, page=page, limit=limit, counted=select(evaluators.c.id).where(mine))


def evaluator_json(row: RowMapping) -> dict[str, Any]:
    score: dict[str, Any] = {"name": row["score_name"], "dataType": row["score_data_type"]}
    if row["score_data_type"] == "NUMERIC":
        score.update(minValue=row["score_min"], maxValue=row["score_max"])
    if row["score_categories"] is not None:
        score["categories"] = load_json_list(row["score_categories"])
    return {
        "id": row["id"],
        "projectId": row["project_id"],
        "name": row["name"],
        "enabled": bool(row["enabled"]),
        "connectionId": row["connection_id"],
        "model": row["model"],
        "prompt": row["prompt"],
        "variableMapping": load_json_object(row["variable_mapping"]),
        "target": row["target"],
        "observationName": row["observation_name"],
        "observationType": row["observation_type"],
        "score": score,
        "samplingRate": row["sampling_rate"],
        "filter": load_json_list(row["filter"]),
        "delaySeconds": row["delay_ms"] / 1000,
        "traceProjectId": row["trace_project_id"],
        "createdAt": us_to_iso(row["created_at_us"]),
        "updatedAt": us_to_iso(row["updated_at_us"]),
    }


def mapping_of(row: RowMapping) -> dict[str, Source]:
    """The evaluator's variables with their sources (declared and implied)."""
    # a stored mapping no reader can use (written by hand, or an older version) declares nothing
    stored = load_json_object(row["variable_mapping"]).items()
    declared = {name: _source(value) for name, value in stored if _source_fields(value)}
    return resolve_mapping(row["prompt"], declared, row["target"])


_SOURCE_KEYS = {"source": "source", "field": "field", "key": "key"}
_SOURCE_KEYS.update(observationName="observation_name", observationType="observation_type")


def _source(value: dict[str, Any]) -> Source:
    return Source(**{_SOURCE_KEYS[key]: item for key, item in value.items()})


def _source_fields(value: Any) -> bool:
    return isinstance(value, dict) and set(value) <= set(_SOURCE_KEYS) and {"source", "field"} <= set(value)


def _evaluator_columns(
    engine: Engine, project_id: str, body: dict[str, Any], trace_projects: Collection[str] = ()
) -> dict[str, Any]:
    """The row of a validated body (``EvaluatorCreate.model_dump()``), after the unstated rules."""
    target = body["target"]
    declared = {name: Variable.model_validate(value) for name, value in (body["variableMapping"] or {}).items()}
    sources = {
        name: Source(v.source, v.field, v.key, v.observationName, v.observationType) for name, v in declared.items()
    }
    try:
        resolve_mapping(body["prompt"], sources, target)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    try:
        parse_filter(orjson.dumps(body["filter"]).decode(), "traces")
    except ValueError as exc:
        raise InvalidInputError(f"filter: {exc}") from None
    score = body["score"]
    data_type = score["dataType"]
    categories = score.get("categories")
    if data_type == "CATEGORICAL":
        if not categories:
            raise InvalidInputError("a CATEGORICAL score needs categories")
        if len(set(categories)) != len(categories):
            raise InvalidInputError("score categories must be unique")
    elif categories:
        raise InvalidInputError(f"categories apply to CATEGORICAL scores only, not {data_type}")
    low, high = score.get("minValue"), score.get("maxValue")
    if data_type != "NUMERIC" and (low is not None or high is not None):
        raise InvalidInputError("minValue and maxValue apply to NUMERIC scores only")
    if low is not None and high is not None and not low < high:
        raise InvalidInputError("score minValue must be below maxValue")
    if body["traceProjectId"] not in (None, project_id, *trace_projects):
        raise InvalidInputError("traceProjectId must be this project's id (or null: the judge's calls are not traced)")
    if get_connection(engine, project_id, body["connectionId"]) is None:
        raise InvalidInputError(f"connection {body['connectionId']!r} does not exist in this project")
    if target == "trace" and (body["observationName"] or body["observationType"]):
        raise InvalidInputError("observationName and observationType apply to target 'observation' only")
    return {
        "name": body["name"].strip(),
        "enabled": body["enabled"],
        "connection_id": body["connectionId"],
        "model": body["model"],
        "prompt": body["prompt"],
        "variable_mapping": orjson.dumps({n: v.model_dump(exclude_none=True) for n, v in declared.items()}).decode(),
        "target": target,
        "observation_name": body["observationName"],
        "observation_type": body["observationType"],
        "score_name": score["name"].strip(),
        "score_data_type": data_type,
        "score_min": low,
        "score_max": high,
        "score_categories": orjson.dumps(categories).decode() if categories else None,
        "sampling_rate": body["samplingRate"],
        "filter": orjson.dumps(body["filter"]).decode(),
        "delay_ms": round(body["delaySeconds"] * 1000),
        "trace_project_id": body["traceProjectId"],
    }


# --- jobs ---------------------------------------------------------------------------------------


def list_jobs(
    engine: Engine,
    project_id: str,
    *,
    evaluator_id: str | None,
    status: str | None,
    page: int,
    limit: int,
    trace_id: str | None = None,
) -> Page[RowMapping]:
    where = [evaluator_jobs.c.project_id == project_id]
    if evaluator_id is not None:
        where.append(evaluator_jobs.c.evaluator_id == evaluator_id)
    if trace_id is not None:
        where.append(evaluator_jobs.c.trace_id == trace_id)
    if status is not None:
        where.append(evaluator_jobs.c.status == status)
    query = select(evaluator_jobs).where(*where).order_by(evaluator_jobs.c.created_at_us.desc(), evaluator_jobs.c.id)
    return fetch_page(
        engine, query, lambda r: r, page=page, limit=limit, counted=select(evaluator_jobs.c.id).where(*where)
    )


def job_json(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "projectId": row["project_id"],
        "evaluatorId": row["evaluator_id"],
        "traceId": row["trace_id"],
        "observationId": row["observation_id"],
        "status": row["status"],
        "attempts": row["attempts"],
        "error": row["error"],
        "scoreId": row["score_id"],
        "model": row["model"],
        "latencyMs": row["latency_ms"],
        "inputTokens": row["input_tokens"],
        "outputTokens": row["output_tokens"],
        "totalTokens": row["total_tokens"],
        "cost": row["cost"],
        "judgeTraceId": row["judge_trace_id"],
        "createdAt": us_to_iso(row["created_at_us"]),
        "updatedAt": us_to_iso(row["updated_at_us"]),
        "finishedAt": us_to_iso(row["finished_at_us"]),
    }


def _write(engine: Engine, statement: Any, what: str) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(statement)
    except IntegrityError:
        raise ConflictError(f"{what} already exists in this project") from None


def _found(row: RowMapping | None) -> RowMapping:
    assert row is not None
    return row
