"""Match patterns of project model definitions: RE2 (linear time), checked when saved and when loaded.

A pattern is a regular expression searched (not anchored) in the model name the client sent,
case-sensitive unless it says ``(?i)``: the reference's semantics, ``(?i)^(openai/)?(gpt-4o)$``
matches "OpenAI/GPT-4o" and nothing else.

Matching runs for every new model name in the ingestion writer, which all projects share. Python's
``re`` backtracks, so one pattern such as ``^(a|a){1,60000}$`` could keep it (and, holding the GIL,
the whole server) busy for hours on a 35-character name. Patterns therefore compile with RE2
(``google-re2``), whose matching time is linear: at most the name's length times the size of the
compiled program, whatever the pattern. What remains is bounding both factors:

* names longer than ``MAX_NAME_LENGTH`` characters are never matched;
* a pattern is refused when it is longer than ``MAX_PATTERN_LENGTH`` characters, when RE2 needs
  more than ``MAX_MEMORY`` bytes to compile it, or when its program exceeds ``MAX_PROGRAM_SIZE``
  instructions (real patterns need well under 200). One search then takes about a microsecond for a
  real pattern and name, and about a millisecond of CPU for the worst accepted one on the longest
  name (``tests/server/costs/test_patterns.py`` checks it).

A project may still hold 1,000 such patterns and send a new name on every span: what it may spend
on searching over time is bounded by its budget (``budget.py``), and ``matching_until`` searches
against that budget's deadline.

Memory is bounded the same way, per pattern and for the process. RE2 caches the automaton it
builds while searching, up to its memory limit per pattern: with 1 MiB, crafted patterns filled
about 320 KB each (1,000 of one project: +340 MB). Patterns are compiled with 128 KiB
(``MAX_MEMORY``), or 32 KiB when their program is small (``SMALL_MEMORY``: every real pattern, as
fast; about 10 KB each in practice), and :class:`PatternCache` keeps the patterns compiled at once
within ``CACHE_BYTES``, counting each at the most it may hold. Measured with 1,000 crafted
definitions in one project and 300 new names: +11 MB instead of +338 MB, 174 instead of 199 ms of
CPU per name; with another crafted shape that RE2 searched faster with 1 MiB, +15 instead of
+48 MB but 390 instead of 9 ms per name (which the budget bounds).

RE2 has no backtracking features: backreferences, lookarounds, atomic groups and possessive
repeats are refused, with the reason, as is ``{,n}`` (Python reads it as ``{0,n}``, RE2 as literal
text). A refused pattern is a 400 when a definition is saved; one already stored (by an older
version, or written straight into the database) is skipped with a warning when definitions load.
Other differences from Python's ``re``: ``\\d``, ``\\w`` and ``\\s`` are ASCII-only, ``$`` matches only
at the very end (not before a final newline), ``\\z`` ends the text (``\\Z`` is refused), and a flag
group such as ``(?i)`` may appear anywhere (it applies from there on).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import re2

MAX_PATTERN_LENGTH = 500
MAX_NAME_LENGTH = 256
MAX_PROGRAM_SIZE = 1_000  # RE2 program instructions
MAX_MEMORY = 128 << 10  # bytes RE2 may use for one pattern: its program and its DFA cache
SMALL_PROGRAM_SIZE = 200  # programs this small (every real pattern) compile for use with SMALL_MEMORY
SMALL_MEMORY = 32 << 10
CACHE_BYTES = 64 << 20  # what the patterns compiled at once may hold together (PatternCache)
_OVERHEAD = 8 << 10  # a compiled pattern's memory outside RE2's limit: parsed form, Python objects

CompiledPattern = Any  # an RE2 regular expression (google-re2 ships no type information)
T = TypeVar("T")

_LENIENT_BOUND = re.compile(r"(?<!\\)(?:\\\\)*\{,\d*\}")  # "{,n}": a repeat for Python, literal text for RE2


def _options(max_mem: int) -> Any:
    options = re2.Options()
    options.max_mem = max_mem
    options.log_errors = False  # a refusal is reported to the user, not printed on stderr
    options.never_capture = True  # we only ask "does it match": no submatch bookkeeping
    return options


_OPTIONS = _options(MAX_MEMORY)
_SMALL_OPTIONS = _options(SMALL_MEMORY)

# RE2's own error text → what to tell the user instead (first fragment found wins).
_REASONS = (
    ("pattern too large", f"it is too large once compiled (over {MAX_MEMORY // 1024} KiB)"),
    ("invalid repetition size", "a counted repetition {n,m} may repeat at most 1000 times, nested ones included"),
    ("(?=", "lookahead assertions are not supported"),
    ("(?!", "lookahead assertions are not supported"),
    ("(?<=", "lookbehind assertions are not supported"),
    ("(?<!", "lookbehind assertions are not supported"),
    ("(?>", "atomic groups are not supported"),
    ("(?#", "comments are not supported"),
    ("invalid escape sequence: \\Z", "write \\z (or $) for the end of the name, not \\Z"),
    *((f"invalid escape sequence: \\{d}", "backreferences are not supported") for d in "123456789"),
)


class InvalidPattern(ValueError):
    """A match pattern we refuse; the message says why, for a 400 answer."""


def validate_pattern(pattern: str) -> CompiledPattern:
    """The compiled pattern, or InvalidPattern explaining why it is refused."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise InvalidPattern("matchPattern must not be empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidPattern(f"matchPattern is longer than {MAX_PATTERN_LENGTH} characters")
    if "\x00" in pattern:
        raise InvalidPattern("matchPattern must not contain NUL characters (write \\x00 to match one)")
    try:
        pattern.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPattern("matchPattern must be valid Unicode text (it has an unpaired surrogate)") from None
    if _LENIENT_BOUND.search(pattern):
        raise InvalidPattern("matchPattern is refused: write {0,n} for 'at most n times', or \\{ for a literal brace")
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raise InvalidPattern(_explain(exc)) from None
    if compiled.programsize > MAX_PROGRAM_SIZE:
        raise InvalidPattern(
            f"matchPattern is too complex ({compiled.programsize} RE2 instructions, at most {MAX_PROGRAM_SIZE}):"
            " use fewer or smaller counted repetitions {n,m} and character classes"
        )
    return compiled


def _explain(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else ""
    detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    for fragment, reason in _REASONS:
        if fragment in detail:
            return f"matchPattern is refused: {reason} ({detail})"
    return (
        "matchPattern is not a valid regular expression in the supported (RE2) syntax, which has no"
        f" backreferences or lookarounds: {detail}"
    )


class Pattern:
    """A valid pattern's compiled form, owned by a :class:`PatternCache` (see it for memory).

    Holders (a project's definitions) keep this small handle; the RE2 object behind it may be
    dropped by the cache and is compiled again on the next search.
    """

    __slots__ = ("_cache", "_regex", "small", "source", "used", "weight")

    def __init__(self, cache: PatternCache, source: str, small: bool) -> None:
        self._cache = cache
        self._regex: CompiledPattern | None = None
        self.source = source
        self.small = small  # compiled with SMALL_MEMORY
        self.weight = (SMALL_MEMORY if small else MAX_MEMORY) + _OVERHEAD + 4 * len(source)
        self.used = True  # searched since the cache last looked (second chance)

    def search(self, subject: bytes) -> Any:
        """RE2's ``search``: a match object or None."""
        regex = self._regex
        if regex is None:
            regex = self._cache._reload(self)
        self.used = True
        return regex.search(subject)

    @property
    def compiled(self) -> bool:
        return self._regex is not None


class PatternCache:
    """Compiled patterns by source text, for every project (the same text compiles once), within a
    bound on their memory.

    Each compiled pattern may grow to its RE2 memory limit (its DFA cache fills as names are
    searched): ``SMALL_MEMORY`` for programs of at most ``SMALL_PROGRAM_SIZE`` instructions (every
    real pattern; measured as fast as with more), ``MAX_MEMORY`` for larger ones, plus
    ``_OVERHEAD`` for the parsed pattern and the Python objects. The patterns compiled at once
    may together reach at most ``max_bytes`` by that count; beyond, the least recently searched
    are dropped (second-chance clock: a search only sets a flag) and compiled again when next
    searched, which the searching project pays for from its budget. Refusals are remembered too, as
    their reason, so a stored pattern that no longer passes costs one compilation per process, not
    one per load; at most ``max_entries`` texts are remembered (least recently loaded first out).
    """

    def __init__(self, max_bytes: int = CACHE_BYTES, max_entries: int = 10_000) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0  # the weight of the patterns compiled now
        self._entries: OrderedDict[str, Pattern | str] = OrderedDict()
        self._max_entries = max_entries
        self._clock: deque[Pattern] = deque()  # the compiled ones, oldest first
        self._lock = threading.Lock()

    def get(self, pattern: str) -> Pattern:
        """The compiled pattern; InvalidPattern when it is refused (a row stored around the API)."""
        with self._lock:
            found = self._entries.get(pattern)
            if found is not None:
                self._entries.move_to_end(pattern)
        if found is None:
            try:
                validated = validate_pattern(pattern)
            except InvalidPattern as exc:
                found = str(exc)
            else:
                regex, small = validated, False
                if validated.programsize <= SMALL_PROGRAM_SIZE:
                    regex, small = _compile(pattern, True)
                found = Pattern(self, pattern, small)
            with self._lock:
                known = self._entries.get(pattern)
                if known is not None:
                    found = known  # another thread was first
                else:
                    if isinstance(found, Pattern):
                        self._admit(found, regex)
                    self._entries[pattern] = found
                    while len(self._entries) > self._max_entries:
                        self._entries.popitem(last=False)  # holders keep their handle, still counted
        if isinstance(found, str):
            raise InvalidPattern(found)  # a fresh exception: a re-raised one would grow its traceback
        return found

    def _reload(self, handle: Pattern) -> CompiledPattern:
        regex, _small = _compile(handle.source, handle.small)
        with self._lock:
            if handle._regex is None:
                self._admit(handle, regex)
            return handle._regex

    def _admit(self, handle: Pattern, regex: CompiledPattern) -> None:
        """Make room for ``handle`` (lock held), then count it as compiled."""
        clock = self._clock
        chances = len(clock)  # every compiled pattern gets one second chance at most
        while clock and self.bytes + handle.weight > self.max_bytes:
            oldest = clock.popleft()
            if oldest.used and chances > 0:
                oldest.used = False
                chances -= 1
                clock.append(oldest)
            else:
                oldest._regex = None
                self.bytes -= oldest.weight
        handle._regex = regex
        handle.used = True
        clock.append(handle)
        self.bytes += handle.weight


def _compile(pattern: str, small: bool) -> tuple[CompiledPattern, bool]:
    """A valid pattern compiled for use, with ``SMALL_MEMORY`` if ``small`` and its program fits
    (then True) else ``MAX_MEMORY``."""
    if small:
        try:
            return re2.compile(pattern, _SMALL_OPTIONS), True
        except re2.error:
            pass  # its program grew past the small limit while compiling
    return re2.compile(pattern, _OPTIONS), False


PATTERN_CACHE = PatternCache()
"""The process's cache, shared by the cost calculators and the settings page's price lookup."""


def subject_of(model_name: str) -> bytes | None:
    """What patterns are searched in: the name as UTF-8, or None when it is too long to be matched."""
    if len(model_name) > MAX_NAME_LENGTH:
        return None
    # surrogatepass: a lone surrogate from a JSON body must not raise; RE2 sees invalid UTF-8 there.
    return model_name.encode("utf-8", "surrogatepass")


def matches(compiled: CompiledPattern, model_name: str) -> bool:
    subject = subject_of(model_name)
    return subject is not None and compiled.search(subject) is not None


def matching(candidates: Iterable[tuple[CompiledPattern, T]], model_name: str) -> tuple[T, ...]:
    """The values of the candidates whose pattern matches ``model_name``, in order.

    Each pattern is searched on its own. One RE2 Set of all of a project's patterns answers in one
    pass (about a microsecond for 1000 real patterns, against about 1.5 ms one by one), but a Set's
    automaton never falls back to RE2's NFA: crafted patterns made it 5 to 30 times slower than
    searching them one by one, and this runs in the writer every project shares.
    """
    subject = subject_of(model_name)
    if subject is None:
        return ()
    return tuple(value for compiled, value in candidates if compiled.search(subject) is not None)


def matching_until(
    candidates: Sequence[tuple[CompiledPattern, T]], subject: bytes, start: int, deadline: float
) -> tuple[int, list[T]]:
    """Search ``subject`` (see ``subject_of``) with ``candidates[start:]``, in order, until ``deadline``.

    ``deadline`` is a ``time.perf_counter()`` value, checked after each search (one search takes at
    most about a millisecond), so at least one candidate is searched. Returns the index to resume
    from (``len(candidates)`` when done) and the values of the candidates that matched.
    """
    clock = time.perf_counter
    found: list[T] = []
    index, end = start, len(candidates)
    while index < end:
        compiled, value = candidates[index]
        index += 1
        if compiled.search(subject) is not None:
            found.append(value)
        if clock() >= deadline:
            break
    return index, found
