"""`interactiveai server`: run ingestion, the API and the UI; say where the data is and how to log in."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from interactiveai.cli.common import load, migrated_engine, safe_url, with_database_options


@click.command("server")
@click.option("--host", help="Interface to listen on (default 127.0.0.1; INTERACTIVEAI_LISTEN_HOST).")
@click.option("--port", type=int, help="Port to listen on (default 3000; INTERACTIVEAI_PORT).")
@with_database_options
@click.option("--workers", type=int, help="Server processes sharing the port (default 1; INTERACTIVEAI_WORKERS).")
@click.option("--demo", is_flag=True, help="Load demo traces through the SDK once the server is up.")
@click.option("--log-level", default=None, help="Server log level (default info).")
def server(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    database_url: str | None,
    workers: int | None,
    demo: bool,
    log_level: str | None,
) -> None:
    """Run ingestion, the REST API and the UI (SQLite in the data dir by default)."""
    import uvicorn

    from interactiveai.server.app import announce_first_start, create_app
    from interactiveai.server.connections import uvicorn_options

    settings = load(
        host=host, port=port, data_dir=data_dir, database_url=database_url, workers=workers, log_level=log_level
    )
    click.echo(start_banner(settings, data_dir_given=data_dir is not None, url_given=database_url is not None))
    if settings.workers <= 1:
        with _refused_setup():
            app = create_app(settings)
        if demo:
            threading.Thread(target=_load_demo_when_up, args=(app.state.engine, settings), daemon=True).start()
        # proxy_headers=False: X-Forwarded-For is believed only from INTERACTIVEAI_TRUSTED_PROXIES (the app decides)
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=False,
            proxy_headers=False,
            **uvicorn_options(settings),  # header deadline and size (connections.py)
        )
        return
    # Several processes: migrate and set up once here, then let uvicorn fork workers that only serve.
    from interactiveai.server.settings import env_name
    from interactiveai.server.tenancy import ensure_first_start

    engine = migrated_engine(settings)
    with _refused_setup():
        created = ensure_first_start(engine)
    if created is not None:
        announce_first_start(created, settings)
    for name in ("host", "port", "data_dir", "database_url", "log_level"):
        os.environ[env_name(name)] = str(getattr(settings, name))
    if demo:
        threading.Thread(target=_load_demo_when_up, args=(engine, settings), daemon=True).start()
    uvicorn.run(
        "interactiveai.server.app:create_worker_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=False,
        **uvicorn_options(settings),
    )


def start_banner(settings: Any, *, data_dir_given: bool = False, url_given: bool = False) -> str:
    """What every start prints: the address, where the data lives, and how to get a login back."""
    target = ""  # the options that point the reset command at this same database
    if data_dir_given:
        target += f" --data-dir {settings.data_dir}"
    if url_given:
        target += " --database-url URL"
    database = safe_url(settings)
    lines = [
        f"InteractiveAI listening on http://{settings.host}:{settings.port}",
        f"  data dir:    {settings.data_dir}"
        + ("" if settings.database_url else " (SQLite database and session secret)"),
        f"  database:    {database}",
        f"  lost login?  interactiveai users reset-password EMAIL{target}",
        f"               (the emails: interactiveai users list{target})",
    ]
    return "\n".join(lines)


@contextmanager
def _refused_setup() -> Iterator[None]:
    """A weak INTERACTIVEAI_INIT_* secret stops the start with its message, not a traceback."""
    from interactiveai.server.passwords import WeakSecretError

    try:
        yield
    except WeakSecretError as exc:
        raise click.ClickException(f"refusing to start: {exc}") from None


def _load_demo_when_up(engine: Any, settings: Any) -> None:
    """Wait for the server to answer, then send demo traces with a key made for that and removed after."""
    import time
    import urllib.request

    from interactiveai.server.demo import load_demo
    from interactiveai.server.tenancy import create_api_key, list_projects, revoke_api_key

    url = f"http://127.0.0.1:{settings.port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/api/public/health", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    project_id = list_projects(engine)[0]["id"]
    key = create_api_key(engine, project_id, note="demo loader (temporary)")
    try:
        count = load_demo(url, key.public_key, key.secret_key)
        if count:
            click.echo(f"demo: loaded {count} traces into project {project_id}; open {settings.base_url}/")
        else:
            click.echo(f"demo: already loaded in project {project_id}, nothing added; open {settings.base_url}/")
    finally:
        revoke_api_key(engine, key.id)
