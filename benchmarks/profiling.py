"""Where the time of an empty task goes, parent and child.

``python -m benchmarks.profiling [--tasks N] [--top K] [--strace]`` runs empty
tasks on two ForkWorkers and prints:

1. wall time and CPU time per task, the parent's and the children's (the
   children's read from ``/proc``, so Linux only);
2. the parent's cProfile, sorted by time spent in each function itself;
3. a child's cProfile, taken inside the worker: an init-like task starts the
   profiler in the child, a last task stops it and returns the table;
4. with ``--strace`` (strace installed): system calls per task in each
   process, counted from ``strace -ff`` between two marker calls.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from taskmaster.core import Task, Taskmaster
from taskmaster.workers import ForkWorker

from .runner import child_pids
from .tasks import EmptyTask

_profiler: cProfile.Profile | None = None


class StartProfiler(Task):
    """Starts cProfile in the worker that runs it; it stays on for later tasks."""

    def run(self) -> None:
        global _profiler
        _profiler = cProfile.Profile()
        _profiler.enable()


class StopProfiler(Task):
    """Stops the worker's profiler; the result is the table of its top rows."""

    def __init__(self, top: int) -> None:
        self.top = top

    def run(self) -> str:
        if _profiler is None:
            return "the profiler was not started in this worker"
        _profiler.disable()
        return _table(_profiler, self.top)


def _table(profiler: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def _run_empty(taskmaster: Taskmaster, count: int) -> None:
    for _ in range(count):
        taskmaster.run_task(EmptyTask())
    taskmaster.wait()


def _started(workers: int) -> Taskmaster:
    taskmaster = Taskmaster().add_workers(ForkWorker(), workers)
    _run_empty(taskmaster, 200)
    return taskmaster


def cpu_split(count: int) -> str:
    """Wall and CPU microseconds per task, parent and children."""
    taskmaster = _started(2)
    try:
        children = child_pids()
        before = sum(_cpu_seconds(pid) for pid in children)
        start_cpu, start = time.process_time(), time.perf_counter()
        _run_empty(taskmaster, count)
        wall = time.perf_counter() - start
        parent = time.process_time() - start_cpu
        child = sum(_cpu_seconds(pid) for pid in children) - before
    finally:
        taskmaster.stop()
    return (
        f"{count / wall:,.0f} tasks/s; per task: wall {wall / count * 1e6:.1f} µs, "
        f"parent CPU {parent / count * 1e6:.1f} µs, "
        f"children CPU {child / count * 1e6:.1f} µs (clock ticks: coarse)"
    )


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_parent(count: int, top: int) -> str:
    taskmaster = _started(2)
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        _run_empty(taskmaster, count)
        profiler.disable()
    finally:
        taskmaster.stop()
    return _table(profiler, top)


def profile_child(count: int, top: int) -> str:
    taskmaster = _started(1)
    try:
        taskmaster.run_task(StartProfiler()).wait()
        _run_empty(taskmaster, count)
        return str(taskmaster.run_task(StopProfiler(top)).wait())
    finally:
        taskmaster.stop()


def _marked_run(count: int) -> None:
    """The run strace watches: ``os.getppid()`` marks where counting starts
    and stops."""
    taskmaster = _started(2)
    os.getppid()
    _run_empty(taskmaster, count)
    os.getppid()
    taskmaster.stop()


def syscalls(count: int) -> str:
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed"
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "benchmarks.profiling", "--marked-run"]
        subprocess.run(
            [strace, "-ff", "-o", f"{folder}/trace", *command, str(count)],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        lines = []
        paths = sorted(Path(folder).iterdir(), key=lambda path: int(path.suffix[1:]))
        for index, path in enumerate(paths):
            counts = _count_between_markers(path.read_text().splitlines())
            total = sum(counts.values())
            if total < count / 10:
                continue  # a helper thread, or a process that had no part
            calls = ", ".join(
                f"{name} {number / count:.2f}" for name, number in counts.most_common(4)
            )
            who = "parent" if index == 0 else f"child {path.suffix[1:]}"
            lines.append(f"{who}: {total / count:.2f} per task ({calls})")
    return "\n".join(lines)


def _count_between_markers(trace: list[str]) -> collections.Counter[str]:
    marks = [i for i, line in enumerate(trace) if line.startswith("getppid(")]
    section = trace[marks[0] + 1 : marks[1]] if len(marks) >= 2 else trace
    names = (re.match(r"(\w+)\(", line) for line in section)
    return collections.Counter(match.group(1) for match in names if match)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--strace", action="store_true")
    parser.add_argument("--marked-run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.marked_run:
        _marked_run(args.marked_run)
        return 0

    print("## CPU per task (ForkWorker x2)\n\n" + cpu_split(args.tasks))
    print("\n## parent (cProfile)\n\n" + profile_parent(args.tasks, args.top))
    print(
        "## child (cProfile inside the worker)\n\n"
        + profile_child(args.tasks, args.top)
    )
    if args.strace:
        print("## system calls per task\n\n" + syscalls(args.tasks // 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
