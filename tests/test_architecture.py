"""The SDK never imports the server (DESIGN §1): `pip install interactiveai` must work without it."""

from __future__ import annotations

import ast
from pathlib import Path

import interactiveai

PACKAGE = Path(interactiveai.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_sdk_never_imports_server() -> None:
    sdk_files = [*(PACKAGE / "sdk").rglob("*.py"), PACKAGE / "__init__.py"]
    for path in sdk_files:
        offending = {name for name in _imports(path) if name.startswith("interactiveai.server")}
        assert not offending, f"{path} imports {offending}"


def test_sdk_imports_no_server_dependencies() -> None:
    server_only = {"fastapi", "starlette", "sqlalchemy", "alembic", "jinja2", "uvicorn", "click", "genai_prices"}
    for path in [*(PACKAGE / "sdk").rglob("*.py"), PACKAGE / "__init__.py"]:
        roots = {name.split(".")[0] for name in _imports(path)}
        assert not roots & server_only, f"{path} imports server-only packages {roots & server_only}"


def test_query_layer_never_writes() -> None:
    """api/ and ui/ read through query/; query/ holds no INSERT/UPDATE/DELETE statements."""
    for path in (PACKAGE / "server" / "query").rglob("*.py"):
        names = _imports(path)
        source = path.read_text()
        assert "insert(" not in source and "update(" not in source and "delete(" not in source, path
        assert "interactiveai.server.ingest" not in names, path
