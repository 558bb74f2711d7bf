"""The client's score methods: ``create_score`` and the shortcuts scoring the current observation or trace.

A mixin of ``InteractiveAI`` (kept apart from span creation and the export lifecycle). Scores are
queued for a background sender and never raise into user code.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Unpack

from opentelemetry.trace import Tracer

from interactiveai.sdk.scores import ScoreOptions, ScoreSender, prepare_score
from interactiveai.sdk.settings import ClientSettings

logger = logging.getLogger("interactiveai")


class ScoreMethods:
    """Scores on traces, observations, sessions and dataset runs."""

    _settings: ClientSettings
    _tracer: Tracer | None
    _scores: ScoreSender | None

    if TYPE_CHECKING:

        def get_current_trace_id(self) -> str | None: ...

        def get_current_observation_id(self) -> str | None: ...

    def create_score(
        self,
        *,
        name: str,
        value: float | str | bool,
        trace_id: str | None = None,
        observation_id: str | None = None,
        session_id: str | None = None,
        dataset_run_id: str | None = None,
        score_id: str | None = None,
        data_type: str | None = None,
        comment: str | None = None,
        config_id: str | None = None,
        metadata: Any = None,
        timestamp: dt.datetime | None = None,
    ) -> None:
        """Queue a score on a trace, an observation, a session or a dataset run (sent in the background).

        ``data_type`` is NUMERIC, BOOLEAN, CATEGORICAL or TEXT. Scores on traces that sampling
        dropped are dropped too.
        """
        if self._scores is None or self._tracer is None:
            return
        try:
            score = prepare_score(
                sample_rate=self._settings.sample_rate,
                environment=self._settings.environment,
                name=name,
                value=value,
                trace_id=trace_id,
                observation_id=observation_id,
                session_id=session_id,
                dataset_run_id=dataset_run_id,
                score_id=score_id,
                data_type=data_type,
                comment=comment,
                config_id=config_id,
                metadata=metadata,
                timestamp=timestamp,
            )
            if score is not None:
                self._scores.enqueue(score)
        except Exception as exc:
            logger.warning("interactiveai: could not queue score %r: %s", name, exc)

    def _score(
        self, name: str, value: float | str | bool, trace_id: str, observation_id: str | None, options: ScoreOptions
    ) -> None:
        extra: dict[str, Any] = {k: v for k, v in options.items() if k not in ("trace_id", "observation_id")}
        try:
            self.create_score(name=name, value=value, trace_id=trace_id, observation_id=observation_id, **extra)
        except TypeError as exc:  # unknown option names: report, never raise into user code
            logger.warning("interactiveai: score %r not created: %s", name, exc)

    def score_current_span(self, *, name: str, value: float | str | bool, **options: Unpack[ScoreOptions]) -> None:
        """Score the active observation."""
        tid, oid = self.get_current_trace_id(), self.get_current_observation_id()
        if tid is None:
            logger.warning("interactiveai: score_current_span called outside an active observation")
            return
        self._score(name, value, tid, oid, options)

    def score_current_trace(self, *, name: str, value: float | str | bool, **options: Unpack[ScoreOptions]) -> None:
        """Score the active trace."""
        tid = self.get_current_trace_id()
        if tid is None:
            logger.warning("interactiveai: score_current_trace called outside an active observation")
            return
        self._score(name, value, tid, None, options)
