"""The Taskmaster: queue, factories, workers and the event loop that joins them.

Each ``update()`` takes these steps:

1. hand out tasks: every idle worker first, then (for workers whose tasks are
   short) a next task to busy ones; factories before the queue;
2. wait in the selector for frames, instance exits or the nearest timeout;
3. act on what arrived: results, errors, calls to the parent, warnings;
4. time out the tasks past their deadline and replace their instances;
5. return the tasks that finished.

Nothing here polls: the only blocking call is ``selector.select`` with the
time left until the next deadline.
"""

from __future__ import annotations

import copy
import itertools
import logging
import os
import time
import weakref
from collections import deque
from collections.abc import Iterator
from typing import Any

from ._connection import Connection, disown, own
from ._detect import detect_workers
from ._errors import (
    ProtocolError,
    TaskmasterError,
    WorkerFailedError,
    drop_tracebacks,
)
from ._factory import (
    CloneTaskFactory,
    InstanceTaskFactory,
    TaskFactoryInterface,
    factory_serves,
)
from ._inline import run_inline
from ._instance import PREFETCH_WINDOW, Assignment, Instance
from ._options import TaskmasterOptions
from ._poller import READ, WRITE, Poller
from ._promise import Promise, TaskPromise
from ._proxy_link import ProxyLink
from ._proxy_link import describe as describe_link
from ._task import TaskInterface, check_task, check_timeout, set_error, set_result
from .protocol import Frame
from .proxy import Proxy
from .worker import InlineWorker, Worker

logger = logging.getLogger(__name__)

_EXIT_GRACE = 1.0
_STOP_GRACE = 2.0

# The window sizes _dispatch fills up to in turn: 1, 2, 4, ... PREFETCH_WINDOW.
_LIMITS = tuple(1 << n for n in range(PREFETCH_WINDOW.bit_length()))
# Why _fill stopped: the window is as full as its capacity allows, it could
# take more at a higher limit, or there is no task left for its group.
_FULL, _ROOM, _EXHAUSTED = object(), object(), object()

Entry = tuple[TaskInterface, TaskPromise]


class _ExitWatch:
    """Selector data for an instance's pidfd: readable once the process ended."""

    __slots__ = ("instance",)

    def __init__(self, instance: Instance) -> None:
        self.instance = instance


class Taskmaster:
    """Runs tasks on workers.  See the user guide for the whole story."""

    def __init__(self) -> None:
        self._queues: dict[str | None, deque[Entry]] = {}
        self._factories: list[TaskFactoryInterface] = []
        self._workers: list[Worker] = []
        self._instances: dict[Worker, Instance] = {}
        self._inline_started: set[Worker] = set()
        self._links: dict[Proxy, ProxyLink] = {}
        self._options = TaskmasterOptions()
        self._default_timeout: float | None = None
        self._default_init_factory: TaskFactoryInterface | None = None
        self._finished: list[TaskInterface] = []
        # The connections _give sent to during a hand-out: it corks those
        # that get more than one task, and _dispatch uncorks them after it.
        self._given: set[Connection] = set()
        # Whether the last hand-out got a task from a factory: it may have more.
        self._factory_fed = False
        self._selector: Poller | None = None
        self._task_ids = itertools.count(1)
        self._instance_numbers = itertools.count(1)
        self._waiter = _promise_waiter(self)

    # -- tasks -----------------------------------------------------------------

    def run_task(self, task: TaskInterface) -> TaskPromise:
        """Queue ``task``; return its promise."""
        entry = self._accept(check_task(task))
        self._queue_entry(entry)
        return entry[1]

    def add_task_factory(self, factory: TaskFactoryInterface) -> Taskmaster:
        if not isinstance(factory, TaskFactoryInterface):
            raise TypeError(f"expected a task factory, got {type(factory).__name__}")
        self._factories.append(factory)
        # Not asked yet, so it may have tasks: is_running() must say so, or a
        # loop of update() while is_running() would never ask it.
        self._factory_fed = True
        return self

    def get_tasks(self) -> list[TaskInterface]:
        """The queued tasks that no worker has taken yet."""
        return [task for queue in self._queues.values() for task, _ in queue]

    def set_default_task_timeout(self, seconds: float | None) -> Taskmaster:
        """The timeout of tasks whose own is None; 0 or None for no limit."""
        self._default_timeout = check_timeout(seconds)
        return self

    def set_default_init_task_factory(
        self, factory: TaskFactoryInterface | None
    ) -> Taskmaster:
        if factory is not None and not isinstance(factory, TaskFactoryInterface):
            raise TypeError(f"expected a task factory, got {type(factory).__name__}")
        self._default_init_factory = factory
        return self

    def set_default_init_task(
        self, task: TaskInterface | type[TaskInterface] | None
    ) -> Taskmaster:
        """An init task for every new worker instance: a task instance is a
        template (each instance runs a copy), a class is instantiated."""
        if task is None:
            return self.set_default_init_task_factory(None)
        if isinstance(task, type):
            if not issubclass(task, TaskInterface):
                raise TypeError(f"expected a task class, got {task.__name__}")
            return self.set_default_init_task_factory(InstanceTaskFactory(task))
        return self.set_default_init_task_factory(CloneTaskFactory(check_task(task)))

    # -- workers ---------------------------------------------------------------

    def add_worker(self, worker: Worker) -> Taskmaster:
        self._workers.append(_check_worker(worker))
        return self

    def add_workers(self, worker: Worker, count: int) -> Taskmaster:
        """Add ``count`` copies of ``worker`` (they share its proxy and options)."""
        _check_worker(worker)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count is a whole number >= 0, not {count!r}")
        self._workers += [copy.copy(worker) for _ in range(count)]
        return self

    def set_workers(self, workers: list[Worker]) -> Taskmaster:
        """Replace every worker; instances of the old ones are stopped."""
        new = [_check_worker(worker) for worker in workers]
        for worker in self._workers:
            if worker not in new:
                self._retire(worker)
        self._workers = new
        return self

    def auto_detect_workers(
        self, count: int, load_from_env: bool = True, allow_count_override: bool = True
    ) -> Taskmaster:
        """Set ``count`` workers of the best kind for this platform and process,
        or of the kind the ``TASKMASTER_*`` environment variables name."""
        return self.set_workers(
            detect_workers(count, load_from_env, allow_count_override)
        )

    def get_workers(self) -> list[Worker]:
        return list(self._workers)

    def get_proxies(self) -> list[Proxy]:
        proxies: dict[int, Proxy] = {}
        for worker in self._workers:
            proxy = worker.get_proxy()
            if proxy is not None:
                proxies.setdefault(id(proxy), proxy)
        return list(proxies.values())

    # -- options ---------------------------------------------------------------

    def set_bootstrap(self, path: str | os.PathLike[str] | None) -> Taskmaster:
        self._options.set_bootstrap(path)
        return self

    def set_python_executable(self, path: str | os.PathLike[str] | None) -> Taskmaster:
        self._options.set_python_executable(path)
        return self

    def get_options(self) -> TaskmasterOptions:
        return self._options

    # -- running ---------------------------------------------------------------

    def update(self) -> list[TaskInterface]:
        """Handle what is ready; return the tasks that finished since the last call.

        Blocks until the next message or deadline when tasks are running and
        nothing has finished yet.
        """
        if self._selector is not None and self._any_idle() and self._has_queued():
            # Notice instances and proxies that ended while idle (killed,
            # stopped), so the next task starts a fresh one instead of failing.
            self._poll(0.0)
        self._dispatch()
        self._fail_orphans()
        if self._busy():
            deadline = self._nearest_deadline()
            if self._finished:
                self._poll(0.0)
            else:
                self._poll(None if deadline is None else deadline - time.monotonic())
            if deadline is not None:
                self._expire()
            self._dispatch()
        finished, self._finished = self._finished, []
        return finished

    def is_running(self) -> bool:
        """Whether tasks are queued, running, or finished but not yet returned,
        or a factory made a task the last time it was asked (it may make more)."""
        return (
            bool(self._finished)
            or self._factory_fed
            or self._busy()
            or any(self._queues.values())
        )

    def wait(self) -> Taskmaster:
        """Run until every task and factory is done."""
        while True:
            self.update()
            if not self.is_running():
                return self

    def wait_until_all_tasks_are_assigned(self) -> Taskmaster:
        """Run until no queued task waits for a worker (a good time to add more)."""
        while True:
            self.update()
            if not any(self._queues.values()) or not self.is_running():
                return self

    def wait_and_handle_tasks(self) -> Iterator[TaskInterface]:
        """Run and yield each task as it finishes."""
        while True:
            yield from self.update()
            if not self.is_running():
                return

    def stop(self) -> Taskmaster:
        """End every worker instance and proxy.  Running tasks fail with
        WorkerFailedError; queued tasks stay queued for a later run."""
        for worker in list(self._instances):
            self._retire(worker)
        for link in list(self._links.values()):
            self._stop_link(link)
        if self._selector is not None:
            fileno = self._selector.fileno()
            if fileno is not None:
                disown(fileno)
            self._selector.close()
            self._selector = None
        self._inline_started.clear()
        return self

    def __enter__(self) -> Taskmaster:
        return self

    def __del__(self) -> None:
        # A taskmaster dropped without stop() still reaps its workers.
        try:
            if self._instances or self._links:
                self.stop()
        except Exception:
            pass

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- settling (called by instances) -----------------------------------------

    def finished(self, assignment: Assignment, result: Any) -> None:
        set_result(assignment.task, result, assignment.promise)
        if not assignment.is_init:
            self._finished.append(assignment.task)

    def failed(self, assignment: Assignment, error: Exception) -> None:
        set_error(assignment.task, error)
        if not assignment.is_init:
            self._finished.append(assignment.task)

    def requeue(self, assignments: list[Assignment]) -> None:
        for assignment in reversed(assignments):
            if not assignment.is_init and assignment.promise is not None:
                entry = (assignment.task, assignment.promise)
                self._queues.setdefault(
                    assignment.task.get_group(), deque()
                ).appendleft(entry)

    # -- handing out tasks -------------------------------------------------------

    def _accept(self, task: TaskInterface) -> Entry:
        promise = task.get_promise()
        if promise._waiter is None and not promise.is_settled():
            promise._waiter = self._waiter
        return task, promise

    def _queue_entry(self, entry: Entry) -> None:
        group = entry[0].get_group()
        queue = self._queues.get(group)
        if queue is None:
            queue = self._queues[group] = deque()
        queue.append(entry)

    def _dispatch(self) -> None:
        if not self._workers:
            if self._has_queued():
                raise TaskmasterError(
                    "no workers: call add_worker(), add_workers() or "
                    "auto_detect_workers() first"
                )
            return
        self._factory_fed = False
        if not self._has_queued():
            return
        try:
            # Every worker gets one task before any gets a second, and windows
            # grow in doubling steps, so a short queue is shared out evenly.
            exhausted: set[str | None] = set()
            queues = self._queues
            for limit in _LIMITS:
                wanting: set[str | None] = set()
                for worker in self._workers:
                    group = worker.get_group()
                    if group in exhausted:
                        continue
                    if not self._factories and not queues.get(group):
                        exhausted.add(group)
                        continue
                    state = self._fill(worker, group, limit)
                    if state is _EXHAUSTED:
                        exhausted.add(group)
                    elif state is _ROOM:
                        wanting.add(group)
                # A worker with room whose group ran out of tasks later in
                # this round wants nothing more.
                if wanting <= exhausted:
                    break
        finally:
            # _give corked each connection it sent more than one task to:
            # the rest of them leave in one sendmsg now.
            given, self._given = self._given, set()
            for connection in given:
                if connection.corked:
                    connection.uncork()

    def _fill(self, worker: Worker, group: str | None, limit: int) -> object:
        """Give ``worker`` (of ``group``) tasks until its window holds ``limit``
        (or its capacity, if smaller); say why it stopped: _FULL, _ROOM or
        _EXHAUSTED."""
        if isinstance(worker, InlineWorker):
            if limit != 1:
                return _FULL
            entry = self._next_entry(group)
            if entry is None:
                return _EXHAUSTED
            self._run_inline(worker, entry)
            return _FULL
        while True:
            instance = self._instances.get(worker)
            if instance is not None and instance.channel and not instance.window:
                instance = self._check_link(instance)
            if instance is not None:
                break
            entry = self._next_entry(group)
            if entry is None:
                return _EXHAUSTED
            self._give(worker, entry)  # starts an instance (or fails the task)

        capacity = instance.capacity()
        wanted = min(limit, capacity)
        window = instance.window
        while len(window) < wanted:
            entry = self._next_entry(group)
            if entry is None:
                return _EXHAUSTED
            self._give(worker, entry)
        return _FULL if capacity <= limit else _ROOM

    def _next_entry(self, group: str | None) -> Entry | None:
        for factory in self._factories:
            if factory_serves(factory, group):
                task = factory.create_next_task(group)
                if task is not None:
                    self._factory_fed = True
                    try:
                        return self._accept(check_task(task))
                    except TypeError as error:
                        raise TypeError(
                            f"{type(factory).__name__} returned a non-task: {error}"
                        ) from None
        queue = self._queues.get(group)
        if queue:
            return queue.popleft()
        return None

    def _give(self, worker: Worker, entry: Entry) -> None:
        task, promise = entry
        assignment = Assignment(
            task, promise, next(self._task_ids), self._timeout_of(task)
        )
        instance = self._instances.get(worker)
        if instance is None:
            try:
                instance = self._start(worker)
            except Exception as error:
                logger.debug("could not start %r: %r", worker, error)
                failure = WorkerFailedError(
                    f"could not start {type(worker).__name__}: {error}"
                )
                self.failed(assignment, failure)
                return
        connection = instance.connection
        if connection not in self._given:
            self._given.add(connection)  # the first task goes at once
        elif not connection.corked:
            connection.cork()
        try:
            instance.assign(assignment)
        except TaskmasterError as error:
            # Its traceback holds these frames and, through them, the task.
            drop_tracebacks(error)
            self.failed(assignment, error)

    def _timeout_of(self, task: TaskInterface) -> float | None:
        timeout = task.get_timeout()
        if timeout is None:
            timeout = self._default_timeout
        return timeout or None

    def _init_task(self, worker: Worker) -> TaskInterface | None:
        factory = worker.get_init_task_factory() or self._default_init_factory
        if factory is None:
            return None
        task = factory.create_next_task(worker.get_group())
        return None if task is None else check_task(task)

    def _run_inline(self, worker: Worker, entry: Entry) -> None:
        if worker not in self._inline_started:
            self._inline_started.add(worker)
            init = self._init_task(worker)
            if init is not None:
                self._settle_inline(Assignment(init, None, 0, None, is_init=True))
        self._settle_inline(Assignment(entry[0], entry[1], 0, None))

    def _settle_inline(self, assignment: Assignment) -> None:
        ok, outcome = run_inline(assignment.task)
        if ok:
            self.finished(assignment, outcome)
        else:
            self.failed(assignment, outcome)

    def _fail_orphans(self) -> None:
        """Fail queued tasks whose group no worker serves (they could never run)."""
        if not self._workers:
            return
        groups = None
        for group, queue in self._queues.items():
            if not queue:
                continue
            if groups is None:
                groups = {worker.get_group() for worker in self._workers}
            if group not in groups:
                while queue:
                    task, promise = queue.popleft()
                    error = TaskmasterError(
                        f"no worker serves the group {group!r} of this task"
                    )
                    self.failed(Assignment(task, promise, 0, None), error)

    # -- instances ---------------------------------------------------------------

    def _start(self, worker: Worker) -> Instance:
        selector = self._ensure_selector()
        options = _merge_options(worker.get_options(), self._options)
        label = f"{type(worker).__name__} #{next(self._instance_numbers)}"
        proxy = worker.get_proxy()
        if proxy is not None:
            instance = self._link(proxy).start_instance(worker, options, label)
        else:
            handle = worker.launch(options)
            instance = Instance(
                worker, Connection(handle.sock, selector), handle, 0, label
            )
            exit_fd = handle.exit_fileno()
            if exit_fd is not None:
                selector.register(exit_fd, READ, _ExitWatch(instance))
        logger.debug("%s started, pid %s", label, instance.handle.pid)
        self._instances[worker] = instance

        init = self._init_task(worker)
        if init is not None:
            init_assignment = Assignment(
                init, None, next(self._task_ids), self._timeout_of(init), True
            )
            try:
                instance.assign(init_assignment)
            except TaskmasterError as error:
                drop_tracebacks(error)
                self.failed(init_assignment, error)
        return instance

    def _check_link(self, instance: Instance) -> Instance | None:
        """``instance``, an idle one on a proxy, unless that proxy has ended.

        A proxy that died while idle may not have been noticed yet (the rest of
        its threads or workers are still on their way out): end its link now,
        so the next task starts a new proxy instead of failing on the old one.
        """
        link = self._links.get(instance.worker.get_proxy())  # type: ignore[arg-type]
        if link is None or link.handle.wait(0) is None:
            return instance
        self._ended(link)
        return None

    def _link(self, proxy: Proxy) -> ProxyLink:
        """The running link to ``proxy``, launching the proxy if need be."""
        link = self._links.get(proxy)
        if link is not None and link.handle.wait(0) is not None:
            self._ended(link)
            link = None
        if link is None:
            options = _merge_options(proxy.get_options(), self._options)
            link = ProxyLink(proxy, proxy.launch(options), self._ensure_selector())
            proxy._link = link
            self._links[proxy] = link
            exit_fd = link.handle.exit_fileno()
            if exit_fd is not None:
                self._ensure_selector().register(exit_fd, READ, link)
        return link

    def _ensure_selector(self) -> Poller:
        if self._selector is None:
            self._selector = Poller()
            fileno = self._selector.fileno()
            if fileno is not None:
                own(fileno)
        return self._selector

    def _has_queued(self) -> bool:
        """Whether a hand-out may find a task: one is queued, or a factory may
        make one."""
        return bool(self._factories) or any(self._queues.values())

    def _busy(self) -> bool:
        # A loop, not any(generator): this runs several times per update.
        for instance in self._instances.values():  # noqa: SIM110
            if instance.window:
                return True
        return False

    def _any_idle(self) -> bool:
        """Whether an instance waits for a task (or none runs at all)."""
        for instance in self._instances.values():
            if not instance.window:
                return True
        return not self._instances

    def _nearest_deadline(self) -> float | None:
        """When the first running task with a timeout runs out of time."""
        nearest = None
        for instance in self._instances.values():
            deadline = instance.deadline()
            if deadline is not None and (nearest is None or deadline < nearest):
                nearest = deadline
        return nearest

    def _poll(self, timeout: float | None) -> None:
        assert self._selector is not None
        for data, mask in self._selector.wait(timeout):
            if isinstance(data, Connection):
                if mask & WRITE:
                    data.flush()
                if mask & READ and not data.closed:
                    self._read(data)
            elif isinstance(data, _ExitWatch):
                self._drain_and_end(data.instance)
            elif isinstance(data, ProxyLink):
                self._read(data.connection)

    def _read(self, connection: Connection) -> None:
        owner = connection.owner
        try:
            frames = connection.receive()
        except ProtocolError as error:
            self._broken(owner, error)
            return
        if frames is None:
            self._ended(owner)
            return
        if type(owner) is Instance:
            self._handle(owner, frames)
            return
        for frame in frames:
            target = _frame_target(owner, frame)
            if target is None:
                continue
            try:
                if isinstance(target, ProxyLink):
                    ended = target.handle_frame(frame, self)
                    if ended is not None:
                        self._forget(ended)
                elif not target.gone:
                    target.handle_frame(frame, self)
            except ProtocolError as error:
                self._broken(target, error)
                if target is owner:
                    return

    def _handle(self, instance: Instance, frames: list[Frame]) -> None:
        """Act on frames read from an instance's own connection."""
        for frame in frames:
            if instance.gone:
                return
            try:
                instance.handle_frame(frame, self)
            except ProtocolError as error:
                self._broken(instance, error)
                return

    def _drain_and_end(self, instance: Instance) -> None:
        if instance.gone:
            return
        while not instance.connection.closed and not instance.gone:
            try:
                frames = instance.connection.receive()
            except ProtocolError as error:
                self._broken(instance, error)
                return
            if not frames:
                break
            for frame in frames:
                instance.handle_frame(frame, self)
        self._ended(instance)

    def _ended(self, owner: Instance | ProxyLink) -> None:
        """The other end closed: reap it and fail what ran there."""
        handle = owner.handle
        status = handle.wait(_EXIT_GRACE)
        if status is None:
            handle.kill()
            status = handle.wait(None)
        if isinstance(owner, ProxyLink):
            error = (
                status.error(f"the proxy {type(owner.proxy).__name__}")
                if status
                else None
            )
            if owner.stopped:
                error = WorkerFailedError(f"{describe_link(owner)} was stopped")
            self._end_link(owner, error or WorkerFailedError("the proxy went away"))
            return
        logger.debug("%s ended: %s", owner.label, status)
        owner.end(
            status.error(owner.label)
            if status
            else WorkerFailedError(f"{owner.label} went away"),
            self,
        )
        self._forget(owner)

    def _broken(self, owner: Instance | ProxyLink, error: ProtocolError) -> None:
        if isinstance(owner, ProxyLink):
            owner.handle.kill()
            owner.handle.wait(None)
            self._end_link(
                owner, WorkerFailedError(f"the proxy broke the protocol: {error}")
            )
            return
        self._kill(
            owner, WorkerFailedError(f"{owner.label} broke the protocol: {error}")
        )

    def _kill(self, instance: Instance, error: TaskmasterError) -> None:
        instance.end(error, self)
        instance.handle.kill()
        instance.handle.wait(None)
        self._forget(instance)

    def _expire(self) -> None:
        now = time.monotonic()
        for instance in list(self._instances.values()):
            deadline = instance.deadline()
            if deadline is not None and now >= deadline:
                instance.time_out(self)
                instance.handle.kill()
                instance.handle.wait(None)
                self._forget(instance)

    def _forget(self, instance: Instance) -> None:
        """Release an instance that has ended; its worker starts another on demand."""
        if self._instances.get(instance.worker) is instance:
            del self._instances[instance.worker]
        if instance.channel:
            link = self._links.get(instance.worker.get_proxy())  # type: ignore[arg-type]
            if link is not None:
                link.detach(instance)
            return
        exit_fd = instance.handle.exit_fileno()
        if exit_fd is not None and self._selector is not None:
            try:
                self._selector.unregister(exit_fd)
            except (KeyError, ValueError):
                pass
        instance.connection.close()
        instance.handle.close()

    def _end_link(self, link: ProxyLink, error: TaskmasterError) -> None:
        if isinstance(error, WorkerFailedError):
            failure = error
        else:
            # The proxy crashed (a thread worker's task can take it down):
            # still a proxy death, with the crash report as its cause.
            failure = WorkerFailedError(f"{describe_link(link)} crashed: {error}")
            failure.__cause__ = error
        for instance in link.end(failure, self):
            self._instances.pop(instance.worker, None)
        exit_fd = link.handle.exit_fileno()
        if exit_fd is not None and self._selector is not None:
            try:
                self._selector.unregister(exit_fd)
            except (KeyError, ValueError):
                pass
        self._links.pop(link.proxy, None)
        link.close()

    def _retire(self, worker: Worker) -> None:
        """Stop ``worker``'s instance: gracefully when idle, at once when busy."""
        instance = self._instances.get(worker)
        if instance is None:
            return
        if instance.window:
            self._kill(
                instance,
                WorkerFailedError(
                    f"the taskmaster stopped {instance.label} while the task ran"
                ),
            )
            return
        instance.send_stop()
        instance.gone = True
        if not instance.channel and instance.handle.wait(_STOP_GRACE) is None:
            instance.handle.kill()
            instance.handle.wait(None)
        self._forget(instance)

    def _stop_link(self, link: ProxyLink) -> None:
        link.stop()
        if link.handle.wait(_STOP_GRACE) is None:
            link.handle.kill()
            link.handle.wait(None)
        self._end_link(link, WorkerFailedError("the taskmaster stopped the proxy"))

    def __repr__(self) -> str:
        queued = sum(len(queue) for queue in self._queues.values())
        return f"<Taskmaster workers={len(self._workers)} queued={queued}>"


def _check_worker(worker: object) -> Worker:
    if not isinstance(worker, Worker):
        raise TypeError(f"expected a worker, got {type(worker).__name__}")
    return worker


def _merge_options(
    own: TaskmasterOptions | None, default: TaskmasterOptions
) -> TaskmasterOptions:
    """A worker's or proxy's options, with the taskmaster's filling the gaps."""
    if own is None:
        return default
    return TaskmasterOptions(
        own.get_bootstrap() or default.get_bootstrap(),
        own._python_executable or default._python_executable,
    )


def _promise_waiter(taskmaster: Taskmaster) -> Any:
    """``TaskPromise.wait()``: run the taskmaster until the promise settles.

    Holds the taskmaster weakly, so promises never keep it alive.
    """
    reference = weakref.ref(taskmaster)

    def wait_for(promise: Promise[Any]) -> None:
        while not promise.is_settled():
            current = reference()
            if current is None:
                return
            current.update()
            if not promise.is_settled() and not current.is_running():
                return

    return wait_for


def _frame_target(
    owner: Instance | ProxyLink, frame: Frame
) -> Instance | ProxyLink | None:
    """Who acts on ``frame``, read from ``owner``'s connection.

    A frame on a proxy's channel is its instance's (None if that instance
    has ended): a bad one ends that instance alone, not the proxy and the
    other instances on it.
    """
    if isinstance(owner, ProxyLink) and frame.channel:
        return owner.instances.get(frame.channel)
    return owner
