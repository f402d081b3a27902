"""Starting a fresh interpreter as a worker instance or a proxy.

The parent's side of spawning, apart from :mod:`._process` (which a forked
worker and a proxy need too): it imports what only the parent uses, such as
``json``, ``shutil`` and ``sysconfig``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import sysconfig
from typing import Any

from ._connection import socket_pair
from ._options import TaskmasterOptions
from ._process import ProcessHandle, make_crash_file

BOOTSTRAP = """\
import json, os, sys
config = json.loads(sys.argv[1])
for entry in config["path"]:
    if entry not in sys.path:
        sys.path.append(entry)
os.chdir(config["cwd"])
if config["bootstrap"]:
    import runpy
    runpy.run_path(config["bootstrap"], run_name="__taskmaster_bootstrap__")
import importlib
module, _, function = config["main"].partition(":")
getattr(importlib.import_module(module), function)(config)
"""
"""Runs first in a freshly spawned interpreter; standard library only."""


def spawn_python(
    options: TaskmasterOptions, main: str, extra: dict[str, Any] | None = None
) -> ProcessHandle:
    """Start ``options``' Python on :data:`BOOTSTRAP`, which calls ``main(config)``.

    The new interpreter gets this process's ``sys.path`` (after its own) and
    working directory, the child end of a socket pair and a crash file.
    """
    parent_end, child_end = socket_pair()
    crash_fd = make_crash_file()
    config = {
        "path": inherited_path(),
        "cwd": os.getcwd(),
        "bootstrap": options.get_bootstrap(),
        "main": main,
        "fd": child_end.fileno(),
        "crash_fd": crash_fd,
        **(extra or {}),
    }
    executable = (
        shutil.which(options.get_python_executable()) or options.get_python_executable()
    )
    argv = [executable, "-c", BOOTSTRAP, json.dumps(config)]
    try:
        os.set_inheritable(child_end.fileno(), True)
        os.set_inheritable(crash_fd, True)
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    except BaseException:
        parent_end.close()
        os.close(crash_fd)
        raise
    finally:
        child_end.close()
    os.set_inheritable(crash_fd, False)
    return ProcessHandle(pid, parent_end, crash_fd)


def inherited_path() -> list[str]:
    """This process's ``sys.path`` for a spawned interpreter, without this
    Python's standard library.

    The spawned interpreter has a standard library of its own, and when it is
    another Python version it must not import modules from ours (a module
    removed from its version would load from ours and fail, or worse, half
    work).  Installed packages stay: pure-Python ones work on any version.
    """
    stdlib = sysconfig.get_paths()["stdlib"]
    major, minor = sys.version_info[:2]
    own_library = {
        os.path.normcase(os.path.normpath(path))
        for path in (
            stdlib,
            os.path.join(stdlib, "lib-dynload"),
            os.path.join(os.path.dirname(stdlib), f"python{major}{minor}.zip"),
        )
    }
    return [
        entry
        for entry in sys.path
        if entry and os.path.normcase(os.path.normpath(entry)) not in own_library
    ]
