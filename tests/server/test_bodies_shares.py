"""Each project's share of the request-body budget (bodies.py, shares.py): a project whose bodies
fill what one project may hold gets 429 on its own requests, naming its share, while another
project's bodies are read at the same moment; bodies of no project (UI forms) meet the budget
alone, and the budget stays the bound on memory."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from interactiveai.server.bodies import BodyBudget, BodyLimits, read_body
from interactiveai.server.shares import SharedLimit
from tests.server.test_bodies import Client, run

SHARE = "this project's share of the request body budget is used up"


def limits(budget: int = 10_000, reserve: int = 2_500) -> BodyLimits:
    return BodyLimits(BodyBudget(budget, reserve), default_limit=5_000, drain_limit=5_000, timeout=30.0, retry_after=3)


def project_reader(scope: Scope, receive: Receive, send: Send) -> Any:
    """Reads the body for the project named by the ``x-project`` header (none: a UI form)."""

    async def app() -> None:
        request = Request(scope, receive)
        body = await read_body(request, 5_000, request.headers.get("x-project"))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok" if body else b"no", "more_body": False})

    return app()


def client(project: str | None, size: int, stall: bool = False) -> Client:
    """A request of ``size`` declared bytes; ``stall``: the first 100 arrive, the rest never do."""
    script: list[bytes | float] = [b"a" * 100, 60.0, b"a" * (size - 100)] if stall else [b"a" * size]
    return Client(script, headers={"x-project": project} if project else {})


async def holding(body_limits: BodyLimits, project: str, size: int) -> asyncio.Task[Client]:
    """A request of ``project`` holding ``size`` bytes of the budget while its body (never) arrives."""
    target = body_limits.budget.held_by(project) + size
    task = asyncio.create_task(run(project_reader, client(project, size, stall=True), body_limits))
    while body_limits.budget.held_by(project) < target and not task.done():
        await asyncio.sleep(0.001)
    return task


async def test_a_project_past_its_share_is_429_while_another_projects_bodies_are_read() -> None:
    body_limits = limits()
    budget = body_limits.budget
    flood = [
        await holding(body_limits, "a", 3_500),
        await holding(body_limits, "a", 4_000),
    ]  # 7,500: all but the reserve
    refused = await run(project_reader, client("a", 1_000), body_limits)
    assert refused.status == 429 and refused.response_headers["retry-after"] == "3"
    assert refused.json["message"].startswith(f"{SHARE}: it holds 7500 bytes; the server holds 7500 of its 10000")
    assert refused.pulled == 1_000 and budget.held == 7_500  # refused before reading, then drained
    # the other project, the same moment: what it sends fits the reserve
    assert [(await run(project_reader, client("b", 2_000), body_limits)).status for _ in range(3)] == [200] * 3
    light = await holding(body_limits, "b", 1_000)  # b holds 1,000 of its (half the reserve) 1,250 now
    assert (await run(project_reader, client("c", 1_200), body_limits)).status == 200
    # a form (no project) meets the budget alone; the budget stays the bound for everyone
    assert (await run(project_reader, client(None, 1_500), body_limits)).status == 200
    over = await run(project_reader, client(None, 1_600), body_limits)
    assert over.status == 429 and over.json["message"].startswith("the server is holding 8500 bytes")
    over = await run(project_reader, client("d", 1_600), body_limits)  # a project holding nothing, too
    assert over.status == 429 and "its limit is 10000" in over.json["message"]
    for task in [*flood, light]:
        task.cancel()
    await asyncio.gather(*flood, light, return_exceptions=True)
    assert budget.held == 0 and budget.held_by("a") == budget.held_by("b") == 0


async def test_a_lone_project_takes_all_but_the_reserve_and_a_request_alone_anything() -> None:
    body_limits = limits()
    flood = [await holding(body_limits, "a", 5_000), await holding(body_limits, "a", 2_500)]
    assert (await run(project_reader, client("a", 1), body_limits)).status == 429
    for task in flood:
        task.cancel()
    await asyncio.gather(*flood, return_exceptions=True)
    body_limits = limits(budget=1_000, reserve=250)
    assert (await run(project_reader, client("a", 3_000), body_limits)).status == 200  # alone: as before


def test_shared_limit_rules() -> None:
    shares = SharedLimit.with_reserve_percent(1_000, 25)
    assert (shares.limit, shares.reserve) == (1_000, 250)
    assert shares.admit(700, "a") is None and shares.admit(50, "a") is None  # the common part: 750
    assert shares.admit(1, "a") == "project"
    assert shares.admit(150, "b") is None  # holding nothing: one request, whatever its size, within the limit
    assert shares.admit(1, "b") == "project"  # now past its equal share of the reserve (125 of 2 projects)
    assert shares.admit(1, "c") is None and shares.admit(40, "c") is None  # 41 <= 83 = 250 // 3
    assert shares.admit(45, "c") == "project"
    assert shares.admit(60, "d") == "server" and shares.admit(60) == "server"  # 941 + 60 > 1,000
    assert shares.admit(59) is None  # no project: the limit alone
    assert shares.verdict(2_000, "a", own=shares.held) is None  # a request holding everything held
    shares.give_back(750, "a")
    assert shares.held_by("a") == 0 and shares.fair_reserve("a") == 250 // 3
    for project, size in (("b", 150), ("c", 41), (None, 59)):
        shares.give_back(size, project)
    assert shares.held == 0 and shares.fair_reserve("x") == 250
    assert SharedLimit(1_000).admit(1_000, "a") is None  # no reserve: the limit alone, as before
