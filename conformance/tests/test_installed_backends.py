"""The conformance suite on every installed worker and proxy combination."""

from taskmaster.conformance.suite import *  # noqa: F403
