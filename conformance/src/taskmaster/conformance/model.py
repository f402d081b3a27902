"""The reference model: what the parent must observe when a scenario runs.

The model replays a scenario on two dictionaries, the child's copy of the
task's fields and the parent's, following the contract (SPEC §3): fields
without a side or ``OnBoth`` travel with every call and its answer and when
the task ends; ``OnChild`` fields travel to the child once; ``OnParent``
fields never leave the parent.  The parent handles calls in the order they
were sent; the child applies an answer's fields when it waits for that
answer or for a later one.  Under a backend that shares objects (SyncWorker)
both dictionaries are one.

The result is an :class:`Expected` per task: the outcome (a value, or an
:class:`ErrorLike` describing the exception), the final fields and calls the
parent must hold, and the warnings the parent must show.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any

from .backends import Capabilities
from .scenario import (
    FIELDS,
    AwaitCalls,
    Batch,
    Call,
    Crash,
    Ending,
    ErrorSpec,
    Exit,
    Hang,
    Raise,
    ReadInit,
    ReportPid,
    Return,
    Scenario,
    SetField,
    Warn,
)
from .task import MISSING
from .values import UNLOADABLE_ERRORS, UNPICKLABLE_ERRORS, Locked, Poisoned, materialise

RETURNING = ("both", "plain", "trace")
"""The fields that come back from the child, in the order the child holds them."""

SENT = ("both", "plain", "child", "trace")
"""The fields sent to the child with the task, in order."""

VALUES_MODULE = "taskmaster.conformance.values"


@dataclass(frozen=True)
class ErrorLike:
    """What an exception must look like: its class name, and its ``args``
    exactly or phrases its message contains; ``attrs`` it must have;
    ``remote`` when the child's traceback must be attached."""

    name: str
    args: tuple[Any, ...] | None = None
    contains: tuple[str, ...] = ()
    attrs: tuple[tuple[str, Any], ...] = ()
    mentions: tuple[tuple[str, str], ...] = ()
    remote: bool = False

    def match(self, error: object) -> bool:
        if not isinstance(error, BaseException) or type(error).__name__ != self.name:
            return False
        if self.args is not None and not same(self.args, error.args):
            return False
        text = str(error)
        if not all(phrase in text for phrase in self.contains):
            return False
        if any(getattr(error, key, None) != value for key, value in self.attrs):
            return False
        return all(part in str(getattr(error, key, "")) for key, part in self.mentions)

    def arrived(self) -> ErrorLike:
        """This error after it travelled pickled to the other side."""
        if self.name in UNPICKLABLE_ERRORS | UNLOADABLE_ERRORS:
            text = self.contains[0] if self.contains else ""
            # "module.Name: message", or the name alone for an empty message.
            described = f"{VALUES_MODULE}.{self.name}" + (f": {text}" if text else "")
            return ErrorLike("TaskmasterError", contains=(described,), remote=True)
        return ErrorLike(self.name, self.args, self.contains, self.attrs, remote=True)


def error_like(spec: ErrorSpec) -> ErrorLike:
    """The exception ``spec`` builds, as raised where it is built."""
    built = spec.build()
    return ErrorLike(type(built).__name__, built.args, (str(built),))


def taskmaster_error(*phrases: str) -> ErrorLike:
    return ErrorLike("TaskmasterError", contains=phrases)


@dataclass(frozen=True)
class ArgsLike:
    """Exception arguments whose text contains every phrase (for trace entries)."""

    contains: tuple[str, ...]

    def match(self, args: object) -> bool:
        text = " ".join(map(str, args)) if isinstance(args, tuple) else ""
        return all(phrase in text for phrase in self.contains)


@dataclass
class ParentState:
    """The task's fields (and trace) and the calls the parent saw, at one moment."""

    fields: dict[str, Any]
    seen: list[tuple[Any, ...]]


@dataclass
class Expected:
    """What the parent must observe for one task.

    ``states`` holds every acceptable final state of the parent's object; it
    has more than one entry only for a task cut off by its timeout, which may
    strike before or after any of the task's calls reach the parent.
    """

    outcome: Any
    states: list[ParentState]
    shown: list[tuple[str, str]] = field(default_factory=list)
    maybe_shown: list[tuple[str, str]] = field(default_factory=list)


class _Propagated(Exception):
    """A call's exception that the scenario lets end the task."""

    def __init__(self, error: ErrorLike) -> None:
        self.error = error


class _Killed(Exception):
    """The parent gives the worker instance up in the middle of the task."""

    def __init__(self, error: ErrorLike) -> None:
        self.error = error


class _Simulation:
    """One task, replayed: the child's fields, the parent's, and the messages."""

    def __init__(self, scenario: Scenario, caps: Capabilities, mark: Any) -> None:
        self.scenario = scenario
        self.shares = caps.shares_objects
        self.mark = mark
        initial = dict(scenario.fields)
        self.parent: dict[str, Any] = {
            **{name: materialise(initial.get(name)) for name in FIELDS},
            "trace": [],
        }
        self.child = self.parent if self.shares else _pick(self.parent, SENT)
        self.seen: list[tuple[Any, ...]] = []
        self.shown: list[tuple[str, str]] = []
        self.answers: dict[int, tuple[dict[str, Any], Any]] = {}
        self.unapplied: list[int] = []
        self.pending: list[tuple[int, Call]] = []
        self.history = [self.state()]

    def state(self) -> ParentState:
        fields = {**self.parent, "trace": list(self.parent["trace"])}
        return ParentState(fields, list(self.seen))

    def note(self, entry: tuple[Any, ...]) -> None:
        self.child["trace"] = [*self.child["trace"], entry]

    # -- the task's life ---------------------------------------------------------

    def expect(self) -> Expected:
        refused = self.refusal()
        if refused is not None:
            return Expected(refused, [self.state()])
        try:
            self.act_out()
        except _Propagated as propagated:
            return self.finish(self.fail_with(propagated.error), cut_off=False)
        except _Killed as killed:
            return self.finish(killed.error, cut_off=False)
        return self.finish(self.end(), isinstance(self.scenario.ending, Hang))

    def refusal(self) -> ErrorLike | None:
        """The error if the task cannot even reach the child."""
        refused = self.pickling_refusal()
        if refused is not None or self.shares:
            return refused
        if any(_holds(self.parent[name], Poisoned) for name in SENT):
            return taskmaster_error("could not be unpickled in the worker")
        return None

    def pickling_refusal(self) -> ErrorLike | None:
        """The error if the parent cannot pickle the task to send it."""
        if self.shares:
            return None
        for name in SENT:
            if _holds(self.parent[name], Locked):
                return taskmaster_error(f"pickling field {name!r}")
        return None

    def act_out(self) -> None:
        index = 0
        for step in self.scenario.steps:
            if isinstance(step, Call):
                self.call(index, step)
            elif isinstance(step, ReportPid):
                self.sync_point()
            elif isinstance(step, SetField):
                self.child[step.name] = materialise(step.value)
            elif isinstance(step, AwaitCalls):
                self.await_pending()
            elif isinstance(step, Warn):
                self.warn(step)
            elif isinstance(step, ReadInit):
                self.note(("init", self.mark))
            index += isinstance(step, (Call, ReportPid))
        self.await_pending()

    def finish(self, outcome: Any, cut_off: bool) -> Expected:
        if cut_off:
            return Expected(outcome, self.history, maybe_shown=self.shown)
        return Expected(outcome, [self.state()], shown=self.shown)

    # -- calls -------------------------------------------------------------------

    def call(self, index: int, step: Call) -> None:
        args = materialise(step.args)
        refused = self.call_refusal(args)
        if refused is not None:
            self.raised(index, step, refused)
            return
        if not self.shares and _holds((args, self.returning(self.child)), Poisoned):
            unloadable = ("a call could not be unpickled",)
            raise _Killed(ErrorLike("WorkerFailedError", contains=unloadable))
        self.parent.update(self.returning(self.child))
        self.seen.append((index, tuple(args), self.visible()))
        for name, value in step.answer.sets:
            self.parent[name] = materialise(value)
        self.answers[index] = self.answer(step)
        self.unapplied.append(index)
        self.history.append(self.state())
        if step.wait in ("now", "async"):
            self.wait(index, step)
        elif step.wait == "later":
            self.pending.append((index, step))

    def sync_point(self) -> None:
        """A call whose answer only carries fields (``ReportPid``)."""
        self.parent.update(self.returning(self.child))
        self.child.update(self.returning(self.parent))
        self.history.append(self.state())

    def call_refusal(self, args: tuple[Any, ...]) -> ErrorLike | None:
        """The error ``call`` raises before sending anything, if any."""
        if self.shares:
            return None
        for position, arg in enumerate(args, start=1):
            if _holds(arg, Locked):
                return taskmaster_error(f"pickling argument {position} of the call")
        if _holds(self.returning(self.child), Locked):
            return taskmaster_error("pickling the synchronised fields of the call")
        return None

    def answer(self, step: Call) -> tuple[dict[str, Any], Any]:
        """The fields the parent sends back and the outcome it answers with."""
        fields = self.returning(self.parent)
        outcome: Any
        if step.answer.error is not None:
            outcome = error_like(step.answer.error)
            if not self.shares:
                outcome = _arrived_in_child(outcome)
        else:
            outcome = materialise(step.answer.value)
        if self.shares:
            # One object on both sides: nothing travels back to overwrite
            # what the task has set since.
            return {}, outcome
        value = None if isinstance(outcome, ErrorLike) else outcome
        unpicklable = _first_holding(fields, Locked)
        if unpicklable is not None:
            return {}, taskmaster_error(f"pickling field {unpicklable!r}")
        if _holds(value, Locked):
            return {}, taskmaster_error("pickling the return value of answer()")
        if _holds((value, fields), Poisoned):
            return {}, taskmaster_error("unpickling the answer to a call")
        return fields, outcome

    def wait(self, index: int, step: Call) -> None:
        while self.unapplied and self.unapplied[0] <= index:
            fields, _ = self.answers[self.unapplied.pop(0)]
            self.child.update(fields)
        outcome = self.answers[index][1]
        if isinstance(outcome, ErrorLike):
            self.raised(index, step, outcome)
        else:
            self.note(("answer", index, outcome))

    def raised(self, index: int, step: Call, error: ErrorLike) -> None:
        args = error.args if error.args is not None else ArgsLike(error.contains)
        self.note(("raised", index, error.name, args))
        if step.propagate:
            raise _Propagated(error)

    def await_pending(self) -> None:
        while self.pending:
            self.wait(*self.pending.pop(0))

    def warn(self, step: Warn) -> None:
        self.note(("warning", step.text, step.category, step.handled))
        if not step.handled:
            self.shown.append((step.text, step.category))

    # -- endings -----------------------------------------------------------------

    def end(self) -> Any:
        ending = self.scenario.ending
        if isinstance(ending, Return):
            return self.returned(materialise(ending.value))
        death = death_of(ending)
        if death is not None:
            return death
        assert isinstance(ending, Raise)
        return self.fail_with(error_like(ending.error))

    def returned(self, value: Any) -> Any:
        if self.shares:
            return value
        fields = self.returning(self.child)
        unpicklable = _first_holding(fields, Locked)
        if unpicklable is not None:
            return taskmaster_error(f"pickling field {unpicklable!r}")
        if _holds(value, Locked):
            return taskmaster_error("pickling the result")
        if _holds(value, Poisoned) or _holds(fields, Poisoned):
            return taskmaster_error("unpickling the result")
        self.parent.update(fields)
        return value

    def fail_with(self, error: ErrorLike) -> ErrorLike:
        if self.shares:
            return error
        fields = self.returning(self.child)
        unpicklable = _first_holding(fields, Locked)
        if unpicklable is not None:
            return taskmaster_error(f"pickling field {unpicklable!r}")
        if _holds(fields, Poisoned):
            return taskmaster_error("unpickling the error")
        self.parent.update(fields)
        return error.arrived()

    # -- fields ------------------------------------------------------------------

    def returning(self, side: dict[str, Any]) -> dict[str, Any]:
        return _pick(side, RETURNING)

    def visible(self) -> tuple[Any, ...]:
        return tuple(self.parent.get(name, MISSING) for name in FIELDS)


def death_of(ending: Ending) -> ErrorLike | None:
    """The error of a task whose worker instance ``ending`` ends, if it does."""
    if isinstance(ending, Exit):
        return ErrorLike("WorkerFailedError", attrs=(("exitcode", ending.code),))
    if isinstance(ending, Crash):
        return ErrorLike(
            "FatalPythonError",
            attrs=(("signal", signal.SIGSEGV),),
            mentions=(("traceback", "_segfault"),),
        )
    if isinstance(ending, Hang):
        return ErrorLike("TaskTimeoutError")
    return None


def _arrived_in_child(error: ErrorLike) -> ErrorLike:
    arrived = error.arrived()
    return ErrorLike(arrived.name, arrived.args, arrived.contains, arrived.attrs)


def _pick(fields: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: fields[name] for name in names if name in fields}


def _holds(value: Any, kind: type) -> bool:
    """Whether ``value`` holds an instance of ``kind`` anywhere inside."""
    if isinstance(value, kind):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds(item, kind) for item in value)
    if isinstance(value, dict):
        return any(_holds(item, kind) for item in value.values())
    return False


def _first_holding(fields: dict[str, Any], kind: type) -> str | None:
    return next((name for name, value in fields.items() if _holds(value, kind)), None)


# -- tasks and batches -------------------------------------------------------------


def expect_task(scenario: Scenario, caps: Capabilities, mark: Any = None) -> Expected:
    """What the parent must observe when ``scenario`` runs on a backend with
    ``caps``, on a worker instance whose init task left ``mark``."""
    return _Simulation(scenario, caps, mark).expect()


def expect_batch(batch: Batch, caps: Capabilities) -> list[Expected]:
    """The expectation for each task of ``batch``, in order."""
    groups = set(batch.workers)
    fatal = death_of(batch.init.ending) if batch.init is not None else None
    expected = []
    for scenario in batch.tasks:
        simulation = _Simulation(scenario, caps, None)
        error = None
        if scenario.group not in groups:
            error = taskmaster_error("no worker serves the group")
        elif fatal is not None:
            # A task that cannot be pickled fails in the parent as it is
            # handed over, before its instance has had the chance to die in
            # the init task; one that the worker cannot unpickle never gets
            # that far, since the init task runs (and dies) first.
            error = simulation.pickling_refusal() or fatal
        if error is not None:
            expected.append(Expected(error, [simulation.state()]))
        else:
            expected.append(expect_task(scenario, caps, init_mark(batch, scenario)))
    return expected


def init_mark(batch: Batch, scenario: Scenario) -> Any:
    """The mark a task of ``batch`` finds left by its instance's init task."""
    if batch.init is None:
        return None
    if batch.init.per_group:
        return f"group:{scenario.group}"
    return batch.init.mark


# -- comparing ---------------------------------------------------------------------


def same(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` is what the model expected: equal, of the same types
    all the way down, with matchers (``ErrorLike``, ``ArgsLike``) deciding
    for themselves."""
    if isinstance(expected, (ErrorLike, ArgsLike)):
        return expected.match(actual)
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, (list, tuple)):
        return len(expected) == len(actual) and all(
            same(e, a) for e, a in zip(expected, actual, strict=False)
        )
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(
            same(expected[key], actual[key]) for key in expected
        )
    return bool(expected == actual)
