"""Trace-list reads for the web UI: filters over the trace roll-ups, column sorts, keyset pages.

Everything reads the ``traces`` roll-ups (never scans observations) and is bounded by project and
the selected time range. Input/output are read as short prefixes only (``substr``) so a page of
traces with multi-megabyte payloads stays cheap.

The shared filters come from the query layer (``filters.trace_conditions``) and search from its
full-text index (``search.trace_fulltext_condition``); this module adds what only the UI needs:
payload previews, metadata/latency/cost conditions, more sorts, and next *and* previous cursors.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from sqlalchemy import BigInteger, Connection, Engine, String, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from interactiveai.server.query._db import load_json_list
from interactiveai.server.query.filters import TraceFilter, trace_conditions
from interactiveai.server.query.pagination import COUNT_CAP, bindable
from interactiveai.server.query.records import finite
from interactiveai.server.query.search import trace_fulltext_condition
from interactiveai.server.query.tag_lists import counted_in_order, other_tags, tag_drive
from interactiveai.server.query.ui_scores import score_names
from interactiveai.server.storage.schema import observations, scores, traces

PREVIEW_CHARS = 400
LEVELS = ("DEBUG", "DEFAULT", "WARNING", "ERROR")


@dataclass
class TraceListFilter:
    """Every filter of the trace list; empty fields do not filter."""

    from_us: int | None = None
    to_us: int | None = None
    environments: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # all of them
    levels: list[str] = field(default_factory=list)  # worst level is one of them
    metadata: list[tuple[str, str]] = field(default_factory=list)  # key == value (as text)
    min_latency_us: int | None = None
    max_latency_us: int | None = None
    min_cost: float | None = None
    max_cost: float | None = None
    search: str | None = None
    releases: list[str] = field(default_factory=list)  # any of them
    models: list[str] = field(default_factory=list)  # an observation called one of them
    score: ScoreCondition | None = None


@dataclass
class ScoreCondition:
    """A trace-level score (as the list's chips show them) by name, with its value in a range or
    equal to a label (categorical and boolean scores: ``string_value``)."""

    name: str
    min_value: float | None = None
    max_value: float | None = None
    label: str | None = None


SORTS: dict[str, ColumnElement[Any]] = {
    "timestamp": traces.c.timestamp_us,
    "name": func.coalesce(traces.c.name, ""),
    "latency": func.coalesce(traces.c.latency_us, -1),
    "tokens": traces.c.total_tokens,
    "cost": func.coalesce(traces.c.total_cost, -1.0),
    "observations": traces.c.observation_count,
    # in 64 bits: PostgreSQL's 32-bit integer arithmetic overflows from 2,148 errors on
    "level": cast(traces.c.error_count, BigInteger) * 1000000 + traces.c.warning_count,
}


@dataclass
class TracePage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    prev_cursor: str | None
    total: int | None = None  # matching traces, exact when ``total_exact``, else a lower bound
    total_exact: bool = True


def encode_cursor(sort: str, value: Any, trace_id: str, direction: str) -> str:
    raw = orjson.dumps([sort, value, trace_id, direction])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: str) -> tuple[Any, str, str] | None:
    """(value, id, direction) of a cursor made for ``sort``; None for anything else (first page)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, trace_id, direction = orjson.loads(raw)
    except (ValueError, TypeError):
        return None
    if made_for != sort or not bindable(trace_id) or direction not in ("next", "prev"):
        return None
    # the value must have the sort key's type: PostgreSQL refuses to compare a number with text;
    # and a number must fit the column (a huge one overflows on both engines)
    expected: tuple[type, ...] = (str,) if sort == "name" else (int, float)
    if not isinstance(value, expected) or not bindable(value) or not isinstance(trace_id, str):
        return None
    return value, trace_id, direction


def _metadata_value(engine: Engine, key: str) -> ColumnElement[Any]:
    if engine.dialect.name == "postgresql":
        # jsonb refuses the escape \u0000 (NUL, which a metadata string may hold); \ufffd in its place
        # keeps the text valid JSON, whatever precedes the backslash. Text that is not JSON at all
        # (an older version's or a direct write's) reads as NULL: interactiveai_try_jsonb (migration
        # 0007) never raises, so one such row does not fail the whole list.
        text = func.replace(traces.c.metadata, "\\u0000", "\\ufffd")
        value = func.jsonb_extract_path_text(func.interactiveai_try_jsonb(text), key)
        # Parse only the rows that can hold the key: text without a backslash spells every string
        # as it is, so the key appears quoted; with a backslash, it may be escaped. (The parse is
        # the cost, about 2 us a row with the function's subtransaction.)
        can_hold = or_(func.strpos(traces.c.metadata, f'"{key}"') > 0, func.strpos(traces.c.metadata, "\\") > 0)
        return case((can_hold, value), else_=None)
    path = '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
    # json_extract raises on malformed JSON: one odd row must not fail the whole filter
    extracted = cast(func.json_extract(traces.c.metadata, path), String)
    return case((func.json_valid(traces.c.metadata) == 1, extracted), else_=None)


def _one(values: list[str]) -> str | None:
    return values[0] if len(values) == 1 else None


def filter_conditions(engine: Engine, project_id: str, filt: TraceListFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses: the query layer's trace filter, plus the UI's extra conditions."""
    shared = TraceFilter(
        user_id=_one(filt.user_ids),
        name=_one(filt.names),
        session_id=_one(filt.session_ids),
        tags=filt.tags,
        environments=filt.environments,
        levels=filt.levels,
        from_us=filt.from_us,
        to_us=filt.to_us,
    )
    where = trace_conditions(project_id, shared)
    for column, values in ((traces.c.user_id, filt.user_ids), (traces.c.name, filt.names)):
        if len(values) > 1:
            where.append(column.in_(values))
    if len(filt.session_ids) > 1:
        where.append(traces.c.session_id.in_(filt.session_ids))
    for key, value in filt.metadata:
        if key:
            where.append(_metadata_value(engine, key) == value)
    if filt.min_latency_us is not None:
        where.append(traces.c.latency_us >= filt.min_latency_us)
    if filt.max_latency_us is not None:
        where.append(traces.c.latency_us <= filt.max_latency_us)
    if len(filt.releases) == 1:
        where.append(traces.c.release == filt.releases[0])
    elif filt.releases:
        where.append(traces.c.release.in_(filt.releases))
    if filt.models:
        where.append(_called_model(project_id, filt.models))
    if filt.score is not None:
        where.append(_has_score(project_id, filt.score))
    if filt.min_cost is not None:
        where.append(traces.c.total_cost >= filt.min_cost)
    if filt.max_cost is not None:
        where.append(traces.c.total_cost <= filt.max_cost)
    if filt.search:
        # The engine's full-text index over input/output (words, last one as a prefix), or an
        # exact trace id or name, so pasting an id or a name into the search box finds it too.
        text_match = trace_fulltext_condition(engine.dialect.name, filt.search)
        exact = [traces.c.id == filt.search.lower(), traces.c.name == filt.search]
        where.append(or_(*exact, text_match) if text_match is not None else or_(*exact))
    return where


def _called_model(project_id: str, models: list[str]) -> ColumnElement[bool]:
    """An observation of the trace called one of ``models``: one probe of the trace's primary-key
    range of observations per trace row (a handful of rows), so a list of a common model walks
    the time index and stops after a page. (A scalar subquery with LIMIT 1 rather than EXISTS:
    PostgreSQL plans an EXISTS as a join over every trace, see query.filters._has_tag.)"""
    probe = (
        select(literal(1))
        .where(
            observations.c.project_id == project_id,
            observations.c.trace_created_at_us == traces.c.created_at_us,
            observations.c.trace_id == traces.c.id,
            observations.c.model.in_(models) if len(models) > 1 else observations.c.model == models[0],
        )
        .limit(1)
        .correlate(traces)
        .scalar_subquery()
    )
    return probe.is_not(None)


def _score_conditions(project_id: str, score: ScoreCondition) -> list[ColumnElement[bool]]:
    where = [scores.c.project_id == project_id, scores.c.name == score.name, scores.c.observation_id.is_(None)]
    if score.min_value is not None:
        where.append(scores.c.value >= score.min_value)
    if score.max_value is not None:
        where.append(scores.c.value <= score.max_value)
    if score.label is not None:
        where.append(scores.c.string_value == score.label)
    return where


def _has_score(project_id: str, score: ScoreCondition) -> ColumnElement[bool]:
    """The trace has a matching trace-level score: a probe of (project_id, trace_id) per trace."""
    probe = (
        select(literal(1))
        .where(*_score_conditions(project_id, score), scores.c.trace_id == traces.c.id)
        .limit(1)
        .correlate(traces)
        .scalar_subquery()
    )
    return probe.is_not(None)


RARE_SCORE_ROWS = 5_000
"""A score filter matching at most this many score rows drives the list from those rows (their
trace ids, through the (project_id, name, timestamp) index) instead of probing every trace in
the range newest first, which reads ``limit`` / (the matching share) traces a page."""


def rare_score_ids(conn: Connection, project_id: str, score: ScoreCondition) -> list[str] | None:
    """The trace ids of the matching scores when there are few (``RARE_SCORE_ROWS``), else None.

    Read into a list, not left as a subquery: SQLite without statistics walked the window's
    traces by time for an ``IN (subquery)`` too, reading every row (~3 s for 7 days of 1 M)."""
    matching = select(scores.c.trace_id).where(*_score_conditions(project_id, score)).limit(RARE_SCORE_ROWS + 1)
    found = [str(row[0]) for row in conn.execute(matching) if row[0] is not None]
    return None if len(found) > RARE_SCORE_ROWS else sorted(set(found))


RARE_MODEL_CALLS = 5_000
"""A model filter matching at most this many calls in the window drives the list from those calls'
trace ids instead of probing every trace of the window newest first."""


def rare_model_ids(conn: Connection, project_id: str, models: list[str], from_us: int | None) -> list[str] | None:
    """The trace ids of the window's calls of these models when there are few, else None.

    Calls are read up to ``RARE_MODEL_CALLS`` + 1 on the covering model-calls index
    (project_id, start_time_us, model, ..., trace_id): a common model stops after a few thousand
    entries, a model no trace called reads the window's model calls once (index only), instead
    of probing each trace of the window. An observation starts no earlier than its trace, so the
    window's lower bound applies to calls as it is.
    """
    where = [
        observations.c.project_id == project_id,
        observations.c.model.is_not(None),
        observations.c.model.in_(models) if len(models) > 1 else observations.c.model == models[0],
    ]
    if from_us is not None:
        where.append(observations.c.start_time_us >= from_us)
    calls = select(observations.c.trace_id).where(*where).limit(RARE_MODEL_CALLS + 1)
    found = [str(row[0]) for row in conn.execute(calls)]
    return None if len(found) > RARE_MODEL_CALLS else sorted(set(found))


_LIST_COLUMNS = [
    traces.c.id,
    traces.c.timestamp_us,
    traces.c.name,
    traces.c.user_id,
    traces.c.session_id,
    traces.c.environment,
    traces.c.release,
    traces.c.version,
    traces.c.tags,
    traces.c.latency_us,
    traces.c.observation_count,
    traces.c.level,
    traces.c.debug_count,
    traces.c.default_count,
    traces.c.warning_count,
    traces.c.error_count,
    traces.c.input_tokens,
    traces.c.output_tokens,
    traces.c.total_tokens,
    traces.c.input_cost,
    traces.c.output_cost,
    traces.c.total_cost,
    traces.c.bookmarked,
    func.substr(traces.c.input, 1, PREVIEW_CHARS).label("input_preview"),
    func.substr(traces.c.output, 1, PREVIEW_CHARS).label("output_preview"),
    func.substr(traces.c.metadata, 1, PREVIEW_CHARS).label("metadata_preview"),
]


def list_trace_page(
    engine: Engine,
    project_id: str,
    filt: TraceListFilter,
    *,
    sort: str = "timestamp",
    descending: bool = True,
    cursor: str | None = None,
    limit: int = 50,
    count_cap: int | None = COUNT_CAP,
) -> TracePage:
    """One page of traces in sort order, with next/prev keyset cursors, and how many traces match:
    counted up to ``count_cap`` (past it, ``count_cap`` + 1 and not exact), as the public lists'
    meta counts; ``count_cap=None`` skips the count. A first page that is not full is its total."""
    sort = sort if sort in SORTS else "timestamp"
    key = SORTS[sort]
    where = filter_conditions(engine, project_id, filt)
    position = decode_cursor(cursor, sort)
    backwards = position is not None and position[2] == "prev"
    forward_desc = descending != backwards  # the order this query reads in
    with engine.connect() as conn:
        # by time with tags (and no narrower key of its own): read from a tag's rows in time order
        drive = None
        if sort == "timestamp" and not (filt.user_ids or filt.session_ids or filt.search or filt.score or filt.models):
            drive = tag_drive(conn, project_id, TraceFilter(tags=filt.tags, from_us=filt.from_us, to_us=filt.to_us))
        source: Any = traces
        order_key: Any = key
        id_key: ColumnElement[str] = traces.c.id
        if drive is not None:
            where = filter_conditions(engine, project_id, replace(filt, tags=other_tags(filt.tags, drive)))
            where += drive.conditions
            source, order_key, id_key = drive.source, drive.timestamp, drive.trace_id
        cursor_condition: ColumnElement[bool] | None = None
        if position is not None:
            value, after_id, _ = position
            bound = literal(value)
            if forward_desc:
                cursor_condition = or_(order_key < bound, and_(order_key == bound, id_key < after_id))
            else:
                cursor_condition = or_(order_key > bound, and_(order_key == bound, id_key > after_id))
            where.append(cursor_condition)
        order = [order_key.desc(), id_key.desc()] if forward_desc else [order_key.asc(), id_key.asc()]
        # a rare score or model drives the list from its few traces, found by key
        few: list[list[str] | None] = []
        if filt.score is not None:
            few.append(rare_score_ids(conn, project_id, filt.score))
        if filt.models:
            few.append(rare_model_ids(conn, project_id, filt.models, filt.from_us))
        known = [set(ids) for ids in few if ids is not None]
        if known:
            ids = sorted(set.intersection(*known))
            if not ids:
                return TracePage([], None, None, 0 if count_cap is not None else None, True)
            where.append(traces.c.id.in_(ids))
        counted = [c for c in where if c is not cursor_condition]
        query = select(*_LIST_COLUMNS, key.label("sort_key")).select_from(source).where(*where)
        query = query.order_by(*order).limit(limit + 1)
        fetched = [dict(r) for r in conn.execute(query).mappings()]
        total: int | None = None
        exact = True
        if count_cap is not None:
            if position is None and len(fetched) <= limit:
                total = len(fetched)  # the whole match is on this page
            else:
                matching = counted_in_order(drive, select(literal(1)).select_from(source).where(*counted))
                bounded = matching.limit(count_cap + 1).subquery()
                total = int(conn.execute(select(func.count()).select_from(bounded)).scalar_one())
                exact = total <= count_cap
    more = len(fetched) > limit
    rows = fetched[:limit]
    if backwards:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        first, last = rows[0], rows[-1]
        has_next = more if not backwards else True
        has_prev = (position is not None) if not backwards else more
        if has_next:
            next_cursor = encode_cursor(sort, last["sort_key"], last["id"], "next")
        if has_prev:
            prev_cursor = encode_cursor(sort, first["sort_key"], first["id"], "prev")
    for row in rows:
        row.pop("sort_key", None)
        row["tags"] = _json_list(row["tags"])
    return TracePage(rows, next_cursor, prev_cursor, total, exact)


def _json_list(text: str | None) -> list[str]:
    return [str(v) for v in load_json_list(text)]


def scores_for_traces(engine: Engine, project_id: str, trace_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Trace-level scores (not observation-level) of the given traces, grouped by trace id."""
    if not trace_ids:
        return {}
    query = (
        select(
            scores.c.trace_id,
            scores.c.name,
            scores.c.value,
            scores.c.string_value,
            scores.c.data_type,
            scores.c.source,
        )
        .where(
            scores.c.project_id == project_id,
            scores.c.trace_id.in_(trace_ids),
            scores.c.observation_id.is_(None),
        )
        # as expressions: by the bare columns SQLite without statistics walked every score of the
        # project on the (project_id, name, timestamp_us) index to avoid sorting the page's few
        .order_by(scores.c.name + "", scores.c.timestamp_us + 0)
    )
    grouped: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            grouped.setdefault(row["trace_id"], []).append({**row, "value": finite(row["value"])})
    return grouped


def filter_options(engine: Engine, project_id: str, from_us: int | None, sample: int = 2000) -> dict[str, list[str]]:
    """Suggestions for the filter inputs: distinct values among the most recent traces in range
    (and the most recent model calls); score names of the project."""
    recent = select(traces.c.name, traces.c.environment, traces.c.tags, traces.c.release).where(
        traces.c.project_id == project_id
    )
    if from_us is not None:
        recent = recent.where(traces.c.timestamp_us >= from_us)
    recent_sub = recent.order_by(traces.c.timestamp_us.desc()).limit(sample).subquery()
    # model calls through the partial (project_id, start_time_us, model, ...) index, newest first
    calls = select(observations.c.model).where(
        observations.c.project_id == project_id, observations.c.model.is_not(None)
    )
    if from_us is not None:
        calls = calls.where(observations.c.start_time_us >= from_us)
    calls_sub = calls.order_by(observations.c.start_time_us.desc()).limit(sample).subquery()
    names: set[str] = set()
    envs: set[str] = set()
    tags: set[str] = set()
    releases: set[str] = set()
    with engine.connect() as conn:
        for name, env, tag_text, release in conn.execute(select(recent_sub)):
            if name:
                names.add(name)
            envs.add(env)
            tags.update(_json_list(tag_text))
            if release:
                releases.add(release)
        models = {str(m) for (m,) in conn.execute(select(calls_sub)) if m}
    return {
        "names": sorted(names)[:500],
        "environments": sorted(envs)[:100],
        "tags": sorted(tags)[:500],
        "releases": sorted(releases)[:200],
        "models": sorted(models)[:200],
        "scores": score_names(engine, project_id),
    }


def count_matching(engine: Engine, project_id: str, filt: TraceListFilter, cap: int) -> int:
    """How many traces match the list's filters, counted up to ``cap + 1`` (so a huge match stays cheap)."""
    inner = select(traces.c.id).where(*filter_conditions(engine, project_id, filt)).limit(cap + 1).subquery()
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())


def matching_ids(engine: Engine, project_id: str, filt: TraceListFilter, limit: int) -> list[str]:
    """Ids of up to ``limit`` traces matching the filters, newest first (what the list shows first)."""
    query = (
        select(traces.c.id)
        .where(*filter_conditions(engine, project_id, filt))
        .order_by(traces.c.timestamp_us.desc(), traces.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(query)]
