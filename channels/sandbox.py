"""The sandbox outbox: where SMS goes when no Twilio credentials are configured."""

from __future__ import annotations

import logging
import secrets

from bot.models import Outbound
from bot.phones import mask_phone
from bot.store import Store, now_iso
from channels.render import render_sms

log = logging.getLogger("doorstep.sandbox")


class SandboxOutbox:
    """Keep messages in Redis (``doorstep outbox`` lists them) instead of sending."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def send(self, outbound: Outbound) -> str:
        sid = "SB" + secrets.token_hex(16)
        self.store.push_outbox({"sid": sid, "to": outbound.to, "case_id": outbound.case_id,
                                "body": render_sms(outbound.text, outbound.choices),
                                "at": now_iso()})
        log.info("sandbox: kept message %s for %s (no Twilio credentials)", sid,
                 mask_phone(outbound.to))
        return sid
