"""OTLP/HTTP trace ingestion: ``POST /api/public/otel/v1/traces`` and the standard ``POST /v1/traces``.

Every rejection is a 4xx that says what is wrong, decided as early and as cheaply as possible:
401 (key) before the body is read, 415 (content type or encoding), 413 (declared or counted size,
also after decompression), 429 (queue full, or too many body bytes in flight: bodies.py; the
server's limit or the project's share of it, shares.py), 408 (a body that stops arriving), 400
(undecodable or invalid OTLP). Only a database that stays unreachable gives a 5xx (503 with
Retry-After). 200 means the spans are committed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from interactiveai.server.auth import ApiKey, require_api_key
from interactiveai.server.bodies import read_body
from interactiveai.server.ingest.body import SUPPORTED_ENCODINGS, BadEncoding, BodyTooLarge
from interactiveai.server.ingest.otlp import OtlpError, response_body
from interactiveai.server.ingest.service import IngestService
from interactiveai.server.ingest.writer import Overloaded, StorageUnavailable, WriteRejected

router = APIRouter(tags=["ingestion"])
AuthKey = Annotated[ApiKey, Depends(require_api_key)]

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_RETRY_AFTER_UNAVAILABLE = "5"


def _content_kind(content_type: str | None) -> bool:
    """True for protobuf, False for JSON; 415 for anything else."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in (PROTOBUF, "application/protobuf", "application/vnd.google.protobuf"):
        return True
    if media == JSON:
        return False
    raise HTTPException(
        status_code=415,
        detail=f"Unsupported Content-Type {content_type or '(none)'!r}: send {PROTOBUF} or {JSON} (OTLP/HTTP)",
    )


async def _export(request: Request, key: ApiKey) -> Response:
    protobuf = _content_kind(request.headers.get("content-type"))
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in SUPPORTED_ENCODINGS:
        raise HTTPException(status_code=415, detail=f"Unsupported Content-Encoding {encoding!r}: use gzip or none")
    service: IngestService = request.app.state.ingest
    try:
        if refusal := service.overloaded(key.project_id, _declared_length(request)):
            raise Overloaded(refusal)
        body = await read_body(request, service.settings.max_body_bytes, key.project_id)
        await service.ingest(key.project_id, body, encoding, protobuf)
    except BodyTooLarge as exc:
        raise HTTPException(status_code=413, detail=str(exc)) from None
    except (OtlpError, BadEncoding) as exc:
        raise HTTPException(status_code=400, detail=f"Invalid OTLP trace export: {exc}") from None
    except Overloaded as exc:
        retry_after = str(service.settings.retry_after_seconds)
        raise HTTPException(
            status_code=429, detail=f"{exc}; retry later", headers={"Retry-After": retry_after}
        ) from None
    except WriteRejected as exc:
        raise HTTPException(status_code=400, detail=f"The spans could not be stored: {exc}") from None
    except StorageUnavailable as exc:
        raise HTTPException(
            status_code=503,
            detail=f"Storage unavailable: {exc}; retry later",
            headers={"Retry-After": _RETRY_AFTER_UNAVAILABLE},
        ) from None
    return Response(content=response_body(protobuf), media_type=PROTOBUF if protobuf else JSON)


def _declared_length(request: Request) -> int:
    """The body's Content-Length (0 when absent or malformed: the HTTP layer refuses those)."""
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else 0


# The body is read in the route (after the key dependency), so it is documented by hand.
_EXPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An OTLP ExportTraceServiceRequest, optionally gzip- or deflate-encoded.",
        "content": {
            PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
            JSON: {"schema": {"type": "object", "description": 'OTLP/JSON: {"resourceSpans": [...]}'}},
        },
    }
}


@router.post("/api/public/otel/v1/traces", summary="Ingest an OTLP/HTTP trace export", openapi_extra=_EXPORT_BODY)
async def export_traces(request: Request, key: AuthKey) -> Response:
    return await _export(request, key)


@router.post("/v1/traces", summary="Ingest an OTLP/HTTP trace export (standard OTLP path)", openapi_extra=_EXPORT_BODY)
async def export_traces_standard(request: Request, key: AuthKey) -> Response:
    return await _export(request, key)
