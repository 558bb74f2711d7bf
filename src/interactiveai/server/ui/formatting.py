"""Display helpers for templates: times, durations, costs, payload previews, safe links, JSON in pages.

Everything here returns plain text that Jinja then escapes; only ``json_script`` returns markup,
and it escapes every character that could end the script element or confuse a parser.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from interactiveai.server import json_values
from interactiveai.server.clock import us_to_datetime, us_to_iso
from interactiveai.server.ui import json_prefix

_PREVIEW_KEYS = ("query", "question", "input", "prompt", "message", "text", "content", "output", "answer", "result")


def fmt_time(us: int | None) -> str:
    if us is None:
        return "—"
    return us_to_datetime(us).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")  # year 1 as 0001


def iso_time(us: int | None) -> str:
    return us_to_iso(us) or ""


_NOT_JSON = object()


def _parse(text: str) -> Any:
    """A payload (or a prefix of one) as a JSON value, or ``_NOT_JSON``: a value nested too deep to
    show as a tree reads as its text, like everywhere else (``json_values.parse``)."""
    try:
        return json_values.parse(text)
    except ValueError:
        return _NOT_JSON


def fmt_duration(us: int | None) -> str:
    if us is None:
        return "—"
    if us < 1000:
        return f"{us}µs"
    ms = us / 1000
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {rest}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m"


def fmt_cost(value: float | None) -> str:
    """Dollars in fixed notation: cents from $1, up to four decimals from $0.01, and below that as
    many decimals as three significant digits need ($0.00000036), trailing zeros dropped; never
    ``e-7``. trace-nav.js's fmtCost writes the same text."""
    if value is None or not math.isfinite(value):  # NaN or infinite: stored by an older version
        return "—"
    if value == 0:
        return "$0"
    size = abs(value)
    sign = "-" if value < 0 else ""
    if size >= 1:
        return f"{sign}${size:,.2f}"
    if size >= 0.01:
        text = f"{size:.4f}".rstrip("0")
        return sign + "$" + (text if len(text.partition(".")[2]) >= 2 else f"{size:.2f}")
    decimals = min(-math.floor(math.log10(size)) + 2, 40)
    text = f"{size:.{decimals}f}".rstrip("0").rstrip(".")
    return f"{sign}${text}"


def fmt_compact(value: int | None) -> str:
    """Short counts for badges: 950, 12k, 3.4M."""
    if value is None:
        return "—"
    if value < 10_000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1000:.0f}k"
    return f"{value / 1_000_000:.1f}M"


def fmt_int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def payload_value(text: str) -> Any:
    """A stored payload (or a prefix of one) as the value it holds, or ``_NOT_JSON``.

    A prefix cut mid-way is closed (``json_prefix.complete``), so a long payload still reads as
    its text. A string that is itself JSON text (escaped JSON, as an SDK stores a call it had to
    cut) is read as that JSON, so nobody reads backslashes.
    """
    value = _parse(text)
    cut = False
    if value is _NOT_JSON:
        completed = json_prefix.complete(text)
        if completed is None:
            return _NOT_JSON
        value, cut = _parse(completed), True
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        inner = _parse(value)
        if inner is _NOT_JSON and cut:
            completed = json_prefix.complete(value.strip())
            inner = _NOT_JSON if completed is None else _parse(completed)
        if inner is not _NOT_JSON:
            value = inner
    return value


def preview(text: str | None, limit: int = 160) -> str:
    """A one-line reading of a payload prefix: the text a person would look for, not JSON syntax."""
    if text is None or text == "":
        return ""
    value = payload_value(text)
    readable = text if value is _NOT_JSON else _readable(value)
    if value is not _NOT_JSON and _parse(text) is _NOT_JSON and readable == _dumps(value):
        readable = text  # a cut prefix with nothing to read but its JSON: as cut, not closed
    readable = " ".join(readable.split())
    return readable if len(readable) <= limit else readable[: limit - 1] + "…"


_NO_ARGUMENT = object()
_NO_ARGUMENTS = object()  # a call recorded without any argument: nothing to read


def is_empty_call(value: Any) -> bool:
    """``{"args": [], "kwargs": {}}``: an SDK-recorded call of a function without arguments.

    Shown as empty (the stored value stays as sent: other SDKs send it the same way)."""
    return isinstance(value, dict) and _call_argument(value) is _NO_ARGUMENTS


def _call_argument(value: dict[str, Any]) -> Any:
    """The single argument of an SDK-recorded call input ``{"args": [...], "kwargs": {...}}``."""
    if not value or not set(value) <= {"args", "kwargs"}:
        return _NO_ARGUMENT
    raw_args, raw_kwargs = value.get("args", []), value.get("kwargs", {})
    if not isinstance(raw_args, list) or not isinstance(raw_kwargs, dict):
        return _NO_ARGUMENT
    everything = [*raw_args, *raw_kwargs.values()]
    if not everything:
        return _NO_ARGUMENTS
    return everything[0] if len(everything) == 1 else _NO_ARGUMENT


def _readable(value: Any, depth: int = 0) -> str:
    if isinstance(value, str):
        return value
    if depth > 4:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and value:
        messages = [v for v in value if isinstance(v, dict) and "role" in v]
        if messages:
            users = [m for m in messages if m.get("role") == "user"] or messages
            return _readable(users[-1].get("content", ""), depth + 1)
        if all(isinstance(v, dict) and v.get("type") == "text" for v in value):
            return " ".join(str(v.get("text", "")) for v in value)
    if isinstance(value, dict):
        call = _call_argument(value)
        if call is _NO_ARGUMENTS:
            return ""
        if call is not _NO_ARGUMENT:
            return _readable(call, depth + 1)
        if isinstance(value.get("messages"), list):
            return _readable(value["messages"], depth + 1)
        if isinstance(value.get("choices"), list) and value["choices"]:
            first = value["choices"][0]
            if isinstance(first, dict) and isinstance(first.get("message"), dict):
                return _readable(first["message"].get("content", ""), depth + 1)
        if "role" in value and "content" in value:
            return _readable(value["content"], depth + 1)
        for key in _PREVIEW_KEYS:
            if key in value and isinstance(value[key], (str, list, dict)):
                return _readable(value[key], depth + 1)
    return json.dumps(value, ensure_ascii=False, default=str)


def turn_content(text: str | None) -> tuple[str, str]:
    """A conversation turn from a payload: ("text", words) when it reads as text, else ("json", pretty JSON)."""
    if text is None or text == "":
        return "empty", ""
    value = payload_value(text)
    if value is _NOT_JSON:
        return "text", text  # plain text, or a JSON prefix cut at the display limit
    if is_empty_call(value):
        return "empty", ""
    readable = _readable(value)
    if isinstance(value, str) or readable != json.dumps(value, ensure_ascii=False, default=str):
        return "text", readable
    return "json", json.dumps(value, ensure_ascii=False, indent=2, default=str)


def compact_json(text: str | None, limit: int = 160) -> str:
    """``key: value`` pairs of a JSON object prefix, for one-line metadata previews."""
    if not text:
        return ""
    value = _parse(text)
    if value is _NOT_JSON:
        return text[:limit]
    if isinstance(value, dict):
        flat = " · ".join(
            f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}" for k, v in value.items()
        )
    else:
        flat = json.dumps(value, ensure_ascii=False)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def score_text(score: dict[str, Any]) -> str:
    """A score's value as shown: numbers rounded, categorical and boolean labels as given."""
    data_type = score.get("data_type", score.get("dataType"))
    string_value = score.get("string_value", score.get("stringValue"))
    if data_type in ("CATEGORICAL", "BOOLEAN", "TEXT") and string_value is not None:
        return str(string_value)
    value = score.get("value")
    if value is None:
        return str(string_value or "—")
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def safe_href(url: Any) -> str | None:
    """A link target only for http(s) URLs; anything else (javascript:, data:, …) is not a link."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def json_script(data: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block: nothing in it can close the element.

    A NaN or infinite float (a cost stored by an older version) is written as null, as the API
    writes it: ``NaN`` is not JSON, and the page's script could not read its data at all.
    """
    text = json_values.dumps(data)
    return Markup(text.translate(_SCRIPT_ESCAPES))


def level_class(level: str | None) -> str:
    return {"ERROR": "error", "WARNING": "warning", "DEBUG": "debug"}.get((level or "").upper(), "default")


def register(env: Any) -> None:
    """Install the helpers as Jinja filters."""
    env.filters.update(
        fmt_time=fmt_time,
        iso_time=iso_time,
        fmt_duration=fmt_duration,
        fmt_cost=fmt_cost,
        fmt_int=fmt_int,
        fmt_compact=fmt_compact,
        preview=preview,
        turn_content=turn_content,
        compact_json=compact_json,
        score_text=score_text,
        safe_href=safe_href,
        json_script=json_script,
        level_class=level_class,
    )
