"""Customers' data: export all of it, forget it on request, erase one case's worth.

Erasing a case (on request, or by :mod:`bot.retention` once it has been quiet for
``RETENTION_DAYS``) keeps what supervisors count and nothing that names, reaches or
quotes anyone: the case keeps its id, type, carrier, status, reason code, language,
timezone, timestamps, resolution code and hand-off times; each timeline entry keeps its
kind, time and code-like fields (channel, intent, status, error code...). Message
texts, names, phone numbers, chat ids, addresses, instructions, notes, hand-off
summaries, outbound payloads and photos go. An open case is closed as ``expired``
with outcome ``erased``: nobody can be reached about it any more.

Opt-outs are kept, because sending after STOP is against the law: as a one-way hash
of the number (``bot.store_keys.optout_digest``), which the store consults as well.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.media import FileMediaStore
from bot.models import CLOSED_STATUSES, EXPIRED, WEB, Case
from bot.store import Store, key_for, now_iso
from bot.store_keys import optout_hash_key
from bot.store_outbound import send_order_key

RESOLUTION_KEPT = ("outcome", "resolution_code", "at", "resolved_by", "resolved_by_name")
HANDOFF_KEPT = ("reason", "escalated_at", "waiting_since", "eta_minutes", "overdue",
                "overdue_at", "assignee", "assignee_name", "claimed_at", "first_response_at")
SHIPMENT_KEPT = ("carrier", "timezone", "value")
ENTRY_KEPT = frozenset({
    "channel", "type", "intent", "confidence", "status", "method", "outcome", "reason",
    "resolution_code", "error_code", "attachments", "replies", "author", "content_type",
    "size", "eta_minutes", "restart", "from", "to", "by", "key", "stage", "until", "why"})
REPLIES_PER_TURN = 10  # outbound keys are <channel>:<message id>:<0..n>
DEAD_LETTERS_READ = 5000  # the store keeps no more than this many
ENTRY_TIMES = frozenset({"at", "occurred_at", "waiting_since"})
# A code or a label the program wrote ("opted_out", "angry customer", "30003"), not
# free text: a phone number, an address or a sentence with punctuation does not match.
_CODE = re.compile(r"[A-Za-z][\w .:@-]{0,80}|\d{1,8}")


@dataclass
class Erased:
    """What an erasure removed (counts only: a summary must not name anyone)."""

    cases: int = 0
    conversations: int = 0
    message_texts: int = 0
    timeline_entries: int = 0
    outbound_payloads: int = 0
    media_files: int = 0
    index_entries: int = 0
    dead_letters: int = 0
    optouts_hashed: int = 0

    def add(self, other: Erased) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self) -> str:
        return (f"{self.cases} case(s) anonymised, {self.conversations} conversation(s) "
                f"deleted, {self.message_texts} message text(s) and "
                f"{self.timeline_entries} timeline entr(ies) stripped, "
                f"{self.outbound_payloads} outbound payload(s), {self.media_files} media "
                f"file(s), {self.index_entries} index entr(ies), {self.dead_letters} dead "
                f"letter(s) erased")


def is_erased(case: Case) -> bool:
    return bool(case.details.get("erased_at"))


def anonymised_case(case: Case, why: str, at: str) -> Case:
    """``case`` with only its statistics left; an open case is closed as expired."""
    closed = case.status in CLOSED_STATUSES
    resolution = {k: v for k, v in (case.resolution or {}).items() if k in RESOLUTION_KEPT}
    if not closed:
        resolution = {"outcome": "erased", "at": at}
    handoff = {k: v for k, v in (case.handoff or {}).items() if k in HANDOFF_KEPT}
    return Case(
        id=case.id, type=case.type, status=case.status if closed else EXPIRED,
        tracking_number="", carrier=case.carrier, order_ref=None, recipient_name=None,
        phone=None, telegram_chat_id=None, language=case.language, timezone=case.timezone,
        reason=case.reason if isinstance(case.reason, str) and _CODE.fullmatch(case.reason)
        else None,
        details={"erased_at": at, "erased_because": why},
        shipment={k: case.shipment[k] for k in SHIPMENT_KEPT if k in case.shipment},
        created_at=case.created_at, updated_at=case.updated_at if closed else at,
        resolution=resolution or None, handoff=handoff or None)


def anonymised_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry's kind, times and code-like fields; no text, no numbers."""
    kept: dict[str, Any] = {"at": entry.get("at"), "kind": entry.get("kind")}
    for name, value in entry.items():
        if name in ENTRY_TIMES and isinstance(value, str):
            try:
                datetime.fromisoformat(value)
            except ValueError:
                continue
            kept[name] = value
        elif name in ENTRY_KEPT and (value is None or isinstance(value, bool | int | float)
                                     or isinstance(value, str) and _CODE.fullmatch(value)):
            kept[name] = value
    return kept


class Privacy:
    """Export, forget and erase customers' data in Redis and the media directory."""

    def __init__(self, store: Store, media_dir: Path) -> None:
        self.store = store
        self.redis = store.redis
        self.media = FileMediaStore(media_dir)

    # -- finding a customer ----------------------------------------------------
    def footprint(self, phone: str) -> tuple[list[tuple[str, str]], list[Case]]:
        """The customer's conversations (SMS, then linked Telegram chats) and cases."""
        cases = {c.id: c for c in self.store.cases_for_recipient("sms", phone)}
        chats = sorted({str(c.telegram_chat_id) for c in cases.values()
                        if c.telegram_chat_id is not None})
        for chat in chats:
            cases.update({c.id: c for c in self.store.cases_for_recipient("telegram", chat)})
        conversations = [("sms", phone)] + [("telegram", chat) for chat in chats]
        ordered = sorted(cases.values(), key=lambda c: c.created_at)
        return conversations, ordered

    # -- export ------------------------------------------------------------------
    def export(self, phone: str) -> dict[str, Any]:
        """Everything held about the customer with this (E.164) number."""
        conversations, cases = self.footprint(phone)
        exported_cases = [self._export_case(case) for case in cases]
        exported_convs = []
        for channel, address in conversations:
            raw = self.redis.get(key_for("conv", tag=f"{channel}:{address}"))
            opted = self.redis.get(key_for("optout", tag=f"{channel}:{address}"))
            hashed = self.redis.exists(optout_hash_key(channel, address))
            exported_convs.append({
                "channel": channel, "address": address,
                "conversation": json.loads(raw) if raw else None,
                "opted_out": bool(opted or hashed),
                "opted_out_at": opted.decode() if opted else None})
        addresses = {a for _, a in conversations}
        ids = {c.id for c in cases}
        outbox = [m for m in self.store.outbox() if m.get("to") in addresses
                  or m.get("case_id") in ids]
        simulator = [json.loads(r) for r in
                     self.redis.lrange(key_for("simulator", "sent", tag=phone), 0, -1)]
        found = bool(cases or any(c["conversation"] or c["opted_out"] for c in exported_convs)
                     or outbox or simulator)
        return {"phone": phone, "found": found, "exported_at": now_iso(),
                "cases": exported_cases, "conversations": exported_convs,
                "sandbox_outbox": outbox, "simulator_texts": simulator}

    def _export_case(self, case: Case) -> dict[str, Any]:
        timeline = self.store.timeline(case.id)
        keys = _outbound_keys(timeline)
        outbound = []
        for key, record in zip(keys, self.store.outbound_records(keys), strict=True):
            if "payload" in record:
                record = {**record, "payload": json.loads(record["payload"])}
            outbound.append({"key": key, **record})
        media = []
        for media_id in _media_ids(timeline):
            held = self.media.get(media_id)
            media.append({"id": media_id, "held": held is not None,
                          "content_type": held[1] if held else None,
                          "size": len(held[0]) if held else None})
        web = self.redis.get(key_for("conv", tag=f"{WEB}:{case.id}"))
        return {"case": case.to_dict(), "timeline": timeline, "outbound": outbound,
                "media": media, "tracking_page_conversation": json.loads(web) if web else None}

    # -- forget ------------------------------------------------------------------
    def forget(self, phone: str) -> tuple[bool, Erased]:
        """Erase the customer with this number; (anything found, what was erased).

        Takes each conversation's turn lock first, so no turn runs half before and half
        after (raises :class:`~bot.errors.BusyConversation` when one stays busy).
        """
        conversations, cases = self.footprint(phone)
        erased = Erased()
        with self.locked(conversations):
            _, cases = self.footprint(phone)  # again, now that no turn can change it
            for case in cases:
                erased.add(self.erase_case(case.id, "request"))
            for channel, address in conversations:
                erased.add(self._erase_conversation(channel, address, phone))
            erased.add(self._erase_strays(conversations, {c.id for c in cases}))
            erased.dead_letters += self.drop_dead_letters({c.id for c in cases})
        found = bool(cases) or erased != Erased()
        return found, erased

    @contextmanager
    def locked(self, conversations: list[tuple[str, str]],
               wait_s: float = 10.0) -> Iterator[None]:
        """Hold the turn locks of all these conversations (in one order: no deadlock)."""
        with ExitStack() as stack:
            for channel, address in sorted(conversations):
                stack.enter_context(self.store.conversation_lock(channel, address, wait_s))
            yield

    def _erase_conversation(self, channel: str, address: str, phone: str) -> Erased:
        erased = Erased()
        tag = f"{channel}:{address}"
        opted = self.redis.get(key_for("optout", tag=tag))
        pipe = self.store.pipeline()
        pipe.delete(key_for("conv", tag=tag))
        pipe.delete(key_for("recipient", tag=tag))
        pipe.delete(key_for("pace", tag=tag))
        pipe.delete(send_order_key(channel, address))
        pipe.delete(key_for("linkfail", tag=address))
        if channel == "sms":
            pipe.delete(key_for("simulator", "sent", tag=phone))
        if opted:
            pipe.set(optout_hash_key(channel, address), opted)
            erased.optouts_hashed += 1
            pipe.delete(key_for("optout", tag=tag))
        conv, index, *_ = pipe.execute()
        erased.conversations += int(conv)
        erased.index_entries += int(index)
        return erased

    def _erase_strays(self, conversations: list[tuple[str, str]], case_ids: set[str]) -> Erased:
        """Sandbox outbox texts, stashed inbound messages and message-id marks."""
        erased = Erased()
        addresses = {a for _, a in conversations}
        for raw in self.redis.lrange(key_for("outbox"), 0, -1):
            message = json.loads(raw)
            if message.get("to") in addresses or message.get("case_id") in case_ids:
                erased.message_texts += int(self.redis.lrem(key_for("outbox"), 0, raw))
        inbound_prefix = key_for("inbound", "").encode()
        seen = {key_for("conv", tag=f"{c}:{a}").encode() + b":seen:": c for c, a in conversations}
        stashed, marks, turns = [], [], []
        for key in self.redis.scan_iter(count=1000):  # rare, operator-run: one pass is fine
            if key.startswith(inbound_prefix):
                stashed.append(key)
            for prefix, channel in seen.items():
                if key.startswith(prefix):
                    marks.append(key)
                    turns.append((channel, key[len(prefix):].decode()))
        pipe = self.redis.pipeline(transaction=False)  # one key per command: any slot
        for key in stashed:
            pipe.get(key)
        for key, raw in zip(stashed, pipe.execute(), strict=True):
            try:
                sender = json.loads(raw).get("sender") if raw else None
            except ValueError:
                continue
            if sender in addresses:
                pipe.delete(key)
        erased.message_texts += sum(pipe.execute())  # stashed for a worker, not handled yet
        for key in marks:
            pipe.delete(key)
        erased.index_entries += sum(pipe.execute())
        # Replies to messages no case records (before a chat was linked, say) are found
        # by their keys, which the engine derives from the message id.
        keys = [f"{channel}:{message_id}:{i}" for channel, message_id in turns
                for i in range(REPLIES_PER_TURN)]
        erased.outbound_payloads += self._strip_outbound(keys)
        return erased

    def _strip_outbound(self, keys: list[str]) -> int:
        """Drop the payload (text, recipient) and provider id of these outbound records."""
        pipe, stripped = self.store.pipeline(), 0
        for key, record in zip(keys, self.store.outbound_records(keys), strict=True):
            if not record:
                continue
            stripped += int("payload" in record)
            if record.get("provider_id"):  # Telegram's names the chat
                pipe.delete(key_for("provider", record["provider_id"]))
            # Without its payload a queued job for this record skips it (nothing to send).
            pipe.hdel(key_for("out", key), "payload", "provider_id")
        pipe.execute()
        return stripped

    def drop_dead_letters(self, case_ids: set[str]) -> int:
        """Remove these cases' failed messages and callbacks from the dead-letter list
        (their payloads are gone: there is nothing left to retry)."""
        if not case_ids:
            return 0
        gone = [d["id"] for d in self.store.dead_letters(limit=DEAD_LETTERS_READ)
                if d.get("case_id") in case_ids]
        return self.store.remove_dead_letters(gone)

    # -- one case ----------------------------------------------------------------
    def erase_case(self, case_id: str, why: str) -> Erased:
        """Anonymise one case: record, timeline, outbound payloads, photos, indexes.

        The caller holds the case's conversation lock (or knows the case is idle).
        Erasing an erased case again changes nothing.
        """
        erased = Erased()
        case = self.store.get_case(case_id)
        if case is None or is_erased(case):
            return erased
        at = now_iso()
        timeline = self.store.timeline(case_id)
        keys = _outbound_keys(timeline)
        for media_id in _media_ids(timeline):
            if self.media.get(media_id) is not None:
                self.media.delete(media_id)
                erased.media_files += 1
        erased.outbound_payloads += self._strip_outbound(keys)
        anon = anonymised_case(case, why, at)
        pipe = self.store.pipeline()
        # LSET, not a rewrite: the queue may append (sent, delivered) meanwhile, and
        # appends never move earlier entries.
        for index, entry in enumerate(timeline):
            slim = anonymised_entry(entry)
            if slim != entry:
                pipe.lset(key_for("case", "timeline", tag=case_id), index, json.dumps(slim))
                erased.timeline_entries += 1
                erased.message_texts += int("text" in entry)
        self.store.save_case(anon, pipe)
        self.store.index_escalation(anon, pipe)
        if case.tracking_number:
            pipe.srem(key_for("tracking", tag=case.tracking_number.upper()), case_id)
            erased.index_entries += 1
            if self.store.open_case_for(case.carrier, case.tracking_number) == case_id:
                self.store.set_open_case(case.carrier, case.tracking_number, None, pipe)
        recipients = ([("sms", case.phone)] if case.phone else []) + (
            [("telegram", str(case.telegram_chat_id))] if case.telegram_chat_id else [])
        for channel, address in recipients:
            pipe.srem(key_for("recipient", tag=f"{channel}:{address}"), case_id)
            erased.index_entries += 1
        pipe.delete(key_for("callback", "payloads", tag=case_id))  # callbacks not yet sent
        # The tracking page's conversation (its flow state may hold a typed address).
        erased.conversations += int(self.redis.exists(key_for("conv", tag=f"{WEB}:{case_id}")))
        pipe.delete(key_for("conv", tag=f"{WEB}:{case_id}"))
        self.store.append_timeline(case_id, "privacy.erased", pipe, why=why)
        self.store.publish_case(case_id, anon.status, pipe)
        pipe.execute()
        erased.cases += 1
        return erased


def _outbound_keys(timeline: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(e["key"] for e in timeline
                              if e.get("kind") == "message.queued" and e.get("key")))


def _media_ids(timeline: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(e["media_id"] for e in timeline
                              if e.get("kind") == "media.received" and e.get("media_id")))
