"""``POST /api/public/ingestion``: the reference SDK's batch of events, answered 207 per event.

Its 2.x releases send everything here, its 3.x and 4.x releases every score. The answer is the
reference's: ``{"successes": [{id, status}], "errors": [{id, status, message, error}]}``, one
entry per event, ids being the events' own. A malformed event is answered 400 in ``errors`` and
the others are stored; only what concerns the request as a whole is a status of its own: 401
(key, before the body is read), 413/415/400 (the body, as every REST write reads it), 429 (the
ingestion queue or the body budget is full), 503 (the database stays unreachable).

Traces and observations take OTLP ingestion's path from the decode turn on (legacy_events.py,
legacy_writes.py): the same fairness between projects, queue limit, group commit, pricing and
merge rules, so a success is committed. Scores take the REST API's score writes (validation per
data type and config, upsert by id). A batch may be sent twice (the SDK resends a batch when one
event fails): applying it again changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import Engine

from interactiveai.server.api.common import JSON, AuthKey, DbEngine, JsonBody, bad_request, json_body
from interactiveai.server.api.ingestion_models import BATCH_SCHEMA, IngestionResult
from interactiveai.server.auth import ApiKey
from interactiveai.server.bodies import body_size
from interactiveai.server.clock import now_us
from interactiveai.server.ingest.legacy_events import SCORE, SDK_LOG, ObservationPatch, ParsedBatch, parse_batch
from interactiveai.server.ingest.legacy_writes import resolve_trace_ids, write_patches
from interactiveai.server.ingest.service import IngestService
from interactiveai.server.ingest.writer import Overloaded, StorageUnavailable, WriteRejected, transient
from interactiveai.server.writes.errors import InvalidInputError
from interactiveai.server.writes.scores import upsert_scores

logger = logging.getLogger("interactiveai.server.ingest")
router = APIRouter(tags=["ingestion"])

INVALID = "Invalid request data"
_RETRY_AFTER_UNAVAILABLE = "5"
_LOG_CHARS = 1_000


def _service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


def _busy(service: IngestService, reason: str) -> HTTPException:
    retry_after = str(service.settings.retry_after_seconds)
    return HTTPException(status_code=429, detail=f"{reason}; retry later", headers={"Retry-After": retry_after})


def _unavailable(reason: str) -> HTTPException:
    return HTTPException(
        status_code=503,
        detail=f"Storage unavailable: {reason}; retry later",
        headers={"Retry-After": _RETRY_AFTER_UNAVAILABLE},
    )


async def _room(request: Request, key: AuthKey) -> None:
    """429 before the body is read while the ingestion queue has no room for this project."""
    service = _service(request)
    if refusal := service.overloaded(key.project_id):
        raise _busy(service, refusal)


@router.post(
    "/ingestion",
    status_code=207,
    response_model=IngestionResult,
    summary="Ingest a batch of events (the reference SDK's batch API)",
    description=(
        "A batch of events `{id, type, timestamp, body}`: traces, observations (creates and updates), "
        "scores and SDK logs. Answered 207 with one entry per event: `successes` (status 201, committed) "
        "and `errors` (status 400 with `message` and `error`, for an event that breaks a rule; the others "
        "are stored). Events about one entity apply creates first, then in timestamp order; an update "
        "merges into what is stored. A score is checked as `POST /api/public/scores` checks it."
    ),
    responses={207: {"description": "Every event answered: `successes` and `errors`."}},
    openapi_extra=json_body(BATCH_SCHEMA),
)
async def post_ingestion(
    request: Request, key: AuthKey, engine: DbEngine, _: Annotated[None, Depends(_room)], payload: JsonBody
) -> JSON:
    batch = payload.get("batch") if isinstance(payload, dict) else None
    if not isinstance(batch, list):
        raise bad_request(f'{INVALID}: the body must be a JSON object with "batch", a list of events')
    service = _service(request)
    async with service.decodes.turn(key.project_id):
        parsed = await to_thread.run_sync(parse_batch, batch, now_us())
    errors = dict(parsed.errors)
    try:
        errors.update(await _write_entities(service, engine, key, parsed, body_size(request)))
        scores = [(event.index, event.score) for event in parsed.events if event.type == SCORE and event.score]
        if scores:
            errors.update(await to_thread.run_sync(_write_scores, engine, key.project_id, scores))
    except Overloaded as exc:
        raise _busy(service, str(exc)) from None
    except StorageUnavailable as exc:
        raise _unavailable(str(exc)) from None
    for event in parsed.events:
        if event.type == SDK_LOG and event.index not in errors:
            logger.debug("sdk-log (project %s): %.*r", key.project_id, _LOG_CHARS, event.log)
    return JSON(_answer(batch, parsed, errors), status_code=207)


async def _write_entities(
    service: IngestService, engine: Engine, key: ApiKey, parsed: ParsedBatch, payload_bytes: int
) -> dict[int, tuple[str, str]]:
    """Store the traces and observations in the group commit; the events the database refused.
    ``payload_bytes``: the request body's size, what the events count in the ingestion queue."""
    traces = parsed.traces
    patches = list(parsed.observations.values())
    if not traces and not patches:
        return {}
    if any(patch.trace_id is None for patch in patches):
        await to_thread.run_sync(resolve_trace_ids, engine, key.project_id, patches)
    project_id, pricing = key.project_id, service.pricing
    size = sum(len(p.event_indexes) for p in traces.values()) + sum(len(p.event_indexes) for p in patches)
    try:
        await service.write(
            project_id, size, lambda conn: write_patches(conn, project_id, traces, patches, pricing), payload_bytes
        )
        return {}
    except WriteRejected:
        if len(_trace_ids(traces, patches)) == 1:
            raise
    # The database refused something in the batch: each trace alone, so only its events fail.
    errors: dict[int, tuple[str, str]] = {}
    groups = [
        ({t: traces[t]} if t in traces else {}, [p for p in patches if p.trace_id == t])
        for t in _trace_ids(traces, patches)
    ]
    share = payload_bytes // len(groups)
    results = await asyncio.gather(*(_write_group(service, project_id, group, share) for group in groups))
    for (trace_part, obs_part), problem in zip(groups, results, strict=True):
        if problem is not None:
            indexes = [i for p in trace_part.values() for i in p.event_indexes]
            indexes += [i for p in obs_part for i in p.event_indexes]
            errors.update((i, ("", f"could not be stored: {problem}")) for i in indexes)
    return errors


async def _write_group(
    service: IngestService, project_id: str, group: tuple[dict[str, Any], list[ObservationPatch]], payload_bytes: int
) -> str | None:
    traces, patches = group
    size = sum(len(p.event_indexes) for p in traces.values()) + sum(len(p.event_indexes) for p in patches)
    pricing = service.pricing
    try:
        await service.write(
            project_id, size, lambda conn: write_patches(conn, project_id, traces, patches, pricing), payload_bytes
        )
    except WriteRejected as exc:
        return str(exc)
    return None


def _trace_ids(traces: dict[str, Any], patches: Sequence[ObservationPatch]) -> list[str]:
    return sorted(set(traces) | {p.trace_id for p in patches if p.trace_id is not None})


def _write_scores(engine: Engine, project_id: str, scores: list[tuple[int, Any]]) -> dict[int, tuple[str, str]]:
    """Upsert the scores together; when one is refused, each half on its own (and so on), so only
    the bad ones fail: about 2·log2(n) validations per refused score, never one write per score."""
    try:
        _upsert(engine, project_id, [item for _, item in scores])
        return {}
    except InvalidInputError as exc:
        if len(scores) == 1:
            return {scores[0][0]: ("", str(exc))}
    half = len(scores) // 2
    errors = _write_scores(engine, project_id, scores[:half])
    errors.update(_write_scores(engine, project_id, scores[half:]))
    return errors


def _upsert(engine: Engine, project_id: str, items: list[Any]) -> None:
    try:
        upsert_scores(engine, project_id, items)
    except InvalidInputError:
        raise
    except Exception as exc:
        if transient(exc):
            raise StorageUnavailable(str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__) from exc
        raise


def _answer(batch: list[Any], parsed: ParsedBatch, errors: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """One entry per event, in the batch's order, under its own id."""
    ids = {event.index: event.id for event in parsed.events}
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for index in range(len(batch)):
        if index in errors:
            own_id, why = errors[index]
            event_id = ids.get(index, own_id)
            failures.append({"id": event_id, "status": 400, "message": INVALID, "error": why})
        else:
            successes.append({"id": ids[index], "status": 201})
    return {"successes": successes, "errors": failures}
