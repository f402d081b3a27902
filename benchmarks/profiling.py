"""Where the time of an empty task goes, parent and child.

``python -m benchmarks.profiling [--tasks N] [--top K] [--strace]`` runs empty
tasks on two ForkWorkers and prints:

1. wall time and CPU time per task, the parent's and the children's (the
   children's read from ``/proc``, so Linux only);
2. where the time goes per task, by phase, on each side: the cumulative
   cProfile time of each phase's entry point, as a share of the profiled
   total, applied to the CPU time per task measured without the profiler
   (the profiles count CPU time, so waiting is left out; the profiler
   inflates call-heavy phases, so the split is approximate);
3. the parent's cProfile, sorted by time spent in each function itself;
4. a child's cProfile, taken inside the worker: an init-like task starts the
   profiler in the child, a last task stops it and returns the table;
5. with ``--strace`` (strace installed): system calls per task in each
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

# (phase, file name, function name): the entry point whose cumulative time is
# the phase's.  Phases do not nest; what no phase covers is "the loop".
PARENT_PHASES = [
    ("submit: run_task (check, promise, queue)", "_taskmaster.py", "run_task"),
    ("hand out: Assignment, pickle, frame", "_taskmaster.py", "_give"),
    ("send: sendmsg", "_connection.py", "flush"),
    ("epoll", "selectors.py", "select"),
    ("read: recv_into, split frames", "_connection.py", "receive"),
    (
        "settle: unpickle, fields, handle_result, promise",
        "_instance.py",
        "handle_frame",
    ),
]
CHILD_PHASES = [
    ("read: recv_into, split frames", "_connection.py", "receive"),
    ("unpickle the task", "protocol.py", "load"),
    ("run() itself", "tasks.py", "run"),
    ("send the result: pickle, frame, send", "runtime.py", "_send_result"),
    ("warnings routing", "_warnings_hook.py", "begin"),
    ("flush stdout and stderr", "runtime.py", "_flush_standard_streams"),
]


class StartProfiler(Task):
    """Starts cProfile in the worker that runs it; it stays on for later tasks."""

    def run(self) -> None:
        global _profiler
        _profiler = cProfile.Profile(time.process_time)
        _profiler.enable()


class StopProfiler(Task):
    """Stops the worker's profiler; the result is the table of its top rows."""

    def __init__(self, top: int) -> None:
        self.top = top

    def run(self) -> tuple[str, dict[str, float]]:
        if _profiler is None:
            return "the profiler was not started in this worker", {"total": 0.0}
        _profiler.disable()
        return _table(_profiler, self.top), _phases(_profiler, CHILD_PHASES)


def _table(profiler: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def _run_empty(taskmaster: Taskmaster, count: int, one_at_a_time: bool = False) -> None:
    if one_at_a_time:
        for _ in range(count):
            taskmaster.run_task(EmptyTask()).wait()
        return
    for _ in range(count):
        taskmaster.run_task(EmptyTask())
    taskmaster.wait()


def _started(workers: int) -> Taskmaster:
    taskmaster = Taskmaster().add_workers(ForkWorker(), workers)
    _run_empty(taskmaster, 200)
    return taskmaster


class ProcessTime(Task):
    """Returns the CPU time of the worker process that runs it."""

    def run(self) -> float:
        return time.process_time()


def measure_cpu(count: int, one_at_a_time: bool = False) -> tuple[float, float, float]:
    """Wall, parent CPU and children's CPU, in seconds per task (2 workers),
    with every task submitted at once or each waited for before the next."""
    taskmaster = _started(2)
    try:
        children = child_pids()
        before = sum(_cpu_seconds(pid) for pid in children)
        start_cpu, start = time.process_time(), time.perf_counter()
        _run_empty(taskmaster, count, one_at_a_time)
        wall = time.perf_counter() - start
        parent = time.process_time() - start_cpu
        child = sum(_cpu_seconds(pid) for pid in children) - before
    finally:
        taskmaster.stop()
    return wall / count, parent / count, child / count


def child_cpu(count: int) -> float:
    """A worker's own CPU seconds per task, read inside it (1 worker)."""
    taskmaster = _started(1)
    try:
        before = taskmaster.run_task(ProcessTime()).wait()
        _run_empty(taskmaster, count)
        after = taskmaster.run_task(ProcessTime()).wait()
    finally:
        taskmaster.stop()
    return float(after - before) / count


def cpu_split(count: int) -> str:
    """Wall and CPU microseconds per task, parent and children."""
    wall, parent, children = measure_cpu(count)
    return (
        f"{1 / wall:,.0f} tasks/s; per task: wall {wall * 1e6:.1f} µs, "
        f"parent CPU {parent * 1e6:.1f} µs, "
        f"children CPU {children * 1e6:.1f} µs (clock ticks: coarse)"
    )


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_parent(count: int, top: int) -> tuple[str, dict[str, float]]:
    """The parent's table, and its profiled seconds per phase (and in total)."""
    taskmaster = _started(2)
    profiler = cProfile.Profile(time.process_time)
    try:
        profiler.enable()
        _run_empty(taskmaster, count)
        profiler.disable()
    finally:
        taskmaster.stop()
    return _table(profiler, top), _phases(profiler, PARENT_PHASES)


def profile_child(count: int, top: int) -> tuple[str, dict[str, float]]:
    """A child's table, and its profiled seconds per phase (and in total)."""
    taskmaster = _started(1)
    try:
        taskmaster.run_task(StartProfiler()).wait()
        _run_empty(taskmaster, count)
        return taskmaster.run_task(StopProfiler(top)).wait()  # type: ignore[no-any-return]
    finally:
        taskmaster.stop()


def _phases(
    profiler: cProfile.Profile, phases: list[tuple[str, str, str]]
) -> dict[str, float]:
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    seconds = {name: 0.0 for name, _, _ in phases}
    total = 0.0
    for (path, _line, function), row in stats.items():
        total += row[2]  # time in the function itself
        for name, file, entry in phases:
            if function == entry and path.endswith(file):
                seconds[name] += row[3]  # cumulative
    seconds["total"] = total
    return seconds


def breakdown(seconds: dict[str, float], cpu_per_task: float, count: int) -> str:
    """Phases as µs per task: profiled shares applied to the measured CPU."""
    total = seconds["total"] or 1.0
    lines = ["| phase | share | µs per task |", "|---|---:|---:|"]
    covered = 0.0
    for name, value in seconds.items():
        if name == "total":
            continue
        covered += value
        lines.append(
            f"| {name} | {value / total:.0%} | {cpu_per_task * value / total:.1f} |"
        )
    rest = max(0.0, total - covered)
    lines.append(
        f"| the loop and the rest | {rest / total:.0%} "
        f"| {cpu_per_task * rest / total:.1f} |"
    )
    return "\n".join(lines)


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

    wall, parent_cpu, children_cpu = measure_cpu(args.tasks)
    worker_cpu = child_cpu(args.tasks)
    print(
        f"## CPU per task (ForkWorker x2)\n\n{1 / wall:,.0f} tasks/s; per task: "
        f"wall {wall * 1e6:.1f} µs, parent CPU {parent_cpu * 1e6:.1f} µs, "
        f"children CPU {children_cpu * 1e6:.1f} µs (from /proc: clock ticks, "
        f"coarse); one worker alone, read inside it: {worker_cpu * 1e6:.1f} µs"
    )
    wall, parent_cpu_alone, children_cpu_alone = measure_cpu(
        args.tasks // 4, one_at_a_time=True
    )
    print(
        f"\none task at a time: wall {wall * 1e6:.1f} µs, parent CPU "
        f"{parent_cpu_alone * 1e6:.1f} µs, children CPU "
        f"{children_cpu_alone * 1e6:.1f} µs per task (run under `taskset -c 0` "
        "to see the same code without the wake-ups of idle CPUs)"
    )
    parent_table, parent_phases = profile_parent(args.tasks, args.top)
    child_table, child_phases = profile_child(args.tasks, args.top)
    print(
        "\n## where the time goes per task: parent\n\n"
        + breakdown(parent_phases, parent_cpu * 1e6, args.tasks)
    )
    print(
        "\n## where the time goes per task: child\n\n"
        + breakdown(child_phases, worker_cpu * 1e6, args.tasks)
    )
    print("\n## parent (cProfile)\n\n" + parent_table)
    print("## child (cProfile inside the worker)\n\n" + child_table)
    if args.strace:
        print("## system calls per task\n\n" + syscalls(args.tasks // 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
