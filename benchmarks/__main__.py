"""``python -m benchmarks [--rounds N] [--quick] [--only workload,...]``."""

from __future__ import annotations

import argparse
import os

from . import runner
from .bytecode import compile_taskmaster
from .peers import peer_setups
from .report import render
from .setups import taskmaster_setups
from .workloads import FULL, QUICK, WORKLOADS


def main(argv: list[str] | None = None) -> int:
    keys = [workload.key for workload in WORKLOADS]
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Taskmaster and its peers, side by side, interleaved.",
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds to take medians of (default 5)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, to try the harness"
    )
    parser.add_argument(
        "--only",
        type=lambda text: [key.strip() for key in text.split(",") if key.strip()],
        default=keys,
        help=f"comma-separated workloads out of: {', '.join(keys)}",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only) - set(keys))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; known: {keys}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    workloads = [workload for workload in WORKLOADS if workload.key in args.only]
    sizes = QUICK if args.quick else FULL
    compile_taskmaster()
    setups = taskmaster_setups() + peer_setups()
    load_before = os.getloadavg()
    results = runner.run(workloads, setups, sizes, args.rounds, runner.say)
    load = (load_before, os.getloadavg())
    print(render(results, workloads, sizes, args.rounds, load), end="")
    return 1 if results.leaks else 0


if __name__ == "__main__":
    raise SystemExit(main())
