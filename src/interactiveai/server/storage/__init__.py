"""Storage: schema, engines and migrations; ingest writes here and query reads from here."""

# The roll-up, evaluator and review tables live in their own modules but in the one schema
# metadata (migrations compare against it): importing any storage module declares them.
from interactiveai.server.storage import eval_schema as eval_schema
from interactiveai.server.storage import review_schema as review_schema
from interactiveai.server.storage import rollup_schema as rollup_schema
