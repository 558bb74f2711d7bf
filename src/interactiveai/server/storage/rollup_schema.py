"""Tables of the pre-aggregated roll-ups the dashboard and the metrics endpoints read (migration 0009).

``rollup_dirty`` is an append-only log of ``(project_id, hour_us)``: every write that changes a
trace, an observation or a score adds a row for each hour it touched, in the same transaction
(duplicates allowed: no upsert, so concurrent writers never wait for each other here). The
refresher (``server/rollups/refresher.py``) recomputes those hours exactly and deletes the rows it
read. An hour with no row in the log has roll-ups equal to an exact aggregate of its rows.

The roll-up tables hold one row per hour (days for users) and per combination of the keys the
readers group or filter by, and the hourly ones also per day (``hours`` = 24: the sum of the
day's hours, which long windows read instead of 24 rows each); ``seq`` numbers the rows of one
period, so the key never holds a nullable
column (a trace may have no name) and each hour's rows lie together. Sums of costs come with the
count of rows that had a cost, so "no cost" stays apart from 0. Latencies are log histograms
(``query/rollup_histogram.py``): JSON ``{bucket: count}``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Float, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from interactiveai.server.storage.schema import ID, SHORT, metadata, observations, scores, traces

# SQLite only gives an INTEGER PRIMARY KEY its automatic rowid values.
_SERIAL = BigInteger().with_variant(Integer(), "sqlite")

rollup_dirty = Table(
    "rollup_dirty",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("project_id", ID, nullable=False),
    Column("hour_us", BigInteger, nullable=False),
    Index("ix_rollup_dirty_project_hour", "project_id", "hour_us"),
)

# Traces by the hour of their timestamp, environment and name.
rollup_trace_hours = Table(
    "rollup_trace_hours",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("hours", Integer, nullable=False),  # 1: an hour; 24: its UTC day
    Column("hour_us", BigInteger, nullable=False),  # the first hour
    Column("seq", Integer, nullable=False),
    Column("environment", String(40), nullable=False),
    Column("name", Text, nullable=True),
    Column("traces", Integer, nullable=False),
    Column("observations", BigInteger, nullable=False),  # sum of the traces' observation_count
    Column("error_traces", Integer, nullable=False),
    Column("warning_traces", Integer, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("total_tokens", BigInteger, nullable=False),
    Column("total_cost", Float, nullable=False),
    Column("costed", Integer, nullable=False),  # traces with a total_cost
    Column("latency_count", Integer, nullable=False),
    Column("latency_sum", BigInteger, nullable=False),
    Column("latency_hist", Text, nullable=False),
    PrimaryKeyConstraint("project_id", "hours", "hour_us", "seq"),
    sqlite_with_rowid=False,
)


def _observation_figures() -> list[Column[Any]]:
    """What the observation roll-ups add up per group (each table gets its own Column objects)."""
    return [
        Column("calls", Integer, nullable=False),
        Column("input_tokens", BigInteger, nullable=False),
        Column("output_tokens", BigInteger, nullable=False),
        Column("total_tokens", BigInteger, nullable=False),
        Column("total_cost", Float, nullable=False),
        Column("costed", Integer, nullable=False),
        Column("latency_count", Integer, nullable=False),
        Column("latency_sum", BigInteger, nullable=False),
        Column("latency_hist", Text, nullable=False),  # end - start of those that ended
    ]


# Observations with a model, by the hour they started, environment, model and type.
rollup_model_hours = Table(
    "rollup_model_hours",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("hours", Integer, nullable=False),  # 1: an hour; 24: its UTC day
    Column("hour_us", BigInteger, nullable=False),  # the first hour
    Column("seq", Integer, nullable=False),
    Column("environment", String(40), nullable=False),
    Column("model", Text, nullable=False),
    Column("type", String(20), nullable=False),
    *_observation_figures(),
    PrimaryKeyConstraint("project_id", "hours", "hour_us", "seq"),
    sqlite_with_rowid=False,
)

# Observations without a model (spans, tools, retrievers, events...), by the hour they started,
# environment and type (migration 0017): with the model rows, every observation, so a metrics
# query over observations grouped by model (their group "no model" included) reads roll-ups.
rollup_span_hours = Table(
    "rollup_span_hours",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("hours", Integer, nullable=False),  # 1: an hour; 24: its UTC day
    Column("hour_us", BigInteger, nullable=False),  # the first hour
    Column("seq", Integer, nullable=False),
    Column("environment", String(40), nullable=False),
    Column("type", String(20), nullable=False),
    *_observation_figures(),
    PrimaryKeyConstraint("project_id", "hours", "hour_us", "seq"),
    sqlite_with_rowid=False,
)

# Traces with a user, by the UTC day of their timestamp, environment and user.
rollup_user_days = Table(
    "rollup_user_days",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("day_us", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("environment", String(40), nullable=False),
    Column("user_id", Text, nullable=False),
    Column("traces", Integer, nullable=False),
    Column("total_tokens", BigInteger, nullable=False),
    Column("total_cost", Float, nullable=False),
    Column("costed", Integer, nullable=False),
    PrimaryKeyConstraint("project_id", "day_us", "seq"),
    sqlite_with_rowid=False,
)

# Traces with a user, by the hour of their timestamp (and day: ``hours`` = 24), environment and
# user: what the users list shows of each user over any window (migration 0011). The second index
# reads a page's users over a window without the rows of every other user.
rollup_user_hours = Table(
    "rollup_user_hours",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("hours", Integer, nullable=False),  # 1: an hour; 24: its UTC day
    Column("hour_us", BigInteger, nullable=False),  # the first hour
    Column("seq", Integer, nullable=False),
    Column("environment", String(40), nullable=False),
    Column("user_id", Text, nullable=False),
    Column("traces", Integer, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("total_tokens", BigInteger, nullable=False),
    Column("total_cost", Float, nullable=False),
    Column("costed", Integer, nullable=False),
    Column("first_us", BigInteger, nullable=False),  # the earliest trace timestamp
    Column("last_us", BigInteger, nullable=False),  # the latest
    PrimaryKeyConstraint("project_id", "hours", "hour_us", "seq"),
    Index("ix_rollup_user_hours_user", "project_id", "user_id", "hours", "hour_us"),
    sqlite_with_rowid=False,
)

# Distinct traces with calls of each model, per UTC day of the calls' start and environment
# (NULL: all environments, as distinct counts of several environments do not add up).
rollup_model_days = Table(
    "rollup_model_days",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("day_us", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("environment", String(40), nullable=True),
    Column("model", Text, nullable=False),
    Column("traces", Integer, nullable=False),
    PrimaryKeyConstraint("project_id", "day_us", "seq"),
    sqlite_with_rowid=False,
)

# Scores by the hour of their timestamp, environment, name, data type and source.
rollup_score_hours = Table(
    "rollup_score_hours",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("hours", Integer, nullable=False),  # 1: an hour; 24: its UTC day
    Column("hour_us", BigInteger, nullable=False),  # the first hour
    Column("seq", Integer, nullable=False),
    Column("environment", String(40), nullable=False),
    Column("name", SHORT, nullable=False),
    Column("data_type", String(20), nullable=False),
    Column("source", String(20), nullable=False),
    Column("scores", Integer, nullable=False),
    Column("value_count", Integer, nullable=False),  # scores with a numeric value
    Column("value_sum", Float, nullable=False),
    Column("value_min", Float, nullable=True),
    Column("value_max", Float, nullable=True),
    Column("string_counts", Text, nullable=False),  # JSON {string_value: count}
    PrimaryKeyConstraint("project_id", "hours", "hour_us", "seq"),
    sqlite_with_rowid=False,
)

# Scores by time: the refresher reads one hour of a project's scores, and the exact score summary
# of a window reads the window's (the name index cannot bound either by time).
Index("ix_scores_project_time", scores.c.project_id, scores.c.timestamp_us)

# The sessions and users lists walk a project's traces newest first (``query/recent_keys.py``):
# this index holds what they read and filter on, so the walk never reads the (large) trace rows.
Index(
    "ix_traces_project_time_keys",
    traces.c.project_id,
    traces.c.timestamp_us,
    traces.c.environment,
    traces.c.user_id,
    traces.c.session_id,
)

# Observations without a model, by time, with what their roll-ups add up: the refresher reads an
# hour of them from this index alone (the rows carry the payloads).
Index(
    "ix_observations_spans_metrics",
    observations.c.project_id,
    observations.c.start_time_us,
    observations.c.type,
    observations.c.environment,
    observations.c.end_time_us,
    observations.c.input_tokens,
    observations.c.output_tokens,
    observations.c.total_tokens,
    observations.c.total_cost,
    observations.c.model,  # always NULL: SQLite must see it to read the index alone
    sqlite_where=observations.c.model.is_(None),
    postgresql_where=observations.c.model.is_(None),
)

# Observations of a level other than DEFAULT (errors and warnings are a few percent): a list
# filtered by such a level reads them in start-time order instead of walking every observation.
# The query repeats the index's condition (``filters.observation_conditions``), which is how
# SQLite knows it may use a partial index.
Index(
    "ix_observations_project_level_start",
    observations.c.project_id,
    observations.c.level,
    observations.c.start_time_us,
    sqlite_where=observations.c.level != "DEFAULT",
    postgresql_where=observations.c.level != "DEFAULT",
)

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
