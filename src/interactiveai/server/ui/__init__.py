"""The server-rendered web UI (Jinja2, autoescaped) and its JSON twins."""
