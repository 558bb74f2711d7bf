"""Two replicas writing the same traces while both refresh roll-ups: the roll-ups end exact.

Each replica is an app with its own engine on the one database, its refresher running every
20 ms (PostgreSQL: advisory locks per day; SQLite: snapshot reads and the log-row check), while
one thread per replica sends spans (new traces, late spans moving traces to earlier hours,
re-sends of the other replica's spans) and scores. Once both logs are drained, the stored
roll-ups must equal a rebuild from scratch and every dashboard answer the exact scan.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from interactiveai.server.rollups.refresher import rebuild
from interactiveai.server.storage.rollup_schema import (
    rollup_dirty,
    rollup_model_days,
    rollup_model_hours,
    rollup_score_hours,
    rollup_trace_hours,
    rollup_user_days,
)
from tests.server.rollups.conftest import BASE_NS, HOUR_NS, assert_rollups_equal_exact
from tests.server.rollups.test_rollups_equal_exact import post, tid, trace_spans

TABLES = (rollup_trace_hours, rollup_model_hours, rollup_score_hours, rollup_user_days, rollup_model_days)


@pytest.fixture
def replicas(database_url: str, engine: Any, tmp_path: Path) -> Iterator[list[Any]]:
    from fastapi.testclient import TestClient

    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings
    from interactiveai.server.storage.engines import create_db_engine

    with ExitStack() as stack:
        clients = []
        for n in range(2):
            own = create_db_engine(database_url, pool_size=4)
            stack.callback(own.dispose)
            settings = load_settings(data_dir=tmp_path / f"r{n}", database_url=database_url, rollup_refresh_ms=20)
            app = create_app(settings, engine=own, run_migrations=False, first_start=False)
            clients.append(stack.enter_context(TestClient(app)))
        yield clients


def _rounded(value: Any) -> Any:
    # cost sums added in another order (a day row from stored and new hour rows) differ in the last bits
    return float(f"{value:.9g}") if isinstance(value, float) else value


def _rows(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every roll-up row, without its ``seq`` (numbering may differ between two computations)."""
    out = {}
    with engine.connect() as conn:
        for table in TABLES:
            columns = [c for c in table.c if c.name != "seq"]
            rows = (tuple(_rounded(v) for v in row) for row in conn.execute(select(*columns)))
            out[table.name] = sorted(rows, key=lambda r: tuple(map(str, r)))
    return out


def test_two_replicas_writing_and_refreshing(replicas: list[Any], engine: Any, project: Any) -> None:
    errors: list[BaseException] = []

    def writer(client: Any, replica: int) -> None:
        try:
            for step in range(12):
                n = 100 + step * 2 + replica
                start = BASE_NS + (step % 6) * HOUR_NS + replica * 600_000_000_000
                post(client, project, trace_spans(n, start))
                # a late span of the other replica's trace: an hour earlier, with more usage
                other = 100 + step * 2 + (1 - replica)
                late = trace_spans(other, start - HOUR_NS, first_span=20 + replica, spans=1)
                post(client, project, late)
                if step % 3 == 0:
                    post(client, project, trace_spans(n, start))  # a re-send
                    score = {"name": "quality", "value": step / 10, "traceId": tid(n)}
                    assert client.post("/api/public/scores", json=score, headers=project.headers).status_code == 200
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(client, i)) for i, client in enumerate(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    deadline = time.monotonic() + 60
    while True:
        with engine.connect() as conn:
            if conn.execute(select(rollup_dirty.c.id).limit(1)).first() is None:
                break
        assert time.monotonic() < deadline, "the refreshers did not drain the dirty log"
        time.sleep(0.05)
    refreshed = _rows(engine)
    assert refreshed["rollup_trace_hours"], "the refreshers wrote roll-ups"
    rebuild(engine, project.id)
    assert _rows(engine) == refreshed
    assert_rollups_equal_exact(engine, project.id)
