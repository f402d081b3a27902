"""The hook that hands a running task its warnings, with real threads.

ThreadWorker runs tasks side by side in one process, whose warning filters
and "already shown" memory are shared; each task must still see every
warning it raises, and code outside tasks must see Python's usual rules.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable

from taskmaster.core import _warnings_hook


def in_task(body: Callable[[], object], seen: list[str]) -> None:
    _warnings_hook.begin(lambda message: seen.append(str(message.message)))
    try:
        body()
    finally:
        _warnings_hook.end()


def warn_same() -> None:
    warnings.warn("the same place", RuntimeWarning, stacklevel=1)


def test_tasks_side_by_side_each_see_the_same_warning() -> None:
    # Four threads start their tasks, meet, then warn from one line at
    # once: what one of them leaves in Python's memory must not silence
    # the others.
    rounds, threads = 50, 4
    seen: list[list[str]] = [[] for _ in range(threads)]

    def task(n: int, barrier: threading.Barrier) -> None:
        def body() -> None:
            barrier.wait()
            warn_same()

        in_task(body, seen[n])

    for _ in range(rounds):
        barrier = threading.Barrier(threads)
        running = [
            threading.Thread(target=task, args=(n, barrier)) for n in range(threads)
        ]
        for thread in running:
            thread.start()
        for thread in running:
            thread.join()

    assert [len(mine) for mine in seen] == [rounds] * threads


def test_a_task_sees_a_repeated_warning_once_as_python_shows_it() -> None:
    seen: list[str] = []

    def twice_each() -> None:
        for _ in range(3):
            warn_same()
            warnings.warn("once per task", RuntimeWarning, stacklevel=1)

    in_task(twice_each, seen)
    in_task(twice_each, seen)

    assert seen == ["the same place", "once per task"] * 2


def test_ignore_and_error_filters_still_apply_in_a_task() -> None:
    seen: list[str] = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="quiet")
        warnings.filterwarnings("error", category=FutureWarning)

        def body() -> None:
            warnings.warn("quiet", RuntimeWarning, stacklevel=1)
            warnings.warn("loud", RuntimeWarning, stacklevel=1)
            try:
                warnings.warn("raised", FutureWarning, stacklevel=1)
            except FutureWarning:
                seen.append("raised as an error")

        in_task(body, seen)

    assert seen == ["loud", "raised as an error"]


def test_code_outside_tasks_keeps_pythons_once_per_location() -> None:
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")
        _warnings_hook.install()  # the tasks' filter in front of it
        for _ in range(3):
            warnings.warn("outside", RuntimeWarning, stacklevel=1)

    assert [str(warning.message) for warning in shown] == ["outside"]
