"""Benchmark: every public API list (and the UI's list JSON) on a large project, with each filter.

Reads any seeded database: ``--db PATH`` (SQLite) or ``--database-url`` (PostgreSQL), project
``--project``. An empty project is first seeded with benchmarks/dashboard.py's SQL seeding
(``--traces``, default 200,000: five observations per trace, scores on a tenth); then a seeding
step of its own adds what the lists filter on and the seeding lacks, once per database: tags on
half, a sixteenth and a 256th of the traces (``bench-common``, ``bench-mid``, ``bench-rare``),
releases and versions, a trace with 1,000 observations, and a dataset with items and a run.

Each case goes through the real app in process (an ASGI client, the API key's Basic auth, a
logged-in session for the UI's JSON): one warm-up call, then ``--runs`` timed calls, p50 and p95.
The baseline, measured in the same run, is what every call paid before lists counted up to a
bound: the exact count of the same filter (``exact count``), and for the trace list the join
that read the page's observation ids.

    .venv/bin/python benchmarks/api_lists.py --db /tmp/api.db [--traces 200000] [--runs 7]
    .venv/bin/python benchmarks/api_lists.py --database-url postgresql://… [--drop-sqlite-stats]

``--drop-sqlite-stats`` removes ANALYZE's statistics first (a database filled through
ingestion has none: nothing runs ANALYZE), the state SQLite plans most lists in.

``--read-only`` (SQLite) opens a database already seeded and migrated (a shared one) read-only:
nothing is migrated, seeded, refreshed or logged into; the UI's JSON is read as the benchmark's
UI user without a login row (the session lookup, one indexed read, is left out).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import dashboard  # noqa: E402  (its SQL seeding, reused as it is)

PUBLIC_KEY, SECRET_KEY = "pk-api-lists", "sk-api-lists"
UI_EMAIL, UI_PASSWORD = "api-lists@example.com", "api lists password"
BIG_TRACE = "bench-trace-1000-observations"
TAGS = {"bench-common": list("01234567"), "bench-mid": ["0"], "bench-rare": ["00"]}
"""Tag → the endings of the ids of the traces that carry it (1/2, 1/16 and 1/256 of hex ids)."""
TARGET_MS = 50.0
HOUR_US = 3_600_000_000


def seed_extras(engine: Engine, project: str) -> None:
    """Tags, releases, versions, a trace with 1,000 observations: once per database, in SQL."""
    from interactiveai.server.rollups.dirty import mark_dirty
    from interactiveai.server.storage.schema import observations, trace_tags, traces

    with engine.connect() as conn:
        done = conn.execute(select(func.count()).select_from(traces).where(traces.c.id == BIG_TRACE)).scalar_one()
    if done:
        return
    began = time.perf_counter()
    with engine.begin() as conn:
        last = "substr(id, length(id) - {n} + 1, {n})"

        def ends(tag: str) -> str:
            return " OR ".join(f"{last.format(n=len(e))} = '{e}'" for e in TAGS[tag])

        for tag in TAGS:
            conn.execute(
                text(
                    f"INSERT INTO trace_tags (project_id, tag, trace_id, trace_created_at_us) "
                    f"SELECT project_id, '{tag}', id, created_at_us FROM traces WHERE project_id = :p AND ({ends(tag)})"
                ),
                {"p": project},
            )
        # the tags column shows them; the id endings nest: rare within mid within common
        tags_json = (
            f'CASE WHEN {ends("bench-rare")} THEN \'["bench-common","bench-mid","bench-rare"]\' '
            f'WHEN {ends("bench-mid")} THEN \'["bench-common","bench-mid"]\' '
            f"WHEN {ends('bench-common')} THEN '[\"bench-common\"]' ELSE tags END"
        )
        conn.execute(
            text(
                f"UPDATE traces SET tags = {tags_json}, release = COALESCE(release, 'r' || {last.format(n=1)}), "
                f"version = COALESCE(version, 'v' || substr(id, length(id) - 1, 1)) WHERE project_id = :p"
            ),
            {"p": project},
        )
        now = int(time.time() * 1e6)
        conn.execute(
            insert(traces).values(
                project_id=project,
                id=BIG_TRACE,
                timestamp_us=now - HOUR_US,
                name="big",
                environment="production",
                tags="[]",
                metadata="{}",
                observation_count=1000,
                created_at_us=now,
                updated_at_us=now,
            )
        )
        conn.execute(
            insert(observations),
            [
                {
                    "project_id": project,
                    "trace_id": BIG_TRACE,
                    "id": f"big-{k:04d}",
                    "type": "SPAN",
                    "name": f"step-{k % 20}",
                    "start_time_us": now - HOUR_US + k * 1000,
                    "end_time_us": now,
                    "level": "DEFAULT",
                    "environment": "production",
                    "metadata": "{}",
                    "usage_details": "{}",
                    "cost_details": "{}",
                    "input": json.dumps({"k": k, "text": "x" * 300}),
                    "created_at_us": now,
                    "trace_created_at_us": now,
                }
                for k in range(1000)
            ],
        )
        conn.execute(
            insert(trace_tags).values(project_id=project, tag="bench-big", trace_id=BIG_TRACE, trace_created_at_us=now)
        )
        # as the writers do: the roll-ups of the hour holding the big trace and its spans are redone
        mark_dirty(conn, [(project, now - HOUR_US + k * 1000) for k in (0, 999)])
    if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk change
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE traces, trace_tags, observations"))
    print(f"seeded tags, releases, versions and a 1,000-observation trace in {time.perf_counter() - began:.1f} s")


def refresh_rollups(engine: Engine, project: str) -> None:
    """Recompute the dirty hours' roll-ups first, as a running server does within seconds: the
    users list reads them (an upgrade marks every hour dirty once). The SQL seeding marks no
    hour dirty: a project seeded so has its roll-ups built whole once (without, the users list
    read clean, empty hours and missed their users)."""
    from interactiveai.server.rollups.refresher import rebuild, refresh_all
    from interactiveai.server.storage.rollup_schema import rollup_dirty, rollup_trace_hours

    with engine.connect() as conn:
        dirty = conn.execute(select(func.count()).select_from(rollup_dirty)).scalar_one()
        built = conn.execute(select(rollup_trace_hours.c.hours).where(rollup_trace_hours.c.project_id == project))
        has_rollups = built.first() is not None
    began = time.perf_counter()
    if not has_rollups:
        print(f"built the roll-ups of {rebuild(engine, project):,} hours", flush=True)
    refresh_all(engine)
    print(f"refreshed roll-ups of {dirty:,} dirty-hour marks in {time.perf_counter() - began:.1f} s", flush=True)


def check_read_only_ready(engine: Engine, project: str) -> None:
    """A database opened read-only must hold what the cases read: the extras, the benchmark's
    key and UI user, the dataset, and roll-ups with no dirty hour (nothing refreshes them here)."""
    from interactiveai.server.storage.rollup_schema import rollup_dirty
    from interactiveai.server.storage.schema import api_keys, datasets, traces, users

    with engine.connect() as conn:
        missing = [
            what
            for what, query in (
                ("the seeding's extras", select(traces.c.id).where(traces.c.id == BIG_TRACE)),
                ("the benchmark's API key", select(api_keys.c.id).where(api_keys.c.public_key == PUBLIC_KEY)),
                ("the benchmark's UI user", select(users.c.id).where(users.c.email == UI_EMAIL)),
                ("bench-dataset", select(datasets.c.id).where(datasets.c.project_id == project)),
            )
            if conn.execute(query).first() is None
        ]
        dirty = conn.execute(select(func.count()).select_from(rollup_dirty)).scalar_one()
    if missing:
        sys.exit(f"--read-only: the database lacks {', '.join(missing)}; run once without --read-only on a copy")
    if dirty:
        print(f"warning: {dirty:,} dirty-hour marks; the users list scans those hours", flush=True)


def read_ui_as_bench_user(app: Any, engine: Engine) -> None:
    """Requests to the UI's pages run as the benchmark's UI user (a login would write a row)."""
    from interactiveai.server.storage.schema import users
    from interactiveai.server.ui.auth import User

    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.email == UI_EMAIL)).mappings().one()
    user = User(row["id"], row["email"], row["name"], bool(row["is_admin"]), "")

    @app.middleware("http")
    async def as_user(request: Any, call_next: Any) -> Any:
        request.state.ui_user = user
        return await call_next(request)


def ensure_access(engine: Engine, project: str) -> None:
    """The benchmark's API key and UI user on the project (created once)."""
    from interactiveai.server.storage.schema import api_keys, users
    from interactiveai.server.tenancy import add_membership, create_api_key, create_user

    with engine.connect() as conn:
        has_key = conn.execute(select(api_keys.c.id).where(api_keys.c.public_key == PUBLIC_KEY)).first()
        user = conn.execute(select(users.c.id).where(users.c.email == UI_EMAIL)).scalar()
    if not has_key:
        create_api_key(engine, project, public_key=PUBLIC_KEY, secret_key=SECRET_KEY)
    if user is None:
        add_membership(engine, create_user(engine, UI_EMAIL, UI_PASSWORD), project)


def seed_dataset(client: Any, headers: dict[str, str], items: int) -> None:
    """A dataset with ``items`` items and a run linking each to a trace, through the API (once)."""
    if client.get("/api/public/v2/datasets/bench-dataset", headers=headers).status_code == 200:
        return
    client.post("/api/public/v2/datasets", json={"name": "bench-dataset"}, headers=headers)
    traces = client.get("/api/public/traces", params={"limit": 100, "fields": "core"}, headers=headers).json()["data"]
    for k in range(items):
        item = {"id": f"bench-item-{k}", "datasetName": "bench-dataset", "input": {"q": k}, "expectedOutput": k}
        client.post("/api/public/dataset-items", json=item, headers=headers)
        run_item = {"runName": "bench-run", "datasetItemId": item["id"], "traceId": traces[k % len(traces)]["id"]}
        client.post("/api/public/dataset-run-items", json=run_item, headers=headers)


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """p50 and p95 (ms) of ``runs`` warm calls, and the last result."""
    result = call()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(len(samples) * 0.95) - 1)], result


def sample_values(engine: Engine, project: str) -> dict[str, Any]:
    """Filter values taken from the newest trace (so each filter finds rows) and the time range."""
    from interactiveai.server.storage.schema import traces

    with engine.connect() as conn:
        newest = (
            conn.execute(
                select(traces)
                .where(traces.c.project_id == project, traces.c.user_id.is_not(None), traces.c.session_id.is_not(None))
                .order_by(traces.c.timestamp_us.desc())
                .limit(1)
            )
            .mappings()
            .one()
        )
    return dict(newest)


def iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat().replace("+00:00", "Z")


Case = tuple[str, str, dict[str, Any], Callable[[], int] | None]


def cases(engine: Engine, project: str, v: dict[str, Any]) -> list[Case]:
    """(label, path, query parameters, the exact count of the same filter as the baseline)."""
    from interactiveai.server.query._db import count_rows
    from interactiveai.server.query.filters import (
        ObservationFilter,
        ScoreFilter,
        TraceFilter,
        observation_conditions,
        score_conditions,
        session_conditions,
    )
    from interactiveai.server.query.traces import count_traces
    from interactiveai.server.storage.schema import observations, scores, traces

    def trace_count(**f: Any) -> Callable[[], int]:
        return lambda: count_traces(engine, project, TraceFilter(**f))

    def rows(table: Any, conditions: Any) -> Callable[[], int]:
        def count() -> int:
            with engine.connect() as conn:
                return int(conn.execute(count_rows(table, conditions)).scalar_one())

        return count

    def sessions_count() -> int:
        query = select(func.count(func.distinct(traces.c.session_id))).where(*session_conditions(project, None))
        with engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    day_ago = v["timestamp_us"] - 24 * HOUR_US
    name_filter = json.dumps([{"type": "string", "column": "name", "operator": "=", "value": v["name"]}])
    tokens_filter = json.dumps([{"type": "number", "column": "totalTokens", "operator": ">", "value": 2000}])
    t = "/api/public/traces"
    o = "/api/public/observations"
    s = "/api/public/scores"
    score_f = ScoreFilter(name="quality")
    return [
        ("traces", t, {}, trace_count()),
        ("traces page 20", t, {"page": 20}, trace_count()),
        ("traces page 200 (offset 9,950)", t, {"page": 200}, trace_count()),
        ("traces page 2,000 (offset 99,950)", t, {"page": 2000}, trace_count()),
        ("traces fields=core", t, {"fields": "core"}, trace_count()),
        ("traces by user", t, {"userId": v["user_id"]}, trace_count(user_id=v["user_id"])),
        ("traces by name", t, {"name": v["name"]}, trace_count(name=v["name"])),
        ("traces by name page 20", t, {"name": v["name"], "page": 20}, trace_count(name=v["name"])),
        ("traces by session", t, {"sessionId": v["session_id"]}, trace_count(session_id=v["session_id"])),
        ("traces by environment", t, {"environment": v["environment"]}, trace_count(environments=[v["environment"]])),
        ("traces by release", t, {"release": v["release"]}, trace_count(release=v["release"])),
        ("traces by version", t, {"version": v["version"]}, trace_count(version=v["version"])),
        ("traces last 24 h", t, {"fromTimestamp": iso(day_ago)}, trace_count(from_us=day_ago)),
        ("traces tag 1/2", t, {"tags": "bench-common"}, trace_count(tags=["bench-common"])),
        ("traces tag 1/16", t, {"tags": "bench-mid"}, trace_count(tags=["bench-mid"])),
        ("traces tag 1/256", t, {"tags": "bench-rare"}, trace_count(tags=["bench-rare"])),
        ("traces tag 1/256 page 5", t, {"tags": "bench-rare", "page": 5}, trace_count(tags=["bench-rare"])),
        (
            "traces tags 1/2 + 1/16",
            t,
            {"tags": "bench-common,bench-mid"},
            trace_count(tags=["bench-common", "bench-mid"]),
        ),
        (
            "traces env + tag 1/16",
            t,
            {"environment": v["environment"], "tags": "bench-mid"},
            trace_count(environments=[v["environment"]], tags=["bench-mid"]),
        ),
        ("traces filter name (JSON)", t, {"filter": name_filter}, None),
        ("traces filter tokens > 2000 (JSON)", t, {"filter": tokens_filter}, None),
        ("trace detail (5 observations)", f"{t}/{v['id']}", {}, None),
        ("trace detail (1,000 observations)", f"{t}/{BIG_TRACE}", {}, None),
        ("observations", o, {}, rows(observations, observation_conditions(project, None))),
        ("observations page 20", o, {"page": 20}, rows(observations, observation_conditions(project, None))),
        (
            "observations type GENERATION",
            o,
            {"type": "GENERATION"},
            rows(observations, observation_conditions(project, ObservationFilter(types=["GENERATION"]))),
        ),
        (
            "observations level ERROR",
            o,
            {"level": "ERROR"},
            rows(observations, observation_conditions(project, ObservationFilter(levels=["ERROR"]))),
        ),
        (
            "observations by name",
            o,
            {"name": "step-2"},
            rows(observations, observation_conditions(project, ObservationFilter(name="step-2"))),
        ),
        ("observations by trace", o, {"traceId": v["id"]}, None),
        (
            "observations by user",
            o,
            {"userId": v["user_id"]},
            rows(observations, observation_conditions(project, ObservationFilter(user_id=v["user_id"]))),
        ),
        (
            "observations last 24 h",
            o,
            {"fromStartTime": iso(day_ago)},
            rows(observations, observation_conditions(project, ObservationFilter(from_us=day_ago))),
        ),
        ("v2 observations", "/api/public/v2/observations", {}, None),
        ("v2 observations by user", "/api/public/v2/observations", {"userId": v["user_id"]}, None),
        ("scores", s, {}, rows(scores, score_conditions(project, None))),
        ("scores by name", s, {"name": "quality"}, rows(scores, score_conditions(project, score_f))),
        (
            "scores value > 0.5",
            s,
            {"operator": ">", "value": 0.5},
            rows(scores, score_conditions(project, ScoreFilter(operator=">", value=0.5))),
        ),
        ("scores page 20", s, {"page": 20}, rows(scores, score_conditions(project, None))),
        ("v3 scores", "/api/public/v3/scores", {}, None),
        ("sessions", "/api/public/sessions", {}, sessions_count),
        ("sessions page 20", "/api/public/sessions", {"page": 20}, sessions_count),
        ("sessions last 24 h", "/api/public/sessions", {"fromTimestamp": iso(day_ago)}, None),
        ("session detail", f"/api/public/sessions/{v['session_id']}", {}, None),
        ("datasets", "/api/public/v2/datasets", {}, None),
        ("dataset items", "/api/public/dataset-items", {"datasetName": "bench-dataset"}, None),
        ("dataset run items", "/api/public/dataset-run-items", {"runName": "bench-run"}, None),
        ("UI traces.json", f"/project/{project}/traces.json", {}, None),
        (
            "UI traces.json env + tag 1/16",
            f"/project/{project}/traces.json",
            {"env": v["environment"], "tag": "bench-mid"},
            None,
        ),
        ("UI sessions.json", f"/project/{project}/sessions.json", {}, None),
        ("UI users.json", f"/project/{project}/users.json", {}, None),
        ("UI scores.json", f"/project/{project}/scores.json", {}, None),
    ]


def page_ids_baseline(engine: Engine, project: str, runs: int) -> list[tuple[str, float, float]]:
    """The observation ids of the first page: as read now, and through the join from traces."""
    from interactiveai.server.query.traces import list_traces, observation_ids_for_traces
    from interactiveai.server.storage.schema import OBSERVATIONS_OF_TRACE_ROW, observations, traces

    ids = [trace.id for trace in list_traces(engine, project, limit=50, with_total=False).items]
    joined = (
        select(observations.c.trace_id, observations.c.id)
        .select_from(traces.join(observations, OBSERVATIONS_OF_TRACE_ROW))
        .where(traces.c.project_id == project, traces.c.id.in_(ids))
        .order_by(observations.c.trace_id, observations.c.start_time_us, observations.c.id)
    )

    def join() -> None:
        with engine.connect() as conn:
            conn.execute(joined).all()

    now = timed(lambda: observation_ids_for_traces(engine, project, ids), runs)
    before = timed(join, runs)
    return [("page's observation ids, by key", now[0], now[1]), ("  baseline: join from traces", before[0], before[1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="SQLite file (seeded when its project is empty)")
    parser.add_argument("--database-url", help="PostgreSQL URL instead of --db")
    parser.add_argument("--project", default=dashboard.PROJECT)
    parser.add_argument("--traces", type=int, default=200_000, help="traces to seed into an empty project")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dataset-items", type=int, default=100)
    parser.add_argument("--drop-sqlite-stats", action="store_true", help="plan as a never-analysed database does")
    parser.add_argument("--only", default="", help="run only the cases whose label contains this text")
    parser.add_argument("--skip", action="append", default=[], help="skip the cases whose label contains this")
    parser.add_argument("--no-baseline", action="store_true", help="skip the exact counts (minutes each at 1 M)")
    parser.add_argument("--read-only", action="store_true", help="SQLite: read a seeded database, write nothing")
    args = parser.parse_args()
    if args.read_only and (args.database_url or not args.db):
        parser.error("--read-only reads a SQLite --db")

    from fastapi.testclient import TestClient

    from interactiveai.server.app import create_app
    from interactiveai.server.clock import now_us
    from interactiveai.server.settings import load_settings
    from interactiveai.server.storage import migrate
    from interactiveai.server.storage.engines import create_db_engine
    from interactiveai.server.storage.schema import traces

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{args.db or Path(tmp.name) / 'api_lists.db'}"
    if args.read_only:
        url = f"sqlite:///file:{args.db.resolve()}?mode=ro&uri=true"
    engine = create_db_engine(url)
    if args.read_only:
        check_read_only_ready(engine, args.project)
    else:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            have = conn.execute(select(func.count()).select_from(traces).where(traces.c.project_id == args.project))
            seeded = have.scalar_one()
        if not seeded:
            dashboard.seed(engine, args.traces, now_us() // dashboard.DAY_US * dashboard.DAY_US + dashboard.DAY_US)
        seed_extras(engine, args.project)
        ensure_access(engine, args.project)
        refresh_rollups(engine, args.project)
    if args.drop_sqlite_stats and engine.dialect.name == "sqlite" and not args.read_only:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
            conn.execute(text("DROP TABLE IF EXISTS sqlite_stat4"))
    stats = ""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            analysed = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
        stats = ", with ANALYZE statistics" if analysed else ", without ANALYZE statistics"

    settings = load_settings(data_dir=Path(tmp.name), database_url=url)
    app = create_app(settings, engine=engine, run_migrations=not args.read_only, first_start=False)
    headers = {"Authorization": "Basic " + base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()}
    if args.read_only:
        read_ui_as_bench_user(app, engine)
    # read-only: no lifespan, so no writer, refresher or worker thread starts on the database
    with contextlib.nullcontext(TestClient(app)) if args.read_only else TestClient(app) as client:
        if not args.read_only:
            form = client.get("/login").text
            csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            client.post("/login", data={"email": UI_EMAIL, "password": UI_PASSWORD, "csrf_token": csrf})
            seed_dataset(client, headers, args.dataset_items)
        dataset_id = client.get("/api/public/v2/datasets/bench-dataset", headers=headers).json()["id"]
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(traces).where(traces.c.project_id == args.project))
            n_traces = total.scalar_one()
        print(
            f"\n{engine.dialect.name}{stats}: {n_traces:,} traces in project {args.project!r}, "
            f"p50/p95 of {args.runs} warm runs; target {TARGET_MS:.0f} ms (trace detail 100 ms)"
        )
        print(f"{'case':40} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5} {'totalItems':>11} {'exact count ms':>15}")
        for label, path, params, exact in cases(engine, args.project, sample_values(engine, args.project)):
            if args.only not in label or any(skip in label for skip in args.skip):
                continue
            if label == "dataset run items":
                params = {**params, "datasetId": dataset_id}
            auth = {} if path.startswith("/project/") else headers
            p50, p95, response = timed(lambda p=path, q=params, h=auth: client.get(p, params=q, headers=h), args.runs)
            body = response.json()
            assert response.status_code == 200, (label, response.status_code, body)
            data = body.get("data", body.get("traces", body.get("observations")))
            rows = len(data) if isinstance(data, list) else 1
            meta = body.get("meta", {}) if isinstance(body, dict) else {}
            total_items = meta.get("totalItems", "")
            baseline = f"{'':15}"
            if exact is not None and not args.no_baseline:
                baseline = f"{timed(exact, min(args.runs, 3))[0]:15.1f}"
            print(f"{label:40} {p50:8.1f} {p95:8.1f} {rows:5} {total_items!s:>11} {baseline}", flush=True)
    for label, p50, p95 in page_ids_baseline(engine, args.project, args.runs):
        print(f"{label:40} {p50:8.1f} {p95:8.1f}")
    engine.dispose()


if __name__ == "__main__":
    main()
