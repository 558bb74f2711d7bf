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
    """api/ and ui/ read through query/; query/ never builds INSERT, UPDATE or DELETE statements."""
    writers = {"insert", "update", "delete"}
    for path in (PACKAGE / "server" / "query").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sqlalchemy"):
                imported = {alias.name for alias in node.names}
                assert not imported & writers, f"{path} imports {imported & writers} from {node.module}"
        assert "interactiveai.server.ingest" not in _imports(path), path
