"""taskmaster.core: tasks, the taskmaster, and everything a worker builds on.

The public names load on first use (PEP 562): a spawned worker or proxy
imports ``taskmaster.core.runtime``, which imports this package first, and
needs neither the taskmaster nor the factories; loading them only when asked
for takes a third off the start of every ``ProcessWorker`` instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names

if TYPE_CHECKING:
    from ._errors import (
        FatalPythonError,
        ProtocolError,
        RemoteTraceback,
        TaskmasterError,
        TaskTimeoutError,
        WorkerFailedError,
    )
    from ._factory import (
        CloneTaskFactory,
        InstanceTaskFactory,
        IteratorTaskFactory,
        TaskFactory,
        TaskFactoryInterface,
    )
    from ._options import TaskmasterOptions
    from ._promise import Promise, TaskPromise
    from ._serialization import NotSerializable, Serializable, SerializationMixin
    from ._sides import OnBoth, OnChild, OnParent, on_both, on_child, on_parent
    from ._task import Task, TaskInterface
    from ._taskmaster import Taskmaster
    from ._warning import TaskWarning

__version__ = "0.1.0"

__all__ = [
    "CloneTaskFactory",
    "FatalPythonError",
    "InstanceTaskFactory",
    "IteratorTaskFactory",
    "NotSerializable",
    "OnBoth",
    "OnChild",
    "OnParent",
    "Promise",
    "ProtocolError",
    "RemoteTraceback",
    "Serializable",
    "SerializationMixin",
    "Task",
    "TaskFactory",
    "TaskFactoryInterface",
    "TaskInterface",
    "TaskPromise",
    "TaskTimeoutError",
    "TaskWarning",
    "Taskmaster",
    "TaskmasterError",
    "TaskmasterOptions",
    "WorkerFailedError",
    "on_both",
    "on_child",
    "on_parent",
]

# The module that defines each public name (the imports above, for the loader).
_SOURCES = {
    "._errors": (
        "FatalPythonError",
        "ProtocolError",
        "RemoteTraceback",
        "TaskmasterError",
        "TaskTimeoutError",
        "WorkerFailedError",
    ),
    "._factory": (
        "CloneTaskFactory",
        "InstanceTaskFactory",
        "IteratorTaskFactory",
        "TaskFactory",
        "TaskFactoryInterface",
    ),
    "._options": ("TaskmasterOptions",),
    "._promise": ("Promise", "TaskPromise"),
    "._serialization": ("NotSerializable", "Serializable", "SerializationMixin"),
    "._sides": ("OnBoth", "OnChild", "OnParent", "on_both", "on_child", "on_parent"),
    "._task": ("Task", "TaskInterface"),
    "._taskmaster": ("Taskmaster",),
    "._warning": ("TaskWarning",),
}

__getattr__, __dir__ = lazy_names(__name__, _SOURCES)
