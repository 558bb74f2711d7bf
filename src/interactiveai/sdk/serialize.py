"""Safe JSON rendering of user values (inputs, outputs, metadata) with orjson.

``to_json`` never raises: unsupported objects are converted (pydantic models, dataclasses,
sets, bytes, objects with ``__dict__``...), cycles and other failures fall back to a slow
walker, and the result is capped in size so one huge payload cannot blow up a batch: a value
over the cap is cut inside its structure (``truncation.py``), so it stays JSON of the same shape.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import logging
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Final

import orjson

from interactiveai.sdk.truncation import STRING_MARK, shrink_json

logger = logging.getLogger("interactiveai")

# Largest serialised value kept on a span (characters); beyond it the largest strings are cut.
MAX_VALUE_CHARS: Final = 1_000_000
_OPTIONS: Final = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
_MAX_DEPTH: Final = 40


def _default(obj: Any) -> Any:
    """Convert a type orjson does not know into one it does (called by orjson)."""
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, bytes | bytearray | memoryview):
        raw = bytes(obj)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(raw[:4096]).decode("ascii")
    if isinstance(obj, PurePath | uuid.UUID):
        return str(obj)
    if isinstance(obj, BaseException):
        return f"{type(obj).__name__}: {obj}"
    if isinstance(obj, dt.timedelta):
        return obj.total_seconds()
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):  # pydantic v2, without importing pydantic
        return model_dump(mode="json")
    as_dict = getattr(obj, "dict", None)
    if callable(as_dict) and hasattr(obj, "__fields__"):  # pydantic v1
        return as_dict()
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")} or f"<{type(obj).__name__}>"
    if hasattr(obj, "__slots__"):
        slots = [s for s in obj.__slots__ if isinstance(s, str) and not s.startswith("_") and hasattr(obj, s)]
        return {s: getattr(obj, s) for s in slots} or f"<{type(obj).__name__}>"
    return f"<{type(obj).__name__}>"


def _walk(obj: Any, seen: set[int], depth: int) -> Any:
    """Slow path: a plain-Python conversion with cycle and depth guards (rarely needed)."""
    if obj is None or isinstance(obj, str | bool | float):
        return obj
    if isinstance(obj, int):
        return obj if -(2**63) <= obj < 2**64 else str(obj)
    if isinstance(obj, enum.Enum):
        return _walk(obj.value, seen, depth)
    if isinstance(obj, dt.datetime | dt.date | dt.time | uuid.UUID):
        return obj
    if depth > _MAX_DEPTH:
        return f"<{type(obj).__name__}>"
    if id(obj) in seen:
        return f"<cycle {type(obj).__name__}>"
    seen.add(id(obj))
    try:
        if isinstance(obj, Mapping):
            return {str(k): _walk(v, seen, depth + 1) for k, v in obj.items()}
        if isinstance(obj, list | tuple | set | frozenset):
            return [_walk(v, seen, depth + 1) for v in obj]
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return {f.name: _walk(getattr(obj, f.name), seen, depth + 1) for f in dataclasses.fields(obj)}
        try:
            converted = _default(obj)
        except Exception:
            return f"<{type(obj).__name__}>"
        if converted is obj or isinstance(converted, str):
            return converted
        return _walk(converted, seen, depth + 1)
    finally:
        seen.discard(id(obj))


def _cap(text: str) -> str:
    """JSON ``text`` within ``MAX_VALUE_CHARS``, cut inside its structure when longer."""
    return text if len(text) <= MAX_VALUE_CHARS else shrink_json(text, MAX_VALUE_CHARS)


def to_json(value: Any) -> str:
    """``value`` as JSON text (size-capped). Never raises."""
    try:
        text = orjson.dumps(value, default=_default, option=_OPTIONS).decode("utf-8")
        return text if len(text) <= MAX_VALUE_CHARS else _cap(text)
    except Exception:
        pass
    try:
        return _cap(orjson.dumps(_walk(value, set(), 0), default=_default, option=_OPTIONS).decode("utf-8"))
    except Exception as exc:
        logger.debug("interactiveai: could not serialise a %s: %s", type(value).__name__, exc)
        return orjson.dumps(f"<not serializable object of type: {type(value).__name__}>").decode("utf-8")


def to_text(value: Any) -> str:
    """Input and output attributes: always JSON, strings included.

    Sending a string as is would be ambiguous: a function returning the string "42" or "true"
    would be read back by the server as the number 42 or the boolean true. A long string is cut
    before it is encoded, so the result stays valid JSON.
    """
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + STRING_MARK.format(n=len(value) - MAX_VALUE_CHARS)
        return orjson.dumps(value).decode("utf-8")
    return to_json(value)
