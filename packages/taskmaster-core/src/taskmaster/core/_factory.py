"""Task factories: tasks made when a worker is free to take one.

A factory is asked for the next task of a group only when a worker of that
group can take it, so a factory over a million items holds one task at a time
per free worker, not a million.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._task import TaskInterface


class TaskFactoryInterface(ABC):
    """What the taskmaster needs from a task factory."""

    @abstractmethod
    def get_groups(self) -> list[str | None] | None:
        """The groups this factory makes tasks for: None for every group,
        ``[None]`` for tasks without a group."""

    @abstractmethod
    def create_next_task(self, group: str | None) -> TaskInterface | None:
        """The next task for a worker of ``group``, or None for nothing more now."""


class TaskFactory(TaskFactoryInterface):
    """Base class of task factories: override :meth:`create_next_task`."""

    def get_groups(self) -> list[str | None] | None:
        return None


def factory_serves(factory: TaskFactoryInterface, group: str | None) -> bool:
    """Whether ``factory`` makes tasks for workers of ``group``."""
    groups = factory.get_groups()
    return groups is None or group in groups


class IteratorTaskFactory(TaskFactory):
    """Make ``task_class(item)`` for each item of ``iterable``, one at a time."""

    def __init__(
        self, iterable: Iterable[Any], task_class: Callable[[Any], TaskInterface]
    ) -> None:
        self._items: Iterator[Any] = iter(iterable)
        self._task_class = task_class

    def create_next_task(self, group: str | None) -> TaskInterface | None:
        for item in self._items:
            return self._task_class(item)
        return None


class InstanceTaskFactory(TaskFactory):
    """Make ``task_class()`` ``count`` times, or without end when count is None
    (the usual form for init tasks)."""

    def __init__(
        self, task_class: Callable[[], TaskInterface], count: int | None = None
    ) -> None:
        _check_count(count)
        self._task_class = task_class
        self._remaining = count

    def create_next_task(self, group: str | None) -> TaskInterface | None:
        if self._remaining is not None:
            if self._remaining <= 0:
                return None
            self._remaining -= 1
        return self._task_class()


class CloneTaskFactory(TaskFactory):
    """Make copies of ``task`` (``copy.copy``) ``count`` times, or without end.
    The template itself never runs."""

    def __init__(self, task: TaskInterface, count: int | None = None) -> None:
        _check_count(count)
        self._template = task
        self._remaining = count

    def create_next_task(self, group: str | None) -> TaskInterface | None:
        if self._remaining is not None:
            if self._remaining <= 0:
                return None
            self._remaining -= 1
        return copy.copy(self._template)


def _check_count(count: int | None) -> None:
    if count is None:
        return
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count is a whole number or None, not {count!r}")
    if count < 0:
        raise ValueError(f"count cannot be negative: {count}")
