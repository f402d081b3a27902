"""taskmaster.proxy: a separate process that hosts worker instances.

:class:`ProcessProxy` starts a fresh interpreter (its own Python executable
and bootstrap file) that launches workers on the parent's behalf and relays
their frames.  Typical uses: forked workers for a threaded program, where
forking the program itself is unsafe, and workers that run on another Python
installation.
"""

from ._process_proxy import ProcessProxy

__version__ = "0.1.0"

__all__ = ["ProcessProxy"]
