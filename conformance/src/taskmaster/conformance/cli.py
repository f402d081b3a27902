"""``taskmaster-conformance``: check workers with the conformance suite.

::

    taskmaster-conformance my_package.workers:MyWorker
    taskmaster-conformance my_package.workers:MyWorker --installed -- -n 2

Each worker named ``package.module:WorkerClass`` is checked alone and behind
every installed proxy; ``--installed`` adds the installed workers.  The
command runs pytest on :mod:`taskmaster.conformance.suite`, so what follows
``--`` goes to pytest, and the exit status is pytest's: 0 when every backend
conforms.  A failure prints the shrunk batch as a regression test.

The run ignores the pytest configuration and ``conftest.py`` files of the
directory it starts in: the suite is the same wherever it is run from, and a
project's own options (coverage, import modes) cannot change how it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

SUITE = "taskmaster.conformance.suite"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="taskmaster-conformance",
        description="Check taskmaster workers against the conformance suite.",
    )
    parser.add_argument(
        "workers",
        nargs="*",
        metavar="package.module:WorkerClass",
        help="a worker class to check, alone and behind every installed proxy",
    )
    parser.add_argument(
        "--installed",
        action="store_true",
        help="also check every installed worker (entry points taskmaster.workers)",
    )
    parser.epilog = "Arguments after -- go to pytest."
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    arguments = parser.parse_args(argv[:split])
    arguments.pytest_args = argv[split + 1 :]
    if not arguments.workers and not arguments.installed:
        parser.error("name a worker class, or pass --installed")
    return arguments


def pytest_arguments(arguments: argparse.Namespace) -> list[str]:
    """The pytest command line that runs the suite on the chosen workers."""
    here = os.path.dirname(os.path.abspath(__file__))
    command = [
        "--pyargs",
        SUITE,
        "-p",
        "no:cacheprovider",
        # No configuration file, and no conftest.py above the suite's folder.
        "-c",
        os.devnull,
        "--rootdir",
        here,
        "--confcutdir",
        here,
        # taskmaster is a namespace package: the suite's module is
        # taskmaster.conformance.suite, not conformance.suite.
        "-o",
        "consider_namespace_packages=true",
    ]
    for worker in arguments.workers:
        command.append(f"--taskmaster-worker={worker}")
    if not arguments.installed:
        command.append("--taskmaster-only-given")
    return command + list(arguments.pytest_args)


def main(argv: Sequence[str] | None = None) -> int:
    import pytest

    arguments = parse(sys.argv[1:] if argv is None else argv)
    return int(pytest.main(pytest_arguments(arguments)))


if __name__ == "__main__":
    sys.exit(main())
