"""Reading a prefix of a JSON document: the list reads payloads as short prefixes (``substr``), so a
long payload arrives cut mid-way, and a preview should still read its text rather than its syntax.

``complete`` closes what the prefix left open: an unfinished string value is kept and closed, a
dangling key, comma or partial literal is dropped, open arrays and objects are closed. The result
is valid JSON whenever the prefix is a prefix of valid JSON, so the caller parses it as usual.
"""

from __future__ import annotations

_CLOSERS = {"{": "}", "[": "]"}


def complete(prefix: str) -> str | None:
    """A valid JSON text made from a prefix of one; None when nothing whole can be kept."""
    stack: list[str] = []  # open containers
    in_string = escaped = False
    string_start = 0
    expecting_key = False  # inside an object, before a key
    # The last position where the prefix could be cut and closed: (index, stack at that point,
    # whether it sits inside an object, before its next key).
    safe: tuple[int, list[str]] | None = None
    for index, char in enumerate(prefix):
        if safe is not None and not stack and not in_string and not char.isspace() and not _continues(prefix, index):
            return None  # text after a whole top-level value: not a JSON prefix
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if not expecting_key:
                    safe = (index + 1, list(stack))
            continue
        if char == '"':
            in_string, string_start = True, index
        elif char in "{[":
            stack.append(char)
            expecting_key = char == "{"
            safe = (index + 1, list(stack))
        elif char in "}]":
            if not stack or _CLOSERS[stack[-1]] != char:
                return None
            stack.pop()
            expecting_key = False
            safe = (index + 1, list(stack))
        elif char == ",":
            expecting_key = bool(stack) and stack[-1] == "{"
        elif char == ":":
            expecting_key = False
        elif char in " \t\r\n":
            continue
        elif not expecting_key and (char.isdigit() or char in "-+.eE" or char.isalpha()):
            # a number or a literal: safe once it reads as a whole one
            end = index + 1
            token_start = index
            while token_start > 0 and (prefix[token_start - 1].isalnum() or prefix[token_start - 1] in "-+."):
                token_start -= 1
            token = prefix[token_start:end]
            if token in ("true", "false", "null") or _is_number(token):
                safe = (end, list(stack))
    if in_string and not expecting_key:
        text = prefix[string_start:]
        text = text[: _whole_escapes(text)]
        return prefix[:string_start] + text + '"' + "".join(_CLOSERS[c] for c in reversed(stack))
    if safe is None:
        return None
    index, open_at = safe
    return _drop_trailing_separator(prefix[:index]) + "".join(_CLOSERS[c] for c in reversed(open_at))


def _continues(prefix: str, index: int) -> bool:
    """Whether ``prefix[index]`` continues a top-level number or literal (``12`` then ``3``)."""

    def in_token(char: str) -> bool:
        return char.isalnum() or char in "-+."

    return index > 0 and in_token(prefix[index]) and in_token(prefix[index - 1])


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return token[-1].isdigit()


def _whole_escapes(text: str) -> int:
    """The length of ``text`` (an unterminated JSON string) without a trailing partial escape."""
    cut = len(text)
    backslash = text.rfind("\\", max(0, cut - 6))
    while backslash != -1:
        run = backslash
        while run > 0 and text[run - 1] == "\\":
            run -= 1
        if (backslash - run) % 2 == 1:  # this backslash is itself escaped
            break
        needed = 6 if text[backslash + 1 : backslash + 2] == "u" else 2
        if backslash + needed > cut:
            return backslash
        break
    return cut


def _drop_trailing_separator(text: str) -> str:
    stripped = text.rstrip()
    return stripped[:-1] if stripped.endswith(",") else stripped
