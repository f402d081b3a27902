"""What waking a process costs on this machine, and how it grows with work.

``python -m benchmarks.wakeups [--count N] [--one-cpu]`` runs the raw socket
round trip of :mod:`benchmarks.baselines` with ``W`` microseconds of busy work
added on each side (the parent before it sends, the child before it answers)
and prints, for each ``W``, the median round trip and what is left of it once
the ``2 W`` of work are taken off: the cost of the two wake-ups and the two
system calls.

On bare metal that remainder stays flat.  On a virtual machine whose idle
virtual CPUs halt (this project's 2-CPU test machine), it grows with ``W``:
the longer the other side is busy, the deeper the waiting CPU sleeps and the
longer it takes to wake.  Any library's round trip pays for its own code
twice then, once in running it and once in the deeper sleep of the side that
waits.  With ``--one-cpu`` both processes share CPU 0, nothing halts between
messages, and the remainder is the context switches alone.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time

WORK = (0, 5, 10, 20, 40, 80)


def busy(microseconds: float) -> None:
    """Keep the CPU busy for ``microseconds`` (a stand-in for a library's code)."""
    end = time.perf_counter() + microseconds / 1e6
    while time.perf_counter() < end:
        pass


def round_trips(work: float, count: int) -> float:
    """The median round trip (µs) with ``work`` µs of work on each side."""
    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            parent.close()
            while child.recv(64):
                busy(work)
                child.sendall(b"a")
            code = 0
        finally:
            os._exit(code)
    child.close()
    took = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            busy(work)
            parent.sendall(b"q")
            parent.recv(64)
            took.append(time.perf_counter() - start)
    finally:
        parent.close()
        os.waitpid(pid, 0)
    return statistics.median(took) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wakeups")
    parser.add_argument("--count", type=int, default=3000, help="round trips per row")
    parser.add_argument(
        "--one-cpu", action="store_true", help="run both processes on CPU 0 alone"
    )
    args = parser.parse_args(argv)
    if args.one_cpu:
        os.sched_setaffinity(0, {0})

    print("| work on each side (µs) | round trip (µs) | left after the work (µs) |")
    print("|---:|---:|---:|")
    for work in WORK:
        median = round_trips(work, args.count)
        print(f"| {work} | {median:.1f} | {median - 2 * work:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
