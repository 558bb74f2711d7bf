"""The decode stage's fair scheduler: who gets the next turn, cancellation, and what it keeps in memory."""

from __future__ import annotations

import asyncio

import pytest

from interactiveai.server.ingest.scheduler import FairAdmission, FairScheduler


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Stage:
    """A scheduler whose turns take a chosen time on a fake clock; records the order of turns."""

    def __init__(self, slots: int = 1) -> None:
        self.clock = FakeClock()
        self.scheduler = FairScheduler(slots, clock=self.clock)
        self.order: list[str] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def _request(self, label: str, seconds: float, hold: asyncio.Event | None) -> None:
        async with self.scheduler.turn(label[0]):  # the label's first letter is its project
            self.order.append(label)
            if hold is not None:
                await hold.wait()
            self.clock.now += seconds

    async def send(self, label: str, seconds: float = 1.0, hold: asyncio.Event | None = None) -> None:
        """Start a request and let it reach the scheduler (its turn, or its queue)."""
        self.tasks.append(asyncio.create_task(self._request(label, seconds, hold)))
        await asyncio.sleep(0)

    async def finish(self) -> list[str]:
        await asyncio.gather(*self.tasks)
        return self.order


async def test_a_light_project_waits_for_the_turn_in_progress_not_for_a_backlog() -> None:
    stage, first = Stage(), asyncio.Event()
    await stage.send("A0", hold=first)
    for i in range(1, 6):
        await stage.send(f"A{i}")
    for i in range(3):
        await stage.send(f"B{i}", seconds=0.1)
    first.set()
    # B's three small requests (0.3 s in all) cost less than one of A's: they all go first.
    assert await stage.finish() == ["A0", "B0", "B1", "B2", "A1", "A2", "A3", "A4", "A5"]


async def test_busy_projects_with_equal_requests_take_turns_in_arrival_order() -> None:
    stage, first = Stage(), asyncio.Event()
    await stage.send("A0", hold=first)
    for label in ("A1", "A2", "A3", "B0", "B1", "C0"):
        await stage.send(label)
    first.set()
    assert await stage.finish() == ["A0", "B0", "C0", "A1", "B1", "A2", "A3"]


async def test_time_is_what_counts_so_many_small_requests_share_with_a_few_large_ones() -> None:
    stage, first = Stage(), asyncio.Event()
    await stage.send("A0", seconds=1.0, hold=first)
    for i in range(1, 3):
        await stage.send(f"A{i}", seconds=1.0)
    for i in range(8):
        await stage.send(f"B{i}", seconds=0.25)
    first.set()
    # A's second second is B's first four requests' second, and so on (ties go to the earlier request).
    assert await stage.finish() == [
        "A0", "B0", "B1", "B2", "B3", "A1", "B4", "B5", "B6", "B7", "A2",
    ]  # fmt: skip


async def test_being_idle_earns_no_credit_to_spend_in_a_burst() -> None:
    stage, first, second = Stage(), asyncio.Event(), asyncio.Event()
    await stage.send("A0", hold=first)
    await stage.send("A1", hold=second)
    await stage.send("A2")
    first.set()
    await asyncio.sleep(0)
    # A has used 1 s while B was idle; B arriving now starts level with A's turn in progress.
    for i in range(3):
        await stage.send(f"B{i}")
    await stage.send("A3")
    second.set()
    # B does not get its three turns in a row: the two alternate (B2 came before A3).
    assert await stage.finish() == ["A0", "A1", "B0", "A2", "B1", "B2", "A3"]


async def test_a_request_cancelled_while_waiting_leaves_its_queue() -> None:
    stage, first = Stage(), asyncio.Event()
    await stage.send("A0", hold=first)
    await stage.send("A1")
    await stage.send("B0")
    await stage.send("C0")
    assert stage.scheduler.waiting == 3
    stage.tasks[2].cancel()  # B's client went away
    await asyncio.sleep(0)
    assert stage.scheduler.waiting == 2
    first.set()
    results = await asyncio.gather(*stage.tasks, return_exceptions=True)
    assert isinstance(results[2], asyncio.CancelledError)
    assert stage.order == ["A0", "C0", "A1"]
    assert (stage.scheduler._queues, stage.scheduler._inside, stage.scheduler._work) == ({}, {}, {})


async def test_a_request_cancelled_as_its_turn_comes_hands_the_turn_on() -> None:
    stage, first = Stage(), asyncio.Event()
    await stage.send("A0", hold=first)
    await stage.send("B0")
    await stage.send("C0")
    first.set()
    await asyncio.sleep(0)  # A0 ends and gives B0 its turn; B0 has not run yet
    stage.tasks[1].cancel()
    results = await asyncio.gather(*stage.tasks, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert stage.order == ["A0", "C0"]
    assert stage.scheduler._free == 1


async def test_a_failing_turn_is_charged_and_released() -> None:
    scheduler = FairScheduler(1, clock=FakeClock())
    with pytest.raises(ValueError):
        async with scheduler.turn("A"):
            raise ValueError("undecodable")
    async with scheduler.turn("B"):
        assert scheduler._free == 0
    assert scheduler._free == 1


async def test_more_slots_serve_that_many_at_once() -> None:
    stage, hold = Stage(slots=2), asyncio.Event()
    for label in ("A0", "A1", "A2", "B0"):
        await stage.send(label, hold=hold)
    assert stage.order == ["A0", "A1"] and stage.scheduler.waiting == 2
    hold.set()
    assert await stage.finish() == ["A0", "A1", "B0", "A2"]


async def test_memory_follows_the_projects_busy_now() -> None:
    stage = Stage()
    for i in range(3_000):  # one request each, one after the other: the stage goes idle between them
        await stage.send(f"P{i}")
        await stage.tasks[-1]
    assert stage.scheduler._work == {}

    # Always busy: a heavy project A, and 3,000 projects sending one small request each while A works.
    clock = FakeClock()
    scheduler = FairScheduler(1, clock=clock)
    sizes = []

    async def heavy() -> None:
        for _ in range(3_000):
            async with scheduler.turn("A"):
                await asyncio.sleep(0)
                clock.now += 1.0

    async def light() -> None:
        for i in range(3_000):
            async with scheduler.turn(f"R{i}"):
                clock.now += 0.001
            sizes.append(len(scheduler._work))

    await asyncio.gather(heavy(), light())
    assert max(sizes) <= 2_001  # those A has overtaken are dropped, not one entry per project ever seen
    assert scheduler._work == {}


# --- admission to the writer: a bound in spans, charged by spans --------------------------------


class Admission:
    """A FairAdmission and requests that enter it; records the order of admission."""

    def __init__(self, capacity: int, pipeline: int = 2) -> None:
        self.gate = FairAdmission(capacity, pipeline)
        self.order: list[str] = []
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def _enter(self, label: str, spans: int) -> None:
        await self.gate.enter(label[0], spans)
        self.order.append(label)

    async def send(self, label: str, spans: int) -> None:
        self.tasks[label] = asyncio.create_task(self._enter(label, spans))
        await asyncio.sleep(0)

    async def through(self, label: str, spans: int) -> None:
        """``label``'s spans are committed: they leave, and others may enter."""
        self.gate.leave(label[0], spans)
        await asyncio.sleep(0)


async def test_admission_bounds_spans_inside_but_lets_two_requests_in_whatever_their_size() -> None:
    stage = Admission(capacity=100)
    await stage.send("A0", 500)  # larger than the capacity: alone, it enters
    await stage.send("A1", 500)  # and the next one too, so that the writer always has one at hand
    await stage.send("A2", 10)
    assert stage.order == ["A0", "A1"] and (stage.gate.inside, stage.gate.held) == (1_000, 10)
    await stage.through("A0", 500)
    assert stage.order == ["A0", "A1", "A2"] and (stage.gate.inside, stage.gate.held) == (510, 0)


async def test_a_light_project_enters_before_a_busy_projects_backlog() -> None:
    stage = Admission(capacity=100)
    for i in range(4):
        await stage.send(f"A{i}", 80)
    await stage.send("B0", 10)
    await stage.send("B1", 10)
    assert stage.order == ["A0", "A1"]
    await stage.through("A0", 80)
    # B has had no spans in, A 160: both of B's enter (one by the pipeline rule, one by room), then A.
    assert stage.order == ["A0", "A1", "B0", "B1"]
    await stage.through("A1", 80)
    await stage.through("B0", 10)
    assert stage.order == ["A0", "A1", "B0", "B1", "A2"]


async def test_the_next_in_line_is_not_overtaken_by_a_smaller_request_that_would_fit() -> None:
    stage = Admission(capacity=100, pipeline=1)
    await stage.send("A0", 90)
    await stage.send("C0", 50)
    await stage.send("D0", 5)  # would fit next to A0, but C0 (level with it) came first
    assert stage.order == ["A0"]
    await stage.through("A0", 90)
    assert stage.order == ["A0", "C0", "D0"]


async def test_a_request_cancelled_while_held_leaves_nothing_behind() -> None:
    stage = Admission(capacity=100, pipeline=1)
    await stage.send("A0", 100)
    await stage.send("B0", 30)
    assert stage.gate.held == 30
    stage.tasks["B0"].cancel()
    await asyncio.gather(*stage.tasks.values(), return_exceptions=True)
    assert stage.gate.held == 0 and stage.gate.waiting == 0
    await stage.through("A0", 100)
    assert (stage.gate.inside, stage.gate.requests) == (0, 0)
    assert (stage.gate._queues, stage.gate._inside, stage.gate._work) == ({}, {}, {})
