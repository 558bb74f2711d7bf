"""Fuzz OTLP ingestion with hostile exports (protobuf and JSON), then read everything back.

Every answer must be 200 or a 4xx; a 5xx, or an exception the in-process client re-raises, is a
failure. Failures are collected rather than raised inside Hypothesis, so the run is bounded (no
shrinking of multi-megabyte inputs) and reports every distinct fault with its smallest example.
Then the read-back sweep reads every stored row through every endpoint and UI page, and another
project's rows must be unchanged.
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import Project
from tests.fuzz.conftest import fuzz_examples, fuzz_timeout, seed_project
from tests.fuzz.otlp_exports import Export, json_exports, protobuf_exports
from tests.support.read_back import project_rows, read_back

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES_PER_BUDGET = 4  # OTLP examples per encoding = 4 x the budget (100 at the CI default)


@dataclass
class Collected:
    """Failing posts grouped by what went wrong; the smallest body of each group is its repro."""

    groups: dict[str, list[tuple[Export, str]]] = field(default_factory=dict)
    posts: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    rejections: dict[str, int] = field(default_factory=dict)  # 4xx messages, digits masked: what was refused

    def rejected(self, limit: int = 12) -> str:
        top = sorted(self.rejections.items(), key=lambda kv: -kv[1])[:limit]
        return "\n".join(f"  {count:4d}x {reason}" for reason, count in top)

    def add(self, key: str, export: Export, detail: str) -> None:
        self.groups.setdefault(key, []).append((export, detail))

    def report(self) -> str:
        lines = [
            f"OTLP fuzz: {sum(len(v) for v in self.groups.values())} failing post(s) of {self.posts},"
            f" {len(self.groups)} distinct; statuses {dict(sorted(self.statuses.items()))}"
        ]
        for key, items in sorted(self.groups.items()):
            export, detail = min(items, key=lambda item: len(item[0].body))
            lines.append(f"  [{len(items)}x] {key}")
            lines.append(f"      smallest: {export!r}"[:4000])
            lines.append(f"      repro: {export.curl()}"[:6000])
            lines.append(f"      {detail}"[:2000])
        return "\n".join(lines)


def failure_key(status: int | None, text: str) -> str:
    """What identifies a fault: the status, and the exception line and our deepest frame when there is one."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    frames = [line.strip() for line in lines if line.strip().startswith("File ") and "/interactiveai/" in line]
    last = re.sub(r"\d{3,}", "N", lines[-1] if lines else "")[:200]
    where = re.sub(r"^File \".*?/src/", "", frames[-1]) if frames else ""
    return f"{status if status is not None else 'exception'} {last} {where}".strip()


def fuzz_ingestion(
    client: Any, project: Project, strategy: st.SearchStrategy[Export], examples: int
) -> tuple[Collected, float]:
    collected = Collected()

    @settings(
        max_examples=examples,
        derandomize=True,  # the same examples on every run and machine
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # failures are collected, never raised: nothing to shrink
        print_blob=False,
    )
    @given(export=strategy)
    def post(export: Export) -> None:
        collected.posts += 1
        try:
            response = client.post(export.path, content=export.body, headers={**project.headers, **export.headers})
        except Exception:  # the in-process client re-raises what the server did not handle
            text = traceback.format_exc()
            collected.add(failure_key(None, text), export, text[-3000:])
            return
        status = response.status_code
        collected.statuses[status] = collected.statuses.get(status, 0) + 1
        if 400 <= status < 500:
            reason = re.sub(r"\d+", "N", response.text[:120])
            collected.rejections[reason] = collected.rejections.get(reason, 0) + 1
        if status != 200 and not 400 <= status < 500:
            collected.add(failure_key(status, response.text), export, response.text[:1000])

    started = time.perf_counter()
    post()
    return collected, time.perf_counter() - started


def run_fuzz(
    client: Any,
    engine: Any,
    project: Project,
    other_project: Project,
    ui_member: Any,
    strategy: Callable[[], st.SearchStrategy[Export]],
) -> None:
    seed_project(client, other_project, "b")
    other_before = project_rows(engine, other_project.id)
    collected, seconds = fuzz_ingestion(client, project, strategy(), fuzz_examples() * EXAMPLES_PER_BUDGET)
    sweep = read_back(client, engine, project.id, project.headers, ui_member)
    other_after = project_rows(engine, other_project.id)
    changed = sorted(table for table in other_before if other_before[table] != other_after.get(table))
    print(
        f"otlp fuzz: {collected.posts} posts in {seconds:.1f}s, statuses {collected.statuses};"
        f" sweep {sweep.requests} requests in {sweep.seconds:.1f}s\nmost frequent 4xx:\n{collected.rejected()}"
    )
    if collected.groups or sweep.problems or changed:
        sections = [
            collected.report(),
            sweep.report(),
            f"isolation: tables of the other project changed by project A's exports: {changed}",
        ]
        pytest.fail("\n\n".join(sections), pytrace=False)


@pytest.mark.timeout(fuzz_timeout(300))
def test_otlp_protobuf_fuzz(client: Any, engine: Any, project: Project, other_project: Project, ui_member: Any) -> None:
    run_fuzz(client, engine, project, other_project, ui_member, protobuf_exports)


@pytest.mark.timeout(fuzz_timeout(300))
def test_otlp_json_fuzz(client: Any, engine: Any, project: Project, other_project: Project, ui_member: Any) -> None:
    run_fuzz(client, engine, project, other_project, ui_member, json_exports)
