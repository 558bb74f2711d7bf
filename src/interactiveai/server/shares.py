"""Shared overload limits, with a reserve no single project can take (DESIGN §8).

Two limits protect a server process's memory under overload: the request-body bytes it holds at
once (``body_budget_bytes``, bodies.py) and the spans it has received but not yet committed
(``ingest_queue_spans``, ingest/service.py). Shared first come, first served, one project that
fills either one makes every other project's requests get 429 too. :class:`SharedLimit` keeps
each limit's total as before and adds one rule per project:

- **The common part.** Any project may take from the limit while the total stays within
  ``limit - reserve``. A project posting alone therefore has the whole limit but the reserve:
  far more than its throughput needs (benchmarks/ingest.py keeps a few requests in flight; what a
  queue holds beyond a few transactions adds latency, not speed), so it is not slowed, and a
  burst it sends is refused only where it would have been refused before, less the reserve.
- **The reserve** (``project_reserve_percent`` of the limit, default 25 %) is for the projects that
  hold little: past the common part, a project may take more only while, with it, it holds at
  most an equal share of the reserve among the projects holding anything (``reserve / n``), and a
  project holding nothing may always take one request's worth. Projects flooding the server thus
  fill the common part between them and get 429 on their own requests ("the project's share"),
  while the others find the reserve free and are accepted at the same moment.
- **The limit** itself stays the last guard for memory: nothing is taken past it ("the server's
  limit", when the project's share did not refuse first), except by a request holding everything
  already held (``own``), so that one request larger than the whole limit can still be served
  when it is alone.

Takers without a project (the web UI's forms, the login form) are held to the limit only; they
count in the total. Everything runs on the event loop, so nothing here needs a lock. Memory: one
number per project holding something now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Self

Verdict = Literal["server", "project"] | None
"""Why a take is refused: the server's limit, or the project's share; None when admitted."""


@dataclass
class SharedLimit:
    """How much of one limit is held, in total and by each project (see the module docstring)."""

    limit: int
    reserve: int = 0
    held: int = 0

    def __post_init__(self) -> None:
        self.limit = max(1, self.limit)
        self.reserve = min(max(0, self.reserve), self.limit)
        self._projects: dict[str, int] = {}

    @classmethod
    def with_reserve_percent(cls, limit: int, percent: int) -> Self:
        return cls(limit, limit * percent // 100)

    def held_by(self, project_id: str) -> int:
        return self._projects.get(project_id, 0)

    def fair_reserve(self, project_id: str | None) -> int:
        """What a project may hold and still take from the reserve: an equal share among the
        projects holding anything, this one included."""
        others = len(self._projects) - (project_id in self._projects)
        return self.reserve // (others + 1)

    def verdict(self, size: int, project_id: str | None = None, own: int = 0) -> Verdict:
        """Would taking ``size`` more be refused, and by which rule? ``own``: what the taker (one
        request) holds already; a taker holding everything held is never refused."""
        total = self.held + size
        if self.held <= own:
            return None
        if project_id is not None and total > self.limit - self.reserve:
            mine = self._projects.get(project_id, 0)
            if mine and mine + size > self.fair_reserve(project_id):
                return "project"  # named first: what the project holds is the cause, not others' load
        return "server" if total > self.limit else None

    def admit(self, size: int, project_id: str | None = None, own: int = 0) -> Verdict:
        """Take ``size`` unless refused (then nothing is taken); returns :meth:`verdict`."""
        verdict = self.verdict(size, project_id, own)
        if verdict is None:
            self.take(size, project_id)
        return verdict

    def take(self, size: int, project_id: str | None = None) -> None:
        """Take ``size`` whatever the rules say (:meth:`admit` checks them first)."""
        self.held += size
        if project_id is not None and size:
            self._projects[project_id] = self._projects.get(project_id, 0) + size

    def give_back(self, size: int, project_id: str | None = None) -> None:
        self.held -= size
        if project_id is not None and size:
            left = self._projects.get(project_id, 0) - size
            if left > 0:
                self._projects[project_id] = left
            else:
                self._projects.pop(project_id, None)

    def share_message(self, project_id: str, what: str, unit: str) -> str:
        """Why ``project_id`` was refused by its share of ``what`` (a 429's message, without the
        "retry later")."""
        return (
            f"this project's share of {what} is used up: it holds {self.held_by(project_id)} {unit}; "
            f"the server holds {self.held} of its {self.limit} and keeps the last {self.reserve} for projects "
            f"holding at most {self.fair_reserve(project_id)} (INTERACTIVEAI_PROJECT_RESERVE_PERCENT)"
        )
