"""The database schema: one SQLAlchemy Core metadata for SQLite and PostgreSQL.

Times are integer microseconds since the Unix epoch (UTC) in columns named ``*_us``: the same
representation on both engines, cheap to compare and index, and exact for OTLP's nanoseconds
truncated to microseconds. JSON payloads (input, output, metadata, usage and cost maps) are
stored as the JSON text received, so nothing is lost or reformatted.

Every tracing row carries ``project_id`` and every query filters on it first; indexes start with
it for that reason.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    exists,
    select,
    text,
    tuple_,
)

# Constraint names are given by convention so that migrations are identical on both engines.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)  # project, key, trace (32 hex) and observation (16 hex) ids; client ids may be longer
SHORT = String(200)

# --- tenancy and access -----------------------------------------------------------------------

projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", SHORT, nullable=False),
    Column("retention_days", Integer, nullable=True),  # None: keep forever
    Column("created_at_us", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("public_key", SHORT, nullable=False, unique=True),
    Column("secret_hash", String(128), nullable=False),  # sha256 hex of the secret; the secret is never stored
    Column("display_secret", String(32), nullable=False),  # "sk-…abcd", to recognise a key in lists
    Column("note", SHORT, nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("last_used_at_us", BigInteger, nullable=True),
)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", SHORT, nullable=False, unique=True),
    Column("name", SHORT, nullable=True),
    Column("password_hash", String(256), nullable=False),  # scrypt, see server/passwords.py
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at_us", BigInteger, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), nullable=False, default="OWNER"),  # OWNER | ADMIN | MEMBER | VIEWER
)

# One row per UI login: logging out deletes it, so a copied cookie dies with it on every replica.
ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 hex of the cookie's token, never the token
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("expires_at_us", BigInteger, nullable=False),
)

# --- tracing data -----------------------------------------------------------------------------

traces = Table(
    "traces",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("timestamp_us", BigInteger, nullable=False),  # earliest start of any of its observations
    Column("end_time_us", BigInteger, nullable=True),  # latest end; latency = end - timestamp
    Column("name", Text, nullable=True),
    Column("name_explicit", Boolean, nullable=False, default=False),  # set by a trace-name attribute
    Column("user_id", Text, nullable=True),
    Column("session_id", Text, nullable=True),
    Column("environment", String(40), nullable=False, default="default"),
    Column("release", Text, nullable=True),
    Column("version", Text, nullable=True),
    Column("tags", Text, nullable=False, default="[]"),  # JSON array, sorted; trace_tags indexes it
    Column("metadata", Text, nullable=False, default="{}"),  # JSON object
    Column("input", Text, nullable=True),
    Column("output", Text, nullable=True),
    Column("input_explicit", Boolean, nullable=False, default=False),  # from trace-input attributes
    Column("output_explicit", Boolean, nullable=False, default=False),
    Column("root_observation_id", ID, nullable=True),
    # Input (1) and output (2) bits that the root observation reads from this row instead of
    # keeping a copy of its own (migration 0010, storage/payload_sharing.py).
    Column("root_io_shared", SmallInteger, nullable=False, default=0, server_default=text("0")),
    Column("public", Boolean, nullable=False, default=False),
    Column("bookmarked", Boolean, nullable=False, default=False),
    # roll-ups, maintained at ingestion; lists, filters and sorts read these, never observations
    Column("latency_us", BigInteger, nullable=True),
    Column("observation_count", Integer, nullable=False, default=0),
    Column("level", String(10), nullable=False, default="DEBUG"),  # worst level seen
    Column("debug_count", Integer, nullable=False, default=0),
    Column("default_count", Integer, nullable=False, default=0),
    Column("warning_count", Integer, nullable=False, default=0),
    Column("error_count", Integer, nullable=False, default=0),
    Column("input_tokens", BigInteger, nullable=False, default=0),
    Column("output_tokens", BigInteger, nullable=False, default=0),
    Column("total_tokens", BigInteger, nullable=False, default=0),
    Column("input_cost", Float, nullable=True),
    Column("output_cost", Float, nullable=True),
    Column("total_cost", Float, nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    Index("ix_traces_project_time", "project_id", "timestamp_us"),
    Index("ix_traces_project_user", "project_id", "user_id", "timestamp_us"),
    Index("ix_traces_project_session", "project_id", "session_id", "timestamp_us"),
    Index("ix_traces_project_name", "project_id", "name", "timestamp_us"),
    Index("ix_traces_project_env", "project_id", "environment", "timestamp_us"),
)

# One row per (trace, tag) so that "has all of these tags" is an index lookup, not a scan. Keyed
# like observations (below): after the tag, the trace's creation time, so new rows append at the
# end of each tag's range; no rowid on SQLite, the key is the whole row.
trace_tags = Table(
    "trace_tags",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("tag", String(200), nullable=False),
    Column("trace_id", ID, nullable=False),
    Column("trace_created_at_us", BigInteger, nullable=False),  # the trace row's created_at_us
    # The trace row's timestamp_us, kept equal to it by triggers (migration 0015): tag-filtered
    # lists read a tag's traces in time order on the index below (query/tag_lists.py).
    Column("timestamp_us", BigInteger, nullable=True),
    PrimaryKeyConstraint("project_id", "tag", "trace_created_at_us", "trace_id"),
    Index("ix_trace_tags_project_tag_time", "project_id", "tag", "timestamp_us", "trace_id"),
    sqlite_with_rowid=False,
)

# Observations are keyed by their trace's creation time before the (random) trace id. Traces are
# created in time order, so new spans append to the end of the primary key instead of dirtying a
# random page each: on SQLite every dirtied page is written to the WAL at commit, and at ~500
# spans per commit this key cut the writer's work per span by about a sixth (docs/benchmarks.md).
# Find a trace's observations with observations_of_trace() / observations_of_traces() below.
observations = Table(
    "observations",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("trace_id", ID, nullable=False),
    Column("id", ID, nullable=False),
    Column("parent_observation_id", ID, nullable=True),
    Column("type", String(20), nullable=False, default="SPAN"),  # SPAN, GENERATION, EVENT, AGENT, …
    Column("name", Text, nullable=True),
    Column("start_time_us", BigInteger, nullable=False),
    Column("end_time_us", BigInteger, nullable=True),
    Column("completion_start_time_us", BigInteger, nullable=True),
    Column("level", String(10), nullable=False, default="DEFAULT"),
    Column("status_message", Text, nullable=True),
    Column("version", Text, nullable=True),
    Column("environment", String(40), nullable=False, default="default"),
    Column("input", Text, nullable=True),
    Column("output", Text, nullable=True),
    Column("metadata", Text, nullable=False, default="{}"),
    Column("model", Text, nullable=True),  # model name as provided by the client
    Column("model_parameters", Text, nullable=True),  # JSON object
    Column("usage_details", Text, nullable=False, default="{}"),  # JSON {usage key: int}
    Column("cost_details", Text, nullable=False, default="{}"),  # JSON {usage key: float}
    Column("input_tokens", BigInteger, nullable=False, default=0),
    Column("output_tokens", BigInteger, nullable=False, default=0),
    Column("total_tokens", BigInteger, nullable=False, default=0),
    Column("input_cost", Float, nullable=True),
    Column("output_cost", Float, nullable=True),
    Column("total_cost", Float, nullable=True),
    Column("cost_source", String(20), nullable=True),  # "provided" | "project_model" | "catalog"
    Column("matched_model_id", ID, nullable=True),
    Column("service_name", Text, nullable=True),
    Column("scope_name", Text, nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("trace_created_at_us", BigInteger, nullable=False),  # the trace row's created_at_us
    # Input (1) and output (2) bits stored on the trace row, not here: read them with
    # storage/payload_sharing.py's OBSERVATION_COLUMNS (migration 0010).
    Column("io_on_trace", SmallInteger, nullable=False, default=0, server_default=text("0")),
    PrimaryKeyConstraint("project_id", "trace_created_at_us", "trace_id", "id"),
    Index("ix_observations_project_id", "project_id", "id"),
    Index("ix_observations_project_start", "project_id", "start_time_us"),
    Index("ix_observations_project_type_start", "project_id", "type", "start_time_us"),
    Index("ix_observations_project_name_start", "project_id", "name", "start_time_us"),
    # Covering index for the dashboard's per-model aggregates (migration 0004): model calls only.
    Index(
        "ix_observations_metrics",
        "project_id",
        "start_time_us",
        "model",
        "type",
        "environment",
        "end_time_us",
        "completion_start_time_us",
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "total_cost",
        "trace_id",
        sqlite_where=text("model IS NOT NULL"),
        postgresql_where=text("model IS NOT NULL"),
    ),
)


def observations_of_trace(project_id: str, trace_id: str) -> ColumnElement[bool]:
    """The observations of one trace, found through the primary key (see the table's comment)."""
    created = select(traces.c.created_at_us).where(traces.c.project_id == project_id, traces.c.id == trace_id)
    return and_(
        observations.c.project_id == project_id,
        observations.c.trace_created_at_us == created.scalar_subquery(),
        observations.c.trace_id == trace_id,
    )


def trace_has_tag(project_id: str, tag: str) -> ColumnElement[bool]:
    """For a query over ``traces``: the row has this tag (one primary-key probe per trace)."""
    return exists(
        select(trace_tags.c.trace_id).where(
            trace_tags.c.project_id == project_id,
            trace_tags.c.tag == tag,
            trace_tags.c.trace_created_at_us == traces.c.created_at_us,
            trace_tags.c.trace_id == traces.c.id,
        )
    )


# Observations to their trace row on the whole key: joined from traces, each trace's observations
# are one primary-key range (a row-value IN over several traces uses only the key's first column).
OBSERVATIONS_OF_TRACE_ROW = and_(
    observations.c.project_id == traces.c.project_id,
    observations.c.trace_created_at_us == traces.c.created_at_us,
    observations.c.trace_id == traces.c.id,
)

# Order for the observations of one trace. SQLite keeps no statistics unless ANALYZE runs, and
# without them it walks the whole project's (project_id, start_time_us) index to avoid a sort
# rather than read the trace's few rows by primary key; "+ 0" takes that index out of the race.
START_TIME_IN_TRACE = observations.c.start_time_us + 0


def observations_of_traces(project_id: str, *trace_conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The observations of the project's traces that match conditions on the traces table.

    The trace id comes first in the row value: written (creation time, id), SQLite 3.40 searched
    the primary key by the creation time alone, reading every observation of each trace's
    ingestion batch (a user's count of 1,001 took 0.5 s at 5 M observations; 35 ms this way).
    """
    keys = select(traces.c.id, traces.c.created_at_us).where(traces.c.project_id == project_id, *trace_conditions)
    return and_(
        observations.c.project_id == project_id,
        tuple_(observations.c.trace_id, observations.c.trace_created_at_us).in_(keys),
    )


scores = Table(
    "scores",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("trace_id", ID, nullable=True),
    Column("observation_id", ID, nullable=True),
    Column("session_id", Text, nullable=True),
    Column("dataset_run_id", ID, nullable=True),
    Column("name", SHORT, nullable=False),
    Column("value", Float, nullable=True),  # NUMERIC value; BOOLEAN 0/1; CATEGORICAL mapped value or None
    Column("string_value", Text, nullable=True),  # CATEGORICAL label, BOOLEAN "True"/"False", TEXT
    Column("data_type", String(20), nullable=False),  # NUMERIC | BOOLEAN | CATEGORICAL | TEXT
    Column("source", String(20), nullable=False, default="API"),  # API | ANNOTATION | EVAL
    Column("comment", Text, nullable=True),
    Column("metadata", Text, nullable=False, default="{}"),
    Column("config_id", ID, nullable=True),
    Column("author_user_id", ID, nullable=True),
    Column("environment", String(40), nullable=False, default="default"),
    Column("timestamp_us", BigInteger, nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    Index("ix_scores_project_trace", "project_id", "trace_id"),
    Index("ix_scores_project_session", "project_id", "session_id"),
    Index("ix_scores_project_name_time", "project_id", "name", "timestamp_us"),
)

score_configs = Table(
    "score_configs",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("name", String(35), nullable=False),
    Column("data_type", String(20), nullable=False),
    Column("is_archived", Boolean, nullable=False, default=False),
    Column("min_value", Float, nullable=True),
    Column("max_value", Float, nullable=True),
    Column("categories", Text, nullable=True),  # JSON [{label, value}]
    Column("description", Text, nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
)

# Per-project price definitions; they win over the packaged catalog (issue: costs and usage).
models = Table(
    "models",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("id", ID, primary_key=True),
    Column("model_name", SHORT, nullable=False),
    Column("match_pattern", Text, nullable=False),  # regex matched against the provided model name
    Column("start_date_us", BigInteger, nullable=True),  # prices valid from this time on
    Column("unit", String(20), nullable=False, default="TOKENS"),
    Column("prices", Text, nullable=False, default="{}"),  # JSON {usage type: USD per unit}
    Column("tokenizer_id", String(40), nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    UniqueConstraint("project_id", "model_name", "start_date_us", "unit", name="uq_models_definition"),
    Index("ix_models_project", "project_id"),
)

# --- datasets ---------------------------------------------------------------------------------
# Datasets are built from real traces: an item may copy a trace's or an observation's input and
# output (source_trace_id / source_observation_id keep the link). A run is one experiment over a
# dataset; a run item links one item to the trace that the experiment produced for it.
# Composite foreign keys (project_id, …) keep every child in its parent's project, and cascade so
# that deleting an item or a run takes its run items with it on both engines.

datasets = Table(
    "datasets",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("name", SHORT, nullable=False),  # unique per project; may contain "/"
    Column("description", Text, nullable=True),
    Column("metadata", Text, nullable=False, default="{}"),  # JSON object
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_datasets_project_name"),
    Index("ix_datasets_project_created", "project_id", "created_at_us"),
)

dataset_items = Table(
    "dataset_items",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("dataset_id", ID, nullable=False),
    Column("input", Text, nullable=True),  # JSON text, as received or copied from the source
    Column("expected_output", Text, nullable=True),  # JSON text
    Column("metadata", Text, nullable=False, default="{}"),  # JSON object
    Column("source_trace_id", ID, nullable=True),
    Column("source_observation_id", ID, nullable=True),
    Column("status", String(10), nullable=False, default="ACTIVE"),  # ACTIVE | ARCHIVED
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    ForeignKeyConstraint(["project_id", "dataset_id"], ["datasets.project_id", "datasets.id"], ondelete="CASCADE"),
    Index("ix_dataset_items_project_dataset", "project_id", "dataset_id", "created_at_us"),
    Index("ix_dataset_items_project_source", "project_id", "source_trace_id", "source_observation_id"),
)

# Every state an item has had (migration 0008): from valid_from_us included to valid_to_us excluded
# (NULL: current). dataset_items holds the current state; this table answers "as it stood then".
dataset_item_versions = Table(
    "dataset_item_versions",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("item_id", ID, primary_key=True),
    Column("valid_from_us", BigInteger, primary_key=True),
    Column("valid_to_us", BigInteger, nullable=True),
    Column("dataset_id", ID, nullable=False),
    Column("input", Text, nullable=True),
    Column("expected_output", Text, nullable=True),
    Column("metadata", Text, nullable=False),
    Column("source_trace_id", ID, nullable=True),
    Column("source_observation_id", ID, nullable=True),
    Column("status", String(10), nullable=False),
    Column("created_at_us", BigInteger, nullable=False),  # the item's creation
    ForeignKeyConstraint(["project_id", "dataset_id"], ["datasets.project_id", "datasets.id"], ondelete="CASCADE"),
    Index("ix_dataset_item_versions_project_dataset", "project_id", "dataset_id", "valid_from_us"),
)

dataset_runs = Table(
    "dataset_runs",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("dataset_id", ID, nullable=False),
    Column("name", SHORT, nullable=False),  # unique per dataset
    Column("description", Text, nullable=True),
    Column("metadata", Text, nullable=False, default="{}"),  # JSON object
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    ForeignKeyConstraint(["project_id", "dataset_id"], ["datasets.project_id", "datasets.id"], ondelete="CASCADE"),
    UniqueConstraint("project_id", "dataset_id", "name", name="uq_dataset_runs_project_dataset_name"),
    Index("ix_dataset_runs_project_dataset_created", "project_id", "dataset_id", "created_at_us"),
)

dataset_run_items = Table(
    "dataset_run_items",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("dataset_run_id", ID, nullable=False),
    Column("dataset_item_id", ID, nullable=False),
    Column("trace_id", ID, nullable=False),  # the trace the experiment produced; it may arrive later
    Column("observation_id", ID, nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["project_id", "dataset_run_id"], ["dataset_runs.project_id", "dataset_runs.id"], ondelete="CASCADE"
    ),
    ForeignKeyConstraint(
        ["project_id", "dataset_item_id"], ["dataset_items.project_id", "dataset_items.id"], ondelete="CASCADE"
    ),
    Index("ix_dataset_run_items_project_run", "project_id", "dataset_run_id", "created_at_us"),
    Index("ix_dataset_run_items_project_item", "project_id", "dataset_item_id"),
)
