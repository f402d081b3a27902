"""Hypothesis strategies for scenarios, filtered by a backend's capabilities.

``batches(caps)`` is the top: several scenarios, the workers' groups, init
tasks, how tasks are delivered and waited for.  Everything a backend cannot
do (a crash on a worker that shares the caller's process, a timeout on
SyncWorker) is simply not generated for it.  Costly things (megabytes of
bytes, exits, crashes, timeouts) are drawn rarely, and every choice shrinks
towards the plain case.
"""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import strategies as st

from .backends import Capabilities
from .scenario import (
    FIELDS,
    Answer,
    AwaitCalls,
    Batch,
    Call,
    Crash,
    Delivery,
    ErrorSpec,
    Exit,
    Hang,
    InitSpec,
    Raise,
    ReadInit,
    ReportPid,
    Return,
    Scenario,
    SetField,
    Sleep,
    Step,
    Warn,
)
from .values import (
    ERRORS,
    UNLOADABLE_ERRORS,
    UNPICKLABLE_ERRORS,
    WARNINGS,
    Bag,
    Blob,
    Color,
    Pair,
    Point,
    Poison,
    Reduced,
    Slotted,
    Unpicklable,
)

T = TypeVar("T")

GROUPS = (None, "a", "b")
ORPHAN_GROUP = "nobody"
"""A group no worker serves: its tasks must fail, not wait forever."""

MiB = 1 << 20


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of ``choices``, picked in proportion to its weight; shrinks towards
    the first."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda index: table[index])


# -- values ----------------------------------------------------------------------

names = st.from_regex(r"[a-z]{1,4}", fullmatch=True)
keys = st.one_of(st.integers(-5, 5), st.text(max_size=5), names)


def scalars() -> st.SearchStrategy[Any]:
    """Hashable leaves: builtins and the custom classes of ``values``."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.complex_numbers(allow_nan=False, allow_infinity=False, max_magnitude=1e9),
        st.text(max_size=20),
        st.binary(max_size=64),
        st.builds(Point, st.integers(), st.integers()),
        st.sampled_from(Color),
        st.builds(Slotted, st.integers()),
    )


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(keys, children, max_size=3),
        st.frozensets(scalars(), max_size=3),
        st.sets(st.integers(), max_size=3),
        st.builds(Pair, children, children),
        st.dictionaries(names, children, max_size=3).map(lambda items: Bag(**items)),
        st.lists(children, max_size=2).map(lambda parts: Reduced(*parts)),
    )


def blobs(max_size: int = 6 * MiB) -> st.SearchStrategy[Blob]:
    """Big bytes: from just above the out-of-band threshold to ``max_size``."""
    return st.builds(Blob, st.integers(64 * 1024, max_size), st.integers(0, 9))


def values(big: bool = True) -> st.SearchStrategy[Any]:
    """Picklable values of many shapes; with ``big``, rarely megabytes of bytes."""
    plain = st.recursive(scalars(), _containers, max_leaves=8)
    if not big:
        return plain
    return weighted((30, plain), (1, blobs()), (1, st.lists(blobs(MiB), max_size=2)))


def hostile_values(caps: Capabilities) -> st.SearchStrategy[Any]:
    """Values that cannot travel: unpicklable, or refusing to unpickle.

    Only for backends that pickle; under SyncWorker they are ordinary objects.
    """
    if caps.shares_objects:
        return values(big=False)
    return st.one_of(
        st.just(Unpicklable()),
        st.just(Poison()),
        st.lists(st.just(Unpicklable()), min_size=1, max_size=1),
    )


def field_values(caps: Capabilities) -> st.SearchStrategy[Any]:
    return weighted((20, values()), (1, hostile_values(caps)))


small_args = st.one_of(
    st.none(), st.integers(-100, 100), st.text(max_size=8), st.tuples(st.integers())
)


def errors() -> st.SearchStrategy[ErrorSpec]:
    """Exceptions to raise, of built-in and custom classes, with arguments."""
    plain = sorted(set(ERRORS) - UNPICKLABLE_ERRORS - UNLOADABLE_ERRORS)
    return weighted(
        (6, st.builds(ErrorSpec, st.sampled_from(plain), st.tuples(small_args))),
        (
            1,
            st.builds(
                ErrorSpec,
                st.just("RichError"),
                st.tuples(st.text(max_size=5), st.integers()),
            ),
        ),
        (
            1,
            st.builds(
                ErrorSpec, st.just("StubbornError"), st.tuples(small_args, small_args)
            ),
        ),
        (1, st.builds(ErrorSpec, st.just("LockedError"), st.tuples(small_args))),
    )


# -- steps -----------------------------------------------------------------------


def _sets(caps: Capabilities) -> st.SearchStrategy[tuple[tuple[str, Any], ...]]:
    pair = st.tuples(st.sampled_from(FIELDS), field_values(caps))
    return st.lists(pair, max_size=2).map(tuple)


def answers(caps: Capabilities) -> st.SearchStrategy[Answer]:
    return st.builds(
        Answer,
        value=weighted((20, values()), (1, st.just(Unpicklable()))),
        error=weighted((3, st.none()), (1, errors())),
        sets=_sets(caps),
    )


def calls(caps: Capabilities) -> st.SearchStrategy[Call]:
    args = st.lists(weighted((20, values()), (1, hostile_values(caps))), max_size=3)
    return st.builds(
        Call,
        args=args.map(tuple),
        answer=answers(caps),
        wait=st.sampled_from(("now", "async", "later", "never")),
        propagate=weighted((4, st.just(False)), (1, st.just(True))),
    )


def steps(caps: Capabilities) -> st.SearchStrategy[Step]:
    choices: list[tuple[int, st.SearchStrategy[Any]]] = [
        (3, st.builds(SetField, st.sampled_from(FIELDS), field_values(caps))),
        (3, calls(caps)),
        (1, st.just(AwaitCalls())),
        (1, st.builds(Sleep, st.sampled_from((0.0, 0.001, 0.01)))),
    ]
    if caps.warnings:
        warning = st.builds(
            Warn,
            text=st.sampled_from(("w", "careful", "lost")),
            category=st.sampled_from(sorted(WARNINGS)),
            handled=st.booleans(),
        )
        choices.append((2, warning))
    if caps.private_state:
        choices.append((1, st.just(ReadInit())))
    return weighted(*choices)


def _unique_warnings(step_list: list[Step]) -> tuple[Step, ...]:
    """Give each warning of a task its own text: Python shows a repeated
    warning from one place only once per task, which is not what we test."""
    seen: dict[str, int] = {}
    unique = []
    for step in step_list:
        if isinstance(step, Warn):
            count = seen[step.text] = seen.get(step.text, 0) + 1
            if count > 1:
                step = Warn(f"{step.text} {count}", step.category, step.handled)
        unique.append(step)
    return tuple(unique)


# -- endings and scenarios -------------------------------------------------------


def endings(caps: Capabilities) -> st.SearchStrategy[Any]:
    returned = weighted((20, values()), (1, hostile_values(caps)))
    choices: list[tuple[int, st.SearchStrategy[Any]]] = [
        (12, st.builds(Return, returned)),
        (5, st.builds(Raise, errors())),
    ]
    exits = []
    if caps.sys_exit:
        exits.append("sys.exit")
    if caps.os_exit:
        exits.append("os._exit")
    if exits:
        codes = st.sampled_from((0, 1, 3, 42))
        choices.append((1, st.builds(Exit, codes, st.sampled_from(exits))))
    if caps.crashes:
        choices.append((1, st.just(Crash())))
    if caps.timeouts:
        choices.append((1, st.just(Hang())))
    return weighted(*choices)


@st.composite
def scenarios(
    draw: st.DrawFn, caps: Capabilities, groups: tuple[str | None, ...] = (None,)
) -> Scenario:
    """One task: steps, an ending, a timeout, a group, initial field values."""
    ending = draw(endings(caps))
    if isinstance(ending, Hang):
        timeout: float | None = draw(st.sampled_from((0.05, 0.2)))
    else:
        timeout = draw(st.sampled_from((None, 0.0, 60.0)))
    fields = draw(
        st.lists(st.tuples(st.sampled_from(FIELDS), field_values(caps)), max_size=2)
    )
    return Scenario(
        steps=_unique_warnings(draw(st.lists(steps(caps), max_size=6))),
        ending=ending,
        timeout=timeout,
        group=draw(st.sampled_from(groups)),
        fields=tuple(dict(fields).items()),
    )


def machine_scenarios(caps: Capabilities) -> st.SearchStrategy[Scenario]:
    """Short tasks for the state machine: values, errors, a pid report,
    sleeps, and rarely an exit or a timeout."""
    small = values(big=False)
    choices: list[tuple[int, st.SearchStrategy[Any]]] = [
        (8, st.builds(Return, small)),
        (3, st.builds(Raise, errors())),
    ]
    if caps.sys_exit:
        choices.append((1, st.just(Exit(3))))
    if caps.timeouts:
        choices.append((1, st.just(Hang())))
    step = st.one_of(
        st.just(ReportPid()), st.builds(Sleep, st.sampled_from((0.0, 0.005, 0.02)))
    )
    return st.builds(
        _machine_scenario, st.lists(step, max_size=2).map(tuple), weighted(*choices)
    )


def _machine_scenario(step_list: tuple[Step, ...], ending: Any) -> Scenario:
    timeout = 0.1 if isinstance(ending, Hang) else None
    return Scenario(steps=step_list, ending=ending, timeout=timeout)


# -- batches -----------------------------------------------------------------------


@st.composite
def batches(draw: st.DrawFn, caps: Capabilities) -> Batch:
    """Scenarios run together: workers with groups, init tasks, delivery, drive."""
    workers = tuple(draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3)))
    served = tuple(sorted(set(workers), key=str))
    delivery: Delivery = draw(
        st.sampled_from(("queue", "iterator", "factory", "mixed"))
    )
    if delivery == "iterator" and len(served) > 1:
        delivery = "factory"
    task_groups = served
    if delivery == "queue" and draw(weighted((9, st.just(False)), (1, st.just(True)))):
        task_groups = (*served, ORPHAN_GROUP)
    tasks = draw(st.lists(scenarios(caps, task_groups), min_size=1, max_size=5))
    return Batch(
        tasks=tuple(tasks),
        workers=workers,
        init=draw(st.none() | inits(caps)),
        delivery=delivery,
        drive=draw(st.sampled_from(("update", "iterate", "wait", "promise"))),
        default_timeout=draw(st.sampled_from((None, 0.0, 60.0))),
    )


def inits(caps: Capabilities) -> st.SearchStrategy[InitSpec]:
    """Init tasks; rarely one that fails, or (where the backend survives it)
    one that ends its worker instance."""
    choices: list[tuple[int, st.SearchStrategy[Any]]] = [
        (12, st.just(Return())),
        (2, st.builds(Raise, errors())),
    ]
    if caps.sys_exit:
        choices.append((1, st.just(Exit(5))))
    if caps.crashes:
        choices.append((1, st.just(Crash())))
    return st.builds(
        InitSpec,
        mark=st.text(max_size=5),
        per_group=st.booleans(),
        ending=weighted(*choices),
    )
