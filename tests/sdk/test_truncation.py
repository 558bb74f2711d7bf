"""Oversized values are cut inside their structure: what is stored stays JSON of the same shape."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from interactiveai.sdk import serialize
from interactiveai.sdk.serialize import MAX_VALUE_CHARS, to_json, to_text
from interactiveai.sdk.truncation import shrink_json


def _shrunk(value: Any, limit: int) -> tuple[Any, str]:
    text = shrink_json(orjson.dumps(value).decode(), limit)
    return orjson.loads(text), text


def test_an_oversized_argument_stays_json_of_the_same_shape() -> None:
    document = "lorem ipsum " * 200_000  # 2.4 M characters
    payload = {"args": [document, "short question"], "kwargs": {"top_k": 4, "model": "gpt-4o"}}
    text = to_text(payload)
    assert len(text) <= MAX_VALUE_CHARS
    stored = orjson.loads(text)  # valid JSON, not an escaped string
    assert stored["kwargs"] == {"top_k": 4, "model": "gpt-4o"}
    assert stored["args"][1] == "short question"
    kept = stored["args"][0]
    assert kept.startswith("lorem ipsum ") and kept.endswith(" characters]")
    assert f"truncated by interactiveai: {len(document) - kept.index('...[truncated')} characters" in kept
    assert len(text) > MAX_VALUE_CHARS - 1000  # cut just enough, not more


def test_the_largest_strings_are_cut_first_to_one_length() -> None:
    value = {"a": "a" * 5000, "b": "b" * 3000, "c": "c" * 400, "d": ["d" * 100, 7, None, True]}
    stored, text = _shrunk(value, 5000)
    assert len(text) <= 5000
    assert stored["c"] == "c" * 400 and stored["d"] == ["d" * 100, 7, None, True]  # small ones untouched
    assert "truncated" in stored["a"] and "truncated" in stored["b"]
    assert stored["a"].index("...") == stored["b"].index("...")  # both kept to the same length


def test_escaped_characters_never_push_the_text_over_the_limit() -> None:
    value = {"q": '"\\\n' * 4000, "r": "é☃" * 3000}
    stored, text = _shrunk(value, 4000)
    assert len(text) <= 4000
    assert stored["q"].startswith('"\\\n') and "truncated" in stored["q"]


def test_many_small_items_keep_the_leading_ones_and_say_how_many_went() -> None:
    value = {"ids": list(range(50_000)), "name": "batch"}
    stored, text = _shrunk(value, 2000)
    assert len(text) <= 2000
    ids = stored["ids"]
    assert ids[:10] == list(range(10))
    assert ids[-1] == f"...[truncated by interactiveai: {50_000 - len(ids) + 1} more items]"
    many_keys = {f"k{i}": i for i in range(10_000)}
    stored, text = _shrunk(many_keys, 1000)
    assert len(text) <= 1000 and stored["k0"] == 0 and "more keys" in stored["..."]


@pytest.mark.parametrize("seed", range(5))
def test_random_nested_values_fit_and_stay_json(seed: int) -> None:
    rng = random.Random(seed)

    def build(depth: int) -> Any:
        kind = rng.random()
        if depth > 3 or kind < 0.3:
            return rng.choice(["x" * rng.randint(0, 3000), rng.randint(-5, 5), 1.5, None, 'ü"' * rng.randint(0, 500)])
        if kind < 0.65:
            return [build(depth + 1) for _ in range(rng.randint(0, 12))]
        return {f"key{i}": build(depth + 1) for i in range(rng.randint(0, 12))}

    value = {"root": [build(0) for _ in range(8)]}
    text = orjson.dumps(value).decode()
    limit = max(300, len(text) // 3)
    if len(text) > limit:
        shrunk = shrink_json(text, limit)
        assert len(shrunk) <= limit
        assert isinstance(orjson.loads(shrunk), dict)


def test_metadata_values_and_the_slow_path_are_cut_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serialize, "MAX_VALUE_CHARS", 200)

    class Cycle:
        def __init__(self) -> None:
            self.me = self
            self.text = "t" * 1000

    for value in ({"note": "n" * 1000, "n": 1}, Cycle()):
        text = to_json(value)
        assert len(text) <= 200 and isinstance(orjson.loads(text), dict)
