"""Before and after: one row of a workload, this tree against a git revision.

``python -m benchmarks.compare [--base REV] [--rounds N] [--quick] WORKLOAD
[ROW ...]`` extracts the packages of revision ``REV`` (default ``HEAD``) into
a temporary folder and measures the rows (default ``taskmaster ForkWorker``)
of one workload with that code and with the working tree, in alternation,
each measurement in a fresh interpreter.  It prints the medians and the
ratio after ÷ before, which is what a commit that claims a speed-up quotes.

``--one-cpu`` runs each measurement (the parent and its workers) on CPU 0
alone.  Then a round trip costs the CPU time of both sides and two context
switches, without the wake-up of an idle CPU, whose cost on a virtual machine
varies several-fold from one minute to the next: the before-and-after ratio
of the code's own cost is much steadier that way (Linux only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .bytecode import compile_trees

_ROOT = Path(__file__).resolve().parent.parent
_PACKAGES = ("taskmaster-core", "taskmaster-workers", "taskmaster-proxy")


def measure_here(workload_key: str, row: str, quick: bool) -> float:
    """One figure of ``row`` in ``workload_key``, with the code importable here."""
    from .peers import peer_setups
    from .setups import taskmaster_setups
    from .workloads import FULL, QUICK, WORKLOADS

    (workload,) = [w for w in WORKLOADS if w.key == workload_key]
    entries = workload.entries(
        taskmaster_setups() + peer_setups(), QUICK if quick else FULL
    )
    (entry,) = [e for e in entries if e.name == row]
    return entry.measure()


def _extract(revision: str, folder: Path) -> Path:
    archive = folder / "base.tar"
    subprocess.run(
        ["git", "archive", "-o", str(archive), revision, "packages"],
        cwd=_ROOT,
        check=True,
    )
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(folder / "base", filter="data")
        else:  # Python before 3.10.12 / 3.11.4: our own archive, trusted
            tar.extractall(folder / "base")
    return folder / "base"


def _run(tree: Path, workload: str, row: str, quick: bool, one_cpu: bool) -> float:
    paths = [str(_ROOT)] + [str(tree / "packages" / p / "src") for p in _PACKAGES]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    command = [sys.executable, "-m", "benchmarks.compare", "--measure", workload, row]
    if quick:
        command.append("--quick")
    if one_cpu:
        command.append("--one-cpu")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{row} failed under {tree}:\n{done.stderr[-2000:]}")
    return float(done.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare")
    parser.add_argument("workload")
    parser.add_argument("rows", nargs="*", default=["taskmaster ForkWorker"])
    parser.add_argument("--base", default="HEAD", help="git revision (default HEAD)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--one-cpu", action="store_true", help="run every process on CPU 0 alone"
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        if args.one_cpu:
            os.sched_setaffinity(0, {0})  # the workers inherit it
        print(measure_here(args.workload, args.rows[0], args.quick))
        return 0

    with tempfile.TemporaryDirectory() as folder:
        trees = {"before": _extract(args.base, Path(folder)), "after": _ROOT}
        compile_trees(
            tree / "packages" / package / "src"
            for tree in trees.values()
            for package in _PACKAGES
        )
        for row in args.rows:
            figures: dict[str, list[float]] = {"before": [], "after": []}
            for number in range(args.rounds):
                order = ["before", "after"] if number % 2 == 0 else ["after", "before"]
                for name in order:
                    figures[name].append(
                        _run(trees[name], args.workload, row, args.quick, args.one_cpu)
                    )
            before, after = (statistics.median(figures[k]) for k in ("before", "after"))
            print(
                f"{args.workload} / {row}: before ({args.base}) {before:.4g}, "
                f"after {after:.4g}, after/before {after / before:.2f} "
                f"(medians of {args.rounds}, alternating"
                f"{', on one CPU' if args.one_cpu else ''})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
