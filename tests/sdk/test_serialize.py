"""Safe serialisation: common types, odd objects, cycles, huge values; never raises."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import uuid
from pathlib import PurePosixPath
from typing import Any

import orjson

from interactiveai.sdk import serialize
from interactiveai.sdk.serialize import to_json, to_text


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Plain:
    def __init__(self) -> None:
        self.a = 1
        self._hidden = 2


class Slotted:
    __slots__ = ("v",)

    def __init__(self) -> None:
        self.v = 3


class PydanticLike:
    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {"dumped": mode}


def test_common_types() -> None:
    value = {
        "dt": dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC),
        "naive": dt.datetime(2025, 1, 1, 12, 0),
        "date": dt.date(2025, 1, 2),
        "uuid": uuid.UUID(int=1),
        "enum": Color.RED,
        "dc": Point(1, 2),
        "set": {1},
        "tuple": (1, 2),
        "bytes": b"hi",
        "binary": b"\xff\xfe",
        "path": PurePosixPath("/tmp/x"),
        "exc": ValueError("nope"),
        "obj": Plain(),
        "slots": Slotted(),
        "model": PydanticLike(),
        "td": dt.timedelta(seconds=1.5),
        1: "int key",
    }
    out = json.loads(to_json(value))
    assert out["dt"] == "2025-01-01T12:00:00Z" and out["naive"] == "2025-01-01T12:00:00Z"
    assert out["date"] == "2025-01-02"
    assert out["uuid"] == "00000000-0000-0000-0000-000000000001"
    assert out["enum"] == "red" and out["dc"] == {"x": 1, "y": 2}
    assert out["set"] == [1] and out["tuple"] == [1, 2]
    assert out["bytes"] == "hi" and out["binary"].startswith("base64:")
    assert out["path"] == "/tmp/x" and out["exc"] == "ValueError: nope"
    assert out["obj"] == {"a": 1} and out["slots"] == {"v": 3}
    assert out["model"] == {"dumped": "json"} and out["td"] == 1.5
    assert out["1"] == "int key"


def test_cycles_and_big_ints_fall_back() -> None:
    cyclic: dict[str, Any] = {"n": 2**100}
    cyclic["self"] = cyclic
    out = json.loads(to_json(cyclic))
    assert out["n"] == str(2**100) and out["self"].startswith("<cycle")


def test_nan_is_null() -> None:
    assert to_json(float("nan")) == "null"


def test_never_raises_on_hostile_objects() -> None:
    class Hostile:
        def __getattribute__(self, name: str) -> Any:
            raise RuntimeError("no attribute access")

    result = to_json({"h": Hostile()})
    assert isinstance(result, str)


def test_strings_are_json_too_and_size_capped(monkeypatch: Any) -> None:
    # a plain string must not be read back as another type ("42" is not the number 42)
    assert to_text("plain") == '"plain"'
    assert orjson.loads(to_text("42")) == "42" and orjson.loads(to_text("true")) == "true"
    assert to_text({"a": 1}) == '{"a":1}'
    monkeypatch.setattr(serialize, "MAX_VALUE_CHARS", 10)
    capped = orjson.loads(to_text("x" * 50))  # cut before encoding: still valid JSON
    assert capped.startswith("x" * 10) and "truncated" in capped and len(capped) < 80
