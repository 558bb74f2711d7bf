"""The public REST API under /api/public (JSON, camelCase, shapes compatible with the reference)."""
