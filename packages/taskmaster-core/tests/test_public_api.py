"""The public names of taskmaster.core (SPEC section 3) and the namespace layout."""

from __future__ import annotations

import dataclasses
import importlib
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import taskmaster
import taskmaster.core
from taskmaster.core import (
    FatalPythonError,
    TaskmasterError,
    TaskTimeoutError,
    TaskWarning,
    WorkerFailedError,
)

SPEC_NAMES = {
    "Taskmaster",
    "TaskmasterOptions",
    "Task",
    "TaskInterface",
    "on_parent",
    "on_child",
    "on_both",
    "OnParent",
    "OnChild",
    "OnBoth",
    "SerializationMixin",
    "Serializable",
    "NotSerializable",
    "TaskFactory",
    "TaskFactoryInterface",
    "IteratorTaskFactory",
    "InstanceTaskFactory",
    "CloneTaskFactory",
    "Promise",
    "TaskPromise",
    "TaskWarning",
    "TaskmasterError",
    "TaskTimeoutError",
    "WorkerFailedError",
    "FatalPythonError",
}
# Public beyond the SPEC: the protocol's error and the remote traceback carrier.
EXTRA_NAMES = {"ProtocolError", "RemoteTraceback"}


def test_all_is_exactly_the_public_api() -> None:
    assert set(taskmaster.core.__all__) == SPEC_NAMES | EXTRA_NAMES
    assert len(taskmaster.core.__all__) == len(set(taskmaster.core.__all__))
    assert taskmaster.core.__all__ == sorted(taskmaster.core.__all__)


def test_every_public_name_is_importable() -> None:
    module = importlib.import_module("taskmaster.core")
    for name in taskmaster.core.__all__:
        assert getattr(module, name) is not None


def test_public_modules_import() -> None:
    for name in ("protocol", "runtime", "worker", "proxy"):
        importlib.import_module(f"taskmaster.core.{name}")


def test_version_is_a_string() -> None:
    assert isinstance(taskmaster.core.__version__, str)
    assert taskmaster.core.__version__.count(".") >= 1


def test_taskmaster_is_a_namespace_package() -> None:
    # PEP 420: no taskmaster/__init__.py, so separately installed
    # distributions share the namespace.
    assert getattr(taskmaster, "__file__", None) is None
    assert type(taskmaster.__path__).__name__ == "_NamespacePath"
    for folder in taskmaster.__path__:
        assert not (Path(folder) / "__init__.py").exists()


def test_no_package_in_the_repository_has_a_taskmaster_init() -> None:
    root = Path(__file__).resolve().parents[3]
    sources = [*root.glob("packages/*/src"), root / "conformance" / "src"]
    assert sources
    for source in sources:
        assert (source / "taskmaster").is_dir()
        assert not (source / "taskmaster" / "__init__.py").exists()


def test_errors_derive_from_taskmaster_error() -> None:
    for name in ("TaskTimeoutError", "WorkerFailedError", "FatalPythonError"):
        assert issubclass(getattr(taskmaster.core, name), TaskmasterError)
    assert issubclass(TaskmasterError, Exception)
    assert issubclass(TaskTimeoutError, TimeoutError)
    assert issubclass(taskmaster.core.ProtocolError, TaskmasterError)


def test_errors_survive_pickling() -> None:
    failed = pickle.loads(pickle.dumps(WorkerFailedError("gone", 3)))
    assert (str(failed), failed.exitcode) == ("gone", 3)

    fatal = pickle.loads(pickle.dumps(FatalPythonError(11, None, "File x, in f")))
    assert (fatal.signal, fatal.message) == (11, "Segmentation fault")
    assert fatal.traceback == "File x, in f"
    assert "Segmentation fault (signal 11)" in str(fatal)

    timeout = pickle.loads(pickle.dumps(TaskTimeoutError("late")))
    assert isinstance(timeout, TimeoutError)


def test_task_warning_is_a_picklable_value() -> None:
    warning = TaskWarning("careful", DeprecationWarning, "task.py", 12)
    copy = pickle.loads(pickle.dumps(warning))
    assert copy == warning and hash(copy) == hash(warning)
    assert copy != TaskWarning("careful", DeprecationWarning, "task.py", 13)
    assert str(warning) == "task.py:12: DeprecationWarning: careful"
    assert repr(warning) == (
        "TaskWarning(message='careful', category=<class 'DeprecationWarning'>, "
        "filename='task.py', lineno=12)"
    )
    with pytest.raises(AttributeError, match="cannot be changed"):
        warning.lineno = 13


def test_task_warning_loads_as_pickled_by_earlier_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Earlier versions had TaskWarning as a frozen dataclass, which pickles
    as the class and a dict of its fields; a runtime of such a version (on
    another Python installation) can still send one."""

    @dataclasses.dataclass(frozen=True)
    class Before:
        message: str
        category: type[Warning]
        filename: str
        lineno: int

    Before.__module__ = TaskWarning.__module__
    Before.__name__ = Before.__qualname__ = "TaskWarning"
    with monkeypatch.context() as patch:
        patch.setattr(sys.modules[TaskWarning.__module__], "TaskWarning", Before)
        data = pickle.dumps(Before("careful", DeprecationWarning, "task.py", 12))

    loaded = pickle.loads(data)

    assert loaded == TaskWarning("careful", DeprecationWarning, "task.py", 12)


def test_public_names_load_on_first_use() -> None:
    """A spawned worker imports the runtime without the taskmaster itself."""
    code = (
        "import sys, taskmaster.core.runtime, taskmaster.core as core\n"
        "assert 'taskmaster.core._taskmaster' not in sys.modules\n"
        "assert core.Taskmaster.__module__ == 'taskmaster.core._taskmaster'\n"
        "assert 'Taskmaster' in vars(core)  # found directly the next time\n"
        "assert 'Taskmaster' in dir(core)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_spawned_worker_imports_no_more_than_it_needs() -> None:
    """Every module the runtime imports is paid for by each spawned worker's
    start; these ones it does not need."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import taskmaster.core.runtime\n"
        "heavy = {'dataclasses', 'inspect', 'shutil', 'tempfile', 'sysconfig',\n"
        "         'importlib.metadata', 'cloudpickle', 'taskmaster.core._process'}\n"
        "print(sorted(heavy & (set(sys.modules) - before)))\n"
    )
    imported = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert imported.stdout == "[]\n"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Taskmister'"):
        taskmaster.core.Taskmister  # noqa: B018
