"""How hard the conformance tests try: settings per test kind and profile.

The profile is the one named by ``HYPOTHESIS_PROFILE`` (``ci`` when unset or
unknown here), so the repository's own profiles and a third party's both
work: this package never registers or loads a profile itself, it only builds
settings for its own tests on top of whatever profile is active.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Phase, settings

PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "ci": {
        "batches": {"max_examples": 25, "derandomize": True},
        "machine": {"max_examples": 6, "stateful_step_count": 12, "derandomize": True},
    },
    "thorough": {
        "batches": {"max_examples": 400},
        "machine": {"max_examples": 60, "stateful_step_count": 40},
    },
}
"""Examples per test kind in each profile: ``ci`` runs the whole matrix in a
few minutes on two cores, the same examples every run (so a CI result depends
on the change, not on what a run drew), ``thorough`` is for a long run on
demand and draws new examples each time."""

DEFAULT_PROFILE = "ci"


def profile_name() -> str:
    name = os.environ.get("HYPOTHESIS_PROFILE", DEFAULT_PROFILE)
    return name if name in PROFILES else DEFAULT_PROFILE


def conformance_settings(kind: str) -> settings:
    """Settings for a conformance test of ``kind`` (``batches``, ``machine``)
    under the active profile.

    No deadline: a batch starts processes, and its run time says nothing
    about correctness.  Slow data generation is expected for the same reason.
    No explain phase: it reruns a failing batch many times over to say which
    parts matter, which with processes takes minutes; the shrunk batch and
    its regression test say enough.
    """
    return settings(
        deadline=None,
        phases=[phase for phase in Phase if phase is not Phase.explain],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
        **PROFILES[profile_name()][kind],
    )
