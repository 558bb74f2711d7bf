"""The user docs are tested: every setting, env var, CLI option, public name and API route is documented,
and the README quick start and the SDK guide's examples run against a real server.

One live server (a real ``interactiveai server`` subprocess on a temp SQLite file) serves the module.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
import httpx
import pytest

import interactiveai
from interactiveai.cli import cli
from interactiveai.sdk.client import InteractiveAI
from interactiveai.sdk.observe import PARENT_ID_KWARG, PUBLIC_KEY_KWARG, TRACE_ID_KWARG, observe
from interactiveai.sdk.propagation import propagate_attributes
from interactiveai.sdk.settings import RELEASE_FALLBACK_VARS, SETTINGS
from interactiveai.server.settings import Settings, env_name
from tests.support.fake_openai import fake_openai
from tests.support.live_server import LiveServer, live_server

ROOT = Path(__file__).resolve().parents[1]
SDK_DOC = (ROOT / "docs" / "sdk.md").read_text()
EVALUATION_DOC = (ROOT / "docs" / "evaluation.md").read_text()
SERVER_DOC = (ROOT / "docs" / "server.md").read_text()
README = (ROOT / "README.md").read_text()
ENV_VAR = re.compile(r"INTERACTIVEAI_[A-Z0-9_]*[A-Z0-9]")
SHARED_DB_OPTIONS = ("--data-dir", "--database-url")


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, re.S | re.M)


def table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def row_with(markdown: str, first_cell: str) -> str:
    """The table row whose first cell is (or starts with) ``first_cell`` in backticks."""
    rows = [row for row in table_rows(markdown) if row.startswith(f"| `{first_cell}")]
    assert rows, f"no table row for {first_cell!r}"
    return rows[0]


def doc_default(value: Any) -> str:
    """How a default is written in the docs' tables."""
    if value is None or value == "":
        return "unset" if value is None else "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def source_env_vars(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "src" / "interactiveai" / package).rglob("*.py"):
        found.update(ENV_VAR.findall(path.read_text()))
    return found


# -- (a) SDK settings, (d) public names ---------------------------------------------------------


def test_every_sdk_env_var_is_in_the_settings_table_with_its_default() -> None:
    for name, setting in SETTINGS.items():
        row = next((r for r in table_rows(SDK_DOC) if f"`{name}`" in r), None)
        assert row is not None, f"{name} is not in docs/sdk.md's settings table"
        assert doc_default(setting.default) in row, f"{name}: default {setting.default!r} not in {row!r}"
    for name in RELEASE_FALLBACK_VARS:
        assert f"`{name}`" in SDK_DOC, name
    undeclared = source_env_vars("sdk") - set(SETTINGS) - set(RELEASE_FALLBACK_VARS)
    assert undeclared <= {"INTERACTIVEAI"}, f"env vars read by the SDK but missing from SETTINGS: {undeclared}"


def test_every_constructor_argument_is_in_the_settings_table() -> None:
    rows = table_rows(SDK_DOC)
    for name in inspect.signature(InteractiveAI.__init__).parameters:
        if name != "self":
            assert any(row.startswith(f"| `{name}` |") for row in rows), f"InteractiveAI({name}=...) undocumented"


def test_decorator_and_propagation_parameters_are_documented() -> None:
    for name in inspect.signature(observe).parameters:
        if name != "func":
            assert row_with(SDK_DOC, name), name
    for keyword in (TRACE_ID_KWARG, PARENT_ID_KWARG, PUBLIC_KEY_KWARG):
        assert row_with(SDK_DOC, keyword)
    for name in inspect.signature(propagate_attributes).parameters:
        assert f"`{name}`" in SDK_DOC, f"propagate_attributes({name}=...) undocumented"


def test_every_public_name_is_in_the_sdk_guide() -> None:
    missing = [name for name in interactiveai.__all__ if f"`{name}`" not in SDK_DOC]
    assert not missing, f"interactiveai.__all__ names missing from docs/sdk.md: {missing}"


# -- (b) server settings, (c) CLI -----------------------------------------------------------------


def test_every_server_setting_is_in_the_settings_table() -> None:
    for field in dataclasses.fields(Settings):
        row = row_with(SERVER_DOC, f"{field.name}`")
        assert f"`{env_name(field.name)}`" in row, f"{field.name}: env var missing from {row!r}"
        if field.default is not dataclasses.MISSING:
            assert doc_default(field.default) in row, f"{field.name}: default {field.default!r} not in {row!r}"


def test_every_server_env_var_is_documented() -> None:
    init_vars = {v for v in source_env_vars("server") if v.startswith("INTERACTIVEAI_INIT_")}
    assert len(init_vars) >= 6, init_vars
    for name in init_vars:
        assert row_with(SERVER_DOC, name), name
    for name in source_env_vars("server") | set(
        ENV_VAR.findall("".join(p.read_text() for p in (ROOT / "src/interactiveai/cli").glob("*.py")))
    ):
        assert name in SERVER_DOC, f"{name} is read by the server or CLI but not in docs/server.md"


def walk_commands(group: click.Group, prefix: str = "interactiveai") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from walk_commands(command, path)


def test_every_cli_command_and_option_is_documented() -> None:
    for param in cli.params:
        for opt in param.opts:
            assert f"`interactiveai {opt}`" in SERVER_DOC, opt
    for opt in cli.context_settings["help_option_names"]:
        assert f"`{opt}`" in SERVER_DOC, opt
    shared_sentence = next(line for line in SERVER_DOC.splitlines() if "`--data-dir DIR`" in line)
    assert "`--database-url URL`" in shared_sentence
    documented: dict[int, str] = {}
    commands = list(walk_commands(cli))
    assert len(commands) >= 15
    for path, command in commands:
        if isinstance(command, click.Group):
            assert f"`{path} " in SERVER_DOC, f"group {path!r} undocumented"
            continue
        if id(command) in documented:  # an alias: named next to the command it stands for
            assert f"`{path}`" in SERVER_DOC, f"alias {path!r} undocumented"
            continue
        row = row_with(SERVER_DOC, path)
        documented[id(command)] = path
        for param in command.params:
            if isinstance(param, click.Argument):
                assert (param.name or "").upper() in row, f"{path}: argument {param.name} not in {row!r}"
                continue
            for opt in param.opts:
                if opt not in SHARED_DB_OPTIONS:
                    assert opt in row, f"{path}: option {opt} not in {row!r}"


# -- API routes -------------------------------------------------------------------------------------


def test_every_api_route_is_documented(server: LiveServer) -> None:
    spec = httpx.get(server.url + "/api/public/openapi.json").json()
    assert "/api/public/docs" in SERVER_DOC and "/api/public/openapi.json" in SERVER_DOC
    for path, operations in spec["paths"].items():
        for method in operations:
            needle = f"{method.upper()} {path}"
            if path.startswith("/api/public/v2/") and method == "get":
                needle = path  # v2 read paths are named next to their v1 twin
            assert needle in SERVER_DOC, f"{needle} is served but not in docs/server.md"


# -- (e) the README quick start, (f) the SDK guide's examples ---------------------------------------


EXAMPLE_ENV: dict[str, str] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("docs-server")) as running, fake_openai() as openai_api:
        # The integration examples call OpenAI: the fake server answers, as configured by the environment.
        EXAMPLE_ENV.update(OPENAI_BASE_URL=openai_api.base_url, OPENAI_API_KEY="sk-docs-example")
        # "Multiple projects" sends to a second project, made as the guide says, with the CLI.
        created = subprocess.run(
            [sys.executable, "-m", "interactiveai", "projects", "create", "Other project"],
            env={**sdk_env(running), "INTERACTIVEAI_DATABASE_URL": running.database_url},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        keys = dict(line.rsplit(" ", 1) for line in created.splitlines())
        EXAMPLE_ENV.update(OTHER_PROJECT_PUBLIC_KEY=keys["public key"], OTHER_PROJECT_SECRET_KEY=keys["secret key"])
        yield running


def sdk_env(server: LiveServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERACTIVEAI_")}
    env.update(
        INTERACTIVEAI_PUBLIC_KEY=server.public_key,
        INTERACTIVEAI_SECRET_KEY=server.secret_key,
        INTERACTIVEAI_HOST=server.url,
    )
    env.update(EXAMPLE_ENV)
    return env


def run_example(code: str, server: LiveServer, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=sdk_env(server), cwd=cwd, capture_output=True, text=True, timeout=120
    )


def api(server: LiveServer, path: str, **params: Any) -> Any:
    response = httpx.get(server.url + "/api/public" + path, params=params, headers=server.auth_header, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def one_trace(server: LiveServer, name: str) -> dict[str, Any]:
    found = api(server, "/traces", name=name)["data"]
    assert len(found) == 1, f"expected one trace named {name!r}, got {len(found)}"
    trace: dict[str, Any] = api(server, f"/traces/{found[0]['id']}")
    return trace


def test_readme_quick_start_runs_and_its_trace_arrives(server: LiveServer, tmp_path: Path) -> None:
    blocks = python_blocks(README)
    assert len(blocks) == 1, "the README has one python block: the SDK quick start"
    result = run_example(blocks[0], server, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "disabled" not in result.stderr, result.stderr

    trace = one_trace(server, "handle_request")
    assert (trace["userId"], trace["sessionId"], trace["tags"]) == ("user-1", "chat-7", ["prod"])
    generation = next(o for o in trace["observations"] if o["type"] == "GENERATION")
    assert generation["name"] == "answer" and generation["model"] == "gpt-4o-mini"
    assert generation["usageDetails"] == {"input": 12, "output": 5, "total": 17}
    assert (trace["inputTokens"], trace["outputTokens"], trace["totalTokens"]) == (12, 5, 17)
    assert trace["totalCost"] > 0  # priced from the packaged catalog


def test_sdk_examples_compile() -> None:
    blocks = python_blocks(SDK_DOC)
    assert len(blocks) >= 15
    for number, code in enumerate(blocks, 1):
        compile(code, f"docs/sdk.md python block {number}", "exec")


def test_sdk_examples_run_and_their_traces_arrive(server: LiveServer, tmp_path: Path) -> None:
    blocks = python_blocks(SDK_DOC)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda code: run_example(code, server, tmp_path), blocks))
    for number, result in enumerate(results, 1):
        assert result.returncode == 0, f"docs/sdk.md python block {number} failed:\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"block {number}:\n{result.stderr}"

    assert one_trace(server, "pipeline")["output"] == "Paris"
    assert one_trace(server, "stream")["output"] == "HELLO"  # transform_to_string

    chat = one_trace(server, "chat-turn")
    assert {o["type"] for o in chat["observations"]} == {
        "AGENT", "CHAIN", "TOOL", "GENERATION", "RETRIEVER", "EMBEDDING", "EVALUATOR", "GUARDRAIL", "EVENT"
    }  # fmt: skip
    support = one_trace(server, "support-chat")
    assert (support["userId"], support["sessionId"], support["metadata"]) == ("user-42", "session-9", {"plan": "pro"})

    conversation = one_trace(server, "conversation")
    assert (conversation["userId"], conversation["sessionId"]) == ("user-1", "chat-7")
    assert sorted(conversation["tags"]) == ["beta", "prod"] and conversation["metadata"] == {"tier": "free"}

    ticket_id = interactiveai.create_trace_id(seed="support-ticket-4711")
    ticket = api(server, f"/traces/{ticket_id}")
    assert ticket["name"] == "handle_ticket"
    assert [s["name"] for s in api(server, "/scores", traceId=ticket_id)["data"]] == ["resolved"]

    scored = {s["name"]: s for s in api(server, "/scores", traceId=one_trace(server, "answer")["id"])["data"]}
    assert set(scored) == {"relevance", "user-feedback"} and scored["relevance"]["observationId"]
    assert (scored["user-feedback"]["dataType"], scored["user-feedback"]["value"]) == ("BOOLEAN", 1)
    graded = one_trace(server, "graded")
    assert {s["name"] for s in api(server, "/scores", traceId=graded["id"])["data"]} == {
        "accuracy", "category", "reviewed"
    }  # fmt: skip

    upstream = one_trace(server, "upstream")  # the downstream span joined the caller's trace
    assert upstream["userId"] == "user-3" and upstream["observationCount"] == 2
    assert one_trace(server, "upstream-job")["observationCount"] == 2
    assert one_trace(server, "fan_out")["observationCount"] == 7  # every worker span nested

    paid = one_trace(server, "pay")
    assert "4111" not in str(paid["input"]) + str(paid["output"]) and paid["output"] == "charged [card]"

    other_keys = EXAMPLE_ENV["OTHER_PROJECT_PUBLIC_KEY"] + ":" + EXAMPLE_ENV["OTHER_PROJECT_SECRET_KEY"]
    other = base64.b64encode(other_keys.encode()).decode()
    routed = httpx.get(
        server.url + "/api/public/traces", params={"name": "job"}, headers={"Authorization": f"Basic {other}"}
    ).json()["data"]
    assert [t["tags"] for t in routed] == [["routed"]]  # in the second project only
    assert api(server, "/traces", name="job")["data"] == []

    third_party = one_trace(server, "request")
    assert sorted(o["name"] for o in third_party["observations"]) == ["request", "rerank"]  # HTTP span filtered


def anchor(heading: str) -> str:
    """GitHub's anchor of a markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_the_docs_resolve() -> None:
    docs = {path.name: path.read_text() for path in (ROOT / "docs").glob("*.md")}
    anchors = {name: {anchor(h) for h in re.findall(r"^#+ (.*)$", text, re.M)} for name, text in docs.items()}
    for name in docs:
        for target, fragment in re.findall(r"\]\(([\w.]*\.md)?(?:#([\w-]+))?\)", docs[name]):
            target = target or name
            assert target in docs, f"{name} links to a missing {target}"
            assert not fragment or fragment in anchors[target], f"{name}: no heading #{fragment} in {target}"
    for target in re.findall(r"\]\((docs/[\w.]+)\)", README):
        assert (ROOT / target).is_file(), target


def test_evaluation_walkthrough_runs_and_its_runs_and_scores_arrive(server: LiveServer, tmp_path: Path) -> None:
    blocks = python_blocks(EVALUATION_DOC)
    assert len(blocks) == 3
    outputs = []
    for number, code in enumerate(blocks, 1):  # in order: the experiment reads the dataset made first
        result = run_example(code, server, tmp_path)
        assert result.returncode == 0, f"docs/evaluation.md python block {number} failed:\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"block {number}:\n{result.stderr}"
        outputs.append(result.stdout)

    run = api(server, "/datasets/capitals/runs/baseline")
    assert run["metadata"] == {"model": "lookup-v1"} and len(run["datasetRunItems"]) == 4
    assert "succeeded: 4, failed: 0" in outputs[1] and "exact_match: mean 0.75 (n=4)" in outputs[1]
    assert f"/runs/{run['id']}" in outputs[1]
    run_scores = api(server, "/v2/scores", datasetRunId=run["id"])["data"]
    assert [(s["name"], s["value"]) for s in run_scores] == [("accuracy", 0.75)]
    trace_id = run["datasetRunItems"][0]["traceId"]
    assert {s["name"] for s in api(server, "/scores", traceId=trace_id)["data"]} == {"exact_match", "answer_length"}
    assert "correct: mean 1 (n=2)" in outputs[2] and "output: HELLO" in outputs[2]
