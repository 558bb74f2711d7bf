"""What the read-back sweeps share: the stored rows they compare against, the problems they
collect, and the one GET that records what went wrong (``tests/support/read_back.py``)."""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson
from sqlalchemy import Engine, select

from interactiveai.server.storage import schema as s

MAX_PAGES = 1000  # a list that never ends is a problem of its own
MAX_FILTER_TEXT = 2000  # longer stored values are not used as filters: URLs that long are refused by clients


@dataclass(frozen=True)
class Problem:
    kind: str  # "server error" | "unreadable" | "unreachable" | "not listed" | "isolation"
    request: str
    status: int
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.request} -> {self.status}: {self.detail}"


@dataclass
class SweepResult:
    problems: list[Problem] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def report(self, limit: int = 60) -> str:
        """Problems grouped by kind and route (ids collapsed), one example request each."""
        groups: dict[tuple[str, str, int], list[Problem]] = {}
        for p in self.problems:
            route = re.sub(r"/[^/?]*[0-9a-f]{8,}[^/?]*", "/{id}", p.request.split("?", 1)[0])
            route = re.sub(r"/[^/?]{60,}", "/{long}", route)
            groups.setdefault((p.kind, route, p.status), []).append(p)
        lines = [
            f"read-back sweep: {len(self.problems)} problem(s) in {self.requests} requests, {len(groups)} group(s)"
        ]
        for (kind, route, status), items in sorted(groups.items())[:limit]:
            first = min(items, key=lambda p: len(p.request))
            lines.append(f"  [{kind}] {route} -> {status} (x{len(items)})")
            request = (
                first.request if len(first.request) <= 400 else f"{first.request[:400]}… ({len(first.request)} chars)"
            )
            lines.append(f"      e.g. {request}")
            lines.append(f"      {first.detail[:600]}")
        return "\n".join(lines)


def iso(us: int | None) -> str | None:
    """The API's timestamp text for ``us``, or None when no ISO 8601 text can express it."""
    if us is None:
        return None
    try:
        return datetime.fromtimestamp(us / 1_000_000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def sample(values: Iterable[Any], n: int) -> list[Any]:
    """Up to ``n`` distinct non-empty values, deterministic: sorted by their text, then first and last ones kept."""
    distinct = sorted(
        {v for v in values if v not in (None, "") and len(str(v)) <= MAX_FILTER_TEXT},
        key=lambda v: (str(type(v)), str(v)),
    )
    if len(distinct) <= n:
        return distinct
    head = distinct[: n - n // 2]
    tail = distinct[len(distinct) - n // 2 :]
    return head + tail


def q(value: Any) -> str:
    return quote(str(value), safe="")


@dataclass
class Stored:
    """One project's rows, read straight from the database."""

    traces: list[dict[str, Any]]
    observations: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    configs: list[dict[str, Any]]
    datasets: list[dict[str, Any]]
    items: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    models: list[dict[str, Any]]

    @classmethod
    def load(cls, engine: Engine, project_id: str) -> Stored:
        def rows(table: Any, *columns: str) -> list[dict[str, Any]]:
            cols = [table.c[c] for c in columns]
            with engine.connect() as conn:
                result = conn.execute(select(*cols).where(table.c.project_id == project_id).order_by(table.c.id))
                return [dict(r) for r in result.mappings()]

        traces = rows(
            s.traces, "id", "name", "user_id", "session_id", "environment", "release", "version", "tags", "timestamp_us"
        )
        for t in traces:
            try:
                t["tags"] = orjson.loads(t["tags"] or "[]")
            except orjson.JSONDecodeError:
                t["tags"] = []
        return cls(
            traces=traces,
            observations=rows(
                s.observations,
                "id",
                "trace_id",
                "name",
                "type",
                "level",
                "environment",
                "version",
                "parent_observation_id",
                "start_time_us",
            ),
            scores=rows(
                s.scores,
                "id",
                "name",
                "trace_id",
                "observation_id",
                "session_id",
                "dataset_run_id",
                "source",
                "data_type",
                "config_id",
                "environment",
                "timestamp_us",
                "value",
            ),
            configs=rows(s.score_configs, "id", "name"),
            datasets=rows(s.datasets, "id", "name"),
            items=rows(s.dataset_items, "id", "dataset_id", "source_trace_id", "source_observation_id", "status"),
            runs=rows(s.dataset_runs, "id", "dataset_id", "name"),
            models=rows(s.models, "id", "model_name"),
        )

    @property
    def session_ids(self) -> list[str]:
        return sorted({t["session_id"] for t in self.traces if t["session_id"] is not None})

    @property
    def user_ids(self) -> list[str]:
        return sorted({t["user_id"] for t in self.traces if t["user_id"] is not None})


class Sweep:
    """Requests of one sweep: each GET is counted, and what cannot be read is a problem in ``result``."""

    def __init__(self, http: Any, headers: dict[str, str], result: SweepResult, filter_values: int) -> None:
        self.http = http
        self.headers = headers
        self.result = result
        self.filter_values = filter_values

    def get(self, path: str, params: Any = None, *, ok: bool = True, json: bool = True) -> Any:
        """GET ``path``; record a problem for a 5xx, or for anything but 200 when ``ok``. The parsed JSON or None."""
        shown = path + ("?" + "&".join(f"{k}={v}" for k, v in _pairs(params)) if params else "")
        self.result.requests += 1
        try:
            response = self.http.get(path, params=params, headers=self.headers, follow_redirects=False)
        except Exception as exc:
            if type(exc).__name__ == "InvalidURL":  # the client's refusal (httpx or httpx2): nothing was sent
                self.problem("unreachable", shown, 0, f"{exc}: a stored value makes a URL of {len(shown)} characters")
                return None
            # an in-process client raises the server's exception: a 5xx
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/interactiveai/" in f.filename]
            where = f" at {frames[-1].filename.split('/src/')[-1]}:{frames[-1].lineno}" if frames else ""
            self.problem("server error", shown, 500, f"{type(exc).__name__}: {exc}"[:1500] + where)
            return None
        status = response.status_code
        if status >= 500:
            self.problem("server error", shown, status, response.text[:2000])
            return None
        if ok and status != 200:
            self.problem("unreadable", shown, status, response.text[:1000])
            return None
        if status != 200 or not json:
            return None
        try:
            return response.json()
        except ValueError as exc:
            self.problem("unreadable", shown, status, f"not JSON: {exc}: {response.text[:300]}")
            return None

    def problem(self, kind: str, request: str, status: int, detail: str) -> None:
        self.result.problems.append(Problem(kind, request, status, detail))

    def listed(self, what: str, request: str, stored: Iterable[str], seen: set[str]) -> None:
        missing = sorted(set(stored) - seen)
        if missing:
            self.problem("not listed", request, 200, f"{len(missing)} stored {what} missing, e.g. {missing[:5]!r}")


def _pairs(params: Any) -> list[tuple[str, Any]]:
    if isinstance(params, dict):
        return list(params.items())
    return list(params or [])
