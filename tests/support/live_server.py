"""Run the real server as a subprocess on a free port, as users do (`interactiveai server`)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import free_port

# The server refuses chosen secret keys shorter than 32 characters.
PUBLIC_KEY, SECRET_KEY = "pk-live-test", "sk-live-test-3f9a1c0e7b2d4a6f8e1c3b5d7f9a0c2e"


@dataclass
class LiveServer:
    url: str
    project_id: str
    public_key: str
    secret_key: str
    email: str
    password: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    database_url: str = ""  # what the server stores into (its SQLite file unless given)

    @property
    def auth_header(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.public_key}:{self.secret_key}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


@contextmanager
def live_server(
    data_dir: Path, database_url: str | None = None, extra_env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[LiveServer]:
    port = port or free_port()
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("INTERACTIVEAI_"):
            del env[key]
    env.update(
        INTERACTIVEAI_INIT_PROJECT_ID="proj-live",
        INTERACTIVEAI_INIT_PROJECT_NAME="Live Project",
        INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY=PUBLIC_KEY,
        INTERACTIVEAI_INIT_PROJECT_SECRET_KEY=SECRET_KEY,
        INTERACTIVEAI_INIT_USER_EMAIL="admin@example.com",
        INTERACTIVEAI_INIT_USER_PASSWORD="correct horse battery",
    )
    if database_url:
        env["INTERACTIVEAI_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    log = open(data_dir / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "interactiveai", "server", "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("server exited early:\n" + (data_dir / "server.log").read_text())
            try:
                with urllib.request.urlopen(url + "/api/public/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer in time:\n" + (data_dir / "server.log").read_text())
            time.sleep(0.1)
        yield LiveServer(
            url,
            "proj-live",
            PUBLIC_KEY,
            SECRET_KEY,
            "admin@example.com",
            "correct horse battery",
            data_dir,
            process,
            database_url or f"sqlite:///{data_dir / 'interactiveai.db'}",
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
