"""The `interactiveai` command as a user runs it: real subprocesses, a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.postgres import free_port


def _cli(*args: str, data_dir: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERACTIVEAI_")}
    return subprocess.run(
        [sys.executable, "-m", "interactiveai", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=check,
        timeout=120,
    )


def test_projects_and_keys_lifecycle(tmp_path: Path) -> None:
    assert "database at revision" in _cli("db", "upgrade", data_dir=tmp_path).stdout
    created = _cli("projects", "create", "Shop bot", "--id", "shop", data_dir=tmp_path).stdout
    assert "project shop" in created and "secret key sk-" in created
    assert "shop\tShop bot" in _cli("projects", "list", data_dir=tmp_path).stdout

    new_key = _cli("keys", "create", "--project", "shop", "--note", "ci", data_dir=tmp_path).stdout
    public_key = next(line.split()[-1] for line in new_key.splitlines() if line.startswith("public key"))
    listed = _cli("keys", "list", "--project", "shop", data_dir=tmp_path).stdout
    assert public_key in listed and "sk-" not in listed.replace("sk-ia-", "").split(public_key)[0]
    assert "revoked" in _cli("keys", "revoke", public_key, data_dir=tmp_path).stdout
    assert public_key not in _cli("keys", "list", data_dir=tmp_path).stdout
    failed = _cli("keys", "revoke", public_key, data_dir=tmp_path, check=False)
    assert failed.returncode != 0 and "no API key" in failed.stderr


def test_server_with_demo_data_serves_demo_traces(tmp_path: Path) -> None:
    """The README's first command ends with `interactiveai server --demo`: demo traces appear in the API."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERACTIVEAI_")}
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "interactiveai",
                "server",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path),
                "--demo",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 90
        while "demo: loaded" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        text = log.read_text()
        public_key = next(line.split()[-1] for line in text.splitlines() if "public key:" in line)
        secret_key = next(line.split()[-1] for line in text.splitlines() if "secret key:" in line)
        assert "login:" in text
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=(public_key, secret_key), timeout=30) as api:
            traces = api.get("/api/public/traces", params={"limit": 100}).json()
            assert traces["meta"]["totalItems"] >= 12
            data = [t for t in traces["data"] if t["name"] == "support-chat"]
            assert len({t["userId"] for t in data}) == 5
            assert len({t["sessionId"] for t in data}) >= 10
            assert all(t["observationCount"] >= 5 and t["totalTokens"] > 0 for t in data)
            assert any(t["scores"] for t in data)
            detail = api.get(f"/api/public/traces/{data[0]['id']}").json()
            types = {o["type"] for o in detail["observations"]}
            assert {"AGENT", "RETRIEVER", "EMBEDDING", "GENERATION", "GUARDRAIL", "CHAIN"} <= types
            assert len(api.get("/api/public/sessions").json()["data"]) >= 10
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_model_definitions_from_the_cli(tmp_path: Path) -> None:
    _cli("projects", "create", "Costs", "--id", "costs", data_dir=tmp_path)
    created = _cli(
        "models",
        "create",
        "--project",
        "costs",
        "--name",
        "my-finetune",
        "--match",
        "(?i)^my-finetune(-v\\d+)?$",
        "--input-price",
        "0.000002",
        "--output-price",
        "0.000008",
        "--price",
        "input_cached_tokens=0.000001",
        data_dir=tmp_path,
    ).stdout
    model_id = created.split()[1]
    listed = _cli("models", "list", "--project", "costs", data_dir=tmp_path).stdout
    assert "my-finetune" in listed and "input_cached_tokens=1e-06" in listed and "output=8e-06" in listed
    bad = _cli(
        "models",
        "create",
        "--project",
        "costs",
        "--name",
        "x",
        "--match",
        "(",
        "--input-price",
        "1",
        data_dir=tmp_path,
        check=False,
    )
    assert bad.returncode != 0 and "Error" in bad.stderr
    assert "deleted" in _cli("models", "delete", "--project", "costs", model_id, data_dir=tmp_path).stdout
    assert "my-finetune" not in _cli("models", "list", "--project", "costs", data_dir=tmp_path).stdout


def test_project_retention_from_the_cli(tmp_path: Path) -> None:
    _cli("projects", "create", "Short-lived", "--id", "short", data_dir=tmp_path)
    assert "kept 30 days" in _cli("projects", "set-retention", "short", "30", data_dir=tmp_path).stdout
    assert "kept forever" in _cli("projects", "set-retention", "short", data_dir=tmp_path).stdout
    assert _cli("projects", "set-retention", "short", "0", data_dir=tmp_path, check=False).returncode != 0
    assert _cli("projects", "set-retention", "nope", "3", data_dir=tmp_path, check=False).returncode != 0


WORKERS_SECRET = "sk-w-" + "7e3f" * 8


def test_several_worker_processes_share_one_database(tmp_path: Path) -> None:
    """`--workers 2`: set-up happens once, both processes serve, every acknowledged span is stored once."""
    from interactiveai import InteractiveAI

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERACTIVEAI_")}
    env.update(INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY="pk-w", INTERACTIVEAI_INIT_PROJECT_SECRET_KEY=WORKERS_SECRET)
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "interactiveai",
                "server",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path),
                "--workers",
                "2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete") < 2:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert log.read_text().count("first start") == 1
        client = InteractiveAI(public_key="pk-w", secret_key=WORKERS_SECRET, host=url, flush_at=10)
        for index in range(60):
            with client.start_as_current_observation(name=f"request-{index}") as span:
                span.update(output=index)
        assert client.flush(timeout=30)
        client.shutdown(timeout=10)
        with httpx.Client(base_url=url, auth=("pk-w", WORKERS_SECRET), timeout=30) as api:
            assert api.get("/api/public/traces", params={"limit": 100}).json()["meta"]["totalItems"] == 60
    finally:
        process.terminate()
        process.wait(timeout=20)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERACTIVEAI_")}
    env.update(extra)
    return env


def test_a_weak_init_secret_stops_the_server_with_a_clear_message(tmp_path: Path) -> None:
    for workers in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-m", "interactiveai", "server", "--port", str(free_port()), "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            env=_env(
                INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY="pk-a",
                INTERACTIVEAI_INIT_PROJECT_SECRET_KEY="sk-a",
                INTERACTIVEAI_WORKERS=workers,
            ),
            timeout=120,
        )
        assert result.returncode == 1, result.stderr
        assert "Error: refusing to start: INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY" in result.stderr
        assert "at least 32 characters" in result.stderr and "Traceback" not in result.stderr


def test_users_get_passwords_of_at_least_12_characters_and_can_change_them(tmp_path: Path) -> None:
    short = _cli("users", "create", "a@example.com", "--password", "eleven char", data_dir=tmp_path, check=False)
    assert short.returncode != 0 and "at least 12 characters" in short.stderr
    created = _cli("users", "create", "a@example.com", "--password", "twelve chars", data_dir=tmp_path)
    assert "user user-" in created.stdout
    changed = _cli("users", "set-password", "a@example.com", "--password", "another good one", data_dir=tmp_path)
    assert "sessions are ended" in changed.stdout
    unknown = _cli(
        "users", "set-password", "b@example.com", "--password", "another good one", data_dir=tmp_path, check=False
    )
    assert unknown.returncode != 0 and "no user" in unknown.stderr
