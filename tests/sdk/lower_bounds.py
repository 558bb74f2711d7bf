"""The lowest versions our SDK declares it works with: the ``>=`` bounds of ``[project].dependencies``
in pyproject.toml, pinned exactly (``opentelemetry-sdk>=1.30`` becomes ``opentelemetry-sdk==1.30``).
Read from the file, so a test installing them follows every change of the bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def sdk_lower_bounds() -> list[str]:
    """``name==lowest`` for every dependency of the SDK itself (not the extras)."""
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pins = []
    for requirement in dependencies:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*", requirement.split(";")[0])
        assert match, f"{requirement!r}: every SDK dependency declares a lower bound (name>=version)"
        pins.append(f"{match[1]}=={match[2]}")
    return pins
