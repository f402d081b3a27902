"""Fixtures shared by the taskmaster-core tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from taskmaster.core import Taskmaster
from taskmaster.workers import SyncWorker


@pytest.fixture
def taskmaster() -> Iterator[Taskmaster]:
    """A taskmaster with one SyncWorker, stopped after the test."""
    taskmaster = Taskmaster().add_worker(SyncWorker())
    yield taskmaster
    taskmaster.stop()


@pytest.fixture
def no_gc() -> Iterator[None]:
    """Switch the cycle collector off, so only reference counting frees objects."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
