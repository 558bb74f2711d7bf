"""What mapping hands to the writer: one observation row plus the span's trace-level facts.

The observation row is a plain dict keyed by column name so that the writer can pass a whole
batch to one executemany without another copy. Trace facts are kept apart because they are not
stored per span; they are merged into the trace row (see merge.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interactiveai.server.ingest.experiments import ExperimentLink

LEVEL_RANK = {"DEBUG": 0, "DEFAULT": 1, "WARNING": 2, "ERROR": 3}


@dataclass(slots=True)
class TraceFacts:
    """Trace-level attributes one span carries; None means "this span says nothing about it"."""

    is_root: bool = False
    name: str | None = None
    input: str | None = None
    output: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    release: str | None = None
    version: str | None = None
    environment: str = "default"
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None
    public: bool | None = None


@dataclass(slots=True)
class MappedSpan:
    """One span ready to store: ``row`` holds every observations column except project and created."""

    row: dict[str, Any]
    trace: TraceFacts = field(default_factory=TraceFacts)
    experiment: ExperimentLink | None = None  # the dataset run item this span declares (experiments.py)
