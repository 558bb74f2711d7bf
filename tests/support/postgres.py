"""A throwaway PostgreSQL server for tests, started from Debian's server binaries.

``INTERACTIVEAI_TEST_DATABASE_URL`` pointing at an existing server is honoured instead. PostgreSQL
refuses to run as root, so as root the cluster is owned by and run as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def postgres_available() -> bool:
    return bool(os.environ.get("INTERACTIVEAI_TEST_DATABASE_URL")) or _bin_dir() is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], as_postgres: bool) -> None:
    command = ["runuser", "-u", "postgres", "--", *args] if as_postgres else args
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a server URL (``postgresql://user@127.0.0.1:port/postgres``) for the session."""
    existing = os.environ.get("INTERACTIVEAI_TEST_DATABASE_URL")
    if existing:
        yield existing
        return
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found: run scripts/system-deps (apt-get install postgresql)")
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="ia-pg-"))
    data = base / "data"
    if as_root:
        shutil.chown(base, "postgres", "postgres")
        os.chmod(base, 0o700)
    port = free_port()
    user = "postgres" if as_root else os.environ.get("USER", "postgres")
    _run([str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "--no-sync", "-E", "UTF8"], as_root)
    # A throwaway cluster: durability settings off for speed; 200 connections for multi-replica tests.
    options = " ".join(
        [
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
            "-c fsync=off -c full_page_writes=off",
            "-c max_connections=200",
        ]
    )
    _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"], as_root)
    try:
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
    finally:
        try:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], as_root)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def create_database(server_url: str) -> str:
    """Create a fresh database on the server and return its URL."""
    import psycopg

    name = "ia_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(database_url: str) -> None:
    """Drop a database ``create_database`` made, closing what still connects to it (best effort:
    a test's database left behind only costs disk until the throwaway cluster is removed)."""
    import psycopg

    server_url, name = database_url.rsplit("/", 1)
    try:
        with psycopg.connect(server_url + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error:
        pass


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise TimeoutError("condition not met in time")
