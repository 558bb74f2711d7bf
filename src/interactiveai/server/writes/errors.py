"""The error the write functions raise on bad input (the API turns it into a 400 with its
message), and the string-field check the write modules share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class InvalidInputError(ValueError):
    """Input that breaks a documented rule; the message says which rule, for the API client."""


def optional_str(body: Mapping[str, Any], key: str, max_length: int) -> str | None:
    """A string field of a JSON body: None when absent or empty, else at most ``max_length`` characters."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{key} must be a string")
    if len(value) > max_length:
        raise InvalidInputError(f"{key} must be at most {max_length} characters")
    return value
