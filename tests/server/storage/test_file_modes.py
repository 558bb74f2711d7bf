"""The SQLite file (with its -wal and -shm) is created readable by its owner only, whatever the umask."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from interactiveai.server.storage import migrate
from interactiveai.server.storage.engines import create_db_engine


def mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


def test_a_new_database_and_its_directory_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask, which gives 0644 files and 0755 directories
    try:
        data_dir = tmp_path / "data"
        engine = create_db_engine(f"sqlite:///{data_dir / 'interactiveai.db'}")
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            files = {p.name: mode(p) for p in data_dir.iterdir() if p.name.startswith("interactiveai.db")}
        engine.dispose()
    finally:
        os.umask(previous)
    assert mode(data_dir) == "0o700"
    assert {"interactiveai.db", "interactiveai.db-wal", "interactiveai.db-shm"} <= set(files)
    assert {files[name] for name in ("interactiveai.db", "interactiveai.db-wal", "interactiveai.db-shm")} == {"0o600"}


def test_an_existing_readable_database_is_left_alone_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "shared.db"
    create_db_engine(f"sqlite:///{path}").dispose()
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="interactiveai.server"):
        create_db_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == "0o644"
    assert "chmod 600" in caplog.text and str(path) in caplog.text


def test_a_data_dir_open_to_others_gets_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from interactiveai.server.ui.auth import load_or_create_secret

    data_dir = tmp_path / "open"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="interactiveai.server"):
        load_or_create_secret(data_dir)
    assert mode(data_dir) == "0o755" and "chmod 700" in caplog.text
