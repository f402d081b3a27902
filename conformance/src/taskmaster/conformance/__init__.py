"""taskmaster.conformance: check that a worker behaves as the contract says.

Hypothesis generates task scenarios (:mod:`.scenario`), a reference model
predicts what the parent must observe (:mod:`.model`), and
:func:`check_batch` runs them on a backend and compares.  Everything here is
plain functions and classes; the pytest plugin (:mod:`.plugin`) and the
``taskmaster-conformance`` command are thin layers over them.

Names are loaded on first use, so that importing the pytest plugin, which
pytest does in every test run of a project that has this package installed,
costs next to nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "backends": (
        "Backend",
        "Capabilities",
        "backend_named",
        "installed_backends",
        "select_backends",
    ),
    "model": ("ErrorLike", "Expected", "expect_batch", "expect_task"),
    "profiles": ("conformance_settings",),
    "runner": ("ConformanceError", "check_batch", "check_scenarios", "run_batch"),
    "scenario": (
        "Answer",
        "AwaitCalls",
        "Batch",
        "Call",
        "Crash",
        "ErrorSpec",
        "Exit",
        "Hang",
        "InitSpec",
        "MarkInit",
        "Raise",
        "ReadInit",
        "ReportPid",
        "Return",
        "Scenario",
        "SetField",
        "Sleep",
        "Warn",
        "regression_test",
    ),
    "task": ("ScenarioTask",),
    "values": (
        "Bag",
        "Blob",
        "Color",
        "Pair",
        "Point",
        "Poison",
        "Reduced",
        "Slotted",
        "Unpicklable",
    ),
    "machine": ("check_taskmaster_machine",),
}

_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
