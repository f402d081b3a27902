"""How much Python runs per message: a measure that does not depend on the machine.

``python -m benchmarks.steps [--by-function]`` counts, with ``sys.settrace``,
the bytecode instructions each side executes for one message exchange, and
with ``sys.setprofile`` the function calls (C functions included):

- the parent's side of one task run alone (``run_task`` and ``wait``);
- the parent's side of one ``Task.call`` (one ``update`` that answers it);
- the worker's side of one ``Task.call``;
- the worker running one empty task (from the frame read to the result sent).

Each side talks to a stand-in for the other over a real socket pair, in this
process, so nothing but the code under test is counted.  Timings on a shared
2-CPU machine move by a factor of two from one minute to the next; these
counts do not, so a change to a hot path is judged by them first and by the
timed benchmarks after.  Work done in C (pickling, system calls) is counted
as one call each, not by its cost.
"""

from __future__ import annotations

import argparse
import itertools
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from taskmaster.core import Taskmaster
from taskmaster.core._connection import Connection
from taskmaster.core._context import current_runtime
from taskmaster.core._instance import Assignment, Instance
from taskmaster.core.protocol import FrameDecoder, MessageKind, encode_message, join
from taskmaster.core.runtime import Runtime
from taskmaster.core.worker import WorkerHandle
from taskmaster.workers import ForkWorker

from .tasks import CallTask, EmptyTask

WARM_UP = 50


class Steps:
    """Counts the instructions and calls of this thread while it is on."""

    def __init__(self) -> None:
        self.instructions = 0
        self.calls = 0
        self.by_function: Counter[str] = Counter()

    def _trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            self.instructions += 1
            code = frame.f_code
            where = code.co_filename.rsplit("/", 1)[-1]
            self.by_function[f"{where}:{code.co_name}"] += 1
        return self._trace

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            self.calls += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        sys.settrace(self._trace)
        sys.setprofile(self._profile)
        try:
            yield
        finally:
            sys.settrace(None)
            sys.setprofile(None)


class _Handle(WorkerHandle):
    """The handle of a worker that is only a socket in this process."""

    pid = 0

    def exit_fileno(self) -> None:
        return None

    def wait(self, timeout: float | None) -> None:
        return None

    def kill(self) -> None:
        pass

    def close(self) -> None:
        pass


def _taskmaster_with_stand_ins(count: int) -> tuple[Taskmaster, list[socket.socket]]:
    """A taskmaster whose ``count`` instances are sockets we hold the far ends of."""
    taskmaster = Taskmaster().add_workers(ForkWorker(), count)
    poller = taskmaster._ensure_selector()
    far_ends = []
    for worker in taskmaster.get_workers():
        near, far = socket.socketpair()
        instance = Instance(worker, Connection(near, poller), _Handle(), 0, "stand-in")
        instance.ready = True
        taskmaster._instances[worker] = instance
        far.recv(1 << 16)  # its HELLO
        far_ends.append(far)
    return taskmaster, far_ends


def _answer_tasks(sock: socket.socket) -> None:
    """A worker that answers every RUN with an empty RESULT, until EOF."""
    decoder = FrameDecoder()
    while True:
        try:
            frames = decoder.read_from(sock)
        except OSError:
            return
        if not frames:
            return
        for frame in frames:
            if frame.kind is MessageKind.RUN:
                task_id, _ = frame.load()
                result: tuple[int, None, dict[str, Any]] = (task_id, None, {})
                sock.sendall(join(encode_message(MessageKind.RESULT, result)))


def parent_one_task(steps: Steps) -> None:
    taskmaster, far_ends = _taskmaster_with_stand_ins(2)
    for far in far_ends:
        threading.Thread(target=_answer_tasks, args=(far,), daemon=True).start()
    for number in range(WARM_UP + 1):
        task = EmptyTask()
        if number < WARM_UP:
            taskmaster.run_task(task).wait()
            continue
        with steps.counting():
            taskmaster.run_task(task).wait()
    taskmaster.stop()
    _close(far_ends)


def parent_call(steps: Steps) -> None:
    taskmaster, (far,) = _taskmaster_with_stand_ins(1)
    (instance,) = taskmaster._instances.values()
    task = CallTask(0)
    instance.window.append(Assignment(task, task.get_promise(), 7, None))
    for number in range(WARM_UP + 1):
        call: tuple[Any, ...] = (number, 7, "pong", (), {}, {})
        far.sendall(join(encode_message(MessageKind.CALL, call, portable=False)))
        if number < WARM_UP:
            taskmaster.update()
        else:
            with steps.counting():
                taskmaster.update()
        far.recv(1 << 16)  # the answer
    instance.window.clear()
    taskmaster.stop()
    _close([far])


def worker_call(steps: Steps) -> None:
    near, far = socket.socketpair()
    runtime = Runtime(near)
    task = CallTask(0)
    current_runtime.set((runtime, task))
    call_ids = itertools.count(1)
    for number in range(WARM_UP + 1):
        answer: tuple[int, None, dict[str, Any]] = (next(call_ids), None, {})
        far.sendall(join(encode_message(MessageKind.ANSWER, answer, portable=False)))
        if number < WARM_UP:
            task.call(task.pong)
        else:
            with steps.counting():
                task.call(task.pong)
        far.recv(1 << 16)  # the call
    current_runtime.set(None)
    _close([near, far])


def worker_task(steps: Steps) -> None:
    near, far = socket.socketpair()
    runtime = Runtime(near)
    for number in range(WARM_UP + 1):
        far.sendall(join(encode_message(MessageKind.RUN, (number, EmptyTask()))))
        frame = runtime.connection.receive()
        if number < WARM_UP:
            runtime._run(frame)
        else:
            with steps.counting():
                runtime._run(frame)
        far.recv(1 << 16)  # the result
    _close([near, far])


def _close(socks: list[socket.socket]) -> None:
    for sock in socks:
        sock.close()


SIDES: list[tuple[str, Callable[[Steps], None]]] = [
    ("parent: one task, run_task() and wait()", parent_one_task),
    ("parent: one Task.call answered", parent_call),
    ("worker: one Task.call", worker_call),
    ("worker: one task run, frame to result", worker_task),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps")
    parser.add_argument(
        "--by-function", action="store_true", help="the instructions of each function"
    )
    args = parser.parse_args(argv)

    print("| side | instructions | calls |")
    print("|---|---:|---:|")
    counted = []
    for name, measure in SIDES:
        steps = Steps()
        measure(steps)
        counted.append((name, steps))
        print(f"| {name} | {steps.instructions} | {steps.calls} |")
    if args.by_function:
        for name, steps in counted:
            print(f"\n{name}:")
            for function, count in steps.by_function.most_common(20):
                print(f"  {count:5d}  {function}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
