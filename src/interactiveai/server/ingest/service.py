"""The ingestion service: owns the group-commit writer thread (being written)."""

from __future__ import annotations

from sqlalchemy import Engine

from interactiveai.server.settings import Settings


class IngestService:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass
