"""What issue 13 asked of the trace list and Scores pages, as served: the score, model and release
filters in the URL and the form, the total in the footer, the level legend; the Scores page's
counts said once and its Config column."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from interactiveai.server.clock import now_us
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.writes.score_configs import create_score_config
from interactiveai.server.writes.scores import upsert_scores
from tests.server.ui.seed import add_trace, obs, oid, tid

MINUTE = 60 * 1_000_000
_TAG = re.compile(r"<[^>]+>")


class _TextOf(HTMLParser):
    """Collects the text inside the element with a given id."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "option"}

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id, self.depth, self.parts = element_id, 0, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth or dict(attrs).get("id") == self.element_id:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def _text(html: str, element_id: str) -> str:
    parser = _TextOf(element_id)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _seed(engine: Any, project: Any) -> dict[str, str]:
    now = now_us()
    ids = {}
    for i, (model, release, value) in enumerate([("gpt-4o", "v1", 0.9), ("claude", "v2", 0.1), ("gpt-4o", "v2", 0.6)]):
        ids[str(i)] = add_trace(
            engine, project.id, tid(f"t{i}"), timestamp_us=now - (i + 1) * MINUTE, name=f"trace-{i}", release=release,
            observations_=[obs(oid(f"g{i}"), type="GENERATION", model=model)],
            trace_scores=[{"name": "quality", "value": value}],
        )  # fmt: skip
    return ids


def _ids(ui: Any, project: Any, query: str) -> list[str]:
    return [t["id"] for t in ui.get(f"/project/{project.id}/traces.json?{query}").json()["data"]]


def test_filters_by_score_model_and_release(ui: Any, engine: Any, project: Any) -> None:
    ids = _seed(engine, project)
    assert _ids(ui, project, "score=quality&score_min=0.5") == [ids["0"], ids["2"]]
    assert _ids(ui, project, "score=quality&score_max=0.5") == [ids["1"]]
    assert _ids(ui, project, "model=gpt-4o&release=v2") == [ids["2"]]
    assert _ids(ui, project, "release=v1&release=v2&model=claude") == [ids["1"]]
    body = ui.get(f"/project/{project.id}/traces.json?score_min=1").json()
    assert body["errors"] == ["score filter: choose a score name"] and len(body["data"]) == 3
    html = ui.get(f"/project/{project.id}/traces?score=quality&score_min=0.5&model=gpt-4o").text
    chips = [" ".join(_TAG.sub(" ", c).split()) for c in re.findall(r'class="chip filter-chip"[^>]*>(.*?)</a>', html)]
    assert chips == ["score quality ×", "score ≥ 0.5 ×", "model gpt-4o ×"]
    assert '<option value="quality" selected>quality</option>' in html
    assert 'name="model" value="gpt-4o"' in html
    assert re.search(r'<datalist id="models-list"><option value="claude"><option value="gpt-4o"></datalist>', html)
    assert re.search(r'<datalist id="releases-list"><option value="v1"><option value="v2"></datalist>', html)


def test_footer_total_and_level_legend(ui: Any, engine: Any, project: Any) -> None:
    _seed(engine, project)
    html = ui.get(f"/project/{project.id}/traces?limit=2").text
    assert _text(html, "trace-total").startswith("3 traces · 2 on this page")
    assert _text(html, "level-legend") == "Levels: error warning default debug"
    assert re.search(r'<th data-col="levels"[^>]* title="Observations of each level: red error', html)
    meta = ui.get(f"/project/{project.id}/traces.json?limit=2").json()["meta"]
    assert (meta["totalItems"], meta["totalExact"]) == (3, True)
    assert _text(ui.get(f"/project/{project.id}/traces?release=v1").text, "trace-total").startswith("1 trace ·")


def test_score_chips_are_bounded(ui: Any, engine: Any, project: Any) -> None:
    scores = [{"name": f"score-{k}", "value": k} for k in range(6)]
    add_trace(engine, project.id, tid("many"), timestamp_us=now_us() - MINUTE, name="many", trace_scores=scores)
    html = ui.get(f"/project/{project.id}/traces").text
    cell = re.search(r'<td data-col="scores".*?</td>', html, re.S).group(0)
    assert cell.count('class="chip score"') == 3
    more = re.search(r'<span class="chip more" title="([^"]*)">([^<]*)</span>', cell)
    assert more and more.group(2) == "+3 more" and "score-5: 5" in more.group(1)


def test_scores_page_says_counts_once_and_names_configs(ui: Any, engine: Any, project: Any) -> None:
    now = now_us()
    trace = add_trace(engine, project.id, tid("scored"), timestamp_us=now - MINUTE, name="scored")
    config = create_score_config(engine, project.id, {"name": "tone", "dataType": "CATEGORICAL",
                                                      "categories": [{"label": "polite", "value": 1}]})  # fmt: skip
    minute_ago = iso_time(now - MINUTE)
    upsert_scores(engine, project.id, [
        {"id": f"s-{k}", "traceId": trace, "name": "tone", "value": "polite", "configId": config.id,
         "timestamp": minute_ago} for k in range(5)
    ] + [{"id": "s-free", "traceId": trace, "name": "free", "value": 1.0, "timestamp": minute_ago}])  # fmt: skip
    html = ui.get(f"/project/{project.id}/scores").text
    summary = _text(html, "score-summary")
    assert summary.count("5 score") == 1  # once, not "5 scores / 5 score(s)"
    assert "score(s)" not in html
    assert _text(html, "score-total") == "Page 1 · 6 scores"
    links = re.findall(r'<td class="ellipsis score-config"><a href="([^"]+)"[^>]*>([^<]*)</a>', html)
    assert [name for _, name in links] == ["tone"] * 5 and links[0][0].endswith("/settings#score-configs")
    assert "<th>Config</th>" in html
    no_config = ui.get(f"/project/{project.id}/scores?name=free").text
    assert "<th>Config</th>" not in no_config  # no column that is empty on every row
