"""Context across threads: orphan traces without the helpers, nested traces with them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from interactiveai import ContextPreservingExecutor, InteractiveAI, observe, run_in_context, wrap_in_context

from .conftest import Memory


def _child_parent_ids(memory: Memory) -> list[int | None]:
    return [s.parent.span_id if s.parent else None for s in memory.spans() if s.name == "work"]


def test_executor_preserves_parent(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def work(i: int) -> int:
        return i

    with ContextPreservingExecutor(max_workers=2) as pool:
        with client.start_as_current_span(name="root") as root:
            assert list(pool.map(work, range(4))) == [0, 1, 2, 3]
            assert pool.submit(work, 9).result() == 9
    root_id = int(root.id, 16)
    assert _child_parent_ids(memory) == [root_id] * 5


def test_run_in_context_and_wrap_in_context(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def work() -> None:
        return None

    with ThreadPoolExecutor(max_workers=1) as pool, client.start_as_current_span(name="root") as root:
        run_in_context(pool, work).result()
        thread = threading.Thread(target=wrap_in_context(work))
        thread.start()
        thread.join()
        bare = pool.submit(work)  # without the helper: a separate trace
        bare.result()
    parents = _child_parent_ids(memory)
    assert parents[:2] == [int(root.id, 16)] * 2
    assert parents[2] is None
