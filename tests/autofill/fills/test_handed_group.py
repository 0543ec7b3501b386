"""The room a worker process keeps for claimed bulk fills: a group takes all it needs at once
or waits, so two groups never each hold part of what both need."""

from __future__ import annotations

import threading
import time

from autofill.fills.handed_group import Room


def test_a_group_takes_its_room_whole_or_waits() -> None:
    room = Room(5)
    order: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with room.taken(3):
            order.append("first in")
            first_in.set()
            release_first.wait(5)
            order.append("first out")

    def second() -> None:
        first_in.wait(5)
        with room.taken(3):  # 2 free while the first holds 3: waits, holding nothing
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(5)
    time.sleep(0.1)
    assert order == ["first in"]
    with room.taken(2):  # what is free is still free to a group that fits
        order.append("small in")
    release_first.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first in", "small in", "first out", "second in"]


def test_a_group_larger_than_the_room_takes_all_of_it() -> None:
    room = Room(4)
    with room.taken(10) as held:
        assert held.count == 4
        held.give(4 - 10)  # what a group of 10 with none to call would give back first
        held.give(7)  # more answers than the room holds
    assert room.free == 4  # never more than its size, whatever was given back


def test_a_group_gives_its_room_back_a_fill_at_a_time() -> None:
    room = Room(5)
    with room.taken(4) as held:
        held.give(3)  # three answered; one still out
        assert held.count == 1
        assert room.take(4) == 4  # another group's claims fit now
        room.give(4)
    assert room.take(5) == 5  # the last one came back when the group ended


def test_a_waiting_group_is_woken_only_when_it_fits() -> None:
    room = Room(4)
    assert room.take(4) == 4
    woken: list[int] = []
    original = room._changed.notify_all

    def counted_notify_all() -> None:
        woken.append(room.free)
        original()

    room._changed.notify_all = counted_notify_all  # type: ignore[method-assign]
    waiter = threading.Thread(target=room.take, args=(3,))
    waiter.start()
    time.sleep(0.05)  # the group waits for 3 (had it not started yet, the outcome is the same)
    room.give(1)
    room.give(1)  # 2 free: the waiting group does not fit yet, and sleeps on
    assert woken == []
    room.give(1)  # 3 free: it fits, and takes them
    waiter.join(5)
    assert not waiter.is_alive()
    assert woken == [3]
    assert room.free == 0
    room.give(1)  # nobody waits: nothing to wake
    assert woken == [3]
    assert room.free == 1
