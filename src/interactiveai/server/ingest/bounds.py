"""Bounds on the span values that database indexes hold, applied once to every mapped span.

A PostgreSQL btree entry may not exceed about 2,700 bytes (a third of a page; every column of a
multi-column index shares it, after compression, which random text defeats). A longer user id,
session id, name or model would make the database refuse the whole transaction, so these values
are bounded here, the same way on both engines, before the writer sees them:

- Identifiers and names (user id, session id, trace and observation names, model, release,
  version) keep at most :data:`KEY_BYTES` bytes of UTF-8. A longer value keeps its first bytes
  (whole characters) followed by a marker with the original size and a digest of the full value:
  ``<head>…[12044 bytes #1f2e3d4c5b6a7980]``. The span is stored, never dropped for it; the same
  long value always becomes the same stored value (every span that carries it lands on the same
  user, session or name, and a filter on the stored value finds them all); two long values that
  differ after the head stay distinct. Release and version are not indexed today, but are filter
  and group-by keys like the others.
- Tags: at most :data:`MAX_TAGS` per span (and per trace, merge.py), each at most
  :data:`TAG_CHARS` characters (the ``trace_tags.tag`` column; 800 bytes at most).
- Environment is already a short ``[a-z0-9_-]`` name (fields.environment); trace and span ids
  are fixed-length hex from the decoders; other ids are the server's own.

:data:`KEY_BYTES` leaves room for the widest index that holds such a value: the dashboard's
covering index on observations (model plus a project id, a trace id and ten short columns) stays
below 1,500 bytes. The cost per span is a few length checks: the encoding is measured only for
values longer than ``KEY_BYTES // 4`` characters (a character is at most four bytes).

The limits and ``bound_key`` are defined once, in json_values.py, where the filters, lookups and
REST writes take them from too; this module applies them to spans.
"""

from __future__ import annotations

from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.json_values import KEY_BYTES, TAG_CHARS, bound_key, bound_tag
from interactiveai.server.json_values import KEY_SAFE_CHARS as _SAFE_CHARS

__all__ = ["KEY_BYTES", "MAX_TAGS", "TAG_CHARS", "bound_key", "bound_span", "bound_tags"]

MAX_TAGS = 100


def bound_tags(tags: list[str]) -> list[str]:
    """At most :data:`MAX_TAGS` tags (the first in order), each at most :data:`TAG_CHARS` characters."""
    if any(len(tag) > TAG_CHARS for tag in tags):
        tags = sorted({bound_tag(tag) for tag in tags})
    return tags[:MAX_TAGS] if len(tags) > MAX_TAGS else tags


def bound_span(span: MappedSpan) -> MappedSpan:
    """Bound, in place, every value of ``span`` that an index holds; returns ``span``.

    Written out field by field: this runs for every span, and nearly every value is short.
    """
    row = span.row
    value = row["name"]
    if value is not None and len(value) > _SAFE_CHARS:
        row["name"] = bound_key(value)
    value = row["model"]
    if value is not None and len(value) > _SAFE_CHARS:
        row["model"] = bound_key(value)
    value = row["version"]
    if value is not None and len(value) > _SAFE_CHARS:
        row["version"] = bound_key(value)
    facts = span.trace
    value = facts.name
    if value is not None and len(value) > _SAFE_CHARS:
        facts.name = bound_key(value)
    value = facts.user_id
    if value is not None and len(value) > _SAFE_CHARS:
        facts.user_id = bound_key(value)
    value = facts.session_id
    if value is not None and len(value) > _SAFE_CHARS:
        facts.session_id = bound_key(value)
    value = facts.release
    if value is not None and len(value) > _SAFE_CHARS:
        facts.release = bound_key(value)
    value = facts.version
    if value is not None and len(value) > _SAFE_CHARS:
        facts.version = bound_key(value)
    tags = facts.tags
    if tags and (len(tags) > MAX_TAGS or max(map(len, tags)) > TAG_CHARS):
        facts.tags = bound_tags(tags)
    return span
