"""The workloads, their sizes, and the targets stated against the peers.

A workload turns each setup (and the baselines that bound it) into an
:class:`Entry`: a row of its table and a function that opens a pool, warms
it, measures one figure and closes it again.  Nothing is shared between two
measurements, so one implementation cannot leave work or warm caches behind
for the next.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from . import baselines
from .setups import Pool, Setup

# Names the targets refer to; setups.py and peers.py define the rows.
FORK = "taskmaster ForkWorker"
PROCESS = "taskmaster ProcessWorker"
PROCESS_POOL_EXECUTOR = "ProcessPoolExecutor (fork)"
MULTIPROCESSING_POOL = "multiprocessing.Pool (fork)"
LOKY = "loky"
PEBBLE = "pebble (fork)"
PING_PONG_1 = "socket ping-pong, 1 in flight"
PING_PONG_4 = "socket ping-pong, 4 in flight"
ROUND_TRIP = "socket round trip"
SOCKET_BULK = "socket bulk"
BARE_SLEEPS = "forked processes sleeping, no library"


@dataclass(frozen=True)
class Sizes:
    empty_tasks: int = 10_000
    latency_tasks: int = 2_000
    calls: int = 2_000
    bulk_bytes: int = 100_000_000
    sleeps: int = 100
    sleep_seconds: float = 0.01
    idle_seconds: float = 2.0


FULL = Sizes()
QUICK = Sizes(1_000, 200, 200, 10_000_000, 40, 0.01, 0.25)

WORKERS = 2
SLEEP_WORKERS = 4


@dataclass(frozen=True)
class Entry:
    """One row of a workload's table: ``measure()`` returns one figure."""

    name: str
    group: str  # "taskmaster", "peer" or "baseline"
    measure: Callable[[], float]


@dataclass(frozen=True)
class Workload:
    key: str
    title: Callable[[Sizes], str]
    unit: str
    higher_is_better: bool
    reference: str | None  # the row the "vs" column divides by
    entries: Callable[[list[Setup], Sizes], list[Entry]]


@contextmanager
def opened(setup: Setup, workers: int) -> Iterator[Pool]:
    pool = setup.open(workers)
    try:
        yield pool
    finally:
        pool.close()


def _rows(
    setups: list[Setup], measure: Callable[[Setup], float], groups: tuple[str, ...]
) -> list[Entry]:
    return [
        Entry(setup.name, setup.group, _bind(measure, setup))
        for setup in setups
        if setup.group in groups
    ]


def _bind(measure: Callable[[Setup], float], setup: Setup) -> Callable[[], float]:
    return lambda: measure(setup)


# -- empty tasks ------------------------------------------------------------


def _empty_entries(setups: list[Setup], sizes: Sizes) -> list[Entry]:
    count = sizes.empty_tasks

    def measure(setup: Setup) -> float:
        with opened(setup, WORKERS) as pool:
            pool.run_empty(min(count, 200))  # every worker started and warm
            start = time.perf_counter()
            pool.run_empty(count)
            return count / (time.perf_counter() - start)

    return [
        *_rows(setups, measure, ("taskmaster", "peer")),
        Entry(PING_PONG_1, "baseline", lambda: baselines.ping_pong(count, WORKERS, 1)),
        Entry(PING_PONG_4, "baseline", lambda: baselines.ping_pong(count, WORKERS, 4)),
    ]


# -- one task at a time -------------------------------------------------------


def _latency_entries(setups: list[Setup], sizes: Sizes) -> list[Entry]:
    count = sizes.latency_tasks

    def measure(setup: Setup) -> float:
        with opened(setup, WORKERS) as pool:
            for _ in range(20):
                pool.run_one()
            took = []
            for _ in range(count):
                start = time.perf_counter()
                pool.run_one()
                took.append(time.perf_counter() - start)
            return statistics.median(took) * 1e6

    return [
        *_rows(setups, measure, ("taskmaster", "peer")),
        Entry(ROUND_TRIP, "baseline", lambda: baselines.round_trip(count) * 1e6),
    ]


def _call_entries(setups: list[Setup], sizes: Sizes) -> list[Entry]:
    def measure(setup: Setup) -> float:
        with opened(setup, WORKERS) as pool:
            pool.run_calls(20)
            took = pool.run_calls(sizes.calls)
            if took is None:
                raise TypeError(f"{setup.name} has no calls to the parent")
            return took * 1e6

    return [
        *_rows(setups, measure, ("taskmaster",)),
        Entry(ROUND_TRIP, "baseline", lambda: baselines.round_trip(sizes.calls) * 1e6),
    ]


# -- a large result -----------------------------------------------------------


def _bulk_entries(setups: list[Setup], sizes: Sizes) -> list[Entry]:
    size = sizes.bulk_bytes

    def measure(setup: Setup) -> float:
        with opened(setup, WORKERS) as pool:
            pool.run_bulk(1 << 20)
            start = time.perf_counter()
            received = pool.run_bulk(size)
            took = time.perf_counter() - start
        if received != size:
            raise ValueError(f"{setup.name} returned {received} bytes, not {size}")
        return took

    return [
        *_rows(setups, measure, ("taskmaster", "peer")),
        Entry(SOCKET_BULK, "baseline", lambda: baselines.bulk(size)),
    ]


# -- sleeps -------------------------------------------------------------------


def _sleep_entries(setups: list[Setup], sizes: Sizes) -> list[Entry]:
    ideal = sizes.sleeps * sizes.sleep_seconds / SLEEP_WORKERS

    def measure(setup: Setup) -> float:
        with opened(setup, SLEEP_WORKERS) as pool:
            pool.run_sleeps(SLEEP_WORKERS, sizes.sleep_seconds)  # all started
            start = time.perf_counter()
            pool.run_sleeps(sizes.sleeps, sizes.sleep_seconds)
            return 100 * ideal / (time.perf_counter() - start)

    def raw() -> float:
        took = baselines.sleeps(SLEEP_WORKERS, sizes.sleeps, sizes.sleep_seconds)
        return 100 * ideal / took

    return [
        *_rows(setups, measure, ("taskmaster", "peer")),
        Entry(BARE_SLEEPS, "baseline", raw),
    ]


# -- starting and idling ----------------------------------------------------


def _ready_entries(setups: list[Setup], sizes: Sizes) -> list[Entry]:
    def measure(setup: Setup) -> float:
        start = time.perf_counter()
        with opened(setup, WORKERS) as pool:
            pool.run_one()
            return (time.perf_counter() - start) * 1e3

    return _rows(setups, measure, ("taskmaster", "peer"))


def _idle_entries(setups: list[Setup], sizes: Sizes) -> list[Entry]:
    def measure(setup: Setup) -> float:
        with opened(setup, WORKERS) as pool:
            pool.run_one()
            start = time.process_time()
            pool.run_sleeps(1, sizes.idle_seconds)
            return (time.process_time() - start) * 1e3

    return _rows(setups, measure, ("taskmaster", "peer"))


WORKLOADS = [
    Workload(
        "empty",
        lambda s: (
            f"{s.empty_tasks:,} empty tasks submitted one by one, {WORKERS} workers"
        ),
        "tasks/s",
        True,
        MULTIPROCESSING_POOL,
        _empty_entries,
    ),
    Workload(
        "latency",
        lambda s: (
            f"one task at a time, submit and wait (median of {s.latency_tasks:,})"
        ),
        "µs",
        False,
        PEBBLE,
        _latency_entries,
    ),
    Workload(
        "call",
        lambda s: f"Task.call round trip, timed in the child (median of {s.calls:,})",
        "µs",
        False,
        ROUND_TRIP,
        _call_entries,
    ),
    Workload(
        "bulk",
        lambda s: f"one {s.bulk_bytes / 1e6:g} MB result",
        "s",
        False,
        PROCESS_POOL_EXECUTOR,
        _bulk_entries,
    ),
    Workload(
        "sleeps",
        lambda s: (
            f"{s.sleeps} x {s.sleep_seconds * 1e3:g} ms sleeps, "
            f"{SLEEP_WORKERS} workers: ideal time ÷ elapsed time"
        ),
        "%",
        True,
        None,
        _sleep_entries,
    ),
    Workload(
        "ready",
        lambda s: f"pool of {WORKERS} ready: construction to first result",
        "ms",
        False,
        PROCESS_POOL_EXECUTOR,
        _ready_entries,
    ),
    Workload(
        "idle",
        lambda s: (
            f"parent CPU time while waiting {s.idle_seconds:g} s for a sleeping task"
        ),
        "ms",
        False,
        PROCESS_POOL_EXECUTOR,
        _idle_entries,
    ),
]


@dataclass(frozen=True)
class Target:
    """A goal stated as ``numerator ÷ denominator <op> bound`` on medians
    (just the numerator's median when there is no denominator)."""

    text: str
    workload: str
    numerator: str
    denominator: str | None
    at_least: bool
    bound: float


TARGETS = [
    Target(
        "ForkWorker ≥ 2x multiprocessing.Pool",
        "empty",
        FORK,
        MULTIPROCESSING_POOL,
        True,
        2.0,
    ),
    Target(
        "ForkWorker ≥ 4x ProcessPoolExecutor",
        "empty",
        FORK,
        PROCESS_POOL_EXECUTOR,
        True,
        4.0,
    ),
    Target(
        "ProcessWorker within 1.3x of ForkWorker", "empty", FORK, PROCESS, False, 1.3
    ),
    Target("latency ≤ 0.6x pebble's", "latency", FORK, PEBBLE, False, 0.6),
    Target("Task.call ≤ 1.5x socket round trip", "call", FORK, ROUND_TRIP, False, 1.5),
    Target(
        "100 MB result ≥ 2x faster than PPE",
        "bulk",
        PROCESS_POOL_EXECUTOR,
        FORK,
        True,
        2.0,
    ),
    Target("sleeps ≥ 97% efficient", "sleeps", FORK, None, True, 97.0),
    Target(
        "ForkWorker ready ≤ PPE (fork)",
        "ready",
        FORK,
        PROCESS_POOL_EXECUTOR,
        False,
        1.0,
    ),
    Target("ProcessWorker ready ≤ loky", "ready", PROCESS, LOKY, False, 1.0),
    Target("idle CPU ≤ PPE's", "idle", FORK, PROCESS_POOL_EXECUTOR, False, 1.0),
]
