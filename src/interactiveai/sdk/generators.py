"""Generator wrappers used by ``@observe``: the observation lives as long as the iteration.

Each step runs in a copy of the context taken when the decorated function returned, so spans
created while iterating nest under the decorated function's span even when the consumer
iterates somewhere else. The observation ends exactly once: on exhaustion, on an error, on
``close()``/``aclose()``, or when an abandoned wrapper is garbage-collected.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import types
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Final

from interactiveai.sdk.observations import is_error

logger = logging.getLogger("interactiveai")


@dataclass(frozen=True)
class Outcome:
    """How an iteration ended: the items collected (when capturing) or the error."""

    items: list[Any] | None
    error: BaseException | None = None


def is_sync_iter(value: object) -> bool:
    return isinstance(value, types.GeneratorType)


def is_async_iter(value: object) -> bool:
    return isinstance(value, types.AsyncGeneratorType)


# Items kept for the recorded output of one generator; a longer stream keeps only the first ones
# (memory stays bounded however long the stream runs).
MAX_COLLECTED_ITEMS: Final = 10_000


class _Finisher:
    __slots__ = ("_finish", "_items", "_done")

    def __init__(self, finish: Callable[[Outcome], None], collect: bool) -> None:
        self._finish = finish
        self._items: list[Any] | None = [] if collect else None
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def add(self, item: Any) -> None:
        if self._items is not None and len(self._items) < MAX_COLLECTED_ITEMS:
            self._items.append(item)

    def complete(self, error: BaseException | None = None) -> None:
        if self._done:
            return
        self._done = True
        try:
            self._finish(Outcome(self._items, error if error is not None and is_error(error) else None))
        except Exception as exc:
            logger.debug("interactiveai: could not end a generator observation: %s", exc)


class GeneratorWrapper(Generator[Any, Any, Any]):
    """Wraps a generator; ``send``/``throw``/``close`` are forwarded."""

    def __init__(self, gen: Generator[Any, Any, Any], finish: Callable[[Outcome], None], collect: bool) -> None:
        self._gen = gen
        self._ctx = contextvars.copy_context()
        self._fin = _Finisher(finish, collect)

    def __iter__(self) -> GeneratorWrapper:
        return self

    def __next__(self) -> Any:
        return self.send(None)

    def _step(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            item = self._ctx.run(method, *args)
        except StopIteration:
            self._fin.complete()
            raise
        except BaseException as exc:
            self._fin.complete(exc)
            raise
        self._fin.add(item)
        return item

    def send(self, value: Any) -> Any:
        return self._step(self._gen.send, value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        args = (typ,) if val is None and tb is None else (typ, val, tb)
        return self._step(self._gen.throw, *args)

    def close(self) -> None:
        try:
            self._ctx.run(self._gen.close)
        finally:
            self._fin.complete()

    def __del__(self) -> None:
        # Abandoned before exhaustion: close the generator in its own context (so its cleanup code
        # detaches what it attached there) and end the observation rather than leak it.
        try:
            if not self._fin.done:
                self._ctx.run(self._gen.close)
        except Exception:
            pass
        self._fin.complete()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gen, name)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class AsyncGeneratorWrapper(AsyncGenerator[Any, Any]):
    """Wraps an async generator; each step runs as a task in the captured context."""

    def __init__(self, agen: AsyncGenerator[Any, Any], finish: Callable[[Outcome], None], collect: bool) -> None:
        self._agen = agen
        self._ctx = contextvars.copy_context()
        self._fin = _Finisher(finish, collect)

    def __aiter__(self) -> AsyncGeneratorWrapper:
        return self

    async def __anext__(self) -> Any:
        return await self.asend(None)

    async def _step(self, awaitable: Awaitable[Any]) -> Any:
        try:
            # A task is the only way to run a coroutine step inside another Context (3.11+).
            item = await asyncio.get_running_loop().create_task(_await(awaitable), context=self._ctx)
        except StopAsyncIteration:
            self._fin.complete()
            raise
        except BaseException as exc:
            self._fin.complete(exc)
            raise
        self._fin.add(item)
        return item

    async def asend(self, value: Any) -> Any:
        return await self._step(self._agen.asend(value))

    async def athrow(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        args = (typ,) if val is None and tb is None else (typ, val, tb)
        return await self._step(self._agen.athrow(*args))

    async def aclose(self) -> None:
        try:
            await asyncio.get_running_loop().create_task(_await(self._agen.aclose()), context=self._ctx)
        finally:
            self._fin.complete()

    def __del__(self) -> None:
        self._fin.complete()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._agen, name)
