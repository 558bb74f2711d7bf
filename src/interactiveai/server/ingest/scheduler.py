"""Fair shares across projects for ingestion's two shared stages (DESIGN §8).

Served first come, first served, a project that keeps many large exports in flight makes every
other project's request wait behind all of them, at the decode stage (one request decoded and
mapped at a time) and again at the group commit (whose queue fills with its spans): the wait grows
with that project's backlog. Here each project has its own FIFO queue, and what frees up goes to
the waiting project that has used the least of the stage so far (start-time fair queuing, as in a
CPU scheduler's "virtual runtime"):

- Each project's ``work`` counts what it used: seconds of decode turns (:class:`FairScheduler`,
  measured, so whatever makes a request expensive counts: size, compression, attributes, prices
  to resolve), spans handed to the writer (:class:`FairAdmission`). ``now`` is the work of the
  project served last (it never goes back) and, once nothing waits or runs, the largest work of all.
- A project that starts waiting after being idle has its work raised to ``now``: being idle earns
  no credit to spend in a burst later, and a project that was busy keeps its surplus (about its
  last request) into its next one.
- The smallest work is served first; among equals, the request that came first.

So a light project's request waits for what is in progress and then, at most, for about one
request of each busier project, not for anyone's backlog; and a busy project with small requests
gets as much of a stage as a busy project with large ones, not one request per large request.

Everything runs on the event loop (no lock). A request cancelled while waiting (the server
stopping) leaves its queue; one cancelled just as it was served hands its place on. Memory is one
queue entry per waiting request (the body budget and the writer's span limit bound them) and one
number per project that used more than ``now`` before going idle.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

_SWEEP_AT = 1_000  # idle projects' surplus kept before the stale ones are dropped

_Entry = tuple[int, int, "asyncio.Future[None]"]  # (arrival, size, woken when served)


class _FairQueues:
    """Per-project FIFO queues served by least work (see the module docstring)."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[_Entry]] = {}  # projects waiting
        self._inside: dict[str, int] = {}  # projects being served: how many of their requests
        self._work: dict[str, float] = {}
        self._now = 0.0
        self._latest = 0.0  # the largest work reached: ``now`` when the stage goes idle
        self._arrivals = itertools.count()
        self._sweep_at = _SWEEP_AT

    @property
    def waiting(self) -> int:
        """Requests waiting to be served."""
        return sum(len(queue) for queue in self._queues.values())

    def _fits(self, size: int) -> bool:
        raise NotImplementedError

    def _take(self, size: int) -> None:
        raise NotImplementedError

    def _give_back(self, size: int) -> None:
        raise NotImplementedError

    def _charge_on_serve(self, size: int) -> float:
        """Work added as a request is served (what is known in advance)."""
        return 0.0

    async def _wait(self, project_id: str, size: int) -> None:
        """Return once served; then call :meth:`_done`."""
        if project_id not in self._queues and project_id not in self._inside:
            self._work[project_id] = max(self._work.get(project_id, self._now), self._now)
        if not self._queues and self._fits(size):
            self._serve(project_id, size)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (next(self._arrivals), size, future)
        self._queues.setdefault(project_id, deque()).append(entry)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._done(project_id, size, 0.0)  # served as it was cancelled: hand the place on
            else:
                self._withdraw(project_id, entry)
            raise

    def _serve(self, project_id: str, size: int) -> None:
        self._take(size)
        self._inside[project_id] = self._inside.get(project_id, 0) + 1
        work = self._work[project_id]
        self._now = max(self._now, work)
        self._work[project_id] = work + self._charge_on_serve(size)

    def _done(self, project_id: str, size: int, charge: float) -> None:
        """A served request is over: ``size`` is free again, ``charge`` is added to the project's work."""
        self._give_back(size)
        work = self._work[project_id] = self._work[project_id] + max(charge, 0.0)
        self._latest = max(self._latest, work)
        inside = self._inside[project_id] - 1
        if inside:
            self._inside[project_id] = inside
        else:
            del self._inside[project_id]
            self._forget_if_idle(project_id)
        self._dispatch()
        if not self._inside and not self._queues:
            self._now = self._latest  # idle: nobody keeps a surplus into the next busy period
            self._work.clear()

    def _withdraw(self, project_id: str, entry: _Entry) -> None:
        queue = self._queues.get(project_id)
        if queue is not None and entry in queue:
            queue.remove(entry)
            if not queue:
                del self._queues[project_id]
            self._dispatch()  # a large request that did not fit may have held others back
        self._forget_if_idle(project_id)

    def _dispatch(self) -> None:
        while self._queues:
            project_id = min(self._queues, key=lambda p: (self._work[p], self._queues[p][0][0]))
            queue = self._queues[project_id]
            _, size, future = queue[0]
            if not future.cancelled() and not self._fits(size):
                return  # the next in line waits for room: nobody overtakes it
            queue.popleft()
            if not queue:
                del self._queues[project_id]
            if future.cancelled():  # its task has not run its handler yet: skip it
                self._forget_if_idle(project_id)
                continue
            self._serve(project_id, size)
            future.set_result(None)

    def _forget_if_idle(self, project_id: str) -> None:
        if project_id in self._queues or project_id in self._inside:
            return
        if self._work.get(project_id, 0.0) <= self._now:
            self._work.pop(project_id, None)  # it would be raised to ``now`` anyway
        elif len(self._work) > self._sweep_at:
            busy = self._queues.keys() | self._inside.keys()
            for other in [p for p, work in self._work.items() if work <= self._now and p not in busy]:
                del self._work[other]
            self._sweep_at = max(_SWEEP_AT, 2 * len(self._work))  # amortised O(1)


class FairScheduler(_FairQueues):
    """``slots`` concurrent turns (the decode stage), charged by their measured duration."""

    def __init__(self, slots: int = 1, clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__()
        self.slots = slots
        self.clock = clock
        self._free = slots

    def _fits(self, size: int) -> bool:
        return self._free > 0

    def _take(self, size: int) -> None:
        self._free -= 1

    def _give_back(self, size: int) -> None:
        self._free += 1

    @asynccontextmanager
    async def turn(self, project_id: str) -> AsyncIterator[None]:
        """Wait for a turn of ``project_id``; its duration is charged to the project on exit."""
        await self._wait(project_id, 1)
        started = self.clock()
        try:
            yield
        finally:
            self._done(project_id, 1, self.clock() - started)


class FairAdmission(_FairQueues):
    """Admission to a stage holding at most ``capacity`` spans at once (the group commit), charged
    by spans; ``pipeline`` requests are let in whatever their size, so that the stage always has
    the next one at hand while it works on one (a large request is never held back for ever)."""

    def __init__(self, capacity: int, pipeline: int = 2) -> None:
        super().__init__()
        self.capacity = max(1, capacity)
        self.pipeline = max(1, pipeline)
        self.inside = 0  # spans admitted and not yet through
        self.requests = 0  # requests admitted and not yet through
        self.held = 0  # spans waiting for admission

    def _fits(self, size: int) -> bool:
        return self.requests < self.pipeline or self.inside + size <= self.capacity

    def _take(self, size: int) -> None:
        self.inside += size
        self.requests += 1

    def _give_back(self, size: int) -> None:
        self.inside -= size
        self.requests -= 1

    def _charge_on_serve(self, size: int) -> float:
        return float(size)

    async def enter(self, project_id: str, spans: int) -> None:
        """Wait until ``spans`` more fit; call :meth:`leave` once they are through."""
        self.held += spans
        try:
            await self._wait(project_id, spans)
        finally:
            self.held -= spans

    def leave(self, project_id: str, spans: int) -> None:
        self._done(project_id, spans, 0.0)
