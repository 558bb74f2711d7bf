"""Experiment runs of a dataset side by side: each run's aggregates (items, errors, latency, cost,
scores) and, for a page of the dataset's items, what each run answered (output, scores, latency,
cost, trace).

A run item points at the trace its run produced (``dataset_run_items.trace_id``); the figures are
that trace's (latency, cost, level, output) and the scores on it, whichever observation they
name. An item answered twice by one run (a re-run under the same name) shows its newest answer.
Runs are read by key: the run items of the given runs, the traces and scores of those traces.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, select

from interactiveai.server.query._db import Db, connect, load_json
from interactiveai.server.query.datasets import DatasetRun
from interactiveai.server.storage.schema import dataset_run_items, scores, traces

_SCORE_CHUNK = 500  # trace ids per statement


@dataclass
class ScoreSummary:
    """One score name over a run: the mean of numbers (booleans count 0/1), or category counts."""

    name: str
    count: int = 0
    mean: float | None = None
    categories: dict[str, int] = field(default_factory=dict)


@dataclass
class RunSummary:
    run: DatasetRun
    items: int = 0
    traces: int = 0  # run items whose trace is stored (it may arrive late, or be deleted)
    errors: int = 0
    avg_latency_us: float | None = None
    total_cost: float | None = None
    scores: list[ScoreSummary] = field(default_factory=list)


@dataclass
class RunAnswer:
    """What one run gave for one item."""

    trace_id: str
    observation_id: str | None
    output: Any = None
    latency_us: int | None = None
    total_cost: float | None = None
    level: str | None = None
    found: bool = False  # the trace is stored
    scores: dict[str, Any] = field(default_factory=dict)  # name -> value (number) or label


def run_summaries(db: Db, project_id: str, runs: Sequence[DatasetRun]) -> list[RunSummary]:
    """Aggregates of each run, in the order given."""
    if not runs:
        return []
    ids = [r.id for r in runs]
    summaries = {r.id: RunSummary(r) for r in runs}
    dri = dataset_run_items
    joined = dri.outerjoin(traces, and_(traces.c.project_id == dri.c.project_id, traces.c.id == dri.c.trace_id))
    figures = (
        select(
            dri.c.dataset_run_id,
            func.count(func.distinct(dri.c.dataset_item_id)),
            func.count(traces.c.id),
            func.sum(case((traces.c.level == "ERROR", 1), else_=0)),
            func.avg(traces.c.latency_us),
            func.sum(traces.c.total_cost),
        )
        .select_from(joined)
        .where(dri.c.project_id == project_id, dri.c.dataset_run_id.in_(ids))
        .group_by(dri.c.dataset_run_id)
    )
    on_traces = scores.join(dri, and_(dri.c.project_id == scores.c.project_id, dri.c.trace_id == scores.c.trace_id))
    score_rows = (
        select(dri.c.dataset_run_id, scores.c.name, scores.c.value, scores.c.string_value, scores.c.data_type)
        .select_from(on_traces)
        .where(scores.c.project_id == project_id, dri.c.dataset_run_id.in_(ids))
    )
    values: dict[tuple[str, str], list[Any]] = defaultdict(list)
    with connect(db) as conn:
        for run_id, items, found, errors, latency, cost in conn.execute(figures):
            summary = summaries[run_id]
            summary.items, summary.traces, summary.errors = int(items), int(found), int(errors or 0)
            summary.avg_latency_us = float(latency) if latency is not None else None
            summary.total_cost = float(cost) if cost is not None else None
        for run_id, name, value, label, data_type in conn.execute(score_rows):
            values[run_id, name].append(label if data_type in ("CATEGORICAL", "TEXT") else value)
    for (run_id, name), got in sorted(values.items()):
        summaries[run_id].scores.append(_summarise(name, got))
    return [summaries[r.id] for r in runs]


def _summarise(name: str, values: list[Any]) -> ScoreSummary:
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    if len(numbers) == len(values):
        return ScoreSummary(name, len(values), sum(numbers) / len(numbers) if numbers else None)
    return ScoreSummary(name, len(values), categories=dict(Counter(str(v) for v in values).most_common()))


def run_answers(
    db: Db, project_id: str, run_ids: Sequence[str], item_ids: Sequence[str]
) -> dict[str, dict[str, RunAnswer]]:
    """``{item_id: {run_id: answer}}`` for these items and runs (an item a run did not answer is absent)."""
    if not run_ids or not item_ids:
        return {}
    dri = dataset_run_items
    links = (
        select(dri.c.dataset_run_id, dri.c.dataset_item_id, dri.c.trace_id, dri.c.observation_id)
        .where(dri.c.project_id == project_id, dri.c.dataset_run_id.in_(run_ids), dri.c.dataset_item_id.in_(item_ids))
        .order_by(dri.c.created_at_us, dri.c.id)  # the newest answer of an item comes last and wins
    )
    answers: dict[str, dict[str, RunAnswer]] = defaultdict(dict)
    by_trace: dict[str, list[RunAnswer]] = defaultdict(list)
    with connect(db) as conn:
        for run_id, item_id, trace_id, observation_id in conn.execute(links):
            answer = RunAnswer(str(trace_id), observation_id)
            answers[item_id][run_id] = answer
        for per_run in answers.values():
            for answer in per_run.values():
                by_trace[answer.trace_id].append(answer)
        trace_ids = list(by_trace)
        for start in range(0, len(trace_ids), _SCORE_CHUNK):
            chunk = trace_ids[start : start + _SCORE_CHUNK]
            rows = conn.execute(
                select(traces.c.id, traces.c.output, traces.c.latency_us, traces.c.total_cost, traces.c.level).where(
                    traces.c.project_id == project_id, traces.c.id.in_(chunk)
                )
            )
            for trace_id, output, latency, cost, level in rows:
                for answer in by_trace[trace_id]:
                    answer.output, answer.latency_us, answer.total_cost = load_json(output), latency, cost
                    answer.level, answer.found = level, True
            score_rows = conn.execute(
                select(scores.c.trace_id, scores.c.name, scores.c.value, scores.c.string_value, scores.c.data_type)
                .where(scores.c.project_id == project_id, scores.c.trace_id.in_(chunk))
                .order_by(scores.c.timestamp_us + 0)  # not the project's time index (query/scores.py)
            )
            for trace_id, name, value, label, data_type in score_rows:
                shown = label if data_type in ("CATEGORICAL", "TEXT") else value
                for answer in by_trace[trace_id]:
                    answer.scores[name] = shown
    return dict(answers)
