"""``GET /health``: is the server up and its database reachable. No authentication, for probes."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy import text

from interactiveai.server.api.common import JSON, DbEngine
from interactiveai.server.api.models import Health
from interactiveai.version import __version__

logger = logging.getLogger("interactiveai.server.api")

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    summary="Server and database health",
    responses={503: {"model": Health, "description": "The database is unreachable."}},
)
def health(engine: DbEngine) -> JSON:
    # A real round trip: a green health check over a dead database is worse than none.
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        logger.warning("health check: database unreachable: %s", exc)
        return JSON(
            {"status": "ERROR", "version": __version__, "message": "Database is unreachable"},
            status_code=503,
        )
    return JSON({"status": "OK", "version": __version__})
