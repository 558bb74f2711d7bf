"""Storage: schema, engines and migrations; ingest writes here and query reads from here."""
