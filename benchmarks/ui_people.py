"""Benchmark: the web UI's sessions and users lists sorted by a column, searched by an id prefix,
with their bounded totals, on a large project.

Seeds (or reuses) a project with benchmarks/dashboard.py's SQL seeding (``--traces``, default
200,000 over 30 days: 50,000 sessions of four traces, 5,000 users), then times each list query
(``query/ui_people.py``) and, as the baseline in the same run, the default list the page showed
before (``sessions.list_sessions`` / ``users.list_users``, most recent first, with its total):
one warm-up call, then the median and max of ``--runs`` calls.

    .venv/bin/python benchmarks/ui_people.py [--db PATH] [--database-url URL] [--traces 200000] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import dashboard  # noqa: E402  (its SQL seeding, reused as it is)

DAY_US = 86_400_000_000


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(median, max) in ms after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="SQLite file to seed or reuse")
    parser.add_argument("--database-url", help="PostgreSQL URL instead of SQLite")
    parser.add_argument("--traces", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from interactiveai.server.clock import now_us
    from interactiveai.server.query.filters import SessionFilter, UserFilter
    from interactiveai.server.query.sessions import list_sessions
    from interactiveai.server.query.ui_people import PeopleQuery, list_people, sortable_by_figures
    from interactiveai.server.query.users import list_users
    from interactiveai.server.storage import migrate
    from interactiveai.server.storage.engines import create_db_engine
    from interactiveai.server.storage.schema import traces

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{args.db or Path(tmp.name) / 'ui_people.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    dashboard.seed(engine, args.traces, now_us() // DAY_US * DAY_US + DAY_US)
    pid = dashboard.PROJECT
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(traces.c.timestamp_us)).where(traces.c.project_id == pid)).scalar_one()
    week = newest - 7 * DAY_US  # the seeding ends on a day edge: a week before its newest trace
    some_session = f"session-{args.traces // 8}"
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("sessions, 7 d, most recent (baseline)", lambda: list_sessions(engine, pid, SessionFilter(from_us=week))),
        ("sessions, 7 d, by cost", lambda: list_people(engine, pid, PeopleQuery("sessions", week, None, "cost"))),
        ("sessions, 7 d, by duration, page 20",
         lambda: list_people(engine, pid, PeopleQuery("sessions", week, None, "duration"), page=20)),
        ("sessions, 7 d, can sort by figures?",
         lambda: sortable_by_figures(engine, pid, PeopleQuery("sessions", week))),
        ("sessions, all, can sort by figures?", lambda: sortable_by_figures(engine, pid, PeopleQuery("sessions"))),
        ("sessions, all, by id", lambda: list_people(engine, pid, PeopleQuery("sessions", None, None, "id", False))),
        ("sessions, all, prefix of one id, most recent",
         lambda: list_people(engine, pid, PeopleQuery("sessions", None, some_session, "started"))),
        ("sessions, all, prefix 'session-1' (11 %), by id",
         lambda: list_people(engine, pid, PeopleQuery("sessions", None, "session-1", "id", False))),
        ("users, 7 d, most recent (baseline)", lambda: list_users(engine, pid, UserFilter(from_us=week))),
        ("users, 7 d, by cost", lambda: list_people(engine, pid, PeopleQuery("users", week, None, "cost"))),
        ("users, all, by id", lambda: list_people(engine, pid, PeopleQuery("users", None, None, "id", False))),
        ("users, all, prefix 'user-42', by id",
         lambda: list_people(engine, pid, PeopleQuery("users", None, "user-42", "id", False))),
    ]  # fmt: skip
    print(f"{engine.dialect.name}, {args.traces:,} traces, {args.runs} runs (2 shared cores: figures move ±20 %)")
    baseline = 0.0
    for label, fn in cases:
        median, worst = timed(fn, args.runs)
        if "baseline" in label:
            baseline = median
        ratio = f"{median / baseline:5.2f}x baseline" if baseline else ""
        print(f"{label:50s} median {median:8.1f} ms  max {worst:8.1f} ms  {ratio}", flush=True)


if __name__ == "__main__":
    main()
