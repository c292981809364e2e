"""Redis keys are laid out for Redis Cluster's hash slots: every key of one conversation
carries the conversation's hash tag (``{sms:+1555…}``) and every key of one case the case's
(``{cs_…}``), so each group lives in one slot, and a script or lock about a conversation
touches one slot. (A turn's transaction still spans the conversation's slot, the case's and
the global indexes: README, "Deploying", says what that means for Cluster.)"""

from __future__ import annotations

from redis.crc import key_slot

from support import failed_event


def test_a_conversations_keys_share_one_slot_and_a_cases_keys_another(system, customer):
    case_id = system.post_event(failed_event(phone=customer.phone)).json()["case_id"]
    customer.offered()
    customer.book("2")
    system.drain()
    keys = [k.decode() for k in system.runtime.store.redis.scan_iter(count=1000)]
    by_phone = [k for k in keys if customer.phone in k]
    by_case = [k for k in keys if case_id in k]
    # conversation, its turn marks, the recipient index and the send order, at least
    assert len(by_phone) >= 4 and any(":seen:" in k for k in by_phone), by_phone
    assert {key_slot(k.encode()) for k in by_phone} == {
        key_slot(f"{{sms:{customer.phone}}}".encode())}, by_phone
    assert len(by_case) >= 3, by_case  # the case, its timeline, its insight facts
    assert {key_slot(k.encode()) for k in by_case} == {key_slot(f"{{{case_id}}}".encode())}, \
        by_case
