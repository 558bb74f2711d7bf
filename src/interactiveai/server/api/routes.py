"""All public API routers under /api/public (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/public")


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "OK"}
