"""Read-only query functions shared by the public API and the UI.

Every function takes an engine or a connection and a project id, filters on the project first,
and returns plain dataclasses (``records``) with times as integer microseconds and JSON payloads
already parsed; serialising them (camelCase, ISO times) is the caller's business.
"""
