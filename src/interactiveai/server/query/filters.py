"""Typed filters and sort orders, and their translation into SQLAlchemy Core conditions.

The same conditions run on SQLite and PostgreSQL. Every builder starts with the project, which
is also the first column of every index, so a filter can never reach another project's rows.
Time bounds are half-open: ``from_us`` inclusive, ``to_us`` exclusive.

Values compared with an indexed identifier or name (user and session ids, names, model, release,
version, tags) are bounded as ingestion bounds what it stores (``json_values.bound_key`` and
``bound_tag``), so a filter given the original long value finds what was stored for it; a value
within the bound, nearly every one, is compared as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, literal_column, or_, select

from interactiveai.server.json_values import bound_key, bound_tag
from interactiveai.server.query.filter_conditions import Condition, observation_filter_sql, trace_filter_sql
from interactiveai.server.storage.schema import (
    observations,
    observations_of_trace,
    observations_of_traces,
    scores,
    trace_tags,
    traces,
)

Direction = Literal["asc", "desc"]


@dataclass(frozen=True, slots=True)
class TraceFilter:
    """Trace list filters; empty fields do not filter. ``tags``: all of; lists of values: any of."""

    user_id: str | None = None
    name: str | None = None
    session_id: str | None = None
    tags: Sequence[str] = ()
    environments: Sequence[str] = ()
    version: str | None = None
    release: str | None = None
    from_us: int | None = None
    to_us: int | None = None
    levels: Sequence[str] = ()
    trace_ids: Sequence[str] = ()
    bookmarked: bool | None = None
    public: bool | None = None
    has_session: bool | None = None
    conditions: Sequence[Condition] = ()  # the API's ``filter`` parameter (filter_conditions.py)


# API/UI sort names → traces columns. Only roll-up columns: sorting never touches observations.
TRACE_SORT_COLUMNS: dict[str, Any] = {
    "id": traces.c.id,
    "timestamp": traces.c.timestamp_us,
    "name": traces.c.name,
    "userId": traces.c.user_id,
    "sessionId": traces.c.session_id,
    "release": traces.c.release,
    "version": traces.c.version,
    "environment": traces.c.environment,
    "public": traces.c.public,
    "bookmarked": traces.c.bookmarked,
    "level": traces.c.level,
    "latency": traces.c.latency_us,
    "observationCount": traces.c.observation_count,
    "inputTokens": traces.c.input_tokens,
    "outputTokens": traces.c.output_tokens,
    "totalTokens": traces.c.total_tokens,
    "inputCost": traces.c.input_cost,
    "outputCost": traces.c.output_cost,
    "totalCost": traces.c.total_cost,
}


@dataclass(frozen=True, slots=True)
class TraceOrder:
    """A sort on one trace column; ties are broken by id in the same direction."""

    column: str = "timestamp"
    direction: Direction = "desc"

    def __post_init__(self) -> None:
        if self.column not in TRACE_SORT_COLUMNS:
            raise ValueError(f"cannot order traces by {self.column!r}; use one of {', '.join(TRACE_SORT_COLUMNS)}")
        if self.direction not in ("asc", "desc"):
            raise ValueError("order direction must be 'asc' or 'desc'")

    @classmethod
    def parse(cls, text: str | None) -> TraceOrder:
        """Parse ``column.direction`` (``timestamp.desc``); a bare column sorts descending."""
        if not text:
            return cls()
        column, _, direction = text.strip().partition(".")
        direction = (direction or "desc").lower()
        if direction not in ("asc", "desc"):
            raise ValueError(f"invalid order direction {direction!r}; use asc or desc")
        return cls(column, "asc" if direction == "asc" else "desc")

    @property
    def key(self) -> str:
        return f"{self.column}.{self.direction}"


@dataclass(frozen=True, slots=True)
class ObservationFilter:
    trace_id: str | None = None
    name: str | None = None
    user_id: str | None = None
    types: Sequence[str] = ()
    levels: Sequence[str] = ()
    parent_observation_id: str | None = None
    environments: Sequence[str] = ()
    version: str | None = None
    model: str | None = None
    from_us: int | None = None
    to_us: int | None = None
    conditions: Sequence[Condition] = ()  # the API's ``filter`` parameter (filter_conditions.py)


@dataclass(frozen=True, slots=True)
class ScoreFilter:
    name: str | None = None
    user_id: str | None = None
    trace_id: str | None = None
    observation_id: str | None = None
    session_id: str | None = None
    dataset_run_id: str | None = None
    sources: Sequence[str] = ()
    data_types: Sequence[str] = ()
    config_id: str | None = None
    environments: Sequence[str] = ()
    score_ids: Sequence[str] = ()
    from_us: int | None = None
    to_us: int | None = None
    value: float | None = None
    operator: str = "="


@dataclass(frozen=True, slots=True)
class SessionFilter:
    from_us: int | None = None
    to_us: int | None = None
    environments: Sequence[str] = ()
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class UserFilter:
    from_us: int | None = None
    to_us: int | None = None
    environments: Sequence[str] = ()
    user_ids: Sequence[str] = field(default=())


def trace_conditions(project_id: str, f: TraceFilter | None) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = [traces.c.project_id == project_id]
    if f is None:
        return cond
    _key(cond, traces.c.user_id, f.user_id)
    _key(cond, traces.c.name, f.name)
    _key(cond, traces.c.session_id, f.session_id)
    _key(cond, traces.c.version, f.version)
    _key(cond, traces.c.release, f.release)
    _any(cond, traces.c.environment, f.environments)
    _any(cond, traces.c.level, [lv.upper() for lv in f.levels])
    _any(cond, traces.c.id, f.trace_ids)
    _time(cond, traces.c.timestamp_us, f.from_us, f.to_us)
    if f.bookmarked is not None:
        cond.append(traces.c.bookmarked == f.bookmarked)
    if f.public is not None:
        cond.append(traces.c.public == f.public)
    if f.has_session is not None:
        cond.append(traces.c.session_id.is_not(None) if f.has_session else traces.c.session_id.is_(None))
    # "All of these tags": one probe of trace_tags' primary key per trace and tag.
    for tag in dict.fromkeys(map(bound_tag, f.tags)):
        cond.append(_has_tag(project_id, tag))
    cond.extend(trace_filter_sql(project_id, f.conditions))
    return cond


def _has_tag(project_id: str, tag: str) -> ColumnElement[bool]:
    """The trace row has this tag, probed per row: a scalar subquery with LIMIT 1, not EXISTS.

    PostgreSQL turns an EXISTS into a join, and estimates that join on the trace's creation time
    and id at one row, so a list filtered by a tag on half the traces hashed all of them and
    sorted (~0.6 s at 200,000 traces). A probe per row lets the list walk the time index and stop
    after a page. Rare tags drive the list from their own rows instead (query/traces.py).
    """
    probe = (
        select(literal_column("1"))
        .where(
            trace_tags.c.project_id == project_id,
            trace_tags.c.tag == tag,
            trace_tags.c.trace_created_at_us == traces.c.created_at_us,
            trace_tags.c.trace_id == traces.c.id,
        )
        .limit(1)
        .correlate(traces)
        .scalar_subquery()
    )
    return probe.is_not(None)


def observation_conditions(project_id: str, f: ObservationFilter | None) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = [observations.c.project_id == project_id]
    if f is None:
        return cond
    if f.trace_id is not None:
        cond.append(observations_of_trace(project_id, f.trace_id))
    _key(cond, observations.c.name, f.name)
    _eq(cond, observations.c.parent_observation_id, f.parent_observation_id)
    _key(cond, observations.c.version, f.version)
    _key(cond, observations.c.model, f.model)
    _any(cond, observations.c.type, [t.upper() for t in f.types])
    levels = [lv.upper() for lv in f.levels]
    _any(cond, observations.c.level, levels)
    if levels and "DEFAULT" not in levels:  # the partial index's own condition, so SQLite uses it
        cond.append(observations.c.level != "DEFAULT")
    _any(cond, observations.c.environment, f.environments)
    _time(cond, observations.c.start_time_us, f.from_us, f.to_us)
    if f.user_id is not None:
        cond.append(observations_of_traces(project_id, traces.c.user_id == bound_key(f.user_id)))
    cond.extend(observation_filter_sql(project_id, f.conditions))
    return cond


_SCORE_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")


def score_conditions(project_id: str, f: ScoreFilter | None) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = [scores.c.project_id == project_id]
    if f is None:
        return cond
    _key(cond, scores.c.name, f.name)
    _eq(cond, scores.c.trace_id, f.trace_id)
    _eq(cond, scores.c.observation_id, f.observation_id)
    _key(cond, scores.c.session_id, f.session_id)
    _eq(cond, scores.c.dataset_run_id, f.dataset_run_id)
    _eq(cond, scores.c.config_id, f.config_id)
    _any(cond, scores.c.source, [s.upper() for s in f.sources])
    _any(cond, scores.c.data_type, [d.upper() for d in f.data_types])
    _any(cond, scores.c.environment, f.environments)
    _any(cond, scores.c.id, f.score_ids)
    _time(cond, scores.c.timestamp_us, f.from_us, f.to_us)
    if f.user_id is not None:
        cond.append(
            scores.c.trace_id.in_(
                select(traces.c.id).where(traces.c.project_id == project_id, traces.c.user_id == bound_key(f.user_id))
            )
        )
    if f.value is not None:
        cond.append(_compare(scores.c.value, f.operator, f.value))
    return cond


def _compare(column: Any, operator: str, value: float) -> ColumnElement[bool]:
    if operator not in _SCORE_OPERATORS:
        raise ValueError(f"invalid operator {operator!r}; use one of {' '.join(_SCORE_OPERATORS)}")
    result: ColumnElement[bool] = {
        "=": column == value,
        "!=": column != value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }[operator]
    return result


def session_conditions(project_id: str, f: SessionFilter | None) -> list[ColumnElement[bool]]:
    """The project's traces that belong to a session, in the filter's window."""
    cond = _trace_window([traces.c.project_id == project_id, traces.c.session_id.is_not(None)], f)
    if f is not None:
        _key(cond, traces.c.user_id, f.user_id)
    return cond


def user_conditions(project_id: str, f: UserFilter | None) -> list[ColumnElement[bool]]:
    """The project's traces that carry a user id, in the filter's window."""
    cond = _trace_window([traces.c.project_id == project_id, traces.c.user_id.is_not(None)], f)
    if f is not None and f.user_ids:
        cond.append(traces.c.user_id.in_(list(dict.fromkeys(map(bound_key, f.user_ids)))))
    return cond


def _trace_window(cond: list[ColumnElement[bool]], f: SessionFilter | UserFilter | None) -> list[ColumnElement[bool]]:
    """Add the time window and environments that sessions and users are filtered by."""
    if f is not None:
        _time(cond, traces.c.timestamp_us, f.from_us, f.to_us)
        if f.environments:
            cond.append(traces.c.environment.in_(list(f.environments)))
    return cond


def _eq(cond: list[ColumnElement[bool]], column: Any, value: Any) -> None:
    if value is not None:
        cond.append(column == value)


def _key(cond: list[ColumnElement[bool]], column: Any, value: str | None) -> None:
    """``column == value`` for an indexed identifier or name, the value bounded as stored."""
    if value is not None:
        cond.append(column == bound_key(value))


def _any(cond: list[ColumnElement[bool]], column: Any, values: Sequence[Any]) -> None:
    values = list(dict.fromkeys(values))
    if len(values) == 1:
        cond.append(column == values[0])
    elif values:
        cond.append(column.in_(values))


def _time(cond: list[ColumnElement[bool]], column: Any, from_us: int | None, to_us: int | None) -> None:
    if from_us is not None:
        cond.append(column >= from_us)
    if to_us is not None:
        cond.append(column < to_us)


def keyset_condition(column: Any, id_column: Any, direction: Direction, value: Any, row_id: str) -> ColumnElement[bool]:
    """Rows strictly after ``(value, row_id)`` in ``column direction NULLS LAST, id direction``.

    NULLS LAST is spelled out in the ORDER BY too, because the two engines disagree on the default.
    """
    id_after = id_column > row_id if direction == "asc" else id_column < row_id
    if value is None:
        return and_(column.is_(None), id_after)
    after = column > value if direction == "asc" else column < value
    if not column.nullable:  # keep the condition sargable on the (project_id, column) index
        return or_(after, and_(column == value, id_after))
    return or_(after, and_(column == value, id_after), column.is_(None))
