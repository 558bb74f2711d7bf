"""Ingestion: OTLP/HTTP decoding, attribute conventions, and the group-commit writer."""
