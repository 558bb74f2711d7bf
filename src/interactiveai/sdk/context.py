"""Keep the tracing context when work hops to another thread.

Threads do not inherit ``contextvars``, so a span started in a worker would otherwise become a
new, orphan trace. ``run_in_context`` and ``wrap_in_context`` capture the caller's context;
``ContextPreservingExecutor`` does it for every task submitted to a thread pool.
``detach_quietly`` is how the SDK's scopes leave a context they attached.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from opentelemetry import context as otel_context

P = ParamSpec("P")
R = TypeVar("R")


def detach_quietly(token: object) -> None:
    """Detach an OTel context token; one attached in another context (async frameworks) is harmless."""
    try:
        otel_context.detach(token)  # type: ignore[arg-type]
    except Exception:
        pass


def wrap_in_context(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` bound to a copy of the current context: call it from any thread.

    Example::

        threading.Thread(target=wrap_in_context(work)).start()
    """
    ctx = contextvars.copy_context()

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        # A fresh copy per call: one Context object cannot be entered twice at once.
        return ctx.copy().run(func, *args, **kwargs)

    return run


def run_in_context(executor: ThreadPoolExecutor, func: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
    """``executor.submit(func, ...)`` with the caller's tracing context carried into the worker."""
    ctx = contextvars.copy_context()
    return executor.submit(ctx.run, func, *args, **kwargs)


class ContextPreservingExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose tasks run in the context of the code that submitted them.

    Spans started by a task nest under the span that was current at ``submit``/``map`` time.
    """

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        ctx = contextvars.copy_context()
        return super().submit(ctx.run, fn, *args, **kwargs)
