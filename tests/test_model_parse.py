"""POST /model/parse: Rasa's /model/parse contract on the Doorstep server, over real HTTP."""

from __future__ import annotations

from datetime import datetime

import pytest

REF = "2026-11-24T10:00:00-05:00"
TZ = "America/New_York"


def parse(system, body, **kw):  # noqa: ANN001, ANN201 - test helper
    return system.http.post(system.url + "/model/parse", json=body, timeout=10, **kw)


def test_answer_has_rasas_shape_with_resolved_entities(system):
    resp = parse(system, {"text": "cant be home fri, can u come sat morning",
                          "reference_time": REF, "timezone": TZ})
    assert resp.status_code == 200
    data = resp.json()
    assert set(data) >= {"text", "intent", "intent_ranking", "entities", "language"}
    assert data["text"] == "cant be home fri, can u come sat morning"
    assert data["intent"]["name"] == "reschedule"
    assert 0.0 < data["intent"]["confidence"] <= 1.0
    assert data["intent_ranking"][0] == data["intent"]
    confidences = [i["confidence"] for i in data["intent_ranking"]]
    assert confidences == sorted(confidences, reverse=True)
    assert data["language"] == "en"
    entities = [(e["entity"], e["value"]) for e in data["entities"]]
    assert entities == [("date", "2026-11-28"), ("time_window",
                                                  {"start": "08:00", "end": "12:00"})]
    first = data["entities"][0]
    assert set(first) >= {"entity", "value", "start", "end", "confidence", "extractor"}
    assert data["text"][first["start"]:first["end"]] == "sat"


def test_spanish_is_understood_without_a_language_hint(system):
    data = parse(system, {"text": "la caja llegó aplastada", "reference_time": REF}).json()
    assert data["intent"]["name"] == "report_damage"
    assert data["language"] == "es"


def test_http_answer_equals_the_python_api(system):
    text = "mañana por la tarde porfa"
    data = parse(system, {"text": text, "reference_time": REF, "timezone": TZ}).json()
    direct = system.runtime.nlu.parse(text, datetime.fromisoformat(REF), TZ)
    assert data == direct.to_dict()
    assert ("date", "2026-11-25") in [(e["entity"], e["value"]) for e in data["entities"]]


def test_reference_time_defaults_to_now_in_the_default_timezone(system):
    data = parse(system, {"text": "today"}).json()
    dates = [e["value"] for e in data["entities"] if e["entity"] == "date"]
    assert len(dates) == 1 and len(dates[0]) == 10


@pytest.mark.parametrize("body, status, field", [
    ({}, 422, "text"),
    ({"text": 5}, 422, "text"),
    ({"text": "x" * 10_001}, 422, "text"),
    ({"text": "hi", "timezone": "Mars/Olympus"}, 422, "timezone"),
    ({"text": "hi", "reference_time": "2026-11-24T10:00:00"}, 422, "reference_time"),
    ({"text": "hi", "reference_time": "next tuesday"}, 422, "reference_time"),
    ({"text": "hi", "language": "fr"}, 422, "language"),
    (["text"], 400, "body"),
])
def test_bad_requests_get_a_clear_error(system, body, status, field):
    resp = parse(system, body)
    assert resp.status_code == status
    assert resp.json()["field"] == field
    assert resp.json()["error"]


def test_non_json_bodies_are_refused(system):
    resp = system.http.post(system.url + "/model/parse", data="text=hi",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 415
    resp = system.http.post(system.url + "/model/parse", data="{not json",
                            headers={"Content-Type": "application/json"})
    assert resp.status_code == 400


@pytest.mark.parametrize("text", ["", "   ", "😀🎉📦"])
def test_empty_and_emoji_only_messages_are_out_of_scope(system, text):
    resp = parse(system, {"text": text, "reference_time": REF})
    assert resp.status_code == 200
    data = resp.json()
    assert data["intent"]["name"] == "out_of_scope"
    assert data["entities"] == []


def test_a_10000_character_message_gets_a_clean_result(system):
    text = "my package was crushed and " + "the box is wet " * 700
    resp = parse(system, {"text": text[:10_000], "reference_time": REF})
    assert resp.status_code == 200
    assert resp.json()["intent"]["name"] == "report_damage"


def test_token_is_required_when_configured(make_system):
    system = make_system(NLU_API_TOKEN="s3cret-token")
    assert parse(system, {"text": "yes"}).status_code == 401
    assert parse(system, {"text": "yes"}, params={"token": "wrong"}).status_code == 401
    ok = parse(system, {"text": "yes"}, params={"token": "s3cret-token"})
    assert ok.status_code == 200 and ok.json()["intent"]["name"] == "affirm"
    bearer = parse(system, {"text": "yes"}, headers={"Authorization": "Bearer s3cret-token"})
    assert bearer.status_code == 200


def test_rasa_backend_supplies_intents_and_the_embedded_engine_covers_its_outages(
        make_system):
    from fakes.rasa import FakeRasa

    with FakeRasa(token="rasa-token", intents={"human": ("banana",)}) as rasa:
        system = make_system(NLU_BACKEND="rasa", RASA_URL=rasa.url, RASA_TOKEN="rasa-token",
                             RASA_TIMEOUT="0.5")
        data = parse(system, {"text": "banana tomorrow", "reference_time": REF}).json()
        assert data["intent"]["name"] == "human"  # only the Rasa table says so
        assert ("date", "2026-11-25") in [(e["entity"], e["value"]) for e in data["entities"]]
        assert [r["token"] for r in rasa.received] == ["rasa-token"]
        rasa.fail("error")
        data = parse(system, {"text": "la caja llegó aplastada", "reference_time": REF}).json()
        assert data["intent"]["name"] == "report_damage"  # the embedded engine answered
        assert len(rasa.received) == 2
