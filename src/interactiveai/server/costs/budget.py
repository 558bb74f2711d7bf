"""Each project's budget of name-resolution time on the ingestion path every project shares.

Pricing a model name seen for the first time means searching it with every match pattern of the
project (RE2, so linear, but a project may hold 1,000 definitions of up to 1,000 instructions each)
and resolving it in the packaged catalog. Measured on the 2-core dev machine, per new name:
about 1-2 ms for 1,000 realistic definitions, 150-400 ms for 1,000 crafted ones on 256-character
names, and up to 0.2 ms in the catalog. The answer is cached per (project, name), so a project
with a handful of model names pays this once; a project that sends a new name on every span would
pay it on every span, on the one thread that decodes and maps every project's exports (before
this budget: project B's ingestion latency went from 2.4 ms to 1.7 s next to such a project).

So each project has a token bucket of resolution time, in seconds of wall time: it holds at most
``BURST_SECONDS`` and refills at ``RATE`` seconds per second. Resolving stops as soon as the
bucket is empty, after the search in progress (one search takes at most about a millisecond);
the bucket may then go into debt by that overshoot, repaid before the project may resolve again.
A project can therefore take at most ``BURST_SECONDS`` at once and ``RATE`` of one core over time,
whatever it sends. What a project does with names it cannot resolve now is the calculator's
business (it prices them without the project's definitions, says so, and does not cache that).

A normal project never notices: 1,000 realistic definitions cost about 2 ms per new name, so the
burst covers some 50 new names at once and the rate 5 more per second, while a project with a
handful of names needs a few milliseconds once (and again only when its definitions change).

Buckets are per server process and per project: one project emptying its own bucket never
changes another's. A bucket that has refilled to full carries no information and is dropped, so
memory follows the number of recently busy projects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

RATE = 0.01
"""Seconds of resolution time a project earns per second: 1 % of one core."""
BURST_SECONDS = 0.1
"""The most a project may spend at once (what another project's request may wait for it)."""
_MAX_DEBT = BURST_SECONDS  # a stall inside one search (a pause of the machine) is not held against it for long
_SWEEP_AT = 1_000  # buckets kept before those refilled to full are dropped


class MatchBudget:
    """Per-project token buckets of resolution time (seconds)."""

    def __init__(
        self,
        rate: float = RATE,
        burst_seconds: float = BURST_SECONDS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.rate = rate
        self.burst = burst_seconds
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # project → (level at stamp, stamp)
        self._sweep_at = _SWEEP_AT
        self._lock = threading.Lock()

    def allowance(self, project_id: str) -> float:
        """Seconds the project may spend now; zero or less means none."""
        bucket = self._buckets.get(project_id)
        if bucket is None:
            return self.burst
        level, stamp = bucket
        return min(self.burst, level + (self.clock() - stamp) * self.rate)

    def charge(self, project_id: str, seconds: float) -> None:
        """Take ``seconds`` (already spent) from the project's bucket."""
        with self._lock:
            now = self.clock()
            level = self.allowance(project_id) - max(seconds, 0.0)
            self._buckets[project_id] = (max(level, -_MAX_DEBT), now)
            if len(self._buckets) > self._sweep_at:
                self._drop_full(now)

    def _drop_full(self, now: float) -> None:
        for project_id, (level, stamp) in list(self._buckets.items()):
            if level + (now - stamp) * self.rate >= self.burst:
                del self._buckets[project_id]
        # Many projects busy at once: sweep again only when their number has doubled (amortised O(1)).
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._buckets))
