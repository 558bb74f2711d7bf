"""Observation queries: the filtered list (newest first) and one observation by id."""

from __future__ import annotations

from sqlalchemy import select

from interactiveai.server.query._db import Db, fetch_one, fetch_page, matching_rows
from interactiveai.server.query.filter_conditions import names_traces
from interactiveai.server.query.filters import ObservationFilter, observation_conditions
from interactiveai.server.query.pagination import Page, check_page
from interactiveai.server.query.records import Observation, observation_from_row
from interactiveai.server.storage.schema import START_TIME_IN_TRACE, observations, observations_of_trace


def list_observations(
    db: Db,
    project_id: str,
    filters: ObservationFilter | None = None,
    *,
    page: int = 1,
    limit: int = 50,
    with_total: bool = True,
) -> Page[Observation]:
    """One page of a project's observations, by start time descending (then id descending).

    The order follows the ``(project_id, start_time_us)`` index, so the first page of an
    unfiltered list reads ``limit`` rows, not the project.
    """
    check_page(page, limit)
    conditions = observation_conditions(project_id, filters)
    # a trace's observations are read by primary key, not by walking the project's time index
    by_trace = filters is not None and (filters.trace_id is not None or names_traces(filters.conditions))
    start_time = START_TIME_IN_TRACE if by_trace else observations.c.start_time_us
    query = select(observations).where(*conditions).order_by(start_time.desc(), observations.c.id.desc())
    counted = matching_rows(observations, conditions) if with_total else None
    return fetch_page(db, query, observation_from_row, page=page, limit=limit, counted=counted)


def get_observation(db: Db, project_id: str, observation_id: str, trace_id: str | None = None) -> Observation | None:
    """One observation by id (ids are unique per project in practice; the first match wins)."""
    query = select(observations).where(observations.c.project_id == project_id, observations.c.id == observation_id)
    if trace_id is not None:
        query = query.where(observations_of_trace(project_id, trace_id))
    return fetch_one(db, query.limit(1), observation_from_row)
