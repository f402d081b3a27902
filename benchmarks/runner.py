"""Rounds, interleaving and leak checks.

Each round measures every workload once for every implementation.  Within a
round the order of the implementations rotates by one place per round, so
that a burst of noise on the machine, or whatever one library leaves the
machine doing after it closed, falls on a different implementation each
time.  After every measurement the runner checks that the pool it used left
no process or thread behind, waits a moment if one is still ending, and ends
and reports it otherwise.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .setups import Setup
from .workloads import Entry, Sizes, Workload

_GRACE = 5.0


@dataclass
class Results:
    """Figures per workload key and row name, in the order rows were listed."""

    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)


def run(
    workloads: list[Workload],
    setups: list[Setup],
    sizes: Sizes,
    rounds: int,
    progress: Callable[[str], None] = lambda line: None,
) -> Results:
    results = Results()
    threads = set(threading.enumerate())
    for number in range(rounds):
        for workload in workloads:
            entries = workload.entries(setups, sizes)
            samples = results.samples.setdefault(workload.key, {})
            errors = results.errors.setdefault(workload.key, {})
            for entry in entries:
                samples.setdefault(entry.name, [])
            shift = number % len(entries) if entries else 0
            for entry in entries[shift:] + entries[:shift]:
                if entry.name in errors:
                    continue
                line = f"round {number + 1}/{rounds} {workload.key}: {entry.name}: "
                value = _measure(entry, errors)
                if value is not None:
                    samples[entry.name].append(value)
                    line += f"{value:.4g} {workload.unit}"
                else:
                    line += f"failed: {errors[entry.name]}"
                for leak in _leftovers(threads):
                    results.leaks.append(f"after {entry.name} ({workload.key}): {leak}")
                    line += f"; LEAK {leak}"
                progress(line)
    return results


def _measure(entry: Entry, errors: dict[str, str]) -> float | None:
    gc.collect()
    try:
        return entry.measure()
    except Exception as error:
        errors[entry.name] = f"{type(error).__name__}: {error}"
        return None


def _leftovers(threads: set[threading.Thread]) -> list[str]:
    """Processes and threads still there after a pool closed (ending them)."""
    deadline = time.monotonic() + _GRACE
    while True:
        children = [pid for pid in child_pids() if not _is_helper(pid)]
        extra = [t for t in threading.enumerate() if t not in threads and t.is_alive()]
        if (not children and not extra) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    leaks = [f"child process {pid} ({_describe(pid)})" for pid in children]
    leaks += [f"thread {thread.name!r}" for thread in extra]
    for pid in children:
        _end(pid)
    return leaks


def child_pids() -> set[int]:
    """This process's children, zombies included (Linux; empty elsewhere)."""
    pids: set[int] = set()
    for path in Path("/proc/self/task").glob("*/children"):
        try:
            pids.update(int(pid) for pid in path.read_text().split())
        except OSError:
            continue
    return pids


def _is_helper(pid: int) -> bool:
    """A resource tracker: started once per process by multiprocessing or
    loky and meant to outlive every pool."""
    return "resource_tracker" in _describe(pid)


def _describe(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "gone"
    command = raw.replace(b"\0", b" ").decode(errors="replace").strip()[:80]
    return f"state {state}: {command}"


def _end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
