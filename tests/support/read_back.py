"""Read everything back: after a fuzz run, every API endpoint and UI page must still read every stored row.

DESIGN §8: whatever is accepted is readable back by every endpoint and page. The sweep takes the
stored rows of one project straight from the database (the ground truth, whatever the API lists),
then walks:

- every GET list of the REST API, every page, unfiltered and with each filter set to values the
  stored rows actually have (a bounded, deterministic sample of them), checking that every stored
  id is listed;
- the detail endpoint of every stored trace, observation, session, score, score config, dataset,
  dataset run, dataset item and model, expecting 200;
- every UI page and its JSON twin: trace list (every cursor page, each filter and sort), each trace
  (page, JSON, I/O, every observation), sessions, users, scores, dashboard, datasets, settings.

It works over any httpx-style client (Starlette's TestClient in-process, or ``httpx.Client`` on a
live server). Problems are collected, not raised, so one run reports all of them.
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson
from sqlalchemy import Engine, select

from interactiveai.server.query.filters import TRACE_SORT_COLUMNS
from interactiveai.server.query.metrics_query import AGGREGATIONS, DIMENSIONS, MEASURES
from interactiveai.server.query.ui_traces import LEVELS, SORTS
from interactiveai.server.storage import schema as s

API = "/api/public"
PAGE_LIMIT = 100
MAX_PAGES = 1000  # a list that never ends is a problem of its own


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


MAX_FILTER_TEXT = 2000  # longer stored values are not used as filters: URLs that long are refused by clients


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


class ReadBack:
    """One sweep over one project; ``run()`` returns what could not be read."""

    def __init__(
        self,
        http: Any,
        engine: Engine,
        project_id: str,
        api_headers: dict[str, str],
        ui_login: tuple[str, str] | None = None,
        *,
        filter_values: int = 4,
    ) -> None:
        self.http = http
        self.engine = engine
        self.project_id = project_id
        self.api_headers = api_headers
        self.ui_login = ui_login
        self.filter_values = filter_values
        self.result = SweepResult()

    # --- requests -----------------------------------------------------------------------------

    def get(self, path: str, params: Any = None, *, ok: bool = True, ui: bool = False, json: bool = True) -> Any:
        """GET ``path``; record a problem for a 5xx, or for anything but 200 when ``ok``. The parsed JSON or None."""
        headers = {} if ui else self.api_headers
        shown = path + ("?" + "&".join(f"{k}={v}" for k, v in _pairs(params)) if params else "")
        self.result.requests += 1
        try:
            response = self.http.get(path, params=params, headers=headers, follow_redirects=False)
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

    def pages(self, path: str, params: dict[str, Any] | None = None, *, key: str = "id") -> set[str]:
        """Every page of an API list (``page``/``limit``, ``meta.totalPages``); the ids seen."""
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            body = self.get(path, {**(params or {}), "page": page, "limit": PAGE_LIMIT})
            if not isinstance(body, dict):
                return seen
            data = body.get("data") or []
            seen.update(str(row.get(key)) for row in data if isinstance(row, dict))
            total_pages = (body.get("meta") or {}).get("totalPages")
            if not data or (isinstance(total_pages, int) and page >= total_pages):
                return seen
        self.problem("unreadable", path, 200, f"more than {MAX_PAGES} pages")
        return seen

    # --- the sweep ----------------------------------------------------------------------------

    def run(self) -> SweepResult:
        started = time.perf_counter()
        stored = Stored.load(self.engine, self.project_id)
        self.api_lists(stored)
        self.api_details(stored)
        self.api_metrics(stored)
        if self.ui_login is not None:
            self.login()
            self.ui_pages(stored)
        self.result.seconds = time.perf_counter() - started
        return self.result

    def api_lists(self, st: Stored) -> None:
        n = self.filter_values
        self.get(f"{API}/health")
        self.get(f"{API}/projects")
        seen = self.pages(f"{API}/traces")
        self.listed("traces", f"GET {API}/traces", (t["id"] for t in st.traces), seen)
        trace_filters: list[dict[str, Any]] = [{"fields": "core"}, {"fields": "core,io,scores,observations,metrics"}]
        for column in TRACE_SORT_COLUMNS:
            trace_filters += [{"orderBy": f"{column}.asc"}, {"orderBy": f"{column}.desc"}]
        for param, column in (
            ("userId", "user_id"),
            ("name", "name"),
            ("sessionId", "session_id"),
            ("environment", "environment"),
            ("version", "version"),
            ("release", "release"),
        ):
            trace_filters += [{param: v} for v in sample((t[column] for t in st.traces), n)]
        trace_filters += [{"tags": tag} for tag in sample((x for t in st.traces for x in t["tags"]), n)]
        trace_filters += self.time_filters((t["timestamp_us"] for t in st.traces), "fromTimestamp", "toTimestamp")
        for params in trace_filters:
            self.pages(f"{API}/traces", params)

        seen = self.pages(f"{API}/observations")
        self.listed("observations", f"GET {API}/observations", (o["id"] for o in st.observations), seen)
        obs_filters: list[dict[str, Any]] = []
        for param, column in (
            ("name", "name"),
            ("type", "type"),
            ("traceId", "trace_id"),
            ("level", "level"),
            ("parentObservationId", "parent_observation_id"),
            ("environment", "environment"),
            ("version", "version"),
        ):
            obs_filters += [{param: v} for v in sample((o[column] for o in st.observations), n)]
        obs_filters += [{"userId": v} for v in sample(st.user_ids, n)]
        obs_filters += self.time_filters((o["start_time_us"] for o in st.observations), "fromStartTime", "toStartTime")
        for params in obs_filters:
            self.pages(f"{API}/observations", params)

        seen = self.pages(f"{API}/sessions")
        self.listed("sessions", f"GET {API}/sessions", st.session_ids, seen)
        for params in [
            *({"environment": v} for v in sample((t["environment"] for t in st.traces), n)),
            *self.time_filters((t["timestamp_us"] for t in st.traces), "fromTimestamp", "toTimestamp"),
        ]:
            self.pages(f"{API}/sessions", params)

        for scores_path in (f"{API}/scores", f"{API}/v2/scores"):
            seen = self.pages(scores_path)
            self.listed("scores", f"GET {scores_path}", (x["id"] for x in st.scores), seen)
            score_filters: list[dict[str, Any]] = []
            for param, column in (
                ("name", "name"),
                ("traceId", "trace_id"),
                ("observationId", "observation_id"),
                ("sessionId", "session_id"),
                ("datasetRunId", "dataset_run_id"),
                ("source", "source"),
                ("dataType", "data_type"),
                ("configId", "config_id"),
                ("environment", "environment"),
                ("scoreIds", "id"),
            ):
                score_filters += [{param: v} for v in sample((x[column] for x in st.scores), n)]
            score_filters += [{"userId": v} for v in sample(st.user_ids, n)]
            for value in sample((x["value"] for x in st.scores), n):
                score_filters += [{"value": value, "operator": op} for op in ("=", ">=", "<")]
            score_filters += self.time_filters((x["timestamp_us"] for x in st.scores), "fromTimestamp", "toTimestamp")
            for params in score_filters:
                self.pages(scores_path, params)

        seen = self.pages(f"{API}/score-configs")
        self.listed("score configs", f"GET {API}/score-configs", (c["id"] for c in st.configs), seen)
        for datasets_path in (f"{API}/datasets", f"{API}/v2/datasets"):
            seen = self.pages(datasets_path)
            self.listed("datasets", f"GET {datasets_path}", (d["id"] for d in st.datasets), seen)
        names = {d["id"]: d["name"] for d in st.datasets}
        seen = set()
        for name in sorted(names.values()):
            seen |= self.pages(f"{API}/dataset-items", {"datasetName": name})
        self.listed("dataset items", f"GET {API}/dataset-items?datasetName=…", (i["id"] for i in st.items), seen)
        for param, column in (
            ("sourceTraceId", "source_trace_id"),
            ("sourceObservationId", "source_observation_id"),
            ("status", "status"),
        ):
            for value in sample((i[column] for i in st.items), n):
                self.pages(f"{API}/dataset-items", {param: value})
        for run in st.runs:
            self.pages(f"{API}/dataset-run-items", {"datasetId": run["dataset_id"], "runName": run["name"]})
        seen = self.pages(f"{API}/models")
        self.listed("models", f"GET {API}/models", (m["id"] for m in st.models), seen)

        self.pages(f"{API}/metrics/daily")
        daily: list[dict[str, Any]] = [{"traceName": v} for v in sample((t["name"] for t in st.traces), n)]
        daily += [{"userId": v} for v in sample(st.user_ids, n)]
        daily += [{"tags": v} for v in sample((x for t in st.traces for x in t["tags"]), n)]
        daily += [{"environment": v} for v in sample((t["environment"] for t in st.traces), n)]
        for ts in sample((t["timestamp_us"] for t in st.traces), n):
            start, end = iso(ts - 86_400_000_000), iso(ts + 86_400_000_000)
            if start and end:
                daily.append({"fromTimestamp": start, "toTimestamp": end})
        for params in daily:
            self.pages(f"{API}/metrics/daily", params)

    def time_filters(self, times: Iterable[int | None], lower: str, upper: str) -> list[dict[str, Any]]:
        """Windows around stored times: from/to each sampled time, and both."""
        found = []
        for us in sample(times, self.filter_values):
            at, after = iso(us), iso(us + 1000)
            if at is None or after is None:
                continue
            found += [{lower: at}, {upper: after}, {lower: at, upper: after}]
        return found

    def api_details(self, st: Stored) -> None:
        for t in st.traces:
            self.get(f"{API}/traces/{q(t['id'])}")
        for o in st.observations:
            self.get(f"{API}/observations/{q(o['id'])}")
        for session_id in st.session_ids:
            self.get(f"{API}/sessions/{q(session_id)}")
        for x in st.scores:
            self.get(f"{API}/scores/{q(x['id'])}")
            self.get(f"{API}/v2/scores/{q(x['id'])}")
        for c in st.configs:
            self.get(f"{API}/score-configs/{q(c['id'])}")
        names = {d["id"]: d["name"] for d in st.datasets}
        for name in sorted(names.values()):
            self.get(f"{API}/datasets/{q(name)}")
            self.get(f"{API}/v2/datasets/{q(name)}")
            self.pages(f"{API}/datasets/{q(name)}/runs", key="name")
        for run in st.runs:
            if run["dataset_id"] in names:
                self.get(f"{API}/datasets/{q(names[run['dataset_id']])}/runs/{q(run['name'])}")
        for i in st.items:
            self.get(f"{API}/dataset-items/{q(i['id'])}")
        for m in st.models:
            self.get(f"{API}/models/{q(m['id'])}")

    def api_metrics(self, st: Stored) -> None:
        """Every view, measure and aggregation, each dimension, in a window around sampled stored times."""
        hours = 3_600_000_000
        for ts in sample((t["timestamp_us"] for t in st.traces), self.filter_values) or [int(time.time() * 1e6)]:
            start, end = iso(ts - 12 * hours), iso(ts + 12 * hours)  # minute buckets: 1,440 of the 2,000 allowed
            if start is None or end is None:
                continue
            for view in ("traces", "observations"):
                metrics = [
                    {"measure": m, "aggregation": a}
                    for m in MEASURES[view]
                    for a in (["count"] if m == "count" else AGGREGATIONS)  # rows are only counted
                ]
                queries = [{"metrics": metrics}]
                queries += [
                    {"dimensions": [{"field": d}], "metrics": [{"measure": "count", "aggregation": "count"}]}
                    for d in DIMENSIONS[view]
                ]
                queries += [
                    {"timeDimension": {"granularity": g}, "metrics": [{"measure": "count", "aggregation": "count"}]}
                    for g in ("auto", "minute", "hour", "day", "week")
                ]
                for extra in queries:
                    body = {"view": view, "fromTimestamp": start, "toTimestamp": end, **extra}
                    self.get(f"{API}/metrics", {"query": orjson.dumps(body).decode()})

    # --- the UI -------------------------------------------------------------------------------

    def login(self) -> None:
        assert self.ui_login is not None
        email, password = self.ui_login
        page = self.http.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on the login page ({page.status_code})"
        response = self.http.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": match.group(1), "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, f"UI login failed: {response.status_code} {response.text[:300]}"

    def ui(self, path: str, params: Any = None, *, ok: bool = True) -> Any:
        is_json = path.endswith(".json")
        return self.get(path, params, ok=ok, ui=True, json=is_json)

    def ui_pages(self, st: Stored) -> None:
        base = f"/project/{q(self.project_id)}"
        n = self.filter_values
        self.ui(base, ok=False)  # a redirect to the trace list

        seen = self.ui_trace_list(base, {"range": "all"})
        self.listed("traces", f"GET {base}/traces.json?range=all", (t["id"] for t in st.traces), seen)
        filters: list[dict[str, Any]] = [{"range": r} for r in ("30m", "24h", "7d", "30d")]
        filters += [{"range": "all", "sort": key, "dir": d} for key in SORTS for d in ("asc", "desc")]
        for param, column in (("env", "environment"), ("name", "name"), ("user", "user_id"), ("session", "session_id")):
            filters += [{"range": "all", param: v} for v in sample((t[column] for t in st.traces), n)]
        filters += [{"range": "all", "tag": v} for v in sample((x for t in st.traces for x in t["tags"]), n)]
        filters += [{"range": "all", "level": v} for v in LEVELS]
        filters += [{"range": "all", "q": v[:200]} for v in sample((t["name"] for t in st.traces), n) if v.strip()]
        filters += [{"range": "all", "lat_min": "0", "lat_max": "1e9", "cost_min": "0", "cost_max": "1e9"}]
        for us in sample((t["timestamp_us"] for t in st.traces), n):
            at, after = iso(us), iso(us + 1000)
            if at and after:
                filters.append({"range": "custom", "from": at, "to": after})
        for params in filters:
            self.ui_trace_list(base, params)
        self.ui(f"{base}/traces/delete-matching", {"range": "all"})
        self.ui(f"{base}/traces/delete-matching.json", {"range": "all"})

        for t in st.traces:
            path = f"{base}/traces/{q(t['id'])}"
            self.ui(path)
            self.ui(path + ".json")
            self.ui(path + "/io.json")
        for o in st.observations:
            self.ui(f"{base}/traces/{q(o['trace_id'])}/observations/{q(o['id'])}.json")

        for kind, ids in (("sessions", st.session_ids), ("users", st.user_ids)):
            for params in [{"range": "all"}, {"range": "24h"}]:
                self.ui_paged(f"{base}/{kind}", params, more=lambda body: bool(body.get("meta", {}).get("hasMore")))
            for item in ids:
                self.ui(f"{base}/{kind}/{q(item)}")
                self.ui(f"{base}/{kind}/{q(item)}.json")
        for params in [{"range": "all"}, {"range": "all", "source": "API"}, {"range": "all", "type": "NUMERIC"}]:
            self.ui_paged(f"{base}/scores", params, more=_more_by_total)
        for name in sample((x["name"] for x in st.scores), n):
            self.ui_paged(f"{base}/scores", {"range": "all", "name": name}, more=_more_by_total)
        for trace_id in sample((x["trace_id"] for x in st.scores), n):
            self.ui_paged(f"{base}/scores", {"range": "all", "trace": trace_id}, more=_more_by_total)
        for r in ("1h", "24h", "7d", "30d"):
            self.ui(f"{base}/dashboard", {"range": r})
            self.ui(f"{base}/dashboard.json", {"range": r})
        for env in sample((t["environment"] for t in st.traces), n):
            self.ui(f"{base}/dashboard.json", [("range", "30d"), ("env", env)])
        self.ui_paged(f"{base}/datasets", {}, more=_more_by_total)
        for d in st.datasets:
            self.ui(f"{base}/datasets/{q(d['id'])}")
            self.ui(f"{base}/datasets/{q(d['id'])}.json")
        self.ui(f"{base}/settings")
        self.ui(f"{base}/settings.json")

    def ui_trace_list(self, base: str, params: dict[str, Any]) -> set[str]:
        """Every cursor page of the trace list's JSON twin, and the HTML page of each; the ids seen."""
        seen: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page_params = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
            self.ui(f"{base}/traces", page_params)
            body = self.ui(f"{base}/traces.json", page_params)
            if not isinstance(body, dict):
                return seen
            seen.update(str(row.get("id")) for row in body.get("data") or [])
            cursor = (body.get("meta") or {}).get("nextCursor")
            if not cursor:
                return seen
        self.problem("unreadable", f"{base}/traces.json", 200, f"more than {MAX_PAGES} cursor pages")
        return seen

    def ui_paged(self, path: str, params: dict[str, Any], *, more: Any) -> None:
        for page in range(1, MAX_PAGES + 1):
            page_params = {**params, "page": page}
            self.ui(path, page_params)
            body = self.ui(path + ".json", page_params)
            if not isinstance(body, dict) or not more(body):
                return


def _more_by_total(body: dict[str, Any]) -> bool:
    meta = body.get("meta") or {}
    return bool(meta.get("page", 1) * meta.get("limit", 50) < (meta.get("totalItems") or 0))


def _pairs(params: Any) -> list[tuple[str, Any]]:
    if isinstance(params, dict):
        return list(params.items())
    return list(params or [])


def read_back(
    http: Any,
    engine: Engine,
    project_id: str,
    api_headers: dict[str, str],
    ui_login: tuple[str, str] | None = None,
    **options: Any,
) -> SweepResult:
    """Sweep one project: every GET endpoint and UI page over every stored row. See the module docstring."""
    return ReadBack(http, engine, project_id, api_headers, ui_login, **options).run()


def cross_project_probe(http: Any, engine: Engine, victim_id: str, attacker_headers: dict[str, str]) -> list[Problem]:
    """With another project's key, the victim's rows must not be readable: every detail GET answers 404."""
    st = Stored.load(engine, victim_id)
    paths = [f"{API}/traces/{q(t['id'])}" for t in st.traces[:20]]
    paths += [f"{API}/observations/{q(o['id'])}" for o in st.observations[:20]]
    paths += [f"{API}/sessions/{q(x)}" for x in st.session_ids[:20]]
    paths += [f"{API}/scores/{q(x['id'])}" for x in st.scores[:20]]
    paths += [f"{API}/score-configs/{q(c['id'])}" for c in st.configs[:20]]
    paths += [f"{API}/datasets/{q(d['name'])}" for d in st.datasets[:20]]
    paths += [f"{API}/dataset-items/{q(i['id'])}" for i in st.items[:20]]
    paths += [f"{API}/models/{q(m['id'])}" for m in st.models[:20]]
    problems = []
    for path in paths:
        response = http.get(path, headers=attacker_headers)
        if response.status_code != 404:
            problems.append(Problem("isolation", f"GET {path}", response.status_code, response.text[:300]))
    return problems


def project_rows(engine: Engine, project_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every project-scoped table, for before/after comparisons (isolation)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in s.metadata.sorted_tables:
            if "project_id" not in table.c or table.name == "api_keys":  # api_keys: last use changes on reads
                continue
            query = select(table).where(table.c.project_id == project_id)
            keys = [c for c in table.primary_key.columns] or list(table.c)
            rows = conn.execute(query.order_by(*keys)).all()
            found[table.name] = [tuple(r) for r in rows]
    return found
