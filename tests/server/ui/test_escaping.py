"""Attacker-controlled trace data is shown as text: never markup, never a script, never a javascript: link."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from interactiveai.server.clock import now_us
from interactiveai.server.ui.formatting import json_script, safe_href
from tests.server.ui.seed import add_trace, obs, oid, tid

XSS = "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"


def _hostile(engine: Any, project_id: str) -> str:
    return add_trace(
        engine,
        project_id,
        tid("xss"),
        timestamp_us=now_us() - 1_000_000,
        name=XSS,
        user_id="javascript:alert(1)",
        session_id="</script><script>alert(1)</script>",
        tags=[XSS, "javascript:alert(1)"],
        metadata={"html": XSS, "u2028": "\u2028\u2029"},
        input={"messages": [{"role": "user", "content": XSS}]},
        output=XSS,
        observations_=[obs(oid("x"), name=XSS, status=XSS, metadata={"k": XSS})],
        trace_scores=[{"name": XSS, "value": None, "string_value": XSS, "data_type": "CATEGORICAL", "comment": XSS}],
    )


def _scripts_removed(html: str) -> str:
    return re.sub(r'<script type="application/json" id="trace-data">.*?</script>', "", html, flags=re.S)


def test_list_escapes_everything(ui: Any, engine: Any, project: Any) -> None:
    _hostile(engine, project.id)
    html = ui.get(f"/project/{project.id}/traces").text
    assert "<script>window.__xss" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert 'href="javascript:' not in html


def test_detail_escapes_and_embeds_json_safely(ui: Any, engine: Any, project: Any) -> None:
    trace_id = _hostile(engine, project.id)
    html = ui.get(f"/project/{project.id}/traces/{trace_id}").text
    block = re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', html, re.S)
    assert block is not None
    assert "<" not in block.group(1) and ">" not in block.group(1)
    assert json.loads(block.group(1))["trace"]["name"] == XSS  # the browser reads back the exact text
    rest = _scripts_removed(html)
    assert "<script>window" not in rest and "<img src=x" not in rest
    for tag in re.findall(r"<script\b[^>]*>", rest):
        assert 'src="/static/' in tag  # only our static files run


def test_session_and_user_pages_escape(ui: Any, engine: Any, project: Any) -> None:
    _hostile(engine, project.id)
    html = ui.get(f"/project/{project.id}/sessions/%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E").text
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    users = ui.get(f"/project/{project.id}/users").text
    assert 'href="javascript:' not in users


def test_json_script_escapes_breakout_characters() -> None:
    out = str(json_script({"a": "</script><!-- & \u2028\u2029"}))
    assert "<" not in out and ">" not in out and "&" not in out and "\u2028" not in out and "\u2029" not in out
    assert json.loads(out) == {"a": "</script><!-- & \u2028\u2029"}


def test_safe_href() -> None:
    assert safe_href("https://example.com/a") == "https://example.com/a"
    for bad in ("javascript:alert(1)", " javascript:alert(1)", "data:text/html,x", "vbscript:x", "//evil", None, 3):
        assert safe_href(bad) is None


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_pages_need_no_inline_script_or_style(ui: Any, engine: Any, project: Any) -> None:
    """Everything runs under CSP script-src/style-src 'self': no inline code, handlers or style attributes."""
    trace_id = _hostile(engine, project.id)
    paths = ["/traces", f"/traces/{trace_id}", "/sessions", "/users", "/traces?range=all&q=nothing-matches"]
    pages = [ui.get(f"/project/{project.id}{path}").text for path in paths] + [ui.get("/login").text]
    for html in pages:
        parser = _Tags()
        parser.feed(html)
        for tag, attrs in parser.tags:
            assert "style" not in attrs, (tag, attrs)
            assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
            if tag == "script":
                assert (attrs.get("src") or "").startswith("/static/") or attrs.get("type") == "application/json"
            if tag == "a":
                assert not (attrs.get("href") or "").lower().strip().startswith("javascript:")
        assert all(tag != "img" for tag, _ in parser.tags)
