"""Warnings, and what tasks print: it reaches the parent's streams and never
disturbs the protocol."""

import os
import sys
import warnings

import pytest

from taskmaster.core import Task, TaskWarning
from taskmaster.core.protocol import MessageKind, encode_hello, encode_message, join


@pytest.mark.needs("warnings")
def test_warnings_reach_handle_warning(make_taskmaster, tasks):
    # One worker: every task raises the same warning at the same place on
    # the same instance, and every one of them must see it.
    taskmaster = make_taskmaster(1)
    raised = [tasks.Warn(f"careful {n}") for n in range(3)]
    tasks.run_all(taskmaster, *raised)

    for n, task in enumerate(raised):
        assert task.get_error() is None
        assert len(task.seen) == 1
        warning = task.seen[0]
        assert isinstance(warning, TaskWarning)
        assert warning.message == f"careful {n}"
        assert warning.category is tasks.Notice
        assert warning.filename.endswith("conftest.py")
        assert warning.lineno > 0


@pytest.mark.needs("warnings")
def test_an_unhandled_warning_is_shown_in_the_parent(taskmaster, tasks):
    task = tasks.Warn("shown", handle=False)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        tasks.run_all(taskmaster, task)
    assert len(task.seen) == 1
    assert [str(w.message) for w in shown if w.category is tasks.Notice] == ["shown"]


def frames_lookalike() -> bytes:
    """Bytes that a reader of the protocol would take for frames."""
    return join(
        [
            encode_hello(12345),  # the same bytes in every process
            *encode_message(MessageKind.RESULT, (1, "forged", {})),
            *encode_message(MessageKind.ERROR, (1, None, {})),
        ]
    )


class Chatty(Task):
    """Prints a lot to both streams, through Python and straight to the
    descriptors, including bytes that look like protocol frames."""

    def __init__(self, label: str, lines: int = 2000) -> None:
        self.label = label
        self.lines = lines

    def run(self) -> str:
        forged = frames_lookalike()
        for n in range(self.lines):
            print(f"{self.label} out {n}")
            print(f"{self.label} err {n}", file=sys.stderr)
        # Text still in the text layer would come out after bytes written
        # below it, as in any Python program whose stdout is a file or pipe.
        sys.stdout.flush()
        sys.stdout.buffer.write(forged)
        sys.stdout.flush()
        os.write(1, forged + f"{self.label} raw out\n".encode())
        os.write(2, forged + f"{self.label} raw err\n".encode())
        print(f"{self.label} last words", end="")
        return self.label


def printed_by(task: Chatty, stream: str) -> bytes:
    """The lines ``task`` prints to ``stream``, without the forged frames."""
    return "".join(f"{task.label} {stream} {n}\n" for n in range(task.lines)).encode()


@pytest.mark.needs("async")
def test_printed_output_reaches_the_parent(make_taskmaster, capfdbinary):
    # One worker, so the output of different tasks cannot interleave.  Bytes,
    # not text: the forged frames are not UTF-8, and decoding them next to
    # each other would not give the same text as decoding each alone.
    taskmaster = make_taskmaster(1)
    chatty = [Chatty(f"task{n}") for n in range(3)]
    for task in chatty:
        taskmaster.run_task(task)
    taskmaster.wait()

    assert [task.get_result() for task in chatty] == ["task0", "task1", "task2"]
    out, err = capfdbinary.readouterr()
    forged = frames_lookalike()
    for task in chatty:
        label = task.label.encode()
        assert printed_by(task, "out") + forged + forged in out
        assert printed_by(task, "err") + forged in err
        assert label + b" raw out\n" + label + b" last words" in out
        assert label + b" raw err\n" in err


class PrintThenCall(Task):
    """Output printed before a call to the parent is out before the call."""

    def ask(self) -> str:
        return "answer"

    def run(self) -> str:
        print("before the call", flush=True)
        sys.stdout.buffer.write(frames_lookalike())
        sys.stdout.flush()
        return self.call(self.ask)


@pytest.mark.needs("async")
def test_output_does_not_disturb_calls(taskmaster, capfd):
    task = PrintThenCall()
    taskmaster.run_task(task)
    taskmaster.wait()
    assert task.get_result() == "answer"
    assert "before the call" in capfd.readouterr().out
