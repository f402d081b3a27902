"""Task factories: exactly the tasks they promise, in order, then nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskmaster.core import (
    CloneTaskFactory,
    InstanceTaskFactory,
    IteratorTaskFactory,
    Task,
    TaskFactory,
    TaskFactoryInterface,
)


class Item(Task):
    def __init__(self, item: object = None) -> None:
        self.item = item

    def run(self) -> object:
        return self.item


groups = st.none() | st.text(max_size=3)


@given(st.lists(st.integers() | st.text() | st.none()), groups)
def test_iterator_factory_yields_exactly_the_items_in_order(
    items: list[object], group: str | None
) -> None:
    factory = IteratorTaskFactory(items, Item)
    made = []
    while (task := factory.create_next_task(group)) is not None:
        assert isinstance(task, Item)
        made.append(task.item)
        assert len(made) <= len(items)

    assert made == items
    assert factory.create_next_task(group) is None  # and stays empty


def test_iterator_factory_pulls_one_item_at_a_time() -> None:
    pulled: list[int] = []

    def items():  # type: ignore[no-untyped-def]
        for i in range(3):
            pulled.append(i)
            yield i

    factory = IteratorTaskFactory(items(), Item)
    assert pulled == []
    factory.create_next_task(None)
    assert pulled == [0]


@given(st.integers(0, 30), groups)
def test_instance_factory_makes_count_new_tasks(count: int, group: str | None) -> None:
    factory = InstanceTaskFactory(Item, count)
    made = [factory.create_next_task(group) for _ in range(count)]

    assert all(type(task) is Item for task in made)
    assert len({id(task) for task in made}) == count
    assert factory.create_next_task(group) is None
    assert factory.create_next_task(group) is None


@given(st.integers(0, 30), st.integers(), groups)
def test_clone_factory_makes_count_independent_copies(
    count: int, value: int, group: str | None
) -> None:
    template = Item(value).set_group("g").set_timeout(3)
    factory = CloneTaskFactory(template, count)
    made = [factory.create_next_task(group) for _ in range(count)]

    assert factory.create_next_task(group) is None
    assert len({id(task) for task in [template, *made]}) == count + 1
    for task in made:
        assert type(task) is Item
        assert task.item == value
        assert (task.get_group(), task.get_timeout()) == ("g", 3.0)
        assert task.get_promise() is not template.get_promise()


@pytest.mark.parametrize("kind", ["instance", "clone"])
def test_count_none_is_endless(kind: str) -> None:
    factory = (
        InstanceTaskFactory(Item) if kind == "instance" else CloneTaskFactory(Item(1))
    )
    made = [factory.create_next_task(None) for _ in range(500)]
    assert all(isinstance(task, Item) for task in made)
    assert len({id(task) for task in made}) == 500


@given(st.integers(max_value=-1))
def test_negative_counts_are_refused(count: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        InstanceTaskFactory(Item, count)
    with pytest.raises(ValueError, match="negative"):
        CloneTaskFactory(Item(), count)


def test_clone_factory_copies_with_copy_copy() -> None:
    class Counted(Item):
        copies = 0

        def __copy__(self) -> Counted:
            Counted.copies += 1
            return Task.__copy__(self)  # type: ignore[return-value]

    factory = CloneTaskFactory(Counted(), 2)
    factory.create_next_task(None)
    factory.create_next_task(None)
    assert Counted.copies == 2


def test_base_factory_serves_every_group() -> None:
    class Mine(TaskFactory):
        def create_next_task(self, group: str | None) -> None:
            return None

    assert Mine().get_groups() is None
    assert isinstance(Mine(), TaskFactoryInterface)
    for factory in (IteratorTaskFactory([], Item), InstanceTaskFactory(Item, 0)):
        assert factory.get_groups() is None


def test_the_interface_requires_both_methods() -> None:
    class Half(TaskFactoryInterface):
        def get_groups(self) -> None:
            return None

    with pytest.raises(TypeError, match="create_next_task"):
        Half()  # type: ignore[abstract]
