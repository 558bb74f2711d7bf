"""Run the Schemathesis CLI against a served app and read its failures back from the NDJSON report.

The CLI (``schemathesis run``) is Schemathesis' stable interface and runs every phase: examples,
coverage (boundary and invalid values derived from the schema), fuzzing and stateful sequences.
Its events report holds each failing request and response, which become a short grouped list.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fuzz.unstated import UnstatedRule

CONFIG = Path(__file__).with_name("schemathesis.toml")


@dataclass(frozen=True)
class Failure:
    operation: str
    code: str
    title: str
    message: str
    request: str
    body: str
    status: int | None
    response: str


@dataclass
class Run:
    returncode: int
    output: str
    seconds: float
    failures: list[Failure] = field(default_factory=list)
    cases: int = 0
    expected: dict[UnstatedRule, int] = field(default_factory=dict)

    def allow(self, rules: list[UnstatedRule]) -> None:
        """Set aside the failures that only show a rule of ``rules`` at work, counting them per rule."""
        kept = []
        for failure in self.failures:
            rule = next((r for r in rules if _allowed(r, failure)), None)
            if rule is None:
                kept.append(failure)
            else:
                self.expected[rule] = self.expected.get(rule, 0) + 1
        self.failures = kept

    def expected_report(self) -> str:
        lines = [f"rules the document cannot state, answered 400 as expected: {sum(self.expected.values())}"]
        for rule, count in sorted(self.expected.items(), key=lambda item: (item[0].operation, -item[1])):
            lines.append(f"  x{count} {rule.operation}: {rule.why}")
        return "\n".join(lines)

    def report(self, limit: int = 200) -> str:
        """One line per (operation, check, status), with the shortest failing request as the example."""
        groups: dict[tuple[str, str, int | None, str], list[Failure]] = {}
        for f in self.failures:
            groups.setdefault((f.operation, f.code, f.status, f.request.split(" ", 1)[0]), []).append(f)
        codes: dict[str, int] = {}
        for f in self.failures:
            codes[f"{f.code} {f.title}"] = codes.get(f"{f.code} {f.title}", 0) + 1
        lines = [
            f"schemathesis: {len(self.failures)} failing check(s) in {self.cases} test cases,"
            f" {len(groups)} group(s) (exit {self.returncode}, {self.seconds:.0f}s)",
            "  by check: " + ", ".join(f"{code}: {count}" for code, count in sorted(codes.items())),
        ]
        for (operation, code, status, method), items in sorted(groups.items(), key=_severity)[:limit]:
            example = min(items, key=lambda f: len(f.request) + len(f.body))
            sent = f" (sent as {method})" if not operation.startswith(method + " ") else ""
            lines.append(f"  {code} {example.title}: {operation}{sent} -> {status} (x{len(items)})")
            if example.message:
                lines.append("      " + example.message.replace("\n", " | ")[:300])
            lines.append(f"      {example.request[:500]}" + (f"  body={example.body[:300]}" if example.body else ""))
            lines.append(f"      response: {example.response[:300]}")
        return "\n".join(lines)


def _allowed(rule: UnstatedRule, failure: Failure) -> bool:
    """Whether ``failure`` is only ``rule`` at work: a schema-valid request refused for it (ST202, 400)."""
    if failure.code != "ST202" or failure.status != 400:
        return False
    try:
        message = json.loads(failure.response).get("message", "")
        body = json.loads(failure.body) if failure.body else None
    except (ValueError, AttributeError):
        return False
    return rule.explains(failure.operation, str(message), body)


def _severity(item: tuple[tuple[str, str, int | None, str], list[Failure]]) -> tuple[int, str, str]:
    (operation, code, _status, _method), _ = item
    return (0 if code == "ST101" else 1, code, operation)  # server errors first


def run_schemathesis(
    schema_path: Path, base_url: str, auth: tuple[str, str], report_dir: Path, *, max_examples: int, timeout: float
) -> Run:
    """``schemathesis run`` on ``schema_path`` against ``base_url``; the failures from its NDJSON events."""
    ndjson = report_dir / "events.ndjson"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        str(schema_path),
        "--url",
        base_url,
        "--auth",
        f"{auth[0]}:{auth[1]}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(max_examples),
        "--report",
        "ndjson",
        "--report-dir",
        str(report_dir),
        "--report-ndjson-path",
        str(ndjson),
    ]
    started = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=report_dir, stdin=subprocess.DEVNULL
    )
    output = done.stdout + done.stderr
    run = Run(done.returncode, output, time.perf_counter() - started)
    if done.returncode not in (0, 1) or not ndjson.exists():
        raise RuntimeError(f"schemathesis did not run (exit {done.returncode}):\n{output[-5000:]}")
    run.failures, run.cases = read_failures(ndjson)
    return run


def read_failures(ndjson: Path) -> tuple[list[Failure], int]:
    failures: dict[tuple[str, str, str, str], Failure] = {}
    cases = 0
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder") or {}
        interactions = recorder.get("interactions") or {}
        cases += len(recorder.get("cases") or {})
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                info = (check.get("failure_info") or {}).get("failure") or {}
                interaction = interactions.get(case_id) or {}
                request = interaction.get("request") or {}
                response = interaction.get("response") or {}
                uri = re.sub(r"^https?://[^/]+", "", request.get("uri", ""))
                failure = Failure(
                    operation=info.get("operation") or recorder.get("label", "?"),
                    code=info.get("code", "?"),
                    title=info.get("title", check.get("name", "?")),
                    message=info.get("message") or "",
                    request=f"{request.get('method', '?')} {uri}",
                    body=_text(request.get("body")),
                    status=response.get("status_code"),
                    response=_text(response.get("content")),
                )
                failures.setdefault((failure.operation, failure.code, failure.request, failure.body), failure)
    return list(failures.values()), cases


def _text(value: Any) -> str:
    if isinstance(value, dict) and "$base64" in value:
        return base64.b64decode(value["$base64"]).decode("utf-8", "backslashreplace")
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
