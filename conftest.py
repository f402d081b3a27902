"""Workspace-wide pytest setup: the hypothesis profiles every package's tests use.

Choose one with ``HYPOTHESIS_PROFILE`` (tox sets ``ci``): ``ci`` keeps the
suite quick, ``dev`` is the everyday default, ``thorough`` is for hunting.

``ci`` is derandomized: it tries the same examples on every run, so whether
a change lands depends on the change, not on the examples a run happened to
draw.  ``dev`` and ``thorough`` draw new ones each time, and what they find
becomes a regression test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# No deadline anywhere: the machine is shared, and a slow example is not a bug.
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
