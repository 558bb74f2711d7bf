"""Match patterns of project model definitions: validation at creation, compiled once for matching.

Patterns are regular expressions searched (not anchored) in the model name the client sent, the
reference's semantics: ``(?i)^(openai/)?(gpt-4o)$`` matches "OpenAI/GPT-4o" and nothing else.
Matching runs on the ingestion hot path for every generation, and Python's ``re`` has no time
limit, so a pattern that can backtrack catastrophically (``(a+)+$``) would stall ingestion for
every project. We therefore refuse, at creation:

* patterns longer than ``MAX_PATTERN_LENGTH`` characters;
* patterns that do not compile (including global flags such as ``(?i)`` not at the start);
* a repetition or an alternation inside an unbounded repetition (``(a+)+``, ``(a|aa)*``), the
  shapes behind exponential backtracking, and backreferences, which make matching NP-hard;
* more than ``MAX_UNBOUNDED_REPEATS`` unbounded repetitions: each one multiplies the worst case
  by the name length (``\\w+\\w+\\w+z`` takes half a second on 256 characters).

Model names longer than ``MAX_NAME_LENGTH`` are never matched against project patterns, which
bounds what remains (about 2 ms in the worst accepted case, and the result is cached per name).
"""

from __future__ import annotations

import re
import threading
from typing import Any

MAX_PATTERN_LENGTH = 500
MAX_NAME_LENGTH = 256
MAX_UNBOUNDED_REPEATS = 2

try:  # the parser moved in 3.11; the old module name still works but warns
    from re import _parser as _sre_parse  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # pragma: no cover - older interpreters
    import sre_parse as _sre_parse

_UNBOUNDED = 1 << 16  # repeats with a max at least this large are "unbounded" for our purpose


class InvalidPattern(ValueError):
    """A match pattern we refuse; the message says why, for a 400 answer."""


def validate_pattern(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` or raise InvalidPattern explaining what is wrong."""
    if not pattern or not pattern.strip():
        raise InvalidPattern("matchPattern must not be empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidPattern(f"matchPattern is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        compiled = re.compile(pattern)
        parsed = _sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise InvalidPattern(f"matchPattern is not a valid regular expression: {exc}") from None
    problem = _risky(parsed)
    if problem is not None:
        raise InvalidPattern(f"matchPattern is refused ({problem}): such patterns can make matching extremely slow")
    return compiled


def _risky(items: Any) -> str | None:
    """Return a description of the first risky construct in the parsed pattern, or None."""
    unbounded = 0
    stack: list[tuple[Any, bool]] = [(items, False)]
    while stack:
        seq, inside_repeat = stack.pop()
        for op, arg in seq:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                if inside_repeat:
                    return "a repeated group contains another repetition"
                if arg[1] >= _UNBOUNDED:
                    unbounded += 1
                    if unbounded > MAX_UNBOUNDED_REPEATS:
                        return f"more than {MAX_UNBOUNDED_REPEATS} unbounded repetitions (*, +, {{n,}})"
                    stack.append((arg[2], True))
                else:
                    stack.append((arg[2], inside_repeat))
            elif name in ("GROUPREF", "GROUPREF_EXISTS"):
                return "a backreference"
            elif name == "BRANCH":
                if inside_repeat:
                    return "a repeated group contains alternatives"
                stack.extend((branch, inside_repeat) for branch in arg[1])
            elif name == "SUBPATTERN":
                stack.append((arg[-1], inside_repeat))
            elif name == "ATOMIC_GROUP":
                stack.append((arg, inside_repeat))
            elif name in ("ASSERT", "ASSERT_NOT"):
                stack.append((arg[1], inside_repeat))
    return None


class PatternCache:
    """Compiled patterns by source text, shared by all projects (the same text compiles once)."""

    def __init__(self, max_size: int = 10_000) -> None:
        self._compiled: dict[str, re.Pattern[str] | None] = {}
        self._max = max_size
        self._lock = threading.Lock()

    def get(self, pattern: str) -> re.Pattern[str] | None:
        """The compiled pattern, or None when it is invalid or risky (a row written around the API)."""
        try:
            return self._compiled[pattern]
        except KeyError:
            pass
        try:
            compiled: re.Pattern[str] | None = validate_pattern(pattern)
        except InvalidPattern:
            compiled = None
        with self._lock:
            if len(self._compiled) >= self._max:
                self._compiled.clear()
            self._compiled[pattern] = compiled
        return compiled


def matches(compiled: re.Pattern[str], model_name: str) -> bool:
    return len(model_name) <= MAX_NAME_LENGTH and compiled.search(model_name) is not None
