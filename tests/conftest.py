"""Shared fixtures: real databases (SQLite files, a PostgreSQL server), the app, a live server.

``--db sqlite|postgresql|all`` chooses the engines the ``database_url`` fixture runs on
(default: all when PostgreSQL binaries are installed). Nothing here mocks storage or the server.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import create_database, drop_database, postgres_available, postgres_server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql", "all"],
        default="all",
        help="Database engines for database-backed tests (default: all).",
    )


def _dialects(config: pytest.Config) -> list[str]:
    choice = config.getoption("--db")
    if choice == "all":
        return ["sqlite", "postgresql"] if postgres_available() else ["sqlite"]
    return [choice]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dialect" in metafunc.fixturenames:
        dialects = _dialects(metafunc.config)
        # Suites that check what a library's spans become (mapping, not storage) run on one engine:
        # the storage and query paths they reach are covered on every engine by the other suites.
        if metafunc.definition.get_closest_marker("engine_independent"):
            dialects = dialects[:1]
        metafunc.parametrize("dialect", dialects, scope="session")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def live_database_url(dialect: str, request: pytest.FixtureRequest) -> str | None:
    """The database for a live server subprocess: None (its own SQLite file) or a fresh PostgreSQL one."""
    if dialect == "postgresql":
        url = create_database(request.getfixturevalue("postgres_server_url"))
        request.addfinalizer(lambda: drop_database(url))
        return url
    return None


@pytest.fixture
def database_url(dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database on the engine under test (a PostgreSQL one is dropped after the
    test: a full run made ~8 GB of them)."""
    if dialect != "postgresql":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url = create_database(request.getfixturevalue("postgres_server_url"))
    yield url
    drop_database(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Any]:
    from interactiveai.server.storage import migrate
    from interactiveai.server.storage.engines import create_db_engine

    eng = create_db_engine(database_url, pool_size=5)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@dataclass
class Project:
    id: str
    public_key: str
    secret_key: str

    @property
    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.public_key}:{self.secret_key}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


@pytest.fixture
def app(engine: Any, tmp_path: Path) -> Any:
    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings

    settings = load_settings(data_dir=tmp_path, database_url=str(engine.url.render_as_string(hide_password=False)))
    return create_app(settings, engine=engine, first_start=False)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """An in-process HTTP client; the app's lifespan (ingest writer) runs for the test."""
    from fastapi.testclient import TestClient

    from tests.support.asgi_paths import ServerPaths

    with TestClient(ServerPaths(app)) as test_client:
        yield test_client


def _make_project(engine: Any, project_id: str) -> Project:
    from interactiveai.server.tenancy import create_api_key, create_project

    create_project(engine, f"Project {project_id}", project_id)
    key = create_api_key(engine, project_id, public_key=f"pk-{project_id}", secret_key=f"sk-{project_id}")
    return Project(project_id, key.public_key, key.secret_key)


@pytest.fixture
def project(engine: Any) -> Project:
    return _make_project(engine, "proj-a")


@pytest.fixture
def other_project(engine: Any) -> Project:
    return _make_project(engine, "proj-b")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: Playwright's sync API keeps an event loop running in the main thread
    while its session-scoped browser lives, which would break every asyncio test collected after it."""

    def is_browser(item: pytest.Item) -> bool:
        return item.get_closest_marker("browser") is not None or "test_browser" in item.nodeid

    items[:] = [item for item in items if not is_browser(item)] + [item for item in items if is_browser(item)]
