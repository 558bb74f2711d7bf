"""The provider the SDK creates: its default service name (the entry script's, unless the user set one)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from interactiveai.sdk.pipeline import entry_service_name

_SCRIPT = textwrap.dedent(
    """
    from opentelemetry import trace
    from interactiveai import InteractiveAI

    client = InteractiveAI(public_key="pk-test", secret_key="sk-test", host="http://127.0.0.1:9")
    print("service:", trace.get_tracer_provider().resource.attributes["service.name"])
    client.shutdown(timeout=0.1)
    """
)


@pytest.mark.parametrize(
    ("argv0", "module", "expected"),
    [
        ("/srv/app/support_bot.py", None, "support_bot"),
        ("bot.pyw", None, "bot"),
        ("/usr/local/bin/uvicorn", None, "uvicorn"),
        ("/srv/app/pkg/__main__.py", "pkg.__main__", "pkg"),
        ("/srv/app/pkg/jobs.py", "pkg.jobs", "pkg.jobs"),
        ("/srv/app/tool.pyz", "__main__", "tool"),  # a zip application
        ("-c", None, None),
        ("", None, None),  # the interactive interpreter
    ],
)
def test_entry_service_name(argv0: str, module: str | None, expected: str | None) -> None:
    spec = SimpleNamespace(name=module) if module else None
    assert entry_service_name(argv0, spec) == expected


def _service_of(args: list[str], cwd: Path, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("INTERACTIVEAI_", "OTEL_"))}
    out = subprocess.run(
        [sys.executable, *args], cwd=cwd, env={**environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return next(line.split(": ", 1)[1] for line in out.stdout.splitlines() if line.startswith("service: "))


def test_a_script_names_the_service_unless_the_user_did(tmp_path: Path) -> None:
    (tmp_path / "support_bot.py").write_text(_SCRIPT)
    assert _service_of(["support_bot.py"], tmp_path) == "support_bot"
    assert _service_of(["support_bot.py"], tmp_path, OTEL_SERVICE_NAME="checkout") == "checkout"
    resource = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,service.name=billing"}
    assert _service_of(["support_bot.py"], tmp_path, **resource) == "billing"


def test_python_dash_m_names_the_service_after_the_module(tmp_path: Path) -> None:
    (tmp_path / "ragapp").mkdir()
    (tmp_path / "ragapp" / "__init__.py").write_text("")
    (tmp_path / "ragapp" / "__main__.py").write_text(_SCRIPT)
    assert _service_of(["-m", "ragapp"], tmp_path) == "ragapp"
