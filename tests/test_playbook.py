"""Canned responses and resolution codes, on a real Redis."""

from __future__ import annotations

import pytest

from bot.errors import Invalid, NotFound
from bot.playbook import Playbook

DEFAULTS = (("parcel_located", "Parcel located"), ("refund_issued", "Refund issued"))


@pytest.fixture
def playbook(redis_client) -> Playbook:
    return Playbook(redis_client, DEFAULTS)


def codes(playbook: Playbook) -> list[str]:
    return [row["code"] for row in playbook.resolution_codes()]


def test_codes_come_from_the_settings_until_a_supervisor_changes_them(playbook):
    assert playbook.resolution_codes() == [
        {"code": "parcel_located", "label": "Parcel located"},
        {"code": "refund_issued", "label": "Refund issued"}]
    assert playbook.is_resolution_code("refund_issued")
    assert not playbook.is_resolution_code("made_up")


def test_an_added_code_follows_the_defaults_and_survives_a_new_process(playbook, redis_client):
    assert playbook.add_resolution_code("address_fixed", "Address fixed") == \
        {"code": "address_fixed", "label": "Address fixed"}
    again = Playbook(redis_client, DEFAULTS)
    assert codes(again) == ["parcel_located", "refund_issued", "address_fixed"]
    assert again.is_resolution_code("address_fixed")


def test_adding_an_existing_code_changes_only_its_label(playbook):
    playbook.add_resolution_code("parcel_located", "  Found it  ")
    assert playbook.resolution_codes()[0] == {"code": "parcel_located", "label": "Found it"}
    assert codes(playbook) == ["parcel_located", "refund_issued"]


@pytest.mark.parametrize("code", ["A", "x", "Has-Dash", "with space", "é_code", "a" * 41, ""])
def test_malformed_codes_are_refused_with_the_rule(playbook, code):
    with pytest.raises(Invalid, match="a-z, 0-9 and _"):
        playbook.add_resolution_code(code, "Label")
    assert codes(playbook) == ["parcel_located", "refund_issued"]


@pytest.mark.parametrize("label", ["", "   ", "x" * 81])
def test_labels_must_have_one_to_eighty_characters(playbook, label):
    with pytest.raises(Invalid, match="label"):
        playbook.add_resolution_code("new_code", label)
    assert not playbook.is_resolution_code("new_code")


def test_removing_a_default_code_keeps_the_others(playbook):
    playbook.remove_resolution_code("parcel_located")
    assert playbook.resolution_codes() == [{"code": "refund_issued", "label": "Refund issued"}]
    assert not playbook.is_resolution_code("parcel_located")


def test_removing_an_unknown_code_is_not_found(playbook):
    with pytest.raises(NotFound, match="made_up"):
        playbook.remove_resolution_code("made_up")


def test_the_last_code_cannot_be_removed(playbook):
    playbook.remove_resolution_code("parcel_located")
    with pytest.raises(Invalid, match="keep at least one resolution code"):
        playbook.remove_resolution_code("refund_issued")
    assert codes(playbook) == ["refund_issued"]


def test_canned_responses_keep_their_creation_order(playbook):
    first = playbook.add_canned_response("Greeting", "Hi, I'm looking into this now.")
    second = playbook.add_canned_response(" Sorry ", "Sorry for the wait.")
    assert first["id"] != second["id"] and len(first["id"]) <= 12
    assert playbook.canned_responses() == [
        {"id": first["id"], "title": "Greeting", "text": "Hi, I'm looking into this now."},
        {"id": second["id"], "title": "Sorry", "text": "Sorry for the wait."}]


def test_a_removed_canned_response_is_gone_and_cannot_be_removed_twice(playbook):
    kept = playbook.add_canned_response("Keep", "kept")
    gone = playbook.add_canned_response("Drop", "dropped")
    playbook.remove_canned_response(gone["id"])
    assert [r["id"] for r in playbook.canned_responses()] == [kept["id"]]
    with pytest.raises(NotFound):
        playbook.remove_canned_response(gone["id"])


@pytest.mark.parametrize(("title", "text", "field"), [
    ("", "text", "title"), ("t" * 81, "text", "title"),
    ("Title", "", "text"), ("Title", "x" * 1001, "text")])
def test_canned_responses_need_a_short_title_and_a_text(playbook, title, text, field):
    with pytest.raises(Invalid, match=field):
        playbook.add_canned_response(title, text)
    assert playbook.canned_responses() == []


def test_the_longest_allowed_canned_response_is_kept_whole(playbook):
    saved = playbook.add_canned_response("t" * 80, "x" * 1000)
    assert playbook.canned_responses()[0]["text"] == "x" * 1000
    assert saved["title"] == "t" * 80
