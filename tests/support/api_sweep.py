"""The REST API half of the read-back sweep (``tests/support/read_back.py``): every GET list,
unfiltered and filtered by stored values, every detail endpoint of every stored row, and
every metrics query shape."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson

from interactiveai.server.query.filters import TRACE_SORT_COLUMNS
from interactiveai.server.query.metrics_query import AGGREGATIONS, DIMENSIONS, MEASURES
from tests.support.sweep import MAX_PAGES, Stored, Sweep, iso, q, sample

API = "/api/public"
PAGE_LIMIT = 100


class ApiSweep(Sweep):
    """Reads one project's stored rows back through the REST API, with its API key."""

    def run(self, stored: Stored) -> None:
        self.lists(stored)
        self.details(stored)
        self.metrics(stored)

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

    def lists(self, st: Stored) -> None:
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

    def details(self, st: Stored) -> None:
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

    def metrics(self, st: Stored) -> None:
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
