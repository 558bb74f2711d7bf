"""The `interactiveai` command: run the server, migrate the database, manage projects and keys, load demo data."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import click
except ImportError:  # the SDK-only install has no CLI dependencies
    click = None  # type: ignore[assignment]


def main() -> None:
    if click is None:
        sys.stderr.write("The interactiveai command needs the server extra: pip install 'interactiveai[server]'\n")
        raise SystemExit(1)
    cli()


if click is not None:

    def _settings(**overrides: Any) -> Any:
        from interactiveai.server.settings import load_settings

        return load_settings(**overrides)

    def _engine(settings: Any) -> Any:
        from interactiveai.server.storage import migrate
        from interactiveai.server.storage.engines import create_db_engine

        engine = create_db_engine(settings.resolved_database_url)
        migrate.upgrade(engine)
        return engine

    database_options = [
        click.option("--data-dir", type=click.Path(path_type=Path), help="Data directory (INTERACTIVEAI_DATA_DIR)."),
        click.option(
            "--database-url", help="Database URL (INTERACTIVEAI_DATABASE_URL); default: SQLite in the data dir."
        ),
    ]

    def with_database_options(func: Any) -> Any:
        for option in reversed(database_options):
            func = option(func)
        return func

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(package_name="interactiveai")
    def cli() -> None:
        """InteractiveAI: LLM observability server and tools."""

    @cli.command("server")
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

        settings = _settings(
            host=host, port=port, data_dir=data_dir, database_url=database_url, workers=workers, log_level=log_level
        )
        click.echo(
            f"InteractiveAI listening on http://{settings.host}:{settings.port} (database: {_safe_url(settings)})"
        )
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

        engine = _engine(settings)
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

    cli.add_command(server, "serve")

    @cli.group()
    def db() -> None:
        """Database schema commands."""

    @db.command("upgrade")
    @with_database_options
    def db_upgrade(data_dir: Path | None, database_url: str | None) -> None:
        """Apply every pending migration."""
        from interactiveai.server.storage import migrate

        settings = _settings(data_dir=data_dir, database_url=database_url)
        engine = _engine(settings)
        click.echo(f"database at revision {migrate.current_revision(engine)}")

    @cli.command("demo")
    @click.option("--url", default="http://localhost:3000", show_default=True, help="Server URL.")
    @click.option("--public-key", envvar="INTERACTIVEAI_PUBLIC_KEY", required=True)
    @click.option("--secret-key", envvar="INTERACTIVEAI_SECRET_KEY", required=True)
    def demo_command(url: str, public_key: str, secret_key: str) -> None:
        """Send realistic demo traces to a running server through the real SDK."""
        from interactiveai.server.demo import load_demo

        count = load_demo(url, public_key, secret_key)
        click.echo(f"sent {count} demo traces to {url}")

    @cli.group()
    def projects() -> None:
        """List and create projects."""

    @projects.command("list")
    @with_database_options
    def projects_list(data_dir: Path | None, database_url: str | None) -> None:
        from interactiveai.server.tenancy import list_projects

        for project in list_projects(_engine(_settings(data_dir=data_dir, database_url=database_url))):
            click.echo(f"{project['id']}\t{project['name']}")

    @projects.command("create")
    @click.argument("name")
    @click.option("--id", "project_id", help="Project id (default: generated).")
    @with_database_options
    def projects_create(name: str, project_id: str | None, data_dir: Path | None, database_url: str | None) -> None:
        from interactiveai.server.tenancy import create_api_key, create_project

        engine = _engine(_settings(data_dir=data_dir, database_url=database_url))
        new_id = create_project(engine, name, project_id)
        key = create_api_key(engine, new_id)
        click.echo(f"project {new_id}\npublic key {key.public_key}\nsecret key {key.secret_key}")

    @projects.command("set-retention")
    @click.argument("project_id")
    @click.argument("days", type=int, required=False)
    @with_database_options
    def projects_set_retention(
        project_id: str, days: int | None, data_dir: Path | None, database_url: str | None
    ) -> None:
        """Keep PROJECT_ID's traces DAYS days (omit DAYS to keep them forever); older ones are deleted hourly."""
        from interactiveai.server.retention import set_retention

        try:
            found = set_retention(_engine(_settings(data_dir=data_dir, database_url=database_url)), project_id, days)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        if not found:
            raise click.ClickException(f"no project {project_id!r}")
        click.echo(f"project {project_id}: " + (f"traces kept {days} days" if days else "traces kept forever"))

    @cli.group()
    def keys() -> None:
        """Create, list and revoke API keys."""

    @keys.command("list")
    @click.option("--project", "project_id", help="Only this project's keys.")
    @with_database_options
    def keys_list(project_id: str | None, data_dir: Path | None, database_url: str | None) -> None:
        from interactiveai.server.tenancy import list_api_keys

        for key in list_api_keys(_engine(_settings(data_dir=data_dir, database_url=database_url)), project_id):
            click.echo(
                f"{key['id']}\t{key['project_id']}\t{key['public_key']}\t{key['display_secret']}\t{key['note'] or ''}"
            )

    @keys.command("create")
    @click.option("--project", "project_id", required=True)
    @click.option("--note")
    @with_database_options
    def keys_create(project_id: str, note: str | None, data_dir: Path | None, database_url: str | None) -> None:
        from interactiveai.server.tenancy import create_api_key

        key = create_api_key(_engine(_settings(data_dir=data_dir, database_url=database_url)), project_id, note=note)
        click.echo(f"public key {key.public_key}\nsecret key {key.secret_key}")

    @keys.command("revoke")
    @click.argument("key")
    @with_database_options
    def keys_revoke(key: str, data_dir: Path | None, database_url: str | None) -> None:
        """Revoke KEY (its id or public key)."""
        from interactiveai.server.tenancy import revoke_api_key

        if not revoke_api_key(_engine(_settings(data_dir=data_dir, database_url=database_url)), key):
            raise click.ClickException(f"no API key {key!r}")
        click.echo(f"revoked {key}")

    @cli.group()
    def models() -> None:
        """Per-project model price definitions (they win over the packaged catalog)."""

    @models.command("list")
    @click.option("--project", "project_id", required=True)
    @with_database_options
    def models_list(project_id: str, data_dir: Path | None, database_url: str | None) -> None:
        from interactiveai.server.costs.models import list_models

        definitions, _ = list_models(
            _engine(_settings(data_dir=data_dir, database_url=database_url)), project_id, limit=1000
        )
        for model in definitions:
            prices = ", ".join(f"{usage}={price:g}" for usage, price in sorted(model.prices.items()))
            click.echo(f"{model.id}\t{model.model_name}\t{model.match_pattern}\t{model.unit}\t{prices}")

    @models.command("create")
    @click.option("--project", "project_id", required=True)
    @click.option("--name", "model_name", required=True, help="Model name, e.g. my-finetune.")
    @click.option("--match", "match_pattern", required=True, help="Regex (RE2 syntax) matched against the model name.")
    @click.option("--input-price", type=float, help="USD per input unit (token).")
    @click.option("--output-price", type=float, help="USD per output unit (token).")
    @click.option("--price", "extra_prices", multiple=True, help="USAGE_TYPE=USD per unit, repeatable.")
    @click.option("--start-date", help="ISO date or date-time (UTC unless it has an offset) from which these apply.")
    @click.option("--unit", default="TOKENS", show_default=True)
    @with_database_options
    def models_create(
        project_id: str,
        model_name: str,
        match_pattern: str,
        input_price: float | None,
        output_price: float | None,
        extra_prices: tuple[str, ...],
        start_date: str | None,
        unit: str,
        data_dir: Path | None,
        database_url: str | None,
    ) -> None:
        from interactiveai.server.costs.models import (
            ModelConflictError,
            ModelValidationError,
            create_model,
            parse_start_date,
        )

        prices: dict[str, float] = {}
        for item in extra_prices:
            usage, _, value = item.partition("=")
            try:
                prices[usage.strip()] = float(value)
            except ValueError:  # no "=", or no number after it
                raise click.BadParameter(f"expected USAGE_TYPE=PRICE, got {item!r}", param_hint="--price") from None
        try:
            model = create_model(
                _engine(_settings(data_dir=data_dir, database_url=database_url)),
                project_id,
                model_name=model_name,
                match_pattern=match_pattern,
                start_date_us=parse_start_date(start_date) if start_date else None,
                unit=unit,
                prices=prices or None,
                input_price=input_price,
                output_price=output_price,
            )
        except (ModelValidationError, ModelConflictError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"model {model.id} ({model.model_name})")

    @models.command("delete")
    @click.option("--project", "project_id", required=True)
    @click.argument("model_id")
    @with_database_options
    def models_delete(project_id: str, model_id: str, data_dir: Path | None, database_url: str | None) -> None:
        from interactiveai.server.costs.models import delete_model

        if not delete_model(_engine(_settings(data_dir=data_dir, database_url=database_url)), project_id, model_id):
            raise click.ClickException(f"no model {model_id!r} in project {project_id!r}")
        click.echo(f"deleted {model_id}")

    @cli.group()
    def users() -> None:
        """Manage UI users."""

    def _strong_password(_ctx: Any, _param: Any, value: str) -> str:
        from interactiveai.server.passwords import WeakSecretError, check_password

        try:
            check_password(value, "the password")
        except WeakSecretError as exc:
            raise click.BadParameter(str(exc)) from None
        return value

    password_option = click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        callback=_strong_password,
        help="At least 12 characters (prompted for when not given).",
    )

    @users.command("create")
    @click.argument("email")
    @password_option
    @click.option("--project", "project_id", help="Give the user access to this project.")
    @click.option("--admin", is_flag=True, help="Administrator of every project.")
    @with_database_options
    def users_create(
        email: str, password: str, project_id: str | None, admin: bool, data_dir: Path | None, database_url: str | None
    ) -> None:
        from interactiveai.server.tenancy import add_membership, create_user

        engine = _engine(_settings(data_dir=data_dir, database_url=database_url))
        user_id = create_user(engine, email, password, is_admin=admin)
        if project_id:
            add_membership(engine, user_id, project_id)
        click.echo(f"user {user_id} ({email})")

    @users.command("set-password")
    @click.argument("email")
    @password_option
    @with_database_options
    def users_set_password(email: str, password: str, data_dir: Path | None, database_url: str | None) -> None:
        """Give EMAIL a new password and log out all their sessions."""
        from interactiveai.server.tenancy import set_password

        if not set_password(_engine(_settings(data_dir=data_dir, database_url=database_url)), email, password):
            raise click.ClickException(f"no user {email!r}")
        click.echo(f"new password set for {email}; their sessions are ended")

    @contextmanager
    def _refused_setup() -> Iterator[None]:
        """A weak INTERACTIVEAI_INIT_* secret stops the start with its message, not a traceback."""
        from interactiveai.server.passwords import WeakSecretError

        try:
            yield
        except WeakSecretError as exc:
            raise click.ClickException(f"refusing to start: {exc}") from None

    def _safe_url(settings: Any) -> str:
        from sqlalchemy.engine import make_url

        return make_url(settings.resolved_database_url).render_as_string(hide_password=True)

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
            click.echo(f"demo: loaded {count} traces into project {project_id}; open {settings.base_url}/")
        finally:
            revoke_api_key(engine, key.id)
