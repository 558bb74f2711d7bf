"""The trace list's score, model and release filters and its bounded total (query/ui_traces.py)."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.clock import now_us
from interactiveai.server.query import ui_traces
from interactiveai.server.query.ui_traces import ScoreCondition, TraceListFilter, list_trace_page
from tests.server.ui.seed import add_trace, obs, oid, tid

MINUTE = 60 * 1_000_000


@pytest.fixture
def traces_(engine: Any, project: Any, other_project: Any) -> dict[str, str]:
    now = now_us()

    def trace(key: str, minutes: int, model: str | None, release: str | None, scores: list[dict[str, Any]]) -> str:
        return add_trace(
            engine, project.id, tid(key), timestamp_us=now - minutes * MINUTE, name=key, release=release,
            observations_=[obs(oid(key + "r"), name="root"),
                           obs(oid(key + "g"), parent=oid(key + "r"), type="GENERATION", model=model)],
            trace_scores=scores,
        )  # fmt: skip

    ids = {
        "a": trace("a", 1, "gpt-4o", "v1", [{"name": "quality", "value": 0.9}]),
        "b": trace("b", 2, "gpt-4o-mini", "v2", [{"name": "quality", "value": 0.2}]),
        "c": trace("c", 3, None, "v2", [{"name": "feedback", "string_value": "up", "data_type": "CATEGORICAL"}]),
        "d": trace("d", 4, "claude", None, [{"name": "quality", "value": 0.5, "observation_id": oid("dg")}]),
    }
    # another project's trace matches every filter: it must never show
    add_trace(
        engine, other_project.id, tid("x"), timestamp_us=now - MINUTE, name="x", release="v1",
        observations_=[obs(oid("xg"), type="GENERATION", model="gpt-4o")],
        trace_scores=[{"name": "quality", "value": 0.9, "id": "other-score"}],
    )  # fmt: skip
    return ids


def _names(engine: Any, project: Any, **filters: Any) -> list[str]:
    page = list_trace_page(engine, project.id, TraceListFilter(**filters))
    return [r["name"] for r in page.rows]


@pytest.mark.parametrize("rare_bound", [ui_traces.RARE_SCORE_ROWS, 0])
def test_score_filter(engine: Any, project: Any, traces_: dict[str, str], rare_bound: int, monkeypatch: Any) -> None:
    """Both plans (the matching scores' trace ids, or a probe per trace) give the same answer."""
    monkeypatch.setattr(ui_traces, "RARE_SCORE_ROWS", rare_bound)
    assert _names(engine, project, score=ScoreCondition("quality")) == ["a", "b"]  # d's is an observation's
    assert _names(engine, project, score=ScoreCondition("quality", min_value=0.5)) == ["a"]
    assert _names(engine, project, score=ScoreCondition("quality", max_value=0.5)) == ["b"]
    assert _names(engine, project, score=ScoreCondition("quality", min_value=0.1, max_value=0.95)) == ["a", "b"]
    assert _names(engine, project, score=ScoreCondition("feedback", label="up")) == ["c"]
    assert _names(engine, project, score=ScoreCondition("feedback", label="down")) == []
    assert _names(engine, project, score=ScoreCondition("missing")) == []


@pytest.mark.parametrize("rare_bound", [ui_traces.RARE_MODEL_CALLS, 0])
def test_model_and_release_filters(
    engine: Any, project: Any, traces_: dict[str, str], rare_bound: int, monkeypatch: Any
) -> None:
    """Both plans (the window's calls of the model, or a probe per trace) give the same answer."""
    monkeypatch.setattr(ui_traces, "RARE_MODEL_CALLS", rare_bound)
    assert _names(engine, project, models=["gpt-4o"]) == ["a"]
    assert _names(engine, project, models=["gpt-4o", "claude"]) == ["a", "d"]
    assert _names(engine, project, releases=["v2"]) == ["b", "c"]
    assert _names(engine, project, releases=["v1", "v2"], models=["gpt-4o-mini"]) == ["b"]
    both = dict(models=["gpt-4o"], score=ScoreCondition("quality", min_value=0.8))
    assert _names(engine, project, **both) == ["a"]
    since = now_us() - 3 * MINUTE - 30_000_000  # c and d started before: the window bounds the calls too
    assert _names(engine, project, models=["gpt-4o", "claude"], from_us=since) == ["a"]


def test_total_is_exact_up_to_the_cap_then_a_lower_bound(engine: Any, project: Any, traces_: dict[str, str]) -> None:
    everything = TraceListFilter()
    first = list_trace_page(engine, project.id, everything, limit=3)
    assert (first.total, first.total_exact) == (4, True)
    second = list_trace_page(engine, project.id, everything, limit=3, cursor=first.next_cursor)
    assert (second.total, second.total_exact) == (4, True)  # the filter's total, not the page's rest
    assert [r["name"] for r in second.rows] == ["d"]
    capped = list_trace_page(engine, project.id, everything, limit=1, count_cap=2)
    assert (capped.total, capped.total_exact) == (3, False)  # more than 2: "≥ 2"
    whole = list_trace_page(engine, project.id, TraceListFilter(releases=["v2"]))
    assert (whole.total, whole.total_exact) == (2, True)  # a first page that is not full is its total
    assert list_trace_page(engine, project.id, everything, count_cap=None).total is None
