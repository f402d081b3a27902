"""Bytecode for the code under measurement, written before any measuring.

pip writes ``.pyc`` files when it installs a package from a wheel, so the
peers' workers load bytecode.  Taskmaster's packages are often installed
editable here, and where ``PYTHONDONTWRITEBYTECODE`` is set nothing writes
their bytecode at all: every spawned worker (ProcessWorker, a proxy) would
compile Taskmaster's sources at each start, which made its start up to a
third slower than that of an installed copy.  Writing the bytecode first
measures what users run.
"""

from __future__ import annotations

import compileall
from collections.abc import Iterable
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def compile_trees(folders: Iterable[str | Path]) -> None:
    """Write the bytecode of every module under ``folders`` and of the
    benchmarks' own tasks, as an installer would."""
    for folder in [*folders, _HERE]:
        compileall.compile_dir(str(folder), quiet=1)


def compile_taskmaster() -> None:
    """Write the bytecode of the Taskmaster packages this interpreter imports."""
    import taskmaster

    compile_trees(taskmaster.__path__)
