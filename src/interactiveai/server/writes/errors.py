"""The error the write functions raise on bad input; the API turns it into a 400 with its message."""

from __future__ import annotations


class InvalidInputError(ValueError):
    """Input that breaks a documented rule; the message says which rule, for the API client."""
