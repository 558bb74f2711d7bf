"""Node.js packages for the Vercel AI SDK scenarios, installed once with npm into ``.cache/compat``.

The JavaScript counterpart of ``tests/support/compat_venv.py``: each set of packages gets its own
directory (keyed by the package specs and the Node version), installed with the ordinary npm
client within a bounded time and reused by later runs. Scenario scripts are CommonJS and find
the packages through ``NODE_PATH``, so they can stay in the repository.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.compat_venv import CACHE

INSTALL_TIMEOUT = 300


class NodeUnavailable(Exception):
    """Node.js or npm is missing, or npm could not install the packages (the reason is the message)."""


@dataclass(frozen=True)
class NodeEnv:
    path: Path

    def run(
        self, script: Path, env: Mapping[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``script`` with ``node``; raises with its output when it fails."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("INTERACTIVEAI_", "OTEL_"))}
        full_env["NODE_PATH"] = str(self.path.resolve() / "node_modules")
        full_env.update(env or {})
        result = subprocess.run(
            ["node", str(script)], env=full_env, capture_output=True, text=True, timeout=timeout, cwd=self.path
        )
        if result.returncode != 0:
            raise AssertionError(
                f"{script.name} failed ({result.returncode}):\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def version_of(self, package: str) -> str:
        manifest = json.loads((self.path / "node_modules" / package / "package.json").read_text())
        return str(manifest["version"])


def node_env(name: str, packages: Sequence[str]) -> NodeEnv:
    """The directory ``name`` with ``packages`` (npm specs) installed; created on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeUnavailable("node and npm are needed for the Vercel AI SDK scenarios and are not on PATH")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    digest = hashlib.sha256("\n".join([version, *sorted(packages)]).encode()).hexdigest()[:12]
    path = CACHE / f"node-{name}-{digest}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"node-{name}.lock", "w") as lock:  # parallel test processes install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path / ".complete").exists():
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
            (path / "package.json").write_text(json.dumps({"name": f"compat-{name}", "private": True}))
            command = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *packages]
            try:
                result = subprocess.run(command, cwd=path, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise NodeUnavailable(f"npm install {' '.join(packages)} took over {INSTALL_TIMEOUT} s") from None
            if result.returncode != 0:
                raise NodeUnavailable(f"npm install {' '.join(packages)} failed:\n{result.stderr[-2000:]}")
            (path / ".complete").touch()
    return NodeEnv(path)
