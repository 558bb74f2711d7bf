"""Virtual environments holding the third-party libraries our users run, for compatibility tests.

Libraries users already run (instrumentations, frameworks, the SDK they migrate from, in several
major versions) cannot share one environment with each other or with ours: they pin different
versions of the same packages, and two instrumentations of one client patch it twice. Each set
of requirements therefore gets its own virtual environment, created once with ``uv`` (fast, and
cached between runs under ``.cache/compat/``, keyed by the requirements), and scenario scripts run
in it as subprocesses that send to a real server of ours on loopback.

    venv = compat_venv("langfuse-v3", ["langfuse>=3,<4", "openai>=1.40"])
    result = venv.run(SCENARIOS / "peer_sdk_scores.py", env={...})

Our own package is not installed there: a scenario sees only what a user's application would.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("INTERACTIVEAI_COMPAT_CACHE", ROOT / ".cache" / "compat"))
INSTALL_TIMEOUT = 900


@dataclass(frozen=True)
class CompatVenv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def run(
        self, script: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run ``script`` with this environment's Python; raises with its output when it fails."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("INTERACTIVEAI_", "LANGFUSE_", "OTEL_"))}
        full_env.pop("PYTHONPATH", None)
        full_env.update(env or {})
        result = subprocess.run(
            [str(self.python), str(script), *args], env=full_env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise AssertionError(
                f"{script.name} failed ({result.returncode}):\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def version_of(self, distribution: str) -> str:
        code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
        return subprocess.run([str(self.python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def compat_venv(name: str, requirements: Sequence[str]) -> CompatVenv:
    """The environment ``name`` with ``requirements`` installed (created on first use, then reused)."""
    digest = hashlib.sha256("\n".join([sys.version, *sorted(requirements)]).encode()).hexdigest()[:12]
    path = CACHE / f"{name}-{digest}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:  # parallel test processes build it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path / ".complete").exists():
            shutil.rmtree(path, ignore_errors=True)
            uv = [sys.executable, "-m", "uv"]
            subprocess.run([*uv, "venv", "-q", "--python", sys.executable, str(path)], check=True, timeout=120)
            subprocess.run(
                [*uv, "pip", "install", "-q", "--python", str(path / "bin" / "python"), *requirements],
                check=True,
                timeout=INSTALL_TIMEOUT,
            )
            (path / ".complete").touch()
    return CompatVenv(path)
