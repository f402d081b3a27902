"""taskmaster.proxy: a separate process that hosts worker instances.

:class:`ProcessProxy` starts a fresh interpreter (its own Python executable
and bootstrap file) that launches workers on the parent's behalf and relays
their frames.  Typical uses: forked workers for a threaded program, where
forking the program itself is unsafe, and workers that run on another Python
installation.

``ProcessProxy`` loads on first use (PEP 562), so the proxy process, which
imports this package for its runtime, does not import the parent's side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskmaster.core._lazy import lazy_names

if TYPE_CHECKING:
    from ._process_proxy import ProcessProxy

__version__ = "0.1.0"

__all__ = ["ProcessProxy"]

__getattr__, __dir__ = lazy_names(__name__, {"._process_proxy": ["ProcessProxy"]})
