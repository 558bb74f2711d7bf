"""Scores: building the wire object and sending batches from a background thread.

``create_score`` only appends to a bounded in-memory queue; a daemon thread posts batches as a
JSON list to ``POST /api/public/scores``, retrying network errors, 429 and 5xx with backoff.
``flush``/``shutdown`` wait at most their timeout. After ``os.fork`` the child starts with an
empty queue and its own thread (the parent's thread does not exist there).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import weakref
from collections import deque
from typing import Any, Final, Literal, TypedDict

import orjson

from interactiveai.sdk.api_client import ApiClient
from interactiveai.sdk.attributes import iso_utc
from interactiveai.sdk.export.sampling import is_trace_sampled
from interactiveai.sdk.ids import create_observation_id, normalize_trace_id
from interactiveai.sdk.serialize import to_json

logger = logging.getLogger("interactiveai")

ScoreDataType = Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]
SCORE_DATA_TYPES: Final = frozenset(("NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"))
SCORES_PATH: Final = "/api/public/scores"
MAX_ATTEMPTS: Final = 4
MAX_BACKOFF: Final = 8.0


class ScoreOptions(TypedDict, total=False):
    """Optional fields of a score created from an observation or the current context."""

    score_id: str
    data_type: str
    comment: str
    config_id: str
    metadata: Any
    timestamp: dt.datetime


def prepare_score(
    *,
    sample_rate: float,
    environment: str | None,
    name: str,
    value: float | str | bool,
    trace_id: str | None,
    observation_id: str | None,
    session_id: str | None,
    dataset_run_id: str | None,
    score_id: str | None,
    data_type: str | None,
    comment: str | None,
    config_id: str | None,
    metadata: Any,
    timestamp: dt.datetime | None,
) -> dict[str, Any] | None:
    """The camelCase score object of the public API to queue (absent fields left out), or None when
    its trace was sampled out (it would point at nothing)."""
    if data_type is not None and data_type not in SCORE_DATA_TYPES:
        logger.warning("interactiveai: unknown score data_type %r; sending without it", data_type)
        data_type = None
    tid = normalize_trace_id(trace_id) if trace_id is not None else None
    # Same deterministic rule as span export, so a trace and its scores are kept or dropped together.
    if tid is not None and not is_trace_sampled(int(tid, 16), sample_rate):
        return None
    if isinstance(value, bool):  # booleans travel as 1/0, typed BOOLEAN
        data_type = data_type or "BOOLEAN"
        value = 1.0 if value else 0.0
    score: dict[str, Any] = {
        "id": score_id or create_observation_id(),
        "name": name,
        "value": value,
        "timestamp": iso_utc(timestamp or dt.datetime.now(dt.UTC)),
    }
    optional = {
        "traceId": tid or trace_id,
        "observationId": observation_id,
        "sessionId": session_id,
        "datasetRunId": dataset_run_id,
        "dataType": data_type,
        "comment": comment,
        "configId": config_id,
        "environment": environment,
    }
    score.update({k: v for k, v in optional.items() if v is not None})
    if metadata is not None:
        # Guarantee JSON-safe content: the queue is serialised later on another thread.
        score["metadata"] = orjson.loads(to_json(metadata))
    return score


_LIVE_SENDERS: weakref.WeakSet[ScoreSender] = weakref.WeakSet()


class ScoreSender:
    """Bounded queue + one lazily started daemon thread that posts score batches."""

    def __init__(
        self, api: ApiClient, *, max_queue_size: int = 10_000, batch_size: int = 100, flush_interval: float = 1.0
    ) -> None:
        self._api = api
        self._max_queue_size = max_queue_size
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._reset()
        _LIVE_SENDERS.add(self)

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._pending: deque[dict[str, Any]] = deque()
        self._inflight = 0
        self._flush_wanted = False
        self._closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned_full = False
        self._dropped = 0  # scores not delivered: queue full, refused, or given up on
        self._dropped_at_flush = 0  # _dropped when the last flush returned

    def _after_fork_in_child(self) -> None:
        # Locks may have been held by parent threads that do not exist here; start over.
        closed = getattr(self, "_closed", False)
        self._reset()
        self._closed = closed

    def enqueue(self, score: dict[str, Any]) -> bool:
        """Queue one score; False if it was dropped (queue full or sender shut down)."""
        with self._cond:
            if self._closed:
                logger.debug("interactiveai: score dropped, client is shut down")
                return False
            if len(self._pending) >= self._max_queue_size:
                self._dropped += 1
                if not self._warned_full:
                    self._warned_full = True
                    logger.warning("interactiveai: score queue full (%d); dropping scores", self._max_queue_size)
                return False
            self._pending.append(score)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="interactiveai-scores", daemon=True)
                self._thread.start()
            if len(self._pending) >= self._batch_size:
                self._cond.notify_all()
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending and not self._closed:
                    self._cond.wait(self._flush_interval)
                if not self._pending:
                    if self._closed:
                        return
                    continue
                if len(self._pending) < self._batch_size and not (self._flush_wanted or self._closed):
                    # Wait for more scores unless someone is flushing; one interval at most.
                    self._cond.wait(self._flush_interval)
                batch = [self._pending.popleft() for _ in range(min(self._batch_size, len(self._pending)))]
                self._inflight = len(batch)
            refused = len(batch)
            try:
                refused = self._send(batch)
            except Exception as exc:  # never let the worker die
                logger.debug("interactiveai: score batch failed: %s", exc)
            with self._cond:
                self._dropped += refused
                self._inflight = 0
                if not self._pending:
                    self._flush_wanted = False
                self._cond.notify_all()

    def _send(self, batch: list[dict[str, Any]]) -> int:
        """Post ``batch`` with retries; how many of its scores were not accepted."""
        delay = 0.5
        for attempt in range(1, MAX_ATTEMPTS + 1):
            resp = self._api.post(SCORES_PATH, batch)
            if resp.status == 207:  # some accepted, some refused: those are not retried (4xx each)
                return _refused_in_part(resp.body, len(batch))
            if resp.ok:
                return 0
            if not resp.retryable or attempt == MAX_ATTEMPTS:
                logger.warning(
                    "interactiveai: %d score(s) not accepted (HTTP %s): %s",
                    len(batch),
                    resp.status or "no answer",
                    resp.body[:200].decode("utf-8", "replace"),
                )
                return len(batch)
            wait = min(resp.retry_after if resp.retry_after is not None else delay, MAX_BACKOFF)
            if self._stop.wait(wait):  # shutting down: give up instead of sleeping on
                logger.warning("interactiveai: %d score(s) dropped at shutdown after failed sends", len(batch))
                return len(batch)
            delay = min(delay * 2, MAX_BACKOFF)
        return len(batch)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued score was sent (or given up).

        Returns:
            False if ``timeout`` ran out, or if a score was dropped since the previous flush (queue
            full, refused by the server, or given up on after retries).
        """
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                done = not self._pending
            else:
                self._flush_wanted = True
                self._cond.notify_all()
                done = self._cond.wait_for(lambda: not self._pending and not self._inflight, timeout)
            clean = self._dropped == self._dropped_at_flush
            self._dropped_at_flush = self._dropped
        return done and clean

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Flush within ``timeout``, then stop the thread; queued scores left after that are dropped."""
        deadline = time.monotonic() + max(0.0, timeout)
        done = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
            done = done and not thread.is_alive()
        return done


def _reinit_senders_in_child() -> None:
    for sender in list(_LIVE_SENDERS):
        sender._after_fork_in_child()


os.register_at_fork(after_in_child=_reinit_senders_in_child)


def _refused_in_part(body: bytes, sent: int) -> int:
    """The scores a 207 answer refused (``rejected``, with ``errors`` saying why), logged."""
    try:
        answer = orjson.loads(body)
        refused = answer.get("rejected")
        errors = answer.get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        refused, errors = None, []
    if not isinstance(refused, int) or isinstance(refused, bool) or not 0 <= refused <= sent:
        refused = sent  # an answer we cannot read: count the batch as not delivered, as for a 4xx
    if refused:
        logger.warning(
            "interactiveai: %d of %d score(s) not accepted (HTTP 207): %s",
            refused,
            sent,
            orjson.dumps(errors[:3]).decode()[:300] if isinstance(errors, list) else "",
        )
    return refused
