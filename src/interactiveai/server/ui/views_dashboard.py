"""The project dashboard: tiles, charts and tables of a time range, and its JSON twin.

The HTML page is a shell (range and environment controls, empty tiles, chart frames); the
script ``dashboard.js`` fetches the JSON twin and draws everything, so the aggregates are
computed once per view and the page appears at once even when a 30-day window takes a moment.
Both routes read ``query.metrics.dashboard``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from interactiveai.server.clock import now_us, parse_iso_to_us
from interactiveai.server.query import metrics
from interactiveai.server.query.metrics_base import GRANULARITIES, MetricsFilter
from interactiveai.server.ui.auth import project_access
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.ui.pages import json_response, render

router = APIRouter(include_in_schema=False)

RANGES: dict[str, tuple[int, str]] = {
    "1h": (3600, "Past hour"),
    "6h": (6 * 3600, "Past 6 hours"),
    "24h": (24 * 3600, "Past 24 hours"),
    "7d": (7 * 86400, "Past 7 days"),
    "30d": (30 * 86400, "Past 30 days"),
}
DEFAULT_RANGE = "7d"
CUSTOM = "custom"
MAX_CUSTOM_DAYS = 400
"""A custom range spans at most this many days (weekly buckets, each from the roll-ups' day rows)."""
MAX_ENVIRONMENTS = 20
_MINUTE = GRANULARITIES["minute"]


def _local_time(value: str | None, offset_minutes: int) -> int | None:
    """A ``from``/``to`` value: ISO 8601 with a zone, or the browser's zone-less local time
    (``datetime-local``) shifted by ``tz`` (minutes east of UTC, sent by the page's script)."""
    text = (value or "").strip()[:40]
    if not text:
        return None
    try:
        us = parse_iso_to_us(text)
    except ValueError:
        return None
    zoned = text.endswith(("Z", "z")) or "+" in text[10:] or "-" in text[10:]
    return us if zoned else us - offset_minutes * 60_000_000


class DashboardArgs:
    """The dashboard's state in the URL: ``range`` preset (or ``custom`` with ``from``/``to``) and
    ``env`` (repeatable). Lenient parsing: an unusable custom range falls back to the default,
    and says why in ``error``."""

    def __init__(self, params: QueryParams) -> None:
        self.range = params.get("range") or DEFAULT_RANGE
        self.error: str | None = None
        self.custom: tuple[int, int] | None = None
        if self.range == CUSTOM:
            self.custom = self._custom(params)
            if self.custom is None:
                self.range = DEFAULT_RANGE
        elif self.range not in RANGES:
            self.range = DEFAULT_RANGE
        self.environments = list(dict.fromkeys(e.strip()[:40] for e in params.getlist("env") if e.strip()))
        self.environments = self.environments[:MAX_ENVIRONMENTS]

    def _custom(self, params: QueryParams) -> tuple[int, int] | None:
        try:
            offset = max(-14 * 60, min(14 * 60, int(params.get("tz") or 0)))
        except ValueError:
            offset = 0
        start, end = _local_time(params.get("from"), offset), _local_time(params.get("to"), offset)
        if start is None or end is None:
            self.error = "A custom range needs a start and an end date-time."
            return None
        # Minute edges, like the presets: repeated loads share buckets and the cache.
        start, end = start // _MINUTE * _MINUTE, -(-end // _MINUTE) * _MINUTE
        if end <= start:
            self.error = "The custom range must end after it starts."
            return None
        if end - start > MAX_CUSTOM_DAYS * 86_400_000_000:
            self.error = f"A custom range spans at most {MAX_CUSTOM_DAYS} days."
            return None
        return start, end

    def window(self) -> MetricsFilter:
        if self.custom is not None:
            return MetricsFilter(*self.custom, environments=self.environments)
        seconds = RANGES[self.range][0]
        # The window ends at the end of the current minute, so repeated loads share bucket edges.
        to_us = (now_us() // _MINUTE + 1) * _MINUTE
        return MetricsFilter(to_us - seconds * 1_000_000, to_us, environments=self.environments)

    @property
    def label(self) -> str:
        if self.custom is not None:
            return "Custom range"
        return RANGES[self.range][1]

    def query(self, **overrides: Any) -> str:
        params: list[tuple[str, str]] = [("range", overrides.get("range", self.range))]
        if self.custom is not None and params[0][1] == CUSTOM:
            params += [("from", iso_time(self.custom[0])), ("to", iso_time(self.custom[1]))]
        params += [("env", e) for e in overrides.get("env", self.environments)]
        return urlencode(params)


def _ms(us: float | None) -> float | None:
    return None if us is None else us / 1000


def dashboard_data(board: metrics.Dashboard, window: MetricsFilter) -> dict[str, Any]:
    """The JSON twin's body (camelCase; latencies in milliseconds, costs in USD)."""
    s = board.summary
    return {
        "from": iso_time(window.from_us),
        "to": iso_time(window.to_us),
        "granularity": board.granularity,
        "summary": {
            "traces": s.traces,
            "observations": s.observations,
            "errorTraces": s.error_traces,
            "warningTraces": s.warning_traces,
            "errorRate": s.error_rate,
            "inputTokens": s.input_tokens,
            "outputTokens": s.output_tokens,
            "totalTokens": s.total_tokens,
            "totalCost": s.total_cost,
            "latencyP50Ms": _ms(s.latency_p50_us),
            "latencyP95Ms": _ms(s.latency_p95_us),
        },
        "volume": [
            {
                "time": iso_time(p.bucket_us),
                "traces": p.traces,
                "observations": p.observations,
                "errorTraces": p.error_traces,
                "warningTraces": p.warning_traces,
                "totalTokens": p.total_tokens,
                "totalCost": p.total_cost,
            }
            for p in board.volume
        ],
        "modelSeries": [
            {
                "time": iso_time(p.bucket_us),
                "model": p.model,
                "calls": p.calls,
                "inputTokens": p.input_tokens,
                "outputTokens": p.output_tokens,
                "totalTokens": p.total_tokens,
                "totalCost": p.total_cost,
            }
            for p in board.model_series
        ],
        "latency": [
            {
                "time": iso_time(p.bucket_us),
                "p50": _ms(p.p50_us),
                "p90": _ms(p.p90_us),
                "p95": _ms(p.p95_us),
                "p99": _ms(p.p99_us),
            }
            for p in board.latency
        ],
        "models": [
            {
                "model": m.model,
                "calls": m.calls,
                "inputTokens": m.input_tokens,
                "outputTokens": m.output_tokens,
                "totalTokens": m.total_tokens,
                "totalCost": m.total_cost,
                "latencyP50Ms": _ms(m.latency_us[0]),
                "latencyP95Ms": _ms(m.latency_us[2]),
            }
            for m in board.models
        ],
        "users": [
            {"userId": u.user_id, "traces": u.traces, "totalTokens": u.total_tokens, "totalCost": u.total_cost}
            for u in board.users
        ],
        "scores": [
            {
                "name": sc.name,
                "dataType": sc.data_type,
                "count": sc.count,
                "average": sc.average,
                "min": sc.minimum,
                "max": sc.maximum,
                "categories": [{"value": label, "count": n} for label, n in sc.categories],
            }
            for sc in board.scores
        ],
    }


class _Cache:
    """Recent dashboards, for one minute: windows end on a minute edge, so a reload (or a colleague
    opening the same range) within that minute gets the same figures without recomputing them."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[Any, ...], value: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_CACHE_LOCK = threading.Lock()


def _cache_of(request: Request) -> _Cache:
    # One cache per app (its engine, its data): test apps and in-process replicas never share figures.
    state = request.app.state
    with _CACHE_LOCK:
        cache: _Cache | None = getattr(state, "dashboard_cache", None)
        if cache is None:
            cache = state.dashboard_cache = _Cache()
    return cache


@router.get("/project/{project_id}/dashboard.json")
def dashboard_json(request: Request, project_id: str) -> Response:
    project_access(request, project_id)
    args = DashboardArgs(request.query_params)
    window = args.window()
    cache = _cache_of(request)
    key = (project_id, window.from_us, window.to_us, tuple(args.environments))
    data = cache.get(key)
    if data is None:
        data = dashboard_data(metrics.dashboard(request.app.state.engine, project_id, window), window)
        cache.put(key, data)
    body = {"range": args.range, "environments": args.environments, **data}
    if args.error:
        body["error"] = args.error
    return json_response(request, body)


@router.get("/project/{project_id}/dashboard")
def dashboard_page(request: Request, project_id: str) -> Response:
    access = project_access(request, project_id)
    args = DashboardArgs(request.query_params)
    known = metrics.environments(request.app.state.engine, project_id)
    base = f"/project/{project_id}/dashboard"
    return render(
        request,
        "dashboard.html",
        {
            "access": access,
            "section": "dashboard",
            "args": args,
            "ranges": [(key, label) for key, (_seconds, label) in RANGES.items()],
            "environments": sorted(set(known) | set(args.environments)),
            "base": base,
            "json_url": f"{base}.json?{args.query()}",
            "range_label": args.label,
            "custom_from": iso_time(args.custom[0]) if args.custom else "",
            "custom_to": iso_time(args.custom[1]) if args.custom else "",
            "users_url": f"/project/{project_id}/users/",
        },
    )
