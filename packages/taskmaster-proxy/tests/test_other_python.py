"""The proxy on another Python, protocol versions that differ, and choosing
a proxy through the environment (``auto_detect_workers``)."""

import importlib
import os
import sys
import sysconfig
import textwrap
import threading
from pathlib import Path

import pytest

from taskmaster.core import Taskmaster, TaskmasterOptions, WorkerFailedError
from taskmaster.core.protocol import PROTOCOL_VERSION
from taskmaster.proxy import ProcessProxy
from taskmaster.workers import ForkWorker, ProcessWorker

PYENV = Path("/root/.pyenv/versions")

TASKS = '''
import os
import sys

from taskmaster.core import Task


class Version(Task):
    """Returns the Python version, module path and pid it runs under."""

    def run(self):
        return tuple(sys.version_info[:2]), sys.path, os.getpid()
'''


def other_python() -> tuple[tuple[int, int], str] | None:
    """A Python >= 3.10 of another minor version than this one, if installed:
    its version and executable."""
    here = sys.version_info[:2]
    found = []
    for home in sorted(PYENV.glob("3.*")) if PYENV.is_dir() else []:
        major, minor = (int(part) for part in home.name.split(".")[:2])
        executable = home / "bin" / "python3"
        if (major, minor) >= (3, 10) and (major, minor) != here and executable.exists():
            found.append((abs(minor - here[1]), (major, minor), str(executable)))
    if not found:
        return None
    _, version, executable = min(found)
    return version, executable


@pytest.fixture
def version_task(tmp_path, monkeypatch):
    """A task class in an importable module (a by-value class would carry this
    Python's bytecode, which another version cannot run)."""
    (tmp_path / "proxy_version_tasks.py").write_text(TASKS)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("proxy_version_tasks")
    yield module.Version
    sys.modules.pop("proxy_version_tasks", None)


@pytest.mark.parametrize("kind", [ForkWorker, ProcessWorker])
def test_the_proxy_runs_another_python_version(version_task, kind):
    other = other_python()
    if other is None:
        pytest.skip("no other Python >= 3.10 under /root/.pyenv/versions")
    version, python = other
    proxy = ProcessProxy().set_options(TaskmasterOptions(python_executable=python))
    with Taskmaster() as taskmaster:
        taskmaster.add_workers(kind().set_proxy(proxy), 2)
        promises = [taskmaster.run_task(version_task()) for _ in range(3)]
        taskmaster.wait()
        results = [promise.get_value() for promise in promises]
    assert {result[0] for result in results} == {version}
    assert {pid for _, _, pid in results}.isdisjoint({os.getpid()})
    # The other Python imports from its own standard library only, never ours
    # (a module removed from its version would otherwise load from ours).
    ours = sysconfig.get_paths()["stdlib"]
    for _, path, _ in results:
        assert not [entry for entry in path if entry.startswith(ours)]
        assert any(entry.endswith(f"python{version[0]}.{version[1]}") for entry in path)


def test_the_environment_chooses_the_proxy_and_its_python(version_task, monkeypatch):
    version, python = other_python() or (sys.version_info[:2], sys.executable)
    monkeypatch.setenv("TASKMASTER_WORKER", "fork")
    monkeypatch.setenv("TASKMASTER_WORKER_PROXY", "process")
    monkeypatch.setenv("TASKMASTER_WORKER_PROXY_BIN", python)
    monkeypatch.delenv("TASKMASTER_WORKER_COUNT", raising=False)
    monkeypatch.delenv("TASKMASTER_WORKER_BIN", raising=False)
    with Taskmaster().auto_detect_workers(3) as taskmaster:
        [proxy] = taskmaster.get_proxies()
        assert isinstance(proxy, ProcessProxy)
        assert proxy.get_options().get_python_executable() == python
        workers = taskmaster.get_workers()
        assert len(workers) == 3
        assert all(type(w) is ForkWorker and w.get_proxy() is proxy for w in workers)
        promises = [taskmaster.run_task(version_task()) for _ in range(3)]
        taskmaster.wait()
        results = [promise.get_value() for promise in promises]
    assert {result[0] for result in results} == {tuple(version)}


def test_a_threaded_parent_gets_forked_workers_behind_the_proxy(monkeypatch, tasks):
    """Without TASKMASTER_WORKER the default is ForkWorker behind a proxy, even
    while the parent runs threads: the single-threaded proxy does the forking."""
    for name in (
        "TASKMASTER_WORKER",
        "TASKMASTER_WORKER_COUNT",
        "TASKMASTER_WORKER_BIN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TASKMASTER_WORKER_PROXY_BIN", raising=False)
    monkeypatch.setenv("TASKMASTER_WORKER_PROXY", "process")
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="busy-parent-thread")
    thread.start()
    try:
        with Taskmaster().auto_detect_workers(2) as taskmaster:
            workers = taskmaster.get_workers()
            assert [type(worker) for worker in workers] == [ForkWorker, ForkWorker]
            [host] = tasks.run_all(taskmaster, tasks.Host())
            assert host.get_result()[1] != os.getpid()
    finally:
        release.set()
        thread.join()


def test_an_unknown_proxy_name_lists_the_known_ones(monkeypatch):
    monkeypatch.setenv("TASKMASTER_WORKER_PROXY", "carrier-pigeon")
    with pytest.raises(ValueError, match="process"):
        Taskmaster().auto_detect_workers(1)


def test_differing_protocol_versions_fail_naming_both(tmp_path, tasks):
    """The proxy runs a bootstrap that makes it speak another protocol version."""
    other = PROTOCOL_VERSION + 98
    bootstrap = tmp_path / "other_version.py"
    bootstrap.write_text(
        textwrap.dedent(
            f"""
            import taskmaster.core.protocol
            taskmaster.core.protocol.PROTOCOL_VERSION = {other}
            """
        )
    )
    proxy = ProcessProxy().set_options(TaskmasterOptions(bootstrap=bootstrap))
    with Taskmaster() as taskmaster:
        taskmaster.add_workers(ForkWorker().set_proxy(proxy), 2)
        done = tasks.run_all(taskmaster, *(tasks.Return(i) for i in range(3)))
    for task in done:
        error = task.get_error()
        assert isinstance(error, WorkerFailedError)
        assert "protocol version" in str(error)
        assert f"version {PROTOCOL_VERSION}" in str(error)
        assert f"version {other}" in str(error)
