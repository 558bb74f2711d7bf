"""JSON values every reader can render: how deep they may nest, and what happens to deeper ones.

orjson (the API's and ingestion's serialiser) refuses to write more than 254 nested lists and
objects, Python's ``json`` recurses, and the API and the UI wrap a stored value in a few more
levels (``data`` → trace → ``observations`` → ``input``). So a stored JSON value nests at most
``MAX_DEPTH`` levels:

- the REST API rejects a deeper value with a 400 (``json_problem`` names the reason; it also
  refuses integers beyond 64 bits, NaN/Infinity and lone surrogates, which no reader can write);
- ingestion keeps a deeper value as text: a JSON string holding the JSON text received, so no
  span is ever dropped for its payload (``parse``, ``dumps``, ``bounded``);
- readers show a deeper value found in the database (a row written by an older version, or
  straight into it) the same way, as its text (``parse``), so one row never fails a whole list.

And the one rule for text that indexes hold (user and session ids, names, model, release,
version, tags): at most ``KEY_BYTES`` bytes (``bound_key``) and ``TAG_CHARS`` characters per tag
(``bound_tag``). Ingestion bounds what it stores with them (ingest/bounds.py), the REST writes
refuse longer values (writes/errors.py), and every filter and lookup by such a value bounds it
the same way (query/filters.py, the API and the UI), so the original long value still finds
what was stored for it.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from typing import Any

import orjson

MAX_DEPTH = 64
"""Nesting levels of lists and objects one stored value may have (a scalar is 0, ``[]`` is 1)."""

MAX_INT = 2**63
"""Integers of a REST body must be smaller than this in magnitude (64 bits: what orjson and
PostgreSQL's bigint read back)."""

_SHORTEST_TOO_DEEP = 2 * (MAX_DEPTH + 1)  # "[[[…]]]": JSON text shorter than this nests within bounds
_COUNT_BELOW = 8_192  # bytes of JSON up to which counting brackets is cheaper than the margin chain


def _orjson_depth_limit() -> int:
    """The deepest nesting orjson writes (254 in orjson 3.x), found once rather than assumed."""
    low, high = 1, 4096
    while low < high:
        middle = (low + high + 1) // 2
        value: Any = None
        for _ in range(middle):
            value = [value]
        try:
            orjson.dumps(value)
            low = middle
        except orjson.JSONEncodeError:
            high = middle - 1
    return low


_MARGIN = _orjson_depth_limit() - MAX_DEPTH
_chains = threading.local()


def _margin_chain() -> tuple[list[Any], list[Any]]:
    """This thread's ``_MARGIN`` nested one-item lists (outermost, innermost), made once.

    orjson counts nesting at C speed: a value put inside ``_MARGIN`` lists can be written if and
    only if it nests at most ``MAX_DEPTH`` levels (and holds nothing else orjson refuses).
    """
    chain: tuple[list[Any], list[Any]] | None = getattr(_chains, "chain", None)
    if chain is None:
        innermost: list[Any] = [None]
        outermost = innermost
        for _ in range(_MARGIN - 1):
            outermost = [outermost]
        chain = _chains.chain = (outermost, innermost)
    return chain


def _dumps_bounded(value: Any, default: Any = None) -> bytes | None:
    """``value`` as JSON bytes, or None when it nests deeper than ``MAX_DEPTH`` or orjson refuses it."""
    outermost, innermost = _margin_chain()
    innermost[0] = value
    try:
        text = orjson.dumps(outermost, option=orjson.OPT_NON_STR_KEYS, default=default)
    except orjson.JSONEncodeError:
        return None
    finally:
        innermost[0] = None
    return text[_MARGIN:-_MARGIN]


def renderable(value: Any) -> bool:
    """Whether every reader can render ``value``: orjson writes it and it nests at most ``MAX_DEPTH`` levels."""
    return _dumps_bounded(value) is not None


def parse(text: str | bytes) -> Any:
    """``orjson.loads``, except that a value nesting deeper than ``MAX_DEPTH`` is kept as text: an
    object keeps its members, each deeper one as its JSON text; anything else is the text given.

    Raises ``orjson.JSONDecodeError`` for text that is not JSON, as ``orjson.loads`` does.
    """
    value = orjson.loads(text)
    if fits(text, value):
        return value
    if isinstance(value, dict):
        return _members_bounded(value)
    return text if isinstance(text, str) else text.decode("utf-8", "replace")


def fits(text: str | bytes, value: Any) -> bool:
    """Whether ``value``, decoded from the JSON ``text``, nests at most ``MAX_DEPTH`` levels.

    Cheapest first (this runs for every JSON column read): short text, a scalar, text with too
    few brackets to nest that deep (counting them is about three times cheaper than writing the
    value), and only then the exact check.
    """
    if len(text) < _SHORTEST_TOO_DEEP or not isinstance(value, list | dict):
        return True
    if isinstance(text, str):
        openers = text.count("[") + text.count("{")
    else:
        openers = text.count(b"[") + text.count(b"{")
    return openers <= MAX_DEPTH or renderable(value)


def stored_text(text: str) -> str:
    """Text received (or found) in a JSON column, as it may be stored: JSON within bounds as it is,
    deeper JSON as the JSON text of what ``parse`` reads from it, and text that is not JSON as is
    (readers show it as the string it is)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    return text if fits(text, value) else orjson.dumps(parse(text)).decode()


def bounded(value: Any) -> Any:
    """``value`` itself when every reader can render it; otherwise an object keeps its members,
    each bounded on its own (metadata keeps its keys), and anything else becomes its JSON text."""
    if renderable(value):
        return value
    return _members_bounded(value) if isinstance(value, dict) else text_of(value)


def _members_bounded(value: dict[Any, Any]) -> dict[str, Any]:
    return {str(key): member if renderable(member) else text_of(member) for key, member in value.items()}


def dumps(value: Any) -> str:
    """``value`` (any decoded attribute value) as JSON text within bounds, never raising.

    Types JSON does not have are written as their ``str()``; a part nested deeper than
    ``MAX_DEPTH`` is written as ``bounded`` makes it, its JSON text. Ingestion calls this for
    several values of every span, so orjson writes it once, and the nesting is checked the
    cheapest way: none for a scalar or text too short to nest that deep (most usage, cost and
    parameter maps), counting brackets below ``_COUNT_BELOW`` bytes, and only then orjson
    again inside the margin chain (measured, 1 kB of metadata: 1.8 µs rather than 4.6).
    """
    try:
        text: bytes | None = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str)
    except orjson.JSONEncodeError:
        text = None  # nested deeper than orjson writes, or a lone surrogate
    if text is not None and (
        len(text) < _SHORTEST_TOO_DEEP
        or not isinstance(value, list | dict | tuple)
        or (len(text) < _COUNT_BELOW and text.count(b"[") + text.count(b"{") <= MAX_DEPTH)
    ):
        return text.decode()
    text = _dumps_bounded(value, str)
    if text is None:
        try:
            text = orjson.dumps(bounded(value), option=orjson.OPT_NON_STR_KEYS, default=str)
        except orjson.JSONEncodeError:
            text = orjson.dumps(text_of(value))
    return text.decode()


def text_of(value: Any) -> str:
    """JSON text for a value orjson cannot write as is (Python's json does not limit nesting the
    same way); a lone surrogate is escaped, never stored; a short description when even that fails."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if is_unicode(text) else json.dumps(value, default=str)
    except (RecursionError, ValueError, TypeError):
        return f"<{type(value).__name__} nested too deep to show>"


def response_bytes(content: Any) -> bytes:
    """A response document (the API's, a UI page's JSON twin) as JSON bytes, never refusing a
    number: orjson writes NaN and ±Infinity as null (a cost or value an older version stored can
    be one; strict JSON has no such number), and non-string keys as strings."""
    return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def json_problem(value: Any) -> str | None:
    """Why ``value`` (a decoded REST body field) must not be stored, or None when it may.

    Refused: nesting deeper than ``MAX_DEPTH``, integers of 64 bits or more, NaN and Infinity
    (not JSON), and strings or keys with a lone surrogate (not Unicode text).
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return f"nests deeper than {MAX_DEPTH} levels"
            if isinstance(item, dict):
                for key, member in item.items():
                    if isinstance(key, str) and not is_unicode(key):
                        return "has a key that is not valid Unicode text (a lone surrogate)"
                    stack.append((member, depth + 1))
            else:
                stack.extend((member, depth + 1) for member in item)
        elif isinstance(item, str):
            if not is_unicode(item):
                return "has a string that is not valid Unicode text (a lone surrogate)"
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -MAX_INT < item < MAX_INT:
                return "has an integer that does not fit in 64 bits"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "has NaN or Infinity, which are not JSON numbers"
        else:
            return f"has a value of type {type(item).__name__}, which is not JSON"
    return None


def is_unicode(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogate: both engines, and orjson, refuse one)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- indexed text -------------------------------------------------------------------------------

KEY_BYTES = 1_000
"""Bytes of UTF-8 an indexed identifier or name may hold (a PostgreSQL index entry holds about
2,700 bytes in all; ingest/bounds.py explains the margin)."""
TAG_CHARS = 200
"""Characters of one tag (the ``trace_tags.tag`` column; 800 bytes at most)."""
KEY_SAFE_CHARS = KEY_BYTES // 4
"""Characters that always fit in ``KEY_BYTES`` bytes (a character is at most four): a shorter
value needs no measuring."""


def bound_key(value: str) -> str:
    """An identifier or a name of at most ``KEY_BYTES`` bytes of UTF-8: a longer one keeps its
    first bytes (whole characters) and a marker with its size and a digest of the whole,
    ``<head>…[12044 bytes #1f2e3d4c5b6a7980]``. The same long value always gives the same result,
    two that differ after the head stay distinct, and a bounded value is its own bound."""
    if len(value) <= KEY_SAFE_CHARS:
        return value
    encoded = value.encode("utf-8", "surrogatepass")
    if len(encoded) <= KEY_BYTES:
        return value
    marker = f"…[{len(encoded)} bytes #{hashlib.blake2b(encoded, digest_size=8).hexdigest()}]"
    # a character cut in two at the end is dropped whole
    head = encoded[: KEY_BYTES - len(marker.encode())].decode("utf-8", "ignore")
    return head + marker


def bound_tag(tag: str) -> str:
    """A tag of at most ``TAG_CHARS`` characters (its first ones)."""
    return tag[:TAG_CHARS] if len(tag) > TAG_CHARS else tag
