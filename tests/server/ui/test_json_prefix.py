"""Closing a cut JSON prefix: what stays must be whole, and text that is not a prefix is refused."""

from __future__ import annotations

import json

import pytest

from interactiveai.server.ui.json_prefix import complete

DOCUMENT = json.dumps(
    {"args": ["What is the refund policy?", {"k": [1, -2.5e3, True, None, 'a"b\\u00e9']}], "kwargs": {"x": {}}}
)


@pytest.mark.parametrize("cut", range(1, len(DOCUMENT) + 1))
def test_every_prefix_closes_into_json(cut: int) -> None:
    closed = complete(DOCUMENT[:cut])
    if closed is not None:
        json.loads(closed)  # valid JSON whatever the cut


def test_what_is_kept() -> None:
    assert complete('{"args": ["What is the ref') == '{"args": ["What is the ref"]}'
    assert complete('{"a": 1, "b"') == '{"a": 1}'  # a dangling key goes
    assert complete("[1, 2, tr") == "[1, 2]"  # a partial literal goes
    assert complete('"abc\\u00') == '"abc"'  # a partial escape goes
    assert complete('{"k": true') == '{"k": true}'


@pytest.mark.parametrize("text", ["plain text", "[1] is a footnote", '"abc" def', "123 abc", "}"])
def test_text_that_is_not_a_json_prefix(text: str) -> None:
    assert complete(text) is None
