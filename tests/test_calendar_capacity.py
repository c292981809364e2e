"""Without shipper windows, the built-in calendar offers windows with capacity in Redis."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from bot.models import Window
from support import failed_event


def test_capacity_is_reserved_atomically(redis_client):
    from bot.store import Store

    store = Store(redis_client)
    start = datetime.now(UTC) + timedelta(days=1)
    window = Window(start, start + timedelta(hours=4))
    results: list[bool] = []
    barrier = threading.Barrier(20)

    def take() -> None:
        barrier.wait()
        results.append(store.reserve_window(window, capacity=5))

    threads = [threading.Thread(target=take) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 5
    assert store.window_load(window) == 5


def test_last_slot_goes_to_the_first_to_confirm(make_system):
    system = make_system(WINDOW_CAPACITY="1")
    ana, ben = system.customer("+15551230001"), system.customer("+15551230002")
    system.post_event(failed_event(phone=ana.phone, windows=False))
    system.post_event(failed_event(phone=ben.phone, windows=False))
    first_ana, first_ben = ana.reply(), ben.reply()
    ana.reply(), ben.reply()
    assert first_ana.split("\n1) ")[1].split("\n")[0] == first_ben.split("\n1) ")[1].split("\n")[0]

    ana.say("1"), ana.reply()
    ana.say("yes")
    assert ana.reply().startswith("Booked")
    ben.say("1"), ben.reply()
    ben.say("yes")
    full = ben.reply()
    assert "just filled up" in full
    taken = first_ana.split("\n1) ")[1].split("\n")[0]
    assert taken not in full
    callbacks = system.shipper.wait_for_callbacks(1)
    system.drain()
    assert [c["payload"]["type"] for c in system.shipper.callbacks] == ["case.rescheduled"]
    assert callbacks[0]["payload"]["data"]["tracking_number"]


def test_calendar_never_offers_a_sunday(make_system):
    system = make_system(BOOKING_DAYS="7")
    ana = system.customer("+15551230001")
    system.post_event(failed_event(windows=False))
    ana.reply(), ana.reply()
    ana.say("sunday")
    text = ana.reply()
    assert "don't deliver on Sundays" in text and "1) " in text
    assert "Sun " not in text
