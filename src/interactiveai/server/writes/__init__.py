"""The few writes the public API makes itself (scores, score configs); ingestion writes the rest."""
