"""Migration 0008 over a database that holds dataset items: each gets a version from its creation,
and reads as of any time since read its current state; downgrade and upgrade again, both engines."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from interactiveai.server.query.datasets import list_dataset_items
from interactiveai.server.storage import migrate
from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.writes.datasets import upsert_dataset_item

INSERT_ITEM = (
    "INSERT INTO dataset_items (project_id, id, dataset_id, input, expected_output, metadata, status,"
    " created_at_us, updated_at_us) VALUES ('p', :id, 'd', :input, NULL, '{}', :status, :created, :updated)"
)


def test_migration_0008_gives_existing_items_a_version_and_downgrades(database_url: str) -> None:
    engine = create_db_engine(database_url, pool_size=2)
    migrate.upgrade(engine, "0007")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (id, name, created_at_us) VALUES ('p', 'p', 1)"))
        conn.execute(
            text(
                "INSERT INTO datasets (project_id, id, name, metadata, created_at_us, updated_at_us)"
                " VALUES ('p', 'd', 'ds', '{}', 5, 5)"
            )
        )
        conn.execute(
            text(INSERT_ITEM),
            [
                {"id": "a", "input": '"first"', "status": "ACTIVE", "created": 10, "updated": 50},
                {"id": "b", "input": '"second"', "status": "ARCHIVED", "created": 20, "updated": 20},
            ],
        )

    migrate.upgrade(engine, "0008")
    assert [(i.id, i.input) for i in list_dataset_items(engine, "p", dataset_id="d", at_us=9).items] == []
    at_15 = list_dataset_items(engine, "p", dataset_id="d", at_us=15).items
    assert [(i.id, i.input, i.updated_at_us) for i in at_15] == [("a", "first", 10)]  # its earlier states are unknown
    assert [i.id for i in list_dataset_items(engine, "p", dataset_id="d", at_us=60).items] == ["b", "a"]
    assert [i.id for i in list_dataset_items(engine, "p", dataset_id="d", at_us=60, status="ACTIVE").items] == ["a"]
    # a write after the migration closes the backfilled version
    upsert_dataset_item(engine, "p", {"datasetName": "ds", "id": "a", "input": "changed"})
    assert [i.input for i in list_dataset_items(engine, "p", dataset_id="d", at_us=60, status="ACTIVE").items] == [
        "first"
    ]

    command.downgrade(migrate.alembic_config(engine), "0007")
    assert migrate.current_revision(engine) == "0007"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dataset_items")).scalar_one() == 2
    migrate.upgrade(engine, "0008")
    assert len(list_dataset_items(engine, "p", dataset_id="d", at_us=60).items) == 2
    engine.dispose()
