"""The InteractiveAI server: OTLP ingestion, storage, the public REST API and the web UI."""
