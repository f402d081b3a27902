"""Public names of a package that load on first use (PEP 562).

A worker instance imports only what it runs: a spawned worker imports the
runtime and not the taskmaster, a proxy the workers it hosts and not the
others.  Each package of the namespace lists where its public names live
and gets the module ``__getattr__`` and ``__dir__`` from here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_names(
    package: str, sources: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose public names
    are defined in the modules ``sources`` maps (relative names) to them."""
    source_of = {name: module for module, names in sources.items() for name in names}

    def __getattr__(name: str) -> Any:
        source = source_of.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source, package), name)
        vars(sys.modules[package])[name] = value  # found directly the next time
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *source_of})

    return __getattr__, __dir__
