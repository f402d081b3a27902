"""The pytest plugin: backends as a parametrisation, and a way to add workers.

pytest loads this module in every test run once the package is installed, so
it imports nothing beyond pytest at import time and changes nothing unless a
test asks for ``taskmaster_backend`` (or ``taskmaster_crash_case``).

Options:

``--taskmaster-worker=package.module:WorkerClass``
    Add a worker to check (repeatable); it is checked alone and behind every
    installed proxy.
``--taskmaster-only-given``
    Check only the workers given with ``--taskmaster-worker``, not the
    installed ones.
"""

from __future__ import annotations

from typing import Any

import pytest

BACKEND = "taskmaster_backend"
CRASH_CASE = "taskmaster_crash_case"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("taskmaster-conformance")
    group.addoption(
        "--taskmaster-worker",
        action="append",
        default=[],
        metavar="package.module:WorkerClass",
        help="also check this worker class (repeatable)",
    )
    group.addoption(
        "--taskmaster-only-given",
        action="store_true",
        default=False,
        help="check only the workers given with --taskmaster-worker",
    )


def _backends(config: pytest.Config) -> list[Any]:
    """The selected backends, found once per session."""
    cached = getattr(config, "_taskmaster_backends", None)
    if cached is None:
        from .backends import select_backends

        given = config.getoption("--taskmaster-worker")
        only = config.getoption("--taskmaster-only-given")
        cached = select_backends(given, installed=not only)
        config._taskmaster_backends = cached  # type: ignore[attr-defined]
    return cached


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    if BACKEND in names and CRASH_CASE in names:
        from .cases import crash_cases

        pairs = [
            pytest.param(backend, case, id=f"{backend.name}-{case.name}")
            for backend in _backends(metafunc.config)
            for case in crash_cases(backend.capabilities)
        ]
        metafunc.parametrize((BACKEND, CRASH_CASE), pairs)
    elif BACKEND in names:
        backends = _backends(metafunc.config)
        metafunc.parametrize(BACKEND, backends, ids=[b.name for b in backends])
