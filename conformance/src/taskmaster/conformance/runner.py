"""Run a batch on a backend and compare what happened with the model.

:func:`check_batch` is the whole check: it asks the model what must happen,
runs the batch on a fresh taskmaster, and raises :class:`ConformanceError`
listing every difference, with a regression test that replays the batch.
Nothing here needs pytest.
"""

from __future__ import annotations

import contextlib
import gc
import reprlib
import warnings
import weakref
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from taskmaster.core import IteratorTaskFactory, TaskInterface, Taskmaster

from .backends import Backend
from .model import ErrorLike, Expected, expect_batch, same
from .resources import Snapshot, descendants
from .scenario import FIELDS, Batch, Scenario, regression_test
from .task import ScenarioFactory, ScenarioTask, init_factory, init_scenario
from .values import WARNINGS, reset_init_mark


class ConformanceError(AssertionError):
    """Raised when a backend did not do what the model expected."""


@dataclass
class Observed:
    """What the parent saw of one task."""

    ok: bool
    outcome: Any
    fields: dict[str, Any]
    seen: list[Any]
    events: list[str]


@dataclass
class Run:
    """Everything observed while a batch ran."""

    tasks: dict[int, Observed] = field(default_factory=dict)
    returned: list[int] | None = None
    shown: list[tuple[str, str]] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    kept_alive: list[int] = field(default_factory=list)


class _Registry:
    """The tasks of one batch by key (their index in the batch)."""

    def __init__(self, batch: Batch) -> None:
        self.tasks: dict[int, ScenarioTask] = {}
        self._keys: dict[int, deque[int]] = {}
        for key, scenario in enumerate(batch.tasks):
            self._keys.setdefault(id(scenario), deque()).append(key)

    def make(self, scenario: Scenario) -> ScenarioTask:
        """A task for ``scenario`` whose promise records its callbacks."""
        key = self._keys[id(scenario)].popleft()
        task = self.tasks[key] = ScenarioTask(scenario, key)
        promise = task.get_promise()
        promise.then(lambda _result, settled: settled.events.append("then"))
        promise.catch(lambda _error, settled: settled.events.append("catch"))
        return task


def _install_init(taskmaster: Taskmaster, batch: Batch) -> None:
    spec = batch.init
    if spec is None:
        return
    if not spec.per_group:
        taskmaster.set_default_init_task(ScenarioTask(init_scenario(spec, None)))
        return
    for worker in taskmaster.get_workers():
        worker.set_init_task_factory(init_factory(spec, worker.get_group()))


def _deliver(taskmaster: Taskmaster, batch: Batch, registry: _Registry) -> list[Any]:
    """Hand the batch's tasks over; the promises of those queued directly."""
    scenarios = list(batch.tasks)
    split = {"queue": len(scenarios), "mixed": len(scenarios) // 2}.get(
        batch.delivery, 0
    )
    queued, made_later = scenarios[:split], scenarios[split:]
    promises = [taskmaster.run_task(registry.make(s)) for s in queued]
    if made_later and batch.delivery == "iterator":
        taskmaster.add_task_factory(IteratorTaskFactory(made_later, registry.make))
    elif made_later:
        taskmaster.add_task_factory(ScenarioFactory(made_later, registry.make))
    return promises


def _drive(
    taskmaster: Taskmaster, batch: Batch, promises: list[Any]
) -> list[Any] | None:
    """Run until done the way the batch says; the tasks returned, if any."""
    if batch.drive == "update":
        returned: list[TaskInterface] = []
        while taskmaster.is_running():
            returned += taskmaster.update()
        return returned
    if batch.drive == "iterate":
        return list(taskmaster.wait_and_handle_tasks())
    if batch.drive == "promise":
        _wait_for_each(promises)
    taskmaster.wait()
    return None


def _wait_for_each(promises: list[Any]) -> None:
    """``wait()`` on each promise, as a careful caller does.

    An error raised by ``wait()`` keeps this frame in its traceback, and the
    error is stored on its task: so this frame lets go of each promise before
    the next, or the task would be kept alive through its own error.
    """
    while promises:
        promise = promises.pop(0)
        with contextlib.suppress(Exception):
            promise.wait()
        del promise


def _observe(task: ScenarioTask) -> Observed:
    error = task.get_error()
    return Observed(
        ok=error is None,
        outcome=task.get_result() if error is None else error,
        fields={name: task.__dict__.get(name) for name in (*FIELDS, "trace")},
        seen=list(task.seen),
        events=list(task.events),
    )


def run_batch(backend: Backend, batch: Batch) -> Run:
    """Run ``batch`` on a fresh taskmaster with ``backend``'s workers."""
    reset_init_mark()
    before = Snapshot()
    run = Run()
    registry = _Registry(batch)
    during = _execute(backend, batch, registry, run)
    run.tasks = {key: _observe(task) for key, task in registry.tasks.items()}
    run.kept_alive = _release(registry)
    run.leaks = before.leaks(during)
    return run


def _execute(backend: Backend, batch: Batch, registry: _Registry, run: Run) -> Any:
    """Run the batch to the end and stop; the processes seen before stopping.

    The taskmaster and everything that refers to it live only in this frame.
    """
    proxy = backend.make_proxy()
    taskmaster = Taskmaster()
    taskmaster.set_workers([backend.make_worker(g, proxy) for g in batch.workers])
    taskmaster.set_default_task_timeout(batch.default_timeout)
    _install_init(taskmaster, batch)
    with warnings.catch_warnings(record=True) as shown:
        promises = _deliver(taskmaster, batch, registry)
        returned = _drive(taskmaster, batch, promises)
        during = descendants()
        taskmaster.stop()
    run.shown = [(str(w.message), w.category.__name__) for w in shown]
    if returned is not None:
        run.returned = [getattr(task, "key", -1) for task in returned]
    return during


def _release(registry: _Registry) -> list[int]:
    """Drop every reference to the tasks; the keys of tasks still alive.

    The garbage collector is off meanwhile: a finished task must be freed by
    reference counting alone (no cycles through its promise or the taskmaster).
    """
    references = {key: weakref.ref(task) for key, task in registry.tasks.items()}
    enabled = gc.isenabled()
    gc.disable()
    try:
        registry.tasks.clear()
        return sorted(key for key, ref in references.items() if ref() is not None)
    finally:
        if enabled:
            gc.enable()


# -- comparing -------------------------------------------------------------------

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 160
_repr.maxlist = _repr.maxtuple = _repr.maxdict = 8
_repr.maxlevel = 4


def short(value: Any) -> str:
    return _repr.repr(value)


def compare_task(key: int, expected: Expected, seen: Observed | None) -> list[str]:
    """The differences between what the model expected of a task and what
    the parent saw."""
    if seen is None:
        return [f"task {key}: never created"]
    problems = _check_outcome(expected.outcome, seen)
    settled = (
        ["handle_error", "catch"]
        if seen.events[:1] == ["handle_error"]
        else [
            "handle_result",
            "then",
        ]
    )
    if seen.events != settled:
        problems.append(
            f"hooks and promise callbacks ran as {seen.events}, expected {settled}"
        )
    if not any(_state_matches(state, seen) for state in expected.states):
        problems.append(_state_difference(expected, seen))
    return [f"task {key}: {problem}" for problem in problems]


def _check_outcome(expected: Any, seen: Observed) -> list[str]:
    if isinstance(expected, ErrorLike):
        if seen.ok:
            return [f"returned {short(seen.outcome)}, expected {expected}"]
        if not expected.match(seen.outcome):
            return [f"raised {seen.outcome!r}, expected {expected}"]
        if expected.remote and not _has_remote_traceback(seen.outcome):
            return [f"{seen.outcome!r} arrived without the child's traceback"]
        return []
    if not seen.ok:
        return [f"raised {seen.outcome!r}, expected the result {short(expected)}"]
    if not same(expected, seen.outcome):
        return [f"returned {short(seen.outcome)}, expected {short(expected)}"]
    return []


def _has_remote_traceback(error: BaseException) -> bool:
    notes = getattr(error, "__notes__", None) or []
    texts = [str(error.__cause__ or ""), *map(str, notes)]
    return any("Traceback" in text for text in texts)


def _state_matches(state: Any, seen: Observed) -> bool:
    return same(state.fields, seen.fields) and same(state.seen, seen.seen)


def _state_difference(expected: Expected, seen: Observed) -> str:
    state = expected.states[-1]
    for name, value in state.fields.items():
        if not same(value, seen.fields.get(name)):
            return (
                f"field {name!r} is {short(seen.fields.get(name))} on the parent, "
                f"expected {short(value)}"
            )
    return f"the parent saw the calls {short(seen.seen)}, expected {short(state.seen)}"


def compare_batch(batch: Batch, expected: list[Expected], run: Run) -> list[str]:
    """Every difference between the model's expectation and ``run``."""
    problems = []
    for key, expectation in enumerate(expected):
        problems += compare_task(key, expectation, run.tasks.get(key))
    if run.returned is not None and Counter(run.returned) != Counter(list(run.tasks)):
        problems.append(
            f"update() returned the tasks {sorted(run.returned)}, "
            f"expected each of {sorted(run.tasks)} once"
        )
    problems += _compare_warnings(batch, expected, run.shown)
    if run.kept_alive:
        problems.append(
            f"tasks {run.kept_alive} outlived every reference to them (a cycle)"
        )
    return problems + run.leaks


def _compare_warnings(
    batch: Batch, expected: list[Expected], shown: list[tuple[str, str]]
) -> list[str]:
    texts = {text for e in expected for text, _ in e.shown + e.maybe_shown}
    ours = Counter(item for item in shown if item[0] in texts and item[1] in WARNINGS)
    required = Counter(item for e in expected for item in e.shown)
    allowed = required + Counter(item for e in expected for item in e.maybe_shown)
    if required - ours or ours - allowed:
        return [
            f"the parent showed the warnings {sorted(ours.elements())}, "
            f"expected {sorted(required.elements())}"
        ]
    return []


def check_batch(backend: Backend, batch: Batch) -> Run:
    """Run ``batch`` on ``backend``; raise ConformanceError unless everything
    the parent observed is what the model expected."""
    expected = expect_batch(batch, backend.capabilities)
    run = run_batch(backend, batch)
    problems = compare_batch(batch, expected, run)
    if problems:
        raise ConformanceError(report(backend, batch, problems))
    return run


def report(backend: Backend, batch: Batch, problems: list[str]) -> str:
    listing = "\n".join(f"  - {problem}" for problem in problems)
    return (
        f"{backend.name} does not conform:\n{listing}\n\n"
        f"Replay it with this test:\n\n{regression_test(backend.name, batch)}"
    )


def check_scenarios(backend: Backend, settings: Any = None) -> None:
    """Check generated batches on ``backend`` until hypothesis is satisfied.

    ``settings`` default to :func:`~taskmaster.conformance.conformance_settings`
    for the active profile.  A failure raises the shrunk batch's
    ConformanceError, which ends with a regression test that replays it.
    """
    from hypothesis import given

    from .profiles import conformance_settings
    from .strategies import batches

    @given(batch=batches(backend.capabilities))
    def conforms(batch: Batch) -> None:
        check_batch(backend, batch)

    # One example database entry per backend, not one for all of them.
    conforms.hypothesis.inner_test._hypothesis_internal_add_digest = (  # type: ignore[attr-defined]
        backend.name.encode()
    )
    (settings or conformance_settings("batches"))(conforms)()
