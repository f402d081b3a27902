"""The peers: other ways to run many tasks on one machine.

Each peer runs the plain functions of :mod:`benchmarks.tasks` in its fastest
form for submitting tasks one by one: ``submit`` for the executors (a future
per task), ``apply_async`` for ``multiprocessing.Pool`` and mpire.  Pools that
can fork do (the default on Linux before Python 3.14, named explicitly here);
loky always starts fresh interpreters.  A peer that is not installed is left
out of the tables.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import multiprocessing
from collections.abc import Callable
from typing import Any, Protocol

from . import tasks
from .setups import Pool, Setup

_FORK = multiprocessing.get_context("fork")


class _Future(Protocol):
    def result(self) -> Any: ...


class _AsyncResult(Protocol):
    def get(self) -> Any: ...


class FuturesPool(Pool):
    """An executor that returns a future per submitted call."""

    def __init__(
        self, submit: Callable[..., _Future], shutdown: Callable[[], object]
    ) -> None:
        self._submit = submit
        self._shutdown = shutdown

    def run_empty(self, count: int) -> None:
        submit = self._submit
        futures = [submit(tasks.empty) for _ in range(count)]
        for future in futures:
            future.result()

    def run_one(self) -> None:
        self._submit(tasks.empty).result()

    def run_bulk(self, size: int) -> int:
        return len(self._submit(tasks.bulk, size).result())

    def run_sleeps(self, count: int, seconds: float) -> None:
        futures = [self._submit(tasks.sleep, seconds) for _ in range(count)]
        for future in futures:
            future.result()

    def close(self) -> None:
        self._shutdown()


class AsyncResultPool(Pool):
    """A pool whose ``apply_async(function, args)`` returns an async result."""

    def __init__(
        self,
        apply_async: Callable[..., _AsyncResult],
        close: Callable[[], object],
    ) -> None:
        self._apply_async = apply_async
        self._close = close

    def run_empty(self, count: int) -> None:
        apply_async = self._apply_async
        results = [apply_async(tasks.empty) for _ in range(count)]
        for result in results:
            result.get()

    def run_one(self) -> None:
        self._apply_async(tasks.empty).get()

    def run_bulk(self, size: int) -> int:
        return len(self._apply_async(tasks.bulk, (size,)).get())

    def run_sleeps(self, count: int, seconds: float) -> None:
        results = [self._apply_async(tasks.sleep, (seconds,)) for _ in range(count)]
        for result in results:
            result.get()

    def close(self) -> None:
        self._close()


def _process_pool_executor(workers: int) -> Pool:
    executor = concurrent.futures.ProcessPoolExecutor(workers, mp_context=_FORK)
    return FuturesPool(executor.submit, executor.shutdown)


def _multiprocessing_pool(workers: int) -> Pool:
    pool = _FORK.Pool(workers)

    def close() -> None:
        pool.close()
        pool.join()

    return AsyncResultPool(pool.apply_async, close)


def _loky(workers: int) -> Pool:
    import loky  # type: ignore[import-untyped]

    executor = loky.ProcessPoolExecutor(workers)
    return FuturesPool(executor.submit, executor.shutdown)


def _pebble(workers: int) -> Pool:
    import pebble

    pool: Any = pebble.ProcessPool(workers, context=_FORK)

    def submit(function: Callable[..., Any], *args: Any) -> _Future:
        future: _Future = pool.submit(function, None, *args)
        return future

    def close() -> None:
        pool.close()
        pool.join()

    return FuturesPool(submit, close)


def _mpire(workers: int) -> Pool:
    from mpire.pool import WorkerPool

    pool = WorkerPool(workers, start_method="fork")

    def apply_async(function: Callable[..., Any], args: tuple[Any, ...] = ()) -> Any:
        return pool.apply_async(function, args)

    return AsyncResultPool(apply_async, pool.stop_and_join)


def peer_setups() -> list[Setup]:
    """Every peer that is installed here."""
    peers: list[tuple[str, Callable[[int], Pool], str | None]] = [
        ("ProcessPoolExecutor (fork)", _process_pool_executor, None),
        ("multiprocessing.Pool (fork)", _multiprocessing_pool, None),
        ("loky", _loky, "loky"),
        ("pebble (fork)", _pebble, "pebble"),
        ("mpire (fork)", _mpire, "mpire"),
    ]
    return [
        Setup(name, open_pool, "peer")
        for name, open_pool, module in peers
        if module is None or importlib.util.find_spec(module) is not None
    ]
