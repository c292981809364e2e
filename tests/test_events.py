"""POST /events: the shipper's contract, signatures, validation, replays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from support import failed_event


def test_valid_event_opens_a_case_and_texts_the_recipient_once(system, customer):
    resp = system.post_event(failed_event())
    assert resp.status_code == 202
    case_id = resp.json()["case_id"]
    assert case_id
    customer.reply()
    customer.reply()
    customer.silence()
    case = system.case(case_id)
    assert case.status == "awaiting_customer"
    kinds = system.timeline_kinds(case_id)
    assert kinds[:2] == ["case.opened", "event.received"]
    assert kinds.count("message.sent") == 2
    sent = system.twilio.messages
    assert all(m["status_callback"] == system.settings.public_url + "/webhooks/twilio/status"
               for m in sent)
    assert {m["from_"] for m in sent} == {"+15005550006"}


def test_replayed_webhook_id_returns_the_same_case_without_a_second_text(system, customer):
    event = failed_event()
    first = system.post_event(event, webhook_id="msg_replayed_1")
    again = system.post_event(event, webhook_id="msg_replayed_1")
    assert first.status_code == 202 and 200 <= again.status_code < 300
    assert again.json()["case_id"] == first.json()["case_id"]
    customer.reply(), customer.reply()
    customer.silence()


@pytest.mark.parametrize("tamper", ["wrong_secret", "missing", "stale", "garbage"])
def test_bad_signatures_are_refused_and_change_nothing(system, customer, tamper):
    event = failed_event()
    if tamper == "wrong_secret":
        resp = system.post_event(event, secret="whsec_" + "A" * 32)
    elif tamper == "missing":
        resp = system.http.post(system.url + "/events", json=event)
    elif tamper == "stale":
        resp = system.post_event(event, timestamp=datetime.now(UTC) - timedelta(minutes=10))
    else:
        resp = system.post_event(event, headers={"webhook-signature": "v1"})
    assert resp.status_code == 401
    assert "signature" in resp.json()["error"]
    customer.silence()
    assert system.runtime.store.recent_case_ids() == []


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda e: e.update(type="delivery.exploded"), "type"),
    (lambda e: e.pop("occurred_at"), "occurred_at"),
    (lambda e: e.update(occurred_at="yesterday"), "occurred_at"),
    (lambda e: e["shipment"].pop("tracking_number"), "shipment.tracking_number"),
    (lambda e: e["shipment"]["recipient"].update(phone="not a phone"),
     "shipment.recipient.phone"),
    (lambda e: e["shipment"]["recipient"].update(phone=None), "shipment.recipient"),
    (lambda e: e["shipment"].update(timezone="Mars/Olympus"), "shipment.timezone"),
    (lambda e: e["details"]["available_windows"][0].update(end="2020-01-01T00:00:00Z"),
     "details.available_windows.0"),
    (lambda e: e.update(type="delivery.delayed"), "details.new_eta"),
])
def test_malformed_event_gets_422_naming_the_field(system, customer, mutate, field):
    event = failed_event()
    mutate(event)
    resp = system.post_event(event)
    assert resp.status_code == 422
    assert resp.json()["field"] == field
    customer.silence()
    assert system.runtime.store.recent_case_ids() == []


def test_body_that_is_not_json_gets_422(system):
    resp = system.post_event("{not json")
    assert resp.status_code == 422
    assert resp.json()["field"] == "body"


def test_wrong_content_type_gets_415(system):
    body = json.dumps(failed_event())
    resp = system.post_event(body, headers={"content-type": "text/plain"})
    assert resp.status_code == 415


def test_delivered_event_closes_the_open_case(system, customer):
    event = failed_event()
    case_id = system.post_event(event).json()["case_id"]
    customer.reply(), customer.reply()
    delivered = {**event, "type": "delivery.delivered", "details": {}}
    resp = system.post_event(delivered)
    assert resp.status_code == 202 and resp.json()["case_id"] == case_id
    assert system.case(case_id).status == "resolved"
    payload = system.shipper.wait_for_callbacks(1)[0]["payload"]
    assert payload["type"] == "case.resolved"
    assert payload["data"]["resolution"] == "delivered"
    assert "has been delivered" in customer.reply()  # mid-dialogue: told it is over
    customer.say("2")
    assert "no open delivery" in customer.reply()


def test_second_event_for_the_same_parcel_updates_the_case(system, customer):
    event = failed_event()
    first = system.post_event(event).json()["case_id"]
    second = system.post_event(event).json()["case_id"]
    assert first == second
    assert system.timeline_kinds(first).count("event.received") == 2


def test_health_and_readiness(system):
    assert system.http.get(system.url + "/healthz").json() == {"status": "ok"}
    assert system.http.get(system.url + "/readyz").status_code == 200


def test_oversized_body_gets_413_and_changes_nothing(system):
    event = failed_event()
    event["details"]["driver_note"] = "x" * (1024 * 1024)
    resp = system.post_event(event)
    assert resp.status_code == 413
    assert "error" in resp.json()
    assert system.runtime.store.recent_case_ids() == []
