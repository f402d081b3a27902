"""taskmaster.core: tasks, the taskmaster, and everything a worker builds on."""

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
