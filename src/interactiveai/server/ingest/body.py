"""Content-Encoding of ingestion bodies, with a hard size limit while decompressing.

A gzip bomb (kilobytes that inflate to gigabytes) must cost at most ``limit`` bytes of memory, so
decompression is incremental and stops one byte past the limit. The body itself was bounded while
it arrived (bodies.py).
"""

from __future__ import annotations

import zlib

_CHUNK = 256 * 1024


class BodyTooLarge(ValueError):
    pass


class BadEncoding(ValueError):
    pass


SUPPORTED_ENCODINGS = frozenset({"", "identity", "gzip", "x-gzip", "deflate"})


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Undo Content-Encoding; the result never exceeds ``limit`` bytes (else BodyTooLarge)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return _inflate(body, zlib.MAX_WBITS | 16, limit, "gzip")
    if encoding == "deflate":
        # "deflate" is zlib-wrapped by the spec, but some clients send raw deflate streams
        try:
            return _inflate(body, zlib.MAX_WBITS, limit, "deflate")
        except BadEncoding:
            return _inflate(body, -zlib.MAX_WBITS, limit, "deflate")
    raise BadEncoding(f"unsupported Content-Encoding {encoding!r}: use gzip, deflate or none")


def _inflate(body: bytes, wbits: int, limit: int, name: str) -> bytes:
    inflater = zlib.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    data = body
    try:
        while True:
            chunk = inflater.decompress(data, _CHUNK)
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"decompressed body exceeds the limit of {limit} bytes")
            parts.append(chunk)
            data = inflater.unconsumed_tail
            if not data:
                break
        tail = inflater.flush(limit - size + 1)
        size += len(tail)
        if size > limit:
            raise BodyTooLarge(f"decompressed body exceeds the limit of {limit} bytes")
        parts.append(tail)
    except zlib.error as exc:
        raise BadEncoding(f"body is not valid {name} data: {exc}") from None
    if not inflater.eof:
        raise BadEncoding(f"body is not valid {name} data: stream is truncated")
    return b"".join(parts)
