"""The scenario language: what one task does, as a plain value.

A :class:`Scenario` is data, not code: a list of steps the task takes in the
child, an ending, a timeout and the initial values of its fields.  One task
class (:class:`~taskmaster.conformance.task.ScenarioTask`) acts any scenario
out, and the reference model (:mod:`taskmaster.conformance.model`) predicts
what the parent must see.  A :class:`Batch` is several scenarios run together
on one set of workers, with init tasks, groups and a way of delivering and
waiting for the tasks.

Every class here is a frozen dataclass whose ``repr`` rebuilds it, so a
failing example prints as Python code (see :func:`regression_test`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .values import ERRORS, WARNINGS

FIELDS = ("both", "plain", "child", "parent")
"""The fields a scenario may set: ``OnBoth``, no side, ``OnChild``, ``OnParent``."""


@dataclass(frozen=True)
class ErrorSpec:
    """An exception to raise: a class named in ``values.ERRORS``, and its arguments."""

    kind: str
    args: tuple[Any, ...] = ()

    def build(self) -> Exception:
        return ERRORS[self.kind](*self.args)


# -- steps ---------------------------------------------------------------------


@dataclass(frozen=True)
class SetField:
    """The child assigns ``value`` to the field ``name``."""

    name: str
    value: Any


@dataclass(frozen=True)
class Answer:
    """What the parent-side method does when called: set fields on the
    parent's object, then return ``value`` or raise ``error``."""

    value: Any = None
    error: ErrorSpec | None = None
    sets: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Call:
    """The child calls the parent with ``args``.

    ``wait`` says how: ``"now"`` with ``call()``; ``"async"`` with
    ``call_async()`` and an immediate ``wait()``; ``"later"`` with
    ``call_async()`` waited at the next :class:`AwaitCalls` or before the
    ending; ``"never"`` with ``call_async()`` and no wait at all.  With
    ``propagate`` an exception from the call ends the task.
    """

    args: tuple[Any, ...] = ()
    answer: Answer = field(default_factory=Answer)
    wait: Literal["now", "async", "later", "never"] = "now"
    propagate: bool = False


@dataclass(frozen=True)
class AwaitCalls:
    """The child waits for every ``"later"`` call still pending, in order."""


@dataclass(frozen=True)
class Warn:
    """The child raises a warning; its ``handle_warning`` returns ``handled``."""

    text: str
    category: str = "UserWarning"
    handled: bool = False

    def category_class(self) -> type[Warning]:
        return WARNINGS[self.category]


@dataclass(frozen=True)
class Sleep:
    """The child sleeps a little (scheduling noise, never a timing assertion)."""

    seconds: float


@dataclass(frozen=True)
class ReadInit:
    """The child records the mark its worker instance's init task left."""


@dataclass(frozen=True)
class MarkInit:
    """An init task leaves ``value`` as its worker instance's mark."""

    value: Any


@dataclass(frozen=True)
class ReportPid:
    """The child tells the parent its process id (so it can be killed)."""


Step = SetField | Call | AwaitCalls | Warn | Sleep | ReadInit | MarkInit | ReportPid

# -- endings -------------------------------------------------------------------


@dataclass(frozen=True)
class Return:
    """``run()`` returns ``value``."""

    value: Any = None


@dataclass(frozen=True)
class Raise:
    """``run()`` raises ``error``."""

    error: ErrorSpec


@dataclass(frozen=True)
class Exit:
    """The child's process ends: ``sys.exit(code)`` or ``os._exit(code)``."""

    code: int = 0
    how: Literal["sys.exit", "os._exit"] = "sys.exit"


@dataclass(frozen=True)
class Crash:
    """The child's interpreter dies of a segmentation fault."""


@dataclass(frozen=True)
class Hang:
    """The child never finishes; its timeout must end it."""


Ending = Return | Raise | Exit | Crash | Hang

Delivery = Literal["queue", "iterator", "factory", "mixed"]
"""How a batch's tasks reach the taskmaster: queued, or made by a factory."""


@dataclass(frozen=True)
class Scenario:
    """One task: initial field values, steps in the child, and an ending."""

    steps: tuple[Step, ...] = ()
    ending: Ending = field(default_factory=Return)
    timeout: float | None = None
    group: str | None = None
    fields: tuple[tuple[str, Any], ...] = ()

    def calls(self) -> list[Call | ReportPid]:
        """The steps that call the parent, in order: a call's index is its place."""
        return [step for step in self.steps if isinstance(step, (Call, ReportPid))]


# -- batches -------------------------------------------------------------------


@dataclass(frozen=True)
class InitSpec:
    """Init tasks: each worker instance first runs one that leaves ``mark``
    (or, with ``per_group``, the name of its worker's group), then ends with
    ``ending``; an init task that ends its instance fails every task that
    would have run there."""

    mark: Any = "ready"
    per_group: bool = False
    ending: Ending = field(default_factory=Return)


@dataclass(frozen=True)
class Batch:
    """Scenarios run together on one taskmaster.

    ``workers`` holds the group of each worker.  ``delivery`` says how the
    tasks reach the taskmaster: ``"queue"`` (``run_task``), ``"iterator"``
    (an ``IteratorTaskFactory``), ``"factory"`` (a custom factory with groups)
    or ``"mixed"`` (half each way).  ``drive`` says how the caller waits:
    looping ``update()``, iterating ``wait_and_handle_tasks()``, ``wait()``,
    or ``wait()`` on each promise.
    """

    tasks: tuple[Scenario, ...] = ()
    workers: tuple[str | None, ...] = (None,)
    init: InitSpec | None = None
    delivery: Delivery = "queue"
    drive: Literal["update", "iterate", "wait", "promise"] = "update"
    default_timeout: float | None = None


def regression_test(backend_name: str, batch: Batch) -> str:
    """A pytest test, as source code, that replays ``batch`` on a backend."""
    return (
        "from taskmaster.conformance import *\n\n\n"
        "def test_regression():\n"
        f"    check_batch(backend_named({backend_name!r}), {batch!r})\n"
    )
