"""Dashboard ranges (1h, 6h, custom from/to) and categorical score distributions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from interactiveai.server.clock import now_us
from interactiveai.server.query import metrics, metrics_exact
from interactiveai.server.query.metrics_base import MetricsFilter
from interactiveai.server.rollups.refresher import rebuild
from interactiveai.server.ui.formatting import iso_time
from tests.server.query.seed import add_score, add_trace, trace_id

HOUR = 3_600_000_000
DAY = 24 * HOUR


@pytest.fixture
def spread(engine: Any, project: Any) -> Any:
    now = now_us()
    for k, age in enumerate([10 * 60_000_000, 3 * HOUR, 20 * HOUR, 3 * DAY]):
        add_trace(engine, project.id, trace_id(k + 1), timestamp_us=now - age, latency_us=1_000_000)
    return project


def test_short_presets_serve_their_window(ui: Any, spread: Any) -> None:
    hour = ui.get(f"/project/{spread.id}/dashboard.json?range=1h").json()
    assert (hour["range"], hour["granularity"], hour["summary"]["traces"]) == ("1h", "minute", 1)
    six = ui.get(f"/project/{spread.id}/dashboard.json?range=6h").json()
    assert (six["range"], six["granularity"], six["summary"]["traces"]) == ("6h", "hour", 2)
    page = ui.get(f"/project/{spread.id}/dashboard?range=6h").text
    assert '<option value="6h" selected' in page and 'value="1h"' in page and 'value="custom"' in page


def test_custom_range_in_utc_and_in_the_browsers_zone(ui: Any, spread: Any) -> None:
    now = now_us()
    start, end = iso_time(now - 4 * HOUR), iso_time(now - HOUR)
    body = ui.get(f"/project/{spread.id}/dashboard.json?range=custom&from={quote(start)}&to={quote(end)}").json()
    assert body["range"] == "custom" and body["summary"]["traces"] == 1 and "error" not in body
    # a zone-less local time (datetime-local) with the browser's offset: UTC+02:00 reads 2 h earlier
    local = [iso_time(t + 2 * HOUR)[:16] for t in (now - 25 * HOUR, now - 2 * HOUR)]
    shifted = ui.get(f"/project/{spread.id}/dashboard.json?range=custom&from={local[0]}&to={local[1]}&tz=120").json()
    assert shifted["summary"]["traces"] == 2 and shifted["granularity"] == "hour"
    page = ui.get(f"/project/{spread.id}/dashboard?range=custom&from={quote(start)}&to={quote(end)}").text
    assert '<option value="custom" selected' in page and "Custom range" in page


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("range=custom", "needs a start and an end"),
        ("range=custom&from=yesterday&to=2026-01-01T00:00Z", "needs a start and an end"),
        ("range=custom&from=2026-02-01T00:00Z&to=2026-01-01T00:00Z", "must end after it starts"),
        ("range=custom&from=2020-01-01T00:00Z&to=2026-01-01T00:00Z", "at most 400 days"),
    ],
)
def test_unusable_custom_range_falls_back_and_says_why(ui: Any, spread: Any, query: str, error: str) -> None:
    body = ui.get(f"/project/{spread.id}/dashboard.json?{query}").json()
    assert body["range"] == "7d" and error in body["error"] and body["summary"]["traces"] == 4
    page = ui.get(f"/project/{spread.id}/dashboard?{query}").text
    assert error in page and '<option value="7d" selected' in page


def test_categorical_scores_show_their_distribution(ui: Any, engine: Any, project: Any) -> None:
    now = now_us()
    labels = ["polite", "polite", "rude", "polite", "terse", "rude"]
    for k, label in enumerate(labels):
        # half of them in hours the roll-ups answer, half in the last hour (scanned exactly)
        ts = now - (3 * DAY if k % 2 else 20 * 60_000_000)
        add_score(engine, project.id, f"c{k}", name="tone", value=None, string_value=label,
                  data_type="CATEGORICAL", timestamp_us=ts)  # fmt: skip
    add_score(engine, project.id, "n1", name="quality", value=0.5, timestamp_us=now - HOUR)
    rebuild(engine, project.id)
    window = MetricsFilter(now - 7 * DAY, now + 60_000_000)
    rolled = {s.name: s for s in metrics.score_summary(engine, project.id, window)}
    exact = {s.name: s for s in metrics_exact.score_summary(engine, project.id, window)}
    assert rolled["tone"].categories == exact["tone"].categories == (("polite", 3), ("rude", 2), ("terse", 1))
    assert rolled["quality"].categories == exact["quality"].categories == ()
    body = ui.get(f"/project/{project.id}/dashboard.json?range=7d").json()
    tone = next(s for s in body["scores"] if s["name"] == "tone")
    assert tone["categories"] == [
        {"value": "polite", "count": 3},
        {"value": "rude", "count": 2},
        {"value": "terse", "count": 1},
    ]
    assert tone["average"] is None


def test_many_categories_are_capped_with_the_rest_summed() -> None:
    counts = {f"label-{k:02d}": 100 - k for k in range(20)}
    top = metrics_exact.top_categories(counts)
    assert len(top) == metrics_exact.MAX_CATEGORIES and top[0] == ("label-00", 100)
    assert top[-1] == ("other", sum(100 - k for k in range(metrics_exact.MAX_CATEGORIES - 1, 20)))
