"""Send pacing shared through Redis: one message per second per chat, ~30/s in all."""

from __future__ import annotations

from bot.store import Store
from channels.telegram import OVERALL_MS, PER_CHAT_MS


def test_second_message_to_one_chat_waits_about_a_second(redis_client):
    store = Store(redis_client)
    first = store.pace("telegram", "111", PER_CHAT_MS, OVERALL_MS)
    second = store.pace("telegram", "111", PER_CHAT_MS, OVERALL_MS)
    third = store.pace("telegram", "111", PER_CHAT_MS, OVERALL_MS)
    assert first == 0
    assert 0.5 <= second <= 1.0
    assert 1.5 <= third <= 2.0


def test_different_chats_share_only_the_overall_budget(redis_client):
    store = Store(redis_client)
    waits = [store.pace("telegram", str(chat), PER_CHAT_MS, OVERALL_MS) for chat in range(60)]
    assert waits[0] == 0
    # 60 chats at ~30/s: the last one waits about two seconds, none waits a whole second more
    assert 1.5 <= waits[-1] <= 2.1
    assert all(b >= a for a, b in zip(waits, waits[1:], strict=False))
