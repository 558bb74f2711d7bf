"""Cost of serialising inputs and outputs (``serialize.to_json``), normal sizes and over the cap.

Run: ``.venv/bin/python benchmarks/sdk_truncation.py [--repeat 7]``

Each payload is serialised by ``to_json`` (what every observation's input and output go through)
and, in the same run, by the previous rule (``previous``: serialise, then cut the text at the cap,
which left invalid JSON the server stored as an escaped string); the ratio is ``to_json`` over
``previous``. Normal sizes must stay at 1.0 (only a length check either way); payloads over the
1,000,000-character cap pay for being cut inside their structure (parse, cut, serialise again).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import orjson

from interactiveai.sdk.serialize import _OPTIONS, MAX_VALUE_CHARS, _default, to_json

PAYLOADS: dict[str, Any] = {
    "small (@observe args)": {"args": [42, "what is the weather in Oslo?"], "kwargs": {"top_k": 4}},
    "chat, 10 KB": [{"role": "user", "content": "lorem ipsum dolor " * 30} for _ in range(20)],
    "documents, 200 KB": {"docs": [{"id": i, "text": "word " * 400} for i in range(100)]},
    "just under the cap": {"args": ["x" * (MAX_VALUE_CHARS - 100)], "kwargs": {}},
    "one 3 MB string (cut)": {"args": ["lorem ipsum " * 250_000, "question"], "kwargs": {"k": 1}},
    "300k small items (cut)": {"ids": list(range(300_000)), "name": "batch"},
}


def previous(value: Any) -> str:
    """The rule before structural truncation (commit 10879a7): the serialised text cut at the cap."""
    text = orjson.dumps(value, default=_default, option=_OPTIONS).decode("utf-8")
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return text[:MAX_VALUE_CHARS] + f"...[truncated by interactiveai: {len(text) - MAX_VALUE_CHARS} characters]"


def _best(func: Callable[[], object], repeat: int) -> float:
    loops = 1
    while True:  # enough loops for ~20 ms per sample
        start = time.perf_counter()
        for _ in range(loops):
            func()
        if time.perf_counter() - start > 0.02:
            break
        loops *= 4
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            func()
        best = min(best, (time.perf_counter() - start) / loops)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{'payload':24s} {'JSON chars':>11s} {'previous':>11s} {'to_json':>11s} {'ratio':>6s} stored")
    for label, value in PAYLOADS.items():
        floor = _best(lambda value=value: previous(value), args.repeat)
        ours = _best(lambda value=value: to_json(value), args.repeat)
        size = len(orjson.dumps(value))
        stored = len(to_json(value))
        print(f"{label:24s} {size:11,d} {floor * 1e6:9.1f}µs {ours * 1e6:9.1f}µs {ours / floor:6.2f} {stored:,d}")


if __name__ == "__main__":
    main()
