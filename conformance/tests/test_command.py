"""``taskmaster-conformance``, the command a third party checks a worker with,
run as a user runs it: a new process, a worker named package.module:Class."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taskmaster.conformance.cli import parse, pytest_arguments

HERE = Path(__file__).parent
EXAMPLES = HERE.parents[1] / "docs" / "examples"


def run_command(*arguments: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(path)}
    return subprocess.run(
        [sys.executable, "-m", "taskmaster.conformance.cli", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_the_documented_example_worker_conforms():
    # The SubprocessWorker of docs/writing-a-worker.md, alone and behind the
    # installed proxy: generated batches, every crash case, the state machine.
    done = run_command("custom_worker:SubprocessWorker", "--", "-q", path=EXAMPLES)

    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert "failed" not in done.stdout
    assert (
        "custom_worker:SubprocessWorker+process"
        in run_command(
            "custom_worker:SubprocessWorker",
            "--",
            "--collect-only",
            "-q",
            path=EXAMPLES,
        ).stdout
    )


def test_a_worker_that_breaks_the_contract_fails_with_a_regression_test():
    done = run_command(
        "forgetful_worker:ForgetfulWorker",
        "--",
        "-q",
        "-k",
        "test_crash_case and ForgetfulWorker-sys-exit-at-once",
        path=HERE / "workers",
    )

    assert done.returncode == 1, done.stdout[-5000:] + done.stderr[-5000:]
    assert "forgetful_worker:ForgetfulWorker does not conform" in done.stdout
    assert "returned None, expected 'after'" in done.stdout
    assert "def test_regression():" in done.stdout
    assert "check_batch(backend_named('forgetful_worker:ForgetfulWorker')" in (
        done.stdout
    )


def test_the_command_needs_a_worker_or_installed():
    with pytest.raises(SystemExit):
        parse([])


def test_the_command_line_that_reaches_pytest():
    arguments = parse(["a.b:C", "x.y:Z", "--", "-x", "-k", "machine"])
    command = pytest_arguments(arguments)
    assert command[:4] == [
        "--pyargs",
        "taskmaster.conformance.suite",
        "-p",
        "no:cacheprovider",
    ]
    assert command[command.index("-c") + 1] == os.devnull
    assert command[-6:] == [
        "--taskmaster-worker=a.b:C",
        "--taskmaster-worker=x.y:Z",
        "--taskmaster-only-given",
        "-x",
        "-k",
        "machine",
    ]
    installed = parse(["--installed"])
    assert "--taskmaster-only-given" not in pytest_arguments(installed)
