"""`interactiveai models create` applies the same validation as the API: a clear error, nothing stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from interactiveai.cli import cli


def _run(*args: str, url: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--database-url", url], catch_exceptions=False)


@pytest.fixture
def url(tmp_path: Path) -> str:
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert _run("projects", "create", "Costs", "--id", "costs", url=database_url).exit_code == 0
    return database_url


def _create(url: str, *extra: str) -> Any:
    return _run("models", "create", "--project", "costs", "--name", "m", "--match", "^m$", *extra, url=url)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--input-price", "1", "--start-date", "9999-12-31T23:59:59-23:59"), "startDate"),
        (("--input-price", "1", "--start-date", "1969-12-31"), "startDate"),
        (("--input-price", "1", "--start-date", "soon"), "startDate"),
        (("--input-price", "nan"), "inputPrice"),
        (("--input-price", "inf"), "inputPrice"),
        (("--input-price", "-1"), "inputPrice"),
        (("--input-price", "1e308"), "inputPrice"),
        (("--price", "output=18446744073709551616"), "prices.output"),
        (("--price", "output"), "USAGE_TYPE=PRICE"),
        (("--price", "output=cheap"), "USAGE_TYPE=PRICE"),
        (("--price", "out put=1"), "usage type"),
        (("--input-price", "1", "--unit", "PARSECS"), "unit"),
        (("--input-price", "1", "--match", "^(a|a){1,60000}$"), "at most 1000 times"),
        (("--input-price", "1", "--project", "nope"), "no project"),
    ],
)
def test_invalid_definitions_are_refused_with_a_reason(url: str, extra: tuple[str, ...], message: str) -> None:
    result = _create(url, *extra)
    assert result.exit_code != 0 and message in result.output, result.output
    assert _run("models", "list", "--project", "costs", url=url).output == ""


def test_every_field_is_stored_and_listed(url: str) -> None:
    result = _create(
        url, "--output-price", "0.5", "--price", "images=2", "--start-date", "9999-12-31T00:00:00+23:59",
        "--unit", "images",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    listed = _run("models", "list", "--project", "costs", url=url).output
    assert "\tm\t^m$\tIMAGES\timages=2, output=0.5" in listed
