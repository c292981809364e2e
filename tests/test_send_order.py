"""Replies reach a customer in the order of the turns that wrote them.

Each turn's replies are one send job, numbered per destination when it is queued. A job
whose predecessor to the same customer is unfinished waits for it (up to
``ORDER_PATIENCE_S``), so a second turn's reply cannot overtake a first reply that met a
Twilio error and waits for its retry. A text held for quiet hours holds nothing up.
"""

from __future__ import annotations

from support import failed_event

PHONE = "+15551230077"


def test_a_reply_that_met_a_twilio_error_is_not_overtaken_by_the_next_turns(make_system):
    system = make_system(OUTBOUND_MIN_BACKOFF_MS="1500")  # the retry comes a while later
    customer = system.customer(PHONE)
    system.post_event(failed_event(phone=PHONE))
    customer.offered()
    # (Erasing a customer deletes the order key too: tests/test_privacy.py's trace scan.)
    system.twilio.fail_next(1, status=500)  # the next send fails once, then is retried
    assert customer.say("2").status_code == 200  # a window: "reply YES to confirm"
    assert customer.say("where is my parcel").status_code == 200  # typed straight after
    first, second = customer.reply(), customer.reply()
    assert "YES" in first and "5-9pm" in first, (first, second)
    assert "YES" not in second, (first, second)
    assert len(system.twilio.requests_log) - len(system.twilio.messages) == 1  # the 500
    system.drain()
    order = system.runtime.store.redis.hgetall(f"ds:sendorder:{{sms:{PHONE}}}")
    assert order[b"queued"] == order[b"done"], order  # every numbered job finished

