"""``Store.last_timeline_entry`` reads a long timeline from the end, a chunk at a time, and
finds the same entry a whole read would (where-is-my-parcel asks it on every question)."""

from __future__ import annotations

import pytest

from bot.store import Store


@pytest.mark.parametrize("others", [0, 5, 63, 64, 65, 200])
def test_the_latest_entry_of_a_kind_whatever_the_length(redis_client, others):
    store = Store(redis_client)
    case_id = f"cs_tail{others}"
    store.append_timeline(case_id, "event.received", occurred_at="2026-11-20T10:00:00+00:00")
    store.append_timeline(case_id, "event.received", occurred_at="2026-11-21T10:00:00+00:00")
    for i in range(others):  # later entries that mention the kind but are not of it
        store.append_timeline(case_id, "message.in", text=f"event.received {i}")
    found = store.last_timeline_entry(case_id, "event.received")
    whole = [e for e in store.timeline(case_id) if e["kind"] == "event.received"][-1]
    assert found == whole and found["occurred_at"].startswith("2026-11-21")
    assert store.last_timeline_entry(case_id, "case.resolved") is None
