"""The parent's poller: epoll where there is one, selectors elsewhere.

Each test runs on both paths: the fallback is forced by hiding ``select.epoll``
while the poller is made (on a machine without epoll it is the only path).
"""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator

import pytest

from taskmaster.core._poller import READ, WRITE, Poller


@pytest.fixture(params=["epoll", "selectors"])
def poller(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Poller]:
    if request.param == "epoll" and not hasattr(select, "epoll"):
        pytest.skip("no epoll on this platform: the selectors case covers it")
    if request.param == "selectors":
        monkeypatch.delattr(select, "epoll", raising=False)
    made = Poller()
    monkeypatch.undo()
    assert (made.fileno() is None) == (request.param == "selectors")
    yield made
    made.close()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    near, far = socket.socketpair()
    yield near, far
    near.close()
    far.close()


def test_a_socket_comes_back_with_its_data_once_readable(
    poller: Poller, pair: tuple[socket.socket, socket.socket]
) -> None:
    near, far = pair
    poller.register(near, READ, "near")
    assert poller.wait(0) == []  # nothing ready: at once

    far.sendall(b"x")

    assert poller.wait(None) == [("near", READ)]


def test_modify_changes_the_events_and_the_data(
    poller: Poller, pair: tuple[socket.socket, socket.socket]
) -> None:
    near, _ = pair
    poller.register(near, READ, "before")
    assert poller.wait(0) == []

    poller.modify(near, READ | WRITE, "after")

    assert poller.wait(0) == [("after", WRITE)]  # a fresh socket can be written


def test_a_hang_up_is_readable(
    poller: Poller, pair: tuple[socket.socket, socket.socket]
) -> None:
    near, far = pair
    poller.register(near, READ, "near")
    far.close()

    assert poller.wait(1.0) == [("near", READ)]


def test_registering_twice_or_changing_the_unknown_is_an_error(
    poller: Poller, pair: tuple[socket.socket, socket.socket]
) -> None:
    near, far = pair
    poller.register(near, READ)

    with pytest.raises(KeyError, match="already registered"):
        poller.register(near, READ)
    with pytest.raises(KeyError, match="not registered"):
        poller.modify(far, READ)
    with pytest.raises(KeyError):
        poller.unregister(far)


def test_an_unregistered_socket_is_no_longer_reported(
    poller: Poller, pair: tuple[socket.socket, socket.socket]
) -> None:
    near, far = pair
    poller.register(near, READ, "near")
    poller.register(far.fileno(), READ, "far")  # a descriptor number works too
    far.sendall(b"x")

    poller.unregister(near)

    assert poller.wait(0) == []
    near.sendall(b"y")
    assert poller.wait(0) == [("far", READ)]


def test_a_socket_closed_before_it_is_unregistered_is_forgotten(poller: Poller) -> None:
    near, far = socket.socketpair()
    poller.register(near, READ, "near")
    fd = near.fileno()
    near.close()
    far.close()

    poller.unregister(fd)

    assert poller.wait(0) == []
