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
live server). Problems are collected, not raised, so one run reports all of them. The API half is
``api_sweep.py``, the UI half ``ui_sweep.py``, what they share ``sweep.py``.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, select

from interactiveai.server.rollups.refresher import refresh_all
from interactiveai.server.storage import schema as s
from tests.support.api_sweep import API, ApiSweep
from tests.support.sweep import Problem, Stored, SweepResult, q
from tests.support.ui_sweep import UiSweep


def read_back(
    http: Any,
    engine: Engine,
    project_id: str,
    api_headers: dict[str, str],
    ui_login: tuple[str, str] | None = None,
    *,
    filter_values: int = 4,
) -> SweepResult:
    """Sweep one project: every GET endpoint and UI page over every stored row. See the module docstring."""
    started = time.perf_counter()
    result = SweepResult()
    stored = Stored.load(engine, project_id)
    ApiSweep(http, api_headers, result, filter_values).run(stored)
    if ui_login is not None:
        UiSweep(http, project_id, ui_login, result, filter_values).run(stored)
    result.seconds = time.perf_counter() - started
    return result


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
    """Every row of every project-scoped table, for before/after comparisons (isolation).

    The project's pending roll-up work is done first: the server's refresher recomputes hours its
    own earlier writes marked, whenever it gets to them, so the derived tables are compared in
    their settled state (equal to a recomputation of the project's own rows).
    """
    refresh_all(engine, project_id=project_id)
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
