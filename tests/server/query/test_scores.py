from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query.filters import ScoreFilter
from interactiveai.server.query.scores import get_score, list_scores, scores_for_session
from tests.server.query.seed import SECOND, T0, add_score


def test_list_get_and_session_scores(engine: Any) -> None:
    add_score(engine, "p1", "a", trace_id="t", value=0.1, timestamp_us=T0)
    add_score(engine, "p1", "b", session_id="s", value=0.9, timestamp_us=T0 + SECOND, metadata={"k": 1})
    add_score(engine, "p2", "c", session_id="s", value=0.5)

    page = list_scores(engine, "p1")
    assert [s.id for s in page.items] == ["b", "a"] and page.total == 2
    assert page.items[0].metadata == {"k": 1}
    assert [s.id for s in list_scores(engine, "p1", ScoreFilter(value=0.5, operator=">=")).items] == ["b"]
    assert [s.id for s in list_scores(engine, "p1", ScoreFilter(value=0.5, operator="!=")).items] == ["b", "a"]
    with pytest.raises(ValueError, match="operator"):
        list_scores(engine, "p1", ScoreFilter(value=1, operator="like"))
    assert get_score(engine, "p2", "a") is None
    found = get_score(engine, "p1", "a")
    assert found is not None and found.trace_id == "t"
    assert [s.id for s in scores_for_session(engine, "p1", "s")] == ["b"]
