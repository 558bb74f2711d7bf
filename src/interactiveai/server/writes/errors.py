"""The error the write functions raise on bad input (the API turns it into a 400 with its
message), and the field checks the write modules share.

Whatever a write accepts must be readable by every endpoint and page, on both engines, so the
checks refuse, with the field's name:

- text with a NUL character (PostgreSQL cannot store it; SQLite would, and the engines would
  differ) or a lone surrogate (not Unicode: neither engine can encode it);
- an identifier or name longer than ``KEY_BYTES`` bytes of UTF-8 (``json_values``, the one
  definition): these columns are indexed, and a PostgreSQL index entry holds about 2,700 bytes
  (ingestion bounds the same values to the same size, ``ingest/bounds.py``);
- a JSON value that no reader could write back (``json_values.json_problem``: nested deeper than
  ``MAX_DEPTH``, an integer beyond 64 bits, NaN or Infinity, a lone surrogate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from interactiveai.server.json_values import KEY_BYTES, is_unicode, json_problem

MAX_ID = 64
"""Characters of an id (the width of the id columns)."""

MAX_NUMBER = 1e300
"""Magnitude a stored number may have: sums and averages of such numbers cannot overflow (a
PostgreSQL ``sum`` of two 1e308 fails the whole query)."""


class InvalidInputError(ValueError):
    """Input that breaks a documented rule; the message says which rule, for the API client."""


def optional_str(body: Mapping[str, Any], key: str, max_length: int) -> str | None:
    """A string field of a JSON body that an index holds (an id, a name): None when absent or
    empty, else at most ``max_length`` characters and ``KEY_BYTES`` bytes of valid text."""
    value = body.get(key)
    if value is None or value == "":
        return None
    return checked_key(value, key, max_length)


def checked_key(value: Any, key: str, max_length: int = MAX_ID) -> str:
    """``value`` when it is a string an index can hold (at most ``max_length`` characters and
    ``KEY_BYTES`` bytes of valid text); InvalidInputError naming ``key`` otherwise."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{key} must be a string")
    if len(value) > max_length:
        raise InvalidInputError(f"{key} must be at most {max_length} characters")
    checked_text(value, key)
    if len(value) * 4 > KEY_BYTES and len(value.encode()) > KEY_BYTES:
        raise InvalidInputError(f"{key} must be at most {KEY_BYTES} bytes of UTF-8")
    return value


def optional_text(body: Mapping[str, Any], key: str) -> str | None:
    """A free-text field (a comment, a description): None when absent or null, else valid text."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{key} must be a string")
    return checked_text(value, key)


def checked_text(value: str, key: str) -> str:
    """``value`` when both engines can store it; InvalidInputError naming ``key`` otherwise."""
    if "\x00" in value:
        raise InvalidInputError(f"{key} must not contain a NUL character (\\u0000)")
    if not is_unicode(value):
        raise InvalidInputError(f"{key} must be valid Unicode text (it has a lone surrogate)")
    return value


def json_text(key: str, value: Any) -> str:
    """A JSON field as the text to store; InvalidInputError when no reader could write it back."""
    problem = json_problem(value)
    if problem is not None:
        raise InvalidInputError(f"{key} cannot be stored as JSON: it {problem}")
    return orjson.dumps(value).decode()


def finite_number(value: Any, key: str) -> float:
    """A JSON number of at most ``MAX_NUMBER`` in magnitude, as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{key} must be a number")
    if isinstance(value, int) and abs(value) >= 2**63:
        raise InvalidInputError(f"{key} must fit in 64 bits")
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise InvalidInputError(f"{key} must be a finite number of magnitude at most {MAX_NUMBER:g}")
    return float(value)
