"""Debian's Chromium driven by Playwright, as every browser test launches it.

`playwright install` cannot download browsers here, so tests use /usr/bin/chromium. Playwright's
sync API allows one instance per process at a time: each browser module opens its own with
``chromium()`` in a module-scoped fixture and closes it at the module's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# Headless as root, and no background traffic: this machine's network is closed.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENS = Path("/tmp/ia-screens")  # screenshots for a person to look at; never in git
MINUTE = 60 * 1_000_000  # in the storage's microseconds


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
