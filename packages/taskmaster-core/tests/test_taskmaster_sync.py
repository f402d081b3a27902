"""The Taskmaster's behaviour, observed under SyncWorker (tasks run inline)."""

from __future__ import annotations

import copy
import logging
import os
import time
import warnings
from typing import Any, ClassVar

import pytest

from taskmaster.core import (
    CloneTaskFactory,
    InstanceTaskFactory,
    IteratorTaskFactory,
    Promise,
    RemoteTraceback,
    Task,
    TaskFactory,
    TaskInterface,
    Taskmaster,
    TaskmasterError,
    TaskmasterOptions,
    TaskPromise,
    on_child,
    on_parent,
)
from taskmaster.workers import ForkWorker, SyncWorker


class Double(Task):
    def __init__(self, x: int) -> None:
        self.x = x

    def run(self) -> int:
        return self.x * 2


class Fail(Task):
    def __init__(self, message: str = "boom") -> None:
        self.message = message

    def run(self) -> None:
        raise ValueError(self.message)


class Quiet(Fail):
    """A failing task whose handle_error writes nothing."""

    def handle_error(self, error: Exception) -> None:
        self.quiet_error = error


class Logged(Task):
    """Appends its name to a shared log when it runs (SyncWorker shares objects)."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log = log
        self.name = name

    def run(self) -> str:
        self.log.append(self.name)
        return self.name


class LoggedFactory(TaskFactory):
    """Makes ``count`` Logged tasks named ``prefix-i``; records the groups asked."""

    def __init__(
        self,
        log: list[str],
        prefix: str,
        count: int,
        groups: list[str | None] | None = None,
    ) -> None:
        self.log = log
        self.prefix = prefix
        self.count = count
        self.made = 0
        self.groups = groups
        self.asked: list[str | None] = []

    def get_groups(self) -> list[str | None] | None:
        return self.groups

    def create_next_task(self, group: str | None) -> TaskInterface | None:
        self.asked.append(group)
        if self.made >= self.count:
            return None
        self.made += 1
        return Logged(self.log, f"{self.prefix}-{self.made - 1}")


# -- results and promises ------------------------------------------------------


def test_results_arrive_on_the_task_and_its_promise(taskmaster: Taskmaster) -> None:
    tasks = [Double(i) for i in range(5)]
    promises = [taskmaster.run_task(task) for task in tasks]

    assert taskmaster.wait() is taskmaster

    assert [task.get_result() for task in tasks] == [0, 2, 4, 6, 8]
    assert [task.get_error() for task in tasks] == [None] * 5
    assert all(p is t.get_promise() for p, t in zip(promises, tasks, strict=True))
    assert [p.get_value() for p in promises] == [0, 2, 4, 6, 8]
    assert not taskmaster.is_running()


def test_then_and_catch_receive_the_outcome_and_the_task(
    taskmaster: Taskmaster,
) -> None:
    good, bad = Double(4), Quiet("bad")
    seen: list[tuple[str, Any, TaskInterface]] = []

    promise = taskmaster.run_task(good)
    assert promise.then(lambda r, t: seen.append(("then", r, t))) is promise
    assert promise.catch(lambda e, t: seen.append(("catch", e, t))) is promise
    taskmaster.run_task(bad).then(lambda r, t: seen.append(("then", r, t))).catch(
        lambda e, t: seen.append(("catch", e, t))
    )
    taskmaster.wait()

    assert seen == [("then", 8, good), ("catch", bad.quiet_error, bad)]
    assert isinstance(bad.quiet_error, ValueError)
    assert bad.get_promise().get_error() is bad.quiet_error


def test_callbacks_added_after_settling_run_at_once(taskmaster: Taskmaster) -> None:
    task = Double(1)
    taskmaster.run_task(task)
    taskmaster.wait()
    seen: list[Any] = []

    task.get_promise().then(lambda r, t: seen.append((r, t)))

    assert seen == [(2, task)]


def test_callbacks_added_before_run_task_are_kept(taskmaster: Taskmaster) -> None:
    task = Double(5)
    seen: list[Any] = []
    task.get_promise().then(lambda r, t: seen.append(r))  # promise not kept

    taskmaster.run_task(task)
    taskmaster.wait()

    assert seen == [10]


def test_promise_wait_runs_the_taskmaster(taskmaster: Taskmaster) -> None:
    other = Double(1)
    taskmaster.run_task(other)

    assert taskmaster.run_task(Double(21)).wait() == 42
    assert other.get_result() == 2

    failing = Quiet("no")
    with pytest.raises(ValueError, match="no") as raised:
        taskmaster.run_task(failing).wait()
    assert raised.value is failing.quiet_error


def test_the_promise_of_a_task_no_taskmaster_has_cannot_be_waited_for() -> None:
    with pytest.raises(TaskmasterError, match="nothing here can settle it"):
        Double(1).get_promise().wait()


class Raising(Quiet):
    def inner(self) -> None:
        raise KeyError("inner")

    def run(self) -> None:
        try:
            self.inner()
        except KeyError:
            self.raised = ValueError("outer", 42)
            raise self.raised  # noqa: B904 (chained through __context__)


def test_an_exception_reaches_the_parent_as_itself(taskmaster: Taskmaster) -> None:
    task = Raising()
    taskmaster.run_task(task)
    taskmaster.wait()

    error = task.quiet_error
    assert error is task.raised is task.get_promise().get_error()
    assert error.args == ("outer", 42)
    # The traceback travels as text, as from every other worker, so the
    # stored error holds no frames (and through them, no task).
    assert error.__traceback__ is None
    assert isinstance(error.__cause__, RemoteTraceback)
    text = error.__cause__.text
    assert "in inner" in text
    assert "KeyError: 'inner'" in text
    assert "raise self.raised" in text
    assert text.rstrip().endswith("ValueError: ('outer', 42)")
    assert "run_inline" not in text


# -- handle_result / handle_error ------------------------------------------------


class Ordered(Task):
    def __init__(self, log: list[str], fail: bool) -> None:
        self.log = log
        self.fail = fail

    def run(self) -> int:
        if self.fail:
            raise ValueError("failed")
        return 1

    def handle_result(self, result: Any) -> None:
        self.log.append("handle_result")
        super().handle_result(result)

    def handle_error(self, error: Exception) -> None:
        self.log.append("handle_error")


@pytest.mark.parametrize("fail", [False, True])
def test_handle_hooks_run_before_the_callbacks(
    taskmaster: Taskmaster, fail: bool
) -> None:
    log: list[str] = []
    promise = taskmaster.run_task(Ordered(log, fail))
    promise.then(lambda r, t: log.append("then"))
    promise.catch(lambda e, t: log.append("catch"))

    taskmaster.wait()

    assert log == (["handle_error", "catch"] if fail else ["handle_result", "then"])


def test_default_handle_error_writes_one_line(
    taskmaster: Taskmaster, capsys: pytest.CaptureFixture[str]
) -> None:
    task = Fail("first line\nsecond line")
    taskmaster.run_task(task)
    taskmaster.wait()

    out, err = capsys.readouterr()
    assert (out, err) == ("", "Fail failed: ValueError: first line\n")
    assert isinstance(task.get_error(), ValueError)
    assert task.get_result() is None


def test_default_handle_error_without_a_message(
    taskmaster: Taskmaster, capsys: pytest.CaptureFixture[str]
) -> None:
    taskmaster.run_task(Fail(""))
    taskmaster.wait()
    assert capsys.readouterr().err == "Fail failed: ValueError\n"


class BadHandler(Double):
    def handle_result(self, result: Any) -> None:
        raise RuntimeError(f"cannot handle {result}")

    def handle_error(self, error: Exception) -> None:
        self.handled_error = error


def test_a_raising_handle_result_fails_the_task(taskmaster: Taskmaster) -> None:
    broken, fine = BadHandler(1), Double(2)
    caught: list[Exception] = []
    taskmaster.run_task(broken).catch(lambda e, t: caught.append(e))
    taskmaster.run_task(fine)

    finished = list(taskmaster.wait_and_handle_tasks())

    assert [id(t) for t in finished] == [id(broken), id(fine)]
    assert caught == [broken.handled_error]
    assert str(caught[0]) == "cannot handle 2"
    assert broken.get_promise().is_rejected()
    assert fine.get_result() == 4


class BadErrorHandler(Fail):
    def handle_error(self, error: Exception) -> None:
        raise RuntimeError("handler broke too")


def test_a_raising_handle_error_is_logged(
    taskmaster: Taskmaster, caplog: pytest.LogCaptureFixture
) -> None:
    task = BadErrorHandler("original")
    caught: list[Exception] = []
    taskmaster.run_task(task).catch(lambda e, t: caught.append(e))
    taskmaster.run_task(Double(1))

    with caplog.at_level(logging.ERROR, logger="taskmaster"):
        finished = list(taskmaster.wait_and_handle_tasks())

    assert len(finished) == 2
    assert [str(e) for e in caught] == ["original"]
    (record,) = [r for r in caplog.records if r.name.startswith("taskmaster")]
    assert "BadErrorHandler.handle_error raised" in record.getMessage()
    assert "handler broke too" in str(record.exc_info[1])  # type: ignore[index]


class Interface(TaskInterface):
    """A task that implements the interface itself, without the Task base."""

    def __init__(self) -> None:
        self.promise = TaskPromise(self)
        self.handled: Any = None

    def run(self) -> str:
        return "from the interface"

    def handle_result(self, result: Any) -> None:
        self.handled = result

    def handle_error(self, error: Exception) -> None:
        self.handled = error

    def handle_warning(self, warning: Any) -> bool:
        return False

    def get_promise(self) -> TaskPromise:
        return self.promise

    def get_group(self) -> str | None:
        return None

    def get_timeout(self) -> float | None:
        return None


def test_a_task_need_not_subclass_task(taskmaster: Taskmaster) -> None:
    task = Interface()
    assert taskmaster.run_task(task) is task.promise
    assert task.promise.wait() == "from the interface"
    assert task.handled == "from the interface"


# -- the task's view while it runs ---------------------------------------------


class Caller(Task):
    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.touched_on_child = False

    def record(self, value: int, *, plus: int = 1) -> int:
        self.calls.append(value)
        return value + plus

    @on_parent
    def explode(self) -> None:
        raise KeyError("raised in the parent")

    @on_child
    def child_only(self) -> None:
        self.touched_on_child = True

    def run(self) -> dict[str, Any]:
        outcome: dict[str, Any] = {"sync": self.is_sync()}
        outcome["call"] = self.call(self.record, 1, plus=10)
        promise = self.call_async(self.record, 2)
        outcome["async"] = (isinstance(promise, Promise), promise.wait())
        try:
            self.call(self.explode)
        except KeyError as error:
            outcome["raised"] = error.args[0]
        rejected = self.call_async(self.explode)
        outcome["rejected"] = type(rejected.get_error()).__name__
        for target in (self.child_only, len, Double(1).run):
            try:
                self.call(target)
            except ValueError as error:
                outcome.setdefault("refused", []).append(str(error))
        return outcome


def test_call_and_call_async_run_the_method_directly(taskmaster: Taskmaster) -> None:
    task = Caller()
    assert not task.is_sync()

    result = taskmaster.run_task(task).wait()

    assert not task.is_sync()
    assert result["sync"] is True
    assert result["call"] == 11
    assert result["async"] == (True, 3)
    assert result["raised"] == "raised in the parent"
    assert result["rejected"] == "KeyError"
    assert task.calls == [1, 2]


def test_call_refuses_on_child_methods_and_foreign_callables(
    taskmaster: Taskmaster,
) -> None:
    task = Caller()
    refused = taskmaster.run_task(task).wait()["refused"]

    assert len(refused) == 3
    assert "child_only is marked @on_child" in refused[0]
    assert all("bound method of this task" in message for message in refused[1:])
    assert not task.touched_on_child


def test_call_outside_a_taskmaster_calls_directly() -> None:
    task = Caller()
    assert task.call(task.record, 5) == 6
    assert task.call_async(task.record, 6, plus=0).wait() == 6
    assert isinstance(task.call_async(task.explode).get_error(), KeyError)
    with pytest.raises(ValueError, match="on_child"):
        task.call(task.child_only)


class Warns(Task):
    def __init__(self) -> None:
        self.handled: list[Any] = []

    def run(self) -> str:
        warnings.warn("heads up", UserWarning, stacklevel=1)
        return "done"

    def handle_warning(self, warning: Any) -> bool:
        self.handled.append(warning)
        return True


def test_sync_worker_leaves_warnings_to_python(taskmaster: Taskmaster) -> None:
    task = Warns()
    with pytest.warns(UserWarning, match="heads up"):
        assert taskmaster.run_task(task).wait() == "done"
    assert task.handled == []


class Slow(Task):
    def run(self) -> str:
        time.sleep(0.05)
        return "finished"


def test_sync_worker_applies_no_timeout(taskmaster: Taskmaster) -> None:
    taskmaster.set_default_task_timeout(0.001)
    task = Slow().set_timeout(0.001)
    assert taskmaster.run_task(task).wait() == "finished"
    assert task.get_error() is None


# -- groups and factories ------------------------------------------------------


def _group_init(log: list[str], name: str) -> InstanceTaskFactory:
    return InstanceTaskFactory(lambda: Logged(log, f"init {name}"))


def test_tasks_run_only_on_workers_of_their_group() -> None:
    log: list[str] = []
    a = SyncWorker().set_group("a").set_init_task_factory(_group_init(log, "a"))
    b = SyncWorker().set_group("b").set_init_task_factory(_group_init(log, "b"))
    taskmaster = Taskmaster().add_worker(a).add_worker(b)
    for name in ("b1", "b2", "a1"):
        task = Logged(log, name)
        assert task.set_group(name[0]) is task
        taskmaster.run_task(task)

    taskmaster.wait()

    # Worker a takes a1 although b1 was queued first; b's init runs before b1.
    assert log == ["init a", "a1", "init b", "b1", "b2"]


def test_a_task_of_a_group_no_worker_serves_fails(
    taskmaster: Taskmaster, capsys: pytest.CaptureFixture[str]
) -> None:
    orphan = Double(1).set_group("nobody")
    fine = Double(2)
    errors: list[Exception] = []
    taskmaster.run_task(orphan).catch(lambda e, t: errors.append(e))
    taskmaster.run_task(fine)

    finished: list[TaskInterface] = []
    while taskmaster.is_running():
        finished += taskmaster.update()

    assert {id(t) for t in finished} == {id(orphan), id(fine)}
    (error,) = errors
    assert type(error) is TaskmasterError
    assert "'nobody'" in str(error)
    assert orphan.get_error() is error
    assert fine.get_result() == 4


def test_waiting_for_a_task_no_worker_serves_raises(
    taskmaster: Taskmaster, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(TaskmasterError, match="no worker serves the group 'x'"):
        taskmaster.run_task(Double(1).set_group("x")).wait()


def test_factories_are_asked_in_order_before_the_queue(
    taskmaster: Taskmaster,
) -> None:
    log: list[str] = []
    taskmaster.run_task(Logged(log, "queued"))
    first = LoggedFactory(log, "first", 2)
    second = LoggedFactory(log, "second", 2)
    assert taskmaster.add_task_factory(first) is taskmaster
    taskmaster.add_task_factory(second)

    taskmaster.wait()

    assert log == ["first-0", "first-1", "second-0", "second-1", "queued"]
    assert first.made == second.made == 2


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (None, {None, "A", "B"}),
        ([None], {None}),
        (["A"], {"A"}),
        (["A", "B"], {"A", "B"}),
    ],
)
def test_get_groups_decides_which_workers_ask_a_factory(
    groups: list[str | None] | None, expected: set[str | None]
) -> None:
    log: list[str] = []
    factory = LoggedFactory(log, "f", 0, groups)
    taskmaster = Taskmaster().set_workers(
        [SyncWorker(), SyncWorker().set_group("A"), SyncWorker().set_group("B")]
    )
    taskmaster.add_task_factory(factory)

    taskmaster.wait()

    assert set(factory.asked) == expected


def test_a_factory_task_runs_on_the_worker_that_asked(taskmaster: Taskmaster) -> None:
    log: list[str] = []
    only_a = LoggedFactory(log, "a", 3, ["A"])
    taskmaster.add_worker(SyncWorker().set_group("A")).add_task_factory(only_a)

    taskmaster.wait()

    assert log == ["a-0", "a-1", "a-2"]
    assert set(only_a.asked) == {"A"}


def test_iterator_factory_streams_every_item(taskmaster: Taskmaster) -> None:
    done: list[int] = []
    taskmaster.add_task_factory(IteratorTaskFactory(range(50), Double))

    for task in taskmaster.wait_and_handle_tasks():
        done.append(task.get_result())

    assert done == [2 * i for i in range(50)]


def test_factory_callbacks_added_at_creation_run(taskmaster: Taskmaster) -> None:
    # The seed's pattern: a factory handles its tasks' outcomes through the
    # promise it attaches to each task it makes.
    results: list[int] = []

    class Watching(TaskFactory):
        items = iter(range(3))

        def create_next_task(self, group: str | None) -> TaskInterface | None:
            for item in self.items:
                task = Double(item)
                task.get_promise().then(lambda r, t: results.append(r))
                return task
            return None

    taskmaster.add_task_factory(Watching()).wait()

    assert results == [0, 2, 4]


# -- init tasks ----------------------------------------------------------------


class Init(Task):
    runs: ClassVar[list[str]] = []

    def __init__(self, name: str = "init") -> None:
        self.name = name
        self.ran = False

    def run(self) -> str:
        self.ran = True
        Init.runs.append(self.name)
        return self.name


@pytest.fixture
def init_runs() -> list[str]:
    Init.runs = []
    return Init.runs


def _two_workers_busy(taskmaster: Taskmaster, count: int = 4) -> list[Double]:
    tasks = [Double(i) for i in range(count)]
    for task in tasks:
        taskmaster.run_task(task)
    return tasks


def test_a_default_init_task_instance_is_a_template(init_runs: list[str]) -> None:
    template = Init("template")
    taskmaster = Taskmaster().add_workers(SyncWorker(), 2)  # added before
    assert taskmaster.set_default_init_task(template) is taskmaster
    _two_workers_busy(taskmaster)

    taskmaster.wait()

    assert init_runs == ["template", "template"]  # one copy per worker
    assert not template.ran
    assert template.get_result() is None
    assert not template.get_promise().is_settled()


def test_a_default_init_task_class_is_instantiated(init_runs: list[str]) -> None:
    taskmaster = Taskmaster().set_default_init_task(Init).add_workers(SyncWorker(), 2)
    _two_workers_busy(taskmaster)

    taskmaster.wait()

    assert init_runs == ["init", "init"]


def test_a_worker_init_task_factory_wins_over_the_default(init_runs: list[str]) -> None:
    own = InstanceTaskFactory(lambda: Init("own"))
    taskmaster = Taskmaster().set_default_init_task(Init("default"))
    taskmaster.add_worker(SyncWorker().set_init_task_factory(own))
    taskmaster.add_worker(SyncWorker())
    _two_workers_busy(taskmaster)

    taskmaster.wait()

    assert sorted(init_runs) == ["default", "own"]


def test_init_tasks_run_first_and_only_once_per_worker(init_runs: list[str]) -> None:
    log: list[str] = []

    class LoggingInit(Init):
        def run(self) -> str:
            log.append("init")
            return super().run()

    taskmaster = (
        Taskmaster().add_worker(SyncWorker()).set_default_init_task(LoggingInit)
    )
    for name in ("t1", "t2", "t3"):
        taskmaster.run_task(Logged(log, name))

    taskmaster.wait()

    assert log == ["init", "t1", "t2", "t3"]


def test_init_tasks_are_not_the_callers_tasks(init_runs: list[str]) -> None:
    taskmaster = Taskmaster().add_workers(SyncWorker(), 2).set_default_init_task(Init)
    tasks = _two_workers_busy(taskmaster, 3)

    assert taskmaster.get_tasks() == tasks
    from_update: list[TaskInterface] = []
    while taskmaster.is_running():
        from_update += taskmaster.update()
    assert [id(t) for t in from_update] == [id(t) for t in tasks]

    more = _two_workers_busy(taskmaster, 3)
    taskmaster.stop()  # sync workers start afresh: the init tasks run again
    yielded = list(taskmaster.wait_and_handle_tasks())

    assert [id(t) for t in yielded] == [id(t) for t in more]
    assert init_runs == ["init"] * 4
    assert not any(isinstance(t, Init) for t in from_update + yielded)


def test_clone_factory_as_init_task_factory(init_runs: list[str]) -> None:
    template = Init("clone")
    worker = SyncWorker().set_init_task_factory(CloneTaskFactory(template))
    taskmaster = Taskmaster().add_worker(worker)
    taskmaster.run_task(Double(1))

    taskmaster.wait()

    assert init_runs == ["clone"]
    assert not template.ran


# -- the loop ------------------------------------------------------------------


def test_wait_until_all_tasks_are_assigned(taskmaster: Taskmaster) -> None:
    taskmaster.add_worker(SyncWorker())
    tasks = _two_workers_busy(taskmaster, 5)

    assert taskmaster.wait_until_all_tasks_are_assigned() is taskmaster

    assert taskmaster.get_tasks() == []
    more = _two_workers_busy(taskmaster, 2)
    assert taskmaster.get_tasks() == more
    taskmaster.wait()
    assert [t.get_result() for t in tasks + more] == [0, 2, 4, 6, 8, 0, 2]


def test_wait_and_handle_tasks_yields_each_task_once(taskmaster: Taskmaster) -> None:
    tasks = _two_workers_busy(taskmaster, 6)
    tasks.append(Quiet())
    taskmaster.run_task(tasks[-1])

    yielded = list(taskmaster.wait_and_handle_tasks())

    assert sorted(map(id, yielded)) == sorted(map(id, tasks))
    assert all(t.get_promise().is_settled() for t in yielded)


def test_a_manual_update_loop_is_wait(taskmaster: Taskmaster) -> None:
    tasks = _two_workers_busy(taskmaster, 4)
    log: list[str] = []
    taskmaster.add_task_factory(LoggedFactory(log, "f", 2))

    finished: list[TaskInterface] = []
    while taskmaster.is_running():
        finished += taskmaster.update()

    assert log == ["f-0", "f-1"]
    assert len(finished) == 6
    assert {id(t) for t in tasks} <= {id(t) for t in finished}
    assert taskmaster.update() == []
    assert not taskmaster.is_running()


def test_a_manual_update_loop_asks_a_factory_added_alone(
    taskmaster: Taskmaster,
) -> None:
    # Found by the conformance suite: with nothing queued, is_running() was
    # False until a factory had been asked once, so the loop never began.
    taskmaster.add_task_factory(IteratorTaskFactory(range(3), Double))

    finished: list[TaskInterface] = []
    while taskmaster.is_running():
        finished += taskmaster.update()

    assert sorted(task.get_result() for task in finished) == [0, 2, 4]
    assert not taskmaster.is_running()


def test_update_with_nothing_to_do_returns_at_once(taskmaster: Taskmaster) -> None:
    assert taskmaster.update() == []
    assert not taskmaster.is_running()


def test_a_taskmaster_is_a_context_manager() -> None:
    if not ForkWorker.is_supported():
        pytest.skip("os.fork is not available")

    class Pid(Task):
        def run(self) -> int:
            return os.getpid()

    with Taskmaster() as taskmaster:
        assert isinstance(taskmaster, Taskmaster)
        taskmaster.add_worker(ForkWorker())
        pid = taskmaster.run_task(Pid()).wait()
        assert pid != os.getpid()

    # stop() ended and reaped the forked worker.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_setters_chain(tmp_path: Any) -> None:
    taskmaster = Taskmaster()
    worker = SyncWorker()
    bootstrap = tmp_path / "bootstrap.py"

    assert taskmaster.add_worker(worker) is taskmaster
    assert taskmaster.add_workers(SyncWorker(), 2) is taskmaster
    assert taskmaster.set_workers([worker]) is taskmaster
    assert taskmaster.add_task_factory(InstanceTaskFactory(Init, 0)) is taskmaster
    assert taskmaster.set_default_task_timeout(3) is taskmaster
    assert taskmaster.set_default_init_task_factory(None) is taskmaster
    assert taskmaster.set_default_init_task(None) is taskmaster
    assert taskmaster.set_bootstrap(bootstrap) is taskmaster
    assert taskmaster.set_python_executable("/usr/bin/python3") is taskmaster
    assert taskmaster.wait() is taskmaster
    assert taskmaster.wait_until_all_tasks_are_assigned() is taskmaster
    assert taskmaster.stop() is taskmaster

    options = taskmaster.get_options()
    assert options.get_bootstrap() == str(bootstrap)
    assert options.get_python_executable() == "/usr/bin/python3"
    assert worker.set_group("g") is worker
    assert worker.set_options(TaskmasterOptions()) is worker
    assert worker.set_proxy(None) is worker
    assert worker.set_init_task_factory(None) is worker
    task = Double(1)
    assert task.set_group("g") is task
    assert task.set_timeout(2) is task


def test_workers_and_copies(taskmaster: Taskmaster) -> None:
    template = SyncWorker().set_group("g")
    taskmaster.set_workers([]).add_workers(template, 3)

    workers = taskmaster.get_workers()

    assert len(workers) == 3
    assert len({id(w) for w in workers}) == 3
    assert template not in workers
    assert all(w.get_group() == "g" for w in workers)
    workers.clear()
    assert len(taskmaster.get_workers()) == 3


def test_timeouts_fall_back_to_the_default() -> None:
    task = Double(1)
    assert task.get_timeout() is None
    assert task.set_timeout(2).get_timeout() == 2.0
    assert task.set_timeout(0).get_timeout() == 0.0
    assert task.set_timeout(None).get_timeout() is None


# -- copies --------------------------------------------------------------------


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy])
def test_a_copied_task_is_independent(taskmaster: Taskmaster, copier: Any) -> None:
    original = Double(3).set_group(None).set_timeout(5)
    original.items = [1, 2]  # type: ignore[attr-defined]
    seen: list[str] = []
    original.get_promise().then(lambda r, t: seen.append("original"))

    clone = copier(original)

    assert clone is not original
    assert type(clone) is Double
    assert clone.x == 3
    assert clone.items == [1, 2]
    assert clone.get_timeout() == 5.0
    assert clone.get_group() is None
    assert clone.get_promise() is not original.get_promise()
    assert clone.get_promise().get_task() is clone

    assert taskmaster.run_task(clone).wait() == 6
    assert clone.get_result() == 6
    assert original.get_result() is None
    assert not original.get_promise().is_settled()
    assert seen == []

    taskmaster.run_task(original).wait()
    assert seen == ["original"]


def test_a_copy_keeps_the_group(taskmaster: Taskmaster) -> None:
    clone = copy.copy(Double(1).set_group("g"))
    assert clone.get_group() == "g"
