"""The trace list's state in the URL: time range presets, filters, sort, cursor and visible columns.

The URL holds everything, so a link reproduces exactly what its sender saw. Parsing is lenient:
a malformed value is ignored (and reported in ``errors``) rather than failing the page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from interactiveai.server.clock import now_us, parse_iso_to_us
from interactiveai.server.query.ui_traces import LEVELS, SORTS, ScoreCondition, TraceListFilter

RANGES: dict[str, int | None] = {
    "30m": 30 * 60,
    "1h": 3600,
    "6h": 6 * 3600,
    "24h": 24 * 3600,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
    "all": None,
}
DEFAULT_RANGE = "7d"

# (key, label, shown by default)
COLUMNS: list[tuple[str, str, bool]] = [
    ("timestamp", "Timestamp", True),
    ("name", "Name", True),
    ("input", "Input", True),
    ("output", "Output", True),
    ("levels", "Levels", True),
    ("latency", "Latency", True),
    ("tokens", "Tokens", True),
    ("cost", "Cost", True),
    ("environment", "Env", False),
    ("tags", "Tags", True),
    ("user", "User", True),
    ("session", "Session", False),
    ("scores", "Scores", True),
    ("metadata", "Metadata", False),
    ("observations", "Obs.", False),
    ("version", "Version", False),
    ("release", "Release", False),
    ("id", "Trace ID", False),
]
COLUMN_KEYS = [c[0] for c in COLUMNS]
DEFAULT_COLUMNS = [c[0] for c in COLUMNS if c[2]]

MAX_PAGE = 100_000
"""The deepest page a paged UI list (scores, sessions, users, datasets) opens; a larger number opens this one."""
_PAGE = re.compile(r"[0-9]{1,12}")

_MULTI = {
    "env": "environments",
    "name": "names",
    "user": "user_ids",
    "session": "session_ids",
    "tag": "tags",
    "release": "releases",
    "model": "models",
}


@dataclass
class ListState:
    """The parsed list URL: a filter for the query plus what the page needs to rebuild links."""

    filter: TraceListFilter
    range: str
    from_text: str = ""
    to_text: str = ""
    sort: str = "timestamp"
    descending: bool = True
    cursor: str | None = None
    limit: int = 50
    columns: list[str] = field(default_factory=lambda: list(DEFAULT_COLUMNS))
    columns_explicit: bool = False
    raw: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def url(self, path: str, *, drop: tuple[str, ...] = (), **overrides: str | None) -> str:
        """``path`` with the current parameters, minus ``drop`` and the cursor, plus overrides."""
        removed = set(drop) | set(overrides) | {"cursor"}
        params = [(k, v) for k, v in self.raw if k not in removed]
        params += [(k, v) for k, v in overrides.items() if v is not None]
        return path + ("?" + urlencode(params) if params else "")

    def adding(self, path: str, key: str, value: str) -> str:
        """The URL with one more value of a (multi-valued) filter: for clickable tags and chips."""
        params = [(k, v) for k, v in self.raw if k != "cursor"]
        if (key, value) not in params:
            params.append((key, value))
        return path + "?" + urlencode(params)

    def without(self, path: str, key: str, value: str) -> str:
        """The URL with one value of a (multi-valued) filter removed: for the active-filter chips."""
        params = [(k, v) for k, v in self.raw if k != "cursor" and not (k == key and v == value)]
        return path + ("?" + urlencode(params) if params else "")

    @property
    def active(self) -> list[tuple[str, str, str]]:
        """(param, value, label) of every active filter other than time, sort and columns."""
        labels = {
            "env": "env",
            "name": "name",
            "user": "user",
            "session": "session",
            "tag": "tag",
            "level": "level",
            "meta": "metadata",
            "lat_min": "latency ≥",
            "lat_max": "latency ≤",
            "cost_min": "cost ≥",
            "cost_max": "cost ≤",
            "q": "search",
            "release": "release",
            "model": "model",
            "score": "score",
            "score_min": "score ≥",
            "score_max": "score ≤",
            "score_value": "score =",
        }
        return [(k, v, labels[k]) for k, v in self.raw if k in labels and v != ""]


def page_number(text: str | None) -> int:
    """A paged list's ``page`` parameter: 1 unless it is a positive decimal number, at most ``MAX_PAGE``.

    Anything else (letters, a sign, ``²``, a number beyond 64 bits) is ignored, never an error:
    the page is a link's state, and an offset beyond 64 bits would fail the database query.
    """
    if text is None or not _PAGE.fullmatch(text):
        return 1
    return min(max(int(text), 1), MAX_PAGE)


def _float(value: str | None, name: str, errors: list[str]) -> float | None:
    if value is None or value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        errors.append(f"{name}: not a number")
        return None
    if not math.isfinite(number):
        errors.append(f"{name}: not a finite number")
        return None
    return min(max(number, -1e9), 1e9)  # keeps latency µs inside a BIGINT


def _time(value: str | None, name: str, errors: list[str]) -> int | None:
    if not value or not value.strip():
        return None
    try:
        return parse_iso_to_us(value)
    except ValueError:
        errors.append(f"{name}: not a date and time")
        return None


def _score(params: QueryParams, errors: list[str]) -> ScoreCondition | None:
    """``score`` (a name) with ``score_min``/``score_max`` (numeric and boolean values) or
    ``score_value`` (a categorical or boolean label); a bound without a name is reported."""
    name = (params.get("score") or "").strip()
    low = _float(params.get("score_min"), "score min", errors)
    high = _float(params.get("score_max"), "score max", errors)
    label = (params.get("score_value") or "").strip() or None
    if not name:
        if low is not None or high is not None or label is not None:
            errors.append("score filter: choose a score name")
        return None
    return ScoreCondition(name=name, min_value=low, max_value=high, label=label)


def parse_list_state(params: QueryParams, *, now: int | None = None) -> ListState:
    errors: list[str] = []
    raw = [(k, v) for k, v in params.multi_items() if v != ""]
    filt = TraceListFilter()
    for param, attr in _MULTI.items():
        setattr(filt, attr, [v.strip() for v in params.getlist(param) if v.strip()])
    filt.tags = [t.strip() for v in params.getlist("tag") for t in v.split(",") if t.strip()]
    filt.levels = [v.upper() for v in params.getlist("level") if v.upper() in LEVELS]
    for item in params.getlist("meta"):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            filt.metadata.append((key.strip(), value.strip()))
        elif item.strip():
            errors.append("metadata filter must look like key=value")
    lat_min = _float(params.get("lat_min"), "latency min", errors)
    lat_max = _float(params.get("lat_max"), "latency max", errors)
    filt.min_latency_us = None if lat_min is None else int(lat_min * 1_000_000)
    filt.max_latency_us = None if lat_max is None else int(lat_max * 1_000_000)
    filt.min_cost = _float(params.get("cost_min"), "cost min", errors)
    filt.max_cost = _float(params.get("cost_max"), "cost max", errors)
    filt.search = (params.get("q") or "").strip()[:200] or None
    filt.score = _score(params, errors)

    range_key = params.get("range") or DEFAULT_RANGE
    from_text, to_text = params.get("from") or "", params.get("to") or ""
    if range_key == "custom" or ((from_text or to_text) and "range" not in params):
        range_key = "custom"
        filt.from_us = _time(from_text, "from", errors)
        filt.to_us = _time(to_text, "to", errors)
    else:
        if range_key not in RANGES:
            errors.append(f"unknown time range {range_key!r}")
            range_key = DEFAULT_RANGE
        seconds = RANGES[range_key]
        if seconds is not None:
            filt.from_us = (now if now is not None else now_us()) - seconds * 1_000_000

    sort = params.get("sort") or "timestamp"
    if sort not in SORTS:
        sort = "timestamp"
    try:
        limit = min(max(int(params.get("limit") or 50), 1), 200)
    except ValueError:
        limit = 50
    cols_values = params.getlist("cols")
    cols_param = ",".join(cols_values) if cols_values else None
    columns = [c for c in (cols_param or "").split(",") if c in COLUMN_KEYS] if cols_param is not None else []
    return ListState(
        filter=filt,
        range=range_key,
        from_text=from_text,
        to_text=to_text,
        sort=sort,
        descending=(params.get("dir") or "desc") != "asc",
        cursor=params.get("cursor") or None,
        limit=limit,
        columns=columns or list(DEFAULT_COLUMNS),
        columns_explicit=cols_param is not None and bool(columns),
        raw=raw,
        errors=errors,
    )
