"""Cutting an oversized JSON value inside its structure, so what is stored stays JSON of the same shape.

Cutting the serialised text at the limit would leave invalid JSON, which the server can only keep
as one long string (the UI then shows ``"{\\"args\\":…`` with escapes). Instead the largest strings
are shortened first, all to the same length, just enough to fit, each ending with a marker saying
how much was cut. When strings alone cannot make it fit (a list of a million numbers), containers
keep their leading items and end with a marker item.

Only payloads over the limit get here: the common path pays nothing beyond the length check in
``serialize.to_json``.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

STRING_MARK: Final = "...[truncated by interactiveai: {n} characters]"
ITEMS_MARK: Final = "...[truncated by interactiveai: {n} more items]"
KEYS_MARK: Final = "[truncated by interactiveai: {n} more keys]"
_MARK_ROOM: Final = len(STRING_MARK.format(n=10**12))  # room a marker may take, with its count
_SMALLEST_CHILD: Final = 16  # below this, a container stops adding children and closes with its marker


def shrink_json(text: str, limit: int) -> str:
    """``text``, a JSON document longer than ``limit`` characters, cut to at most ``limit`` (or as near as
    a marker allows), still valid JSON of the same shape."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _dumps(_cut(text, max(0, limit - _MARK_ROOM - 2)))
    cap = _string_cap(value, len(text) - limit)
    if cap is not None:
        return _dumps(_cap_strings(value, cap))
    return _dumps(_fit(value, limit)[0])


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def _json_len(text: str) -> int:
    """Characters ``text`` takes inside a JSON document (escapes counted, quotes not)."""
    encoded = orjson.dumps(text)  # ASCII (known in O(1)): bytes are characters, no decoding needed
    return (len(encoded) if text.isascii() else len(encoded.decode("utf-8"))) - 2


def _cut(text: str, size: int) -> str:
    """The longest prefix of ``text`` taking at most ``size`` characters of JSON, then the marker."""
    keep = min(len(text), size)
    for attempt in range(8):
        length = _json_len(text[:keep])
        if length <= size or keep == 0:
            break
        # Escapes make the JSON longer than the text: scale down by the ratio seen, then (each
        # dropped character dropping at least one of JSON) by the overshoot, which always fits.
        keep = keep * size // length if attempt < 4 else max(0, keep - (length - size))
    return text[:keep] + STRING_MARK.format(n=len(text) - keep)


def _string_lengths(value: Any) -> list[int]:
    """JSON lengths of the strings of ``value`` (keys excluded) long enough for cutting to save anything."""
    lengths: list[int] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) > _MARK_ROOM:  # a JSON length is at least the length
                lengths.append(_json_len(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return lengths


def _string_cap(value: Any, excess: int) -> int | None:
    """The JSON length every string may keep so that cutting the longer ones saves ``excess``
    characters (markers included); None when cutting strings cannot save that much.

    Cutting the k longest strings (L1 >= ... >= Lk) to a cap C saves sum(Li) - k*C - k*marker; the
    smallest k whose best cap still reaches down to L(k+1) cuts the fewest strings and keeps the most.
    """
    lengths = sorted(_string_lengths(value), reverse=True)
    total = 0
    for k, length in enumerate(lengths, start=1):
        total += length
        cap = (total - k * _MARK_ROOM - excess) // k
        following = lengths[k] if k < len(lengths) else 0
        if cap >= following and cap >= 0:
            return min(cap, length)
    return None


def _cap_strings(value: Any, cap: int) -> Any:
    if isinstance(value, str):
        return _cut(value, cap) if len(value) > _MARK_ROOM and _json_len(value) > cap + _MARK_ROOM else value
    if isinstance(value, dict):
        return {key: _cap_strings(item, cap) for key, item in value.items()}
    if isinstance(value, list):
        return [_cap_strings(item, cap) for item in value]
    return value


def _fit(value: Any, budget: int) -> tuple[Any, int]:
    """``value`` cut to serialise within ``budget`` characters (leading items kept); returns it and its size."""
    if isinstance(value, dict):
        return _fit_dict(value, budget)
    if isinstance(value, list):
        return _fit_list(value, budget)
    size = len(_dumps(value))
    if size <= budget or not isinstance(value, str):
        return value, size
    cut = _cut(value, max(0, budget - _MARK_ROOM - 2))
    return cut, len(_dumps(cut))


def _fit_list(value: list[Any], budget: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    used = 2  # []
    for index, item in enumerate(value):
        room = budget - used - 1 - (_MARK_ROOM + 3)  # a comma, and room for the closing marker
        if room < _SMALLEST_CHILD:
            marker = ITEMS_MARK.format(n=len(value) - index)
            out.append(marker)
            return out, used + 1 + len(_dumps(marker))
        fitted, size = _fit(item, room)
        out.append(fitted)
        used += size + (1 if index else 0)
    return out, used


def _fit_dict(value: dict[str, Any], budget: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    used = 2  # {}
    for index, (key, item) in enumerate(value.items()):
        label = len(_dumps(key)) + 1  # "key":
        room = budget - used - 1 - label - (_MARK_ROOM + 9)  # a comma, the key, room for "...": marker
        if room < _SMALLEST_CHILD:
            marker = KEYS_MARK.format(n=len(value) - index)
            out["..."] = marker
            return out, used + 1 + 6 + len(_dumps(marker))
        fitted, size = _fit(item, room)
        out[key] = fitted
        used += label + size + (1 if index else 0)
    return out, used
