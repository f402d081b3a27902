"""auto_detect_workers: environment variables, entry points and defaults."""

from __future__ import annotations

import os
import threading

import pytest

from taskmaster.core import Taskmaster
from taskmaster.core._detect import default_worker_name, worker_class
from taskmaster.workers import ForkWorker, ProcessWorker, SyncWorker, ThreadWorker

VARIABLES = (
    "TASKMASTER_WORKER",
    "TASKMASTER_WORKER_COUNT",
    "TASKMASTER_WORKER_BIN",
    "TASKMASTER_WORKER_PROXY",
    "TASKMASTER_WORKER_PROXY_BIN",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _kinds(taskmaster: Taskmaster) -> list[type]:
    return [type(worker) for worker in taskmaster.get_workers()]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("sync", SyncWorker),
        ("fork", ForkWorker),
        ("process", ProcessWorker),
        ("thread", ThreadWorker),
    ],
)
def test_the_worker_named_in_the_environment(
    clean_environment: pytest.MonkeyPatch, name: str, kind: type
) -> None:
    clean_environment.setenv("TASKMASTER_WORKER", name)
    taskmaster = Taskmaster()

    assert taskmaster.auto_detect_workers(3) is taskmaster

    assert _kinds(taskmaster) == [kind] * 3
    assert len({id(worker) for worker in taskmaster.get_workers()}) == 3


def test_an_unknown_worker_name_lists_the_known_ones(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TASKMASTER_WORKER", "carrier-pigeon")
    with pytest.raises(ValueError, match="unknown worker 'carrier-pigeon'") as raised:
        Taskmaster().auto_detect_workers(2)
    for known in ("fork", "process", "sync", "thread"):
        assert known in str(raised.value)


def test_an_unknown_proxy_name_lists_the_known_ones(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TASKMASTER_WORKER", "sync")
    clean_environment.setenv("TASKMASTER_WORKER_PROXY", "carrier-pigeon")
    with pytest.raises(ValueError, match="unknown proxy 'carrier-pigeon'; known"):
        Taskmaster().auto_detect_workers(2)


def test_the_count_in_the_environment_wins(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TASKMASTER_WORKER", "sync")
    clean_environment.setenv("TASKMASTER_WORKER_COUNT", "5")

    overridden = Taskmaster().auto_detect_workers(2)
    kept = Taskmaster().auto_detect_workers(2, allow_count_override=False)

    assert len(overridden.get_workers()) == 5
    assert len(kept.get_workers()) == 2


@pytest.mark.parametrize("text", ["many", "0", "-3", "2.5"])
def test_a_bad_count_in_the_environment(
    clean_environment: pytest.MonkeyPatch, text: str
) -> None:
    clean_environment.setenv("TASKMASTER_WORKER", "sync")
    clean_environment.setenv("TASKMASTER_WORKER_COUNT", text)
    with pytest.raises(ValueError, match=r"TASKMASTER_WORKER_COUNT|worker count"):
        Taskmaster().auto_detect_workers(2)
    # Ignored when the caller does not allow an override.
    taskmaster = Taskmaster().auto_detect_workers(2, allow_count_override=False)
    assert _kinds(taskmaster) == [SyncWorker] * 2


@pytest.mark.parametrize("count", [0, -1, 1.5, True])
def test_a_bad_count_argument(count: object) -> None:
    with pytest.raises(ValueError, match="worker count"):
        Taskmaster().auto_detect_workers(count)  # type: ignore[arg-type]


def test_load_from_env_false_ignores_the_environment(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TASKMASTER_WORKER", "carrier-pigeon")
    clean_environment.setenv("TASKMASTER_WORKER_COUNT", "7")
    clean_environment.setenv("TASKMASTER_WORKER_PROXY", "carrier-pigeon")

    taskmaster = Taskmaster().auto_detect_workers(2, load_from_env=False)

    assert _kinds(taskmaster) == [worker_class(default_worker_name())] * 2
    assert all(worker.get_proxy() is None for worker in taskmaster.get_workers())


def test_the_python_executable_for_process_workers(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TASKMASTER_WORKER", "process")
    clean_environment.setenv("TASKMASTER_WORKER_BIN", "/opt/python/bin/python3")

    workers = Taskmaster().auto_detect_workers(2).get_workers()

    for worker in workers:
        options = worker.get_options()
        assert options is not None
        assert options.get_python_executable() == "/opt/python/bin/python3"


def test_an_empty_variable_counts_as_unset(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TASKMASTER_WORKER", "")
    clean_environment.setenv("TASKMASTER_WORKER_COUNT", "")

    taskmaster = Taskmaster().auto_detect_workers(2)

    assert _kinds(taskmaster) == [worker_class(default_worker_name())] * 2


def test_detecting_again_replaces_the_workers(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TASKMASTER_WORKER", "sync")
    taskmaster = Taskmaster().auto_detect_workers(4)
    clean_environment.setenv("TASKMASTER_WORKER", "thread")

    taskmaster.auto_detect_workers(1)

    assert _kinds(taskmaster) == [ThreadWorker]


def test_the_default_depends_on_threads_and_fork(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setattr(threading, "active_count", lambda: 1)
    assert default_worker_name() == ("fork" if hasattr(os, "fork") else "process")

    clean_environment.setattr(threading, "active_count", lambda: 2)
    assert default_worker_name() == "process"

    clean_environment.delattr(os, "posix_spawn", raising=False)
    assert default_worker_name() == "sync"
