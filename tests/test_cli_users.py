"""`interactiveai users list / reset-password` and what every server start says about logins."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from interactiveai.cli import cli
from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.ui.auth import authenticate
from tests.support.postgres import free_port


def _run(*args: str, check: bool = True, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(cli, list(args), env=env)
    if check:
        assert result.exit_code == 0, result.output
    return result


def test_list_and_reset_password_with_a_database_url(database_url: str) -> None:
    db = ("--database-url", database_url)
    _run("projects", "create", "Shop", "--id", "shop", *db)
    _run("users", "create", "Ann@Example.com", "--password", "first password", "--project", "shop", *db)
    _run("users", "create", "root@example.com", "--password", "first password", "--admin", *db)
    _run(
        "users",
        "create",
        "vi@example.com",
        "--password",
        "first password",
        "--project",
        "shop",
        "--role",
        "viewer",
        *db,
    )
    listed = _run("users", "list", *db).output.splitlines()
    assert listed == [
        "ann@example.com\t-\t-\tshop:OWNER",
        "root@example.com\t-\tadmin\t-",
        "vi@example.com\t-\t-\tshop:VIEWER",
    ]

    reset = _run("users", "reset-password", " ANN@example.com", *db).output
    assert "new password for ann@example.com: " in reset and "sessions are ended" in reset
    password = reset.split(": ", 1)[1].splitlines()[0]
    assert len(password) >= 20
    engine = create_db_engine(database_url, pool_size=1)
    try:
        assert authenticate(engine, "ann@example.com", password) is not None
        assert authenticate(engine, "ann@example.com", "first password") is None
    finally:
        engine.dispose()
    unknown = _run("users", "reset-password", "nobody@example.com", *db, check=False)
    assert unknown.exit_code != 0 and "no user 'nobody@example.com'" in unknown.output


def test_reset_password_on_the_embedded_default(tmp_path: Path) -> None:
    env = {"INTERACTIVEAI_DATA_DIR": str(tmp_path), "INTERACTIVEAI_DATABASE_URL": ""}
    _run("users", "create", "a@example.com", "--password", "first password", env=env)
    assert _run("users", "list", env=env).output.startswith("a@example.com\t")
    assert "new password for a@example.com" in _run("users", "reset-password", "a@example.com", env=env).output
    assert (tmp_path / "interactiveai.db").exists()


def test_the_start_banner_masks_the_database_password(tmp_path: Path) -> None:
    from interactiveai.cli.server import start_banner
    from interactiveai.server.settings import load_settings

    url = "postgresql+psycopg://ia:hunter2-secret@db.internal:5432/ia"
    banner = start_banner(load_settings(data_dir=tmp_path, database_url=url), url_given=True)
    assert "hunter2" not in banner and "postgresql+psycopg://ia:***@db.internal:5432/ia" in banner
    assert "users reset-password EMAIL --database-url URL" in banner


def _start_and_stop(data_dir: Path) -> str:
    """Start the server on a free port until it is up, stop it, and return what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERACTIVEAI_")}
    log = data_dir / f"server-{time.monotonic_ns()}.log"
    command = [sys.executable, "-m", "interactiveai", "server", "--port", str(free_port()), "--data-dir", str(data_dir)]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while "Application startup complete" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return log.read_text()


def test_every_start_says_where_the_data_is_and_how_to_get_a_login_back(tmp_path: Path) -> None:
    first = _start_and_stop(tmp_path)
    assert "first start" in first and "login:       admin@localhost / " in first
    second = _start_and_stop(tmp_path)
    assert "first start" not in second and "admin@localhost /" not in second
    for text in (first, second):
        assert f"data dir:    {tmp_path}" in text
        assert f"database:    sqlite:///{tmp_path}" in text
        assert f"interactiveai users reset-password EMAIL --data-dir {tmp_path}" in text
