"""Promise and TaskPromise: settle once, callbacks in order, failures isolated."""

from __future__ import annotations

import logging
import weakref
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskmaster.core import Promise, Task, TaskmasterError, TaskPromise
from taskmaster.core._task import set_error, set_result

kinds = st.lists(st.sampled_from(["then", "catch"]), max_size=8)
outcomes = st.one_of(
    st.tuples(st.just("resolve"), st.integers() | st.text() | st.none()),
    st.tuples(st.just("reject"), st.text().map(ValueError)),
)


def _settle(promise: Promise[Any], outcome: tuple[str, Any]) -> None:
    how, value = outcome
    if how == "resolve":
        promise.resolve(value)
    else:
        promise.reject(value)


def _add(promise: Promise[Any], kinds: list[str], log: list[Any]) -> None:
    for index, kind in enumerate(kinds):
        method = promise.then if kind == "then" else promise.catch
        returned = method(lambda value, i=index, k=kind: log.append((i, k, value)))
        assert returned is promise


@given(kinds, kinds, outcomes)
def test_callbacks_run_once_in_order_before_and_after_settling(
    before: list[str], after: list[str], outcome: tuple[str, Any]
) -> None:
    promise: Promise[Any] = Promise()
    log_before: list[Any] = []
    log_after: list[Any] = []

    _add(promise, before, log_before)
    assert log_before == []
    _settle(promise, outcome)
    _add(promise, after, log_after)  # each runs at once

    wanted = "then" if outcome[0] == "resolve" else "catch"
    value = outcome[1]
    assert log_before == [(i, k, value) for i, k in enumerate(before) if k == wanted]
    assert log_after == [(i, k, value) for i, k in enumerate(after) if k == wanted]


@given(outcomes, st.lists(outcomes, min_size=1, max_size=4))
def test_a_promise_settles_exactly_once(
    first: tuple[str, Any], later: list[tuple[str, Any]]
) -> None:
    promise: Promise[Any] = Promise()
    calls: list[Any] = []
    promise.then(calls.append).catch(calls.append)

    _settle(promise, first)
    for outcome in later:
        with pytest.raises(TaskmasterError, match="settles exactly once"):
            _settle(promise, outcome)

    assert calls == [first[1]]
    assert promise.is_resolved() == (first[0] == "resolve")
    assert promise.is_rejected() == (first[0] == "reject")
    if first[0] == "resolve":
        assert (promise.get_value(), promise.get_error()) == (first[1], None)
        assert promise.wait() == first[1]
    else:
        assert (promise.get_value(), promise.get_error()) == (None, first[1])
        with pytest.raises(ValueError) as raised:
            promise.wait()
        assert raised.value is first[1]


def test_a_pending_promise_reports_its_state() -> None:
    promise: Promise[int] = Promise()
    assert not promise.is_settled()
    assert (promise.get_value(), promise.get_error()) == (None, None)
    assert repr(promise) == "<Promise pending>"
    promise.resolve(1)
    assert repr(promise) == "<Promise resolved>"


def test_a_raising_callback_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    promise: Promise[int] = Promise()
    seen: list[int] = []

    def broken(value: int) -> None:
        raise RuntimeError("callback broke")

    promise.then(seen.append).then(broken).then(lambda v: seen.append(v + 1))
    with caplog.at_level(logging.ERROR, logger="taskmaster"):
        promise.resolve(1)
        promise.then(broken)  # after settling: also logged, not raised

    assert seen == [1, 2]
    records = [r for r in caplog.records if r.name.startswith("taskmaster")]
    assert len(records) == 2
    assert all(r.exc_info and "callback broke" in str(r.exc_info[1]) for r in records)


def test_a_callback_added_by_a_callback_runs_at_once() -> None:
    promise: Promise[str] = Promise()
    seen: list[str] = []
    promise.then(lambda v: promise.then(lambda w: seen.append("inner " + w)))
    promise.then(lambda v: seen.append("outer " + v))

    promise.resolve("x")

    assert seen == ["inner x", "outer x"]


def test_wait_uses_the_waiter_until_settled() -> None:
    calls: list[Promise[Any]] = []

    def waiter(promise: Promise[Any]) -> None:
        calls.append(promise)
        promise.resolve(42)

    promise: Promise[int] = Promise(waiter)
    assert promise.wait() == 42
    assert promise.wait() == 42
    assert calls == [promise]


def test_wait_without_anything_to_settle_it_raises() -> None:
    with pytest.raises(TaskmasterError, match="nothing here can settle it"):
        Promise().wait()


def test_wait_raises_when_the_waiter_gives_up() -> None:
    promise: Promise[int] = Promise(lambda p: None)
    with pytest.raises(TaskmasterError, match="not settled"):
        promise.wait()


def test_rejecting_with_a_non_exception_is_refused() -> None:
    promise: Promise[int] = Promise()
    with pytest.raises(TypeError, match="rejected with an exception"):
        promise.reject("oops")  # type: ignore[arg-type]
    assert not promise.is_settled()


@pytest.mark.parametrize("method", ["then", "catch"])
def test_callbacks_must_be_callable(method: str) -> None:
    with pytest.raises(TypeError, match="must be callable"):
        getattr(Promise(), method)(42)


class _Task(Task):
    def run(self) -> None:
        pass


@given(kinds, outcomes)
def test_task_promise_passes_the_task(
    callbacks: list[str], outcome: tuple[str, Any]
) -> None:
    task = _Task()
    promise = TaskPromise(task)
    log: list[Any] = []
    for kind in callbacks:
        method = promise.then if kind == "then" else promise.catch
        assert method(lambda value, t: log.append((value, t))) is promise

    _settle(promise, outcome)

    wanted = "then" if outcome[0] == "resolve" else "catch"
    expected = [(outcome[1], task)] * callbacks.count(wanted)
    assert log == expected
    assert all(t is task for _, t in log)
    assert promise.get_task() is task


def test_a_task_keeps_its_pending_promise_and_its_callbacks() -> None:
    # Callbacks added through get_promise() before the task runs must not be
    # lost when the caller drops the promise.
    task = _Task()
    seen: list[Any] = []
    task.get_promise().then(lambda value, t: seen.append((value, t)))

    set_result(task, 7)

    assert seen == [(7, task)]


def test_a_task_promise_made_after_settling_is_already_settled() -> None:
    task = _Task()
    first = weakref.ref(task.get_promise())
    error = KeyError("k")
    task.handle_error = lambda error: None  # type: ignore[method-assign]

    set_error(task, error)

    assert first() is None  # held only weakly once settled
    remade = task.get_promise()
    seen: list[Any] = []
    remade.catch(lambda e, t: seen.append((e, t))).then(seen.append)
    assert remade.is_rejected()
    assert seen == [(error, task)]
