"""Every benchmark script runs at a tiny size and prints its figures (a smoke test: no timing asserts).

Each runs as users run it (a subprocess of this interpreter, from the checkout's root), with the
smallest arguments that still go through every part of it. The whole file takes ~35-45 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import live_database_url

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"

# script, its smallest arguments (a data dir is appended where the script takes one), what it prints
# (scripts others own and still change: only that they print figures)
CASES = [
    ("ingest.py", ["--spans", "500", "--clients", "1", "--batch", "250"], ["realistic / small", "spans_per_second"]),
    (
        "ingest_breakdown.py",
        ["--spans", "300", "--batch", "100", "--top", "3", "--no-fts-variants"],
        ["realistic:", "zstd-3"],
    ),
    ("dashboard.py", ["--traces", "200", "--runs", "1"], []),
    ("sdk_burst.py", ["--n", "200", "--overhead-n", "200", "--overhead-repeat", "1"], ["spans lost"]),
    ("sdk_integrations.py", ["--n", "10", "--scenarios", "chat"], ["received of"]),
    ("sdk_overhead.py", ["--n", "200", "--repeat", "1"], ["@observe / baseline"]),
    ("sdk_span_path.py", ["--n", "200", "--repeat", "1"], ["µs/obs"]),
    ("ui_trace_detail.py", ["--observations", "50", "--runs", "1"], ["static JS+CSS"]),
    ("ui_trace_list.py", ["--traces", "300", "--runs", "1"], ["full-text search"]),
    ("ui_people.py", ["--traces", "400", "--runs", "1"], ["by cost"]),
]


def _run(script: str, arguments: list[str], timeout: float = 180) -> str:
    path = BENCHMARKS / script
    if not path.exists():
        pytest.skip(f"benchmarks/{script} does not exist yet")
    result = subprocess.run(
        [sys.executable, str(path), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{script} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize(("script", "arguments", "prints"), CASES, ids=[case[0] for case in CASES])
def test_benchmark_runs_at_a_small_size(script: str, arguments: list[str], prints: list[str], tmp_path: Path) -> None:
    if script == "dashboard.py":
        arguments = [*arguments, "--db", str(tmp_path / "dashboard.db")]
    output = _run(script, arguments)
    assert any(character.isdigit() for character in output), f"{script} printed no figures:\n{output}"
    for figure in prints:
        assert figure in output, f"{script} did not print {figure!r}:\n{output}"


def test_seed_fills_a_project_and_resumes(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The seeder on both engines: every span visible, sizes printed; a second run sends nothing."""
    arguments = ["--traces", "150", "--senders", "2", "--data-dir", str(tmp_path), "--progress-seconds", "0"]
    database_url = live_database_url(dialect, request)
    if database_url:
        arguments += ["--database-url", database_url]
    output = _run("seed.py", arguments)
    for figure in ("spans_per_second", "bytes on disk", "observations", "of which root copies", "pk-bench"):
        assert figure in output, output
    assert "ok: True" in output.replace("  ", "")
    # benchmarks/aggregates.py reads what the seeder filled (SQLite opened read-only)
    secret = output.split("secret key ", 1)[1].split()[0]
    target = ["--database-url", database_url] if database_url else ["--db", str(tmp_path / "interactiveai.db")]
    aggregates = _run("aggregates.py", [*target, "--secret-key", secret, "--runs", "1"])
    for figure in ("dashboard cold 30d", "metrics/daily 7d", "cost + p95 latency by model 24h"):
        assert figure in aggregates, aggregates
    if dialect == "sqlite":  # resuming reads only seed.json: one engine is enough
        again = _run("seed.py", arguments)  # the resume point is past the end: only the sizes again
        assert "traces_sent: 0" in again.replace("  ", "") and "bytes on disk" in again


def test_api_lists_runs_at_a_small_size(tmp_path: Path) -> None:
    """benchmarks/api_lists.py (another part of the work): with whichever small-size flags it has."""
    path = BENCHMARKS / "api_lists.py"
    if not path.exists():
        pytest.skip("benchmarks/api_lists.py does not exist yet")
    flags = subprocess.run([sys.executable, str(path), "--help"], cwd=ROOT, capture_output=True, text=True).stdout
    small = {"--traces": "200", "--runs": "1", "--repeat": "1", "--db": str(tmp_path / "api.db")}
    arguments = [item for flag, value in small.items() if flag in flags for item in (flag, value)]
    assert _run("api_lists.py", arguments).strip()


def test_payload_storage_runs_at_a_small_size(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """benchmarks/payload_storage.py on both engines: stored once, compression, then the copies back."""
    arguments = ["--traces", "40", "--senders", "1", "--data-dir", str(tmp_path)]
    database_url = live_database_url(dialect, request)
    if database_url:
        arguments += ["--database-url", database_url]
    output = _run("payload_storage.py", arguments)
    for figure in ("stored once", "zstd", "copies written back", "stored once / copies"):
        assert figure in output, output
    if database_url:
        assert "PostgreSQL lz4" in output, output
