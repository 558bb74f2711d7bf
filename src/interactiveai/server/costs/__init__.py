"""Costs: usage → USD at ingestion, from client-provided costs, project model definitions or the catalog.

``calculator`` is what ingestion calls; ``catalog`` wraps the bundled genai-prices data;
``models`` manages project definitions (API, CLI, UI); ``routes`` is the models REST API.
"""
