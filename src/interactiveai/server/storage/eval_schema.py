"""Tables of LLM-as-a-judge (migration 0012): model connections, evaluators and their jobs.

``evaluator_jobs`` holds one row per (evaluator, trace) the worker took on: its unique key is what
makes an evaluation happen once whatever the number of server replicas (``server/evals/jobs.py``).
A job is ``pending`` until its trace is complete and it is claimed, ``running`` while a worker
holds its lease, then ``done`` (with the score) or ``failed`` (with the error) after its attempts.

``scan_created_us``/``scan_trace_id`` of an evaluator are how far the worker has looked for new
traces: a key of ``ix_traces_project_created`` (trace creation time, trace id; migration 0014), so
finding the new traces is a range read of that index, not a scan of the project's traces. (Until
0014 it was the observations' key, which never showed a trace without observations.)
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from interactiveai.server.storage.schema import ID, SHORT, metadata, traces

llm_connections = Table(
    "llm_connections",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("name", SHORT, nullable=False),
    Column("base_url", Text, nullable=False),
    Column("model", Text, nullable=False),  # the evaluator's default model
    Column("api_key_encrypted", Text, nullable=True),  # Fernet token (server/evals/crypto.py), never the key
    Column("api_key_hint", String(20), nullable=True),  # "sk-…abcd": what the API shows
    Column("params", Text, nullable=False, default="{}"),  # JSON object added to every request body
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_llm_connections_project_name"),
)

evaluators = Table(
    "evaluators",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("name", SHORT, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("connection_id", ID, nullable=False),
    Column("model", Text, nullable=True),  # overrides the connection's model
    Column("prompt", Text, nullable=False),
    Column("variable_mapping", Text, nullable=False, default="{}"),  # JSON {variable: {source, field, key?}}
    Column("target", String(20), nullable=False, default="trace"),  # trace | observation
    Column("observation_name", Text, nullable=True),
    Column("observation_type", String(20), nullable=True),
    Column("score_name", SHORT, nullable=False),
    Column("score_data_type", String(20), nullable=False),  # NUMERIC | BOOLEAN | CATEGORICAL
    Column("score_min", Float, nullable=True),
    Column("score_max", Float, nullable=True),
    Column("score_categories", Text, nullable=True),  # JSON [label, ...]
    Column("sampling_rate", Float, nullable=False, default=1.0),
    Column("filter", Text, nullable=False, default="[]"),  # JSON conditions, as the trace list's filter
    Column("delay_ms", BigInteger, nullable=False),
    Column("trace_project_id", ID, nullable=True),  # where the judge's calls are traced; None: nowhere
    Column("scan_created_us", BigInteger, nullable=False),
    Column("scan_trace_id", ID, nullable=False, default=""),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_evaluators_project_name"),
)

evaluator_jobs = Table(
    "evaluator_jobs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, nullable=False),
    Column("evaluator_id", ID, nullable=False),
    Column("trace_id", ID, nullable=False),
    Column("observation_id", ID, nullable=True),
    Column("status", String(10), nullable=False),  # pending | running | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("lease_until_us", BigInteger, nullable=True),
    Column("lease_token", String(40), nullable=True),
    Column("error", Text, nullable=True),
    Column("score_id", ID, nullable=True),
    Column("model", Text, nullable=True),
    Column("latency_ms", Integer, nullable=True),
    Column("input_tokens", BigInteger, nullable=True),
    Column("output_tokens", BigInteger, nullable=True),
    Column("total_tokens", BigInteger, nullable=True),
    Column("cost", Float, nullable=True),
    Column("judge_trace_id", ID, nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    Column("finished_at_us", BigInteger, nullable=True),
    ForeignKeyConstraint(
        ["project_id", "evaluator_id"], ["evaluators.project_id", "evaluators.id"], ondelete="CASCADE"
    ),
    UniqueConstraint("project_id", "evaluator_id", "trace_id", name="uq_evaluator_jobs_evaluator_trace"),
    Index("ix_evaluator_jobs_due", "status", "next_attempt_us"),
    Index("ix_evaluator_jobs_project_created", "project_id", "created_at_us"),
    Index("ix_evaluator_jobs_evaluator_created", "project_id", "evaluator_id", "created_at_us"),
    # a trace's jobs: deleted with the trace (retention.py), listed by trace
    Index("ix_evaluator_jobs_project_trace", "project_id", "trace_id"),
)

# New traces in creation order, whatever their observations (``server/evals/jobs.py``). The
# creation time never changes, so trace updates leave this index alone. Not (…, id): SQLite,
# without statistics, would then join observations to traces through it, walking the project's
# observations to delete one trace (tests/server/storage/test_query_plans.py).
Index("ix_traces_project_created", traces.c.project_id, traces.c.created_at_us)
