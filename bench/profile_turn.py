"""Where a signed SMS turn spends its time: the real app and engine in this process, real
Redis, requests through Werkzeug's test client (no socket), profiled with pyinstrument.

``python -m bench profile [--turns 600] [--conversations 50]`` prints the pyinstrument
tree of the timed turns and the mean server-side time per turn. The HTTP server and the
socket are left out on purpose: this shows what the application itself costs.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from itertools import cycle
from pathlib import Path

import redis
from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator

from bot.redis_server import redis_server_binary
from bot.settings import generated_secret

SMS_PATH = "/webhooks/twilio/sms"
PUBLIC_URL = "http://127.0.0.1:8000"
AUTH_TOKEN = "bench-auth-token"
# Texts that keep a conversation in its flow and get one reply each, round and round.
TEXTS = ("when will it arrive", "where is my parcel", "what time is the delivery")


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    """A private redis-server on a unix socket (like the tests'), and its URL."""
    sock = workdir / "redis.sock"
    proc = subprocess.Popen([redis_server_binary(), "--port", "0", "--unixsocket", str(sock),
                             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"unix://{sock}"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.exceptions.RedisError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)


def _event(i: int) -> dict:
    """A ``delivery.failed`` event as the README's contract has it, windows tomorrow."""
    from datetime import UTC, datetime, timedelta
    now = datetime.now(UTC)
    day = (now + timedelta(days=2)).date().isoformat()
    return {"type": "delivery.failed", "occurred_at": now.isoformat(),
            "shipment": {"tracking_number": f"1ZPROF{i:010d}", "carrier": "acme",
                         "recipient": {"name": "Bench Person", "phone": _phone(i),
                                       "language": "en"},
                         "address": {"line1": "12 Oak St", "city": "Boston", "region": "MA",
                                     "postal_code": "02110", "country": "US"},
                         "timezone": "America/New_York"},
            "details": {"reason": "recipient_absent", "available_windows": [
                {"start": f"{day}T12:00:00-05:00", "end": f"{day}T17:00:00-05:00"},
                {"start": f"{day}T17:00:00-05:00", "end": f"{day}T21:00:00-05:00"}]}}


def _phone(i: int) -> str:
    return f"+1555{200 + i // 10000 % 800:03d}{i % 10000:04d}"


def run(turns: int, conversations: int) -> None:
    import json

    from pyinstrument import Profiler

    from webhook_server import create_app

    workdir = Path(tempfile.mkdtemp(prefix="doorstep-profile-"))
    proc, url = start_redis(workdir)
    secret = generated_secret()
    try:
        app = create_app({"REDIS_URL": url, "DOORSTEP_DATA_DIR": str(workdir / "data"),
                          "PUBLIC_URL": PUBLIC_URL, "EVENTS_WEBHOOK_SECRET": secret,
                          "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                          "TWILIO_FROM_NUMBER": "+15005550006", "QUIET_HOURS": "off",
                          "RATE_LIMIT_WEBHOOKS": "off", "RATE_LIMIT_EVENTS": "off",
                          "LOG_LEVEL": "WARNING"})
        client = app.test_client()
        hook = Webhook(secret)
        phones = []
        for i in range(conversations):
            body = json.dumps(_event(i))
            msg_id, now = f"msg_prof{i}", datetime_now()
            resp = client.post("/events", data=body, headers={
                "content-type": "application/json", "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": hook.sign(msg_id, now, body)})
            if resp.status_code != 202:
                raise RuntimeError(f"event refused: {resp.status_code} {resp.get_data()[:200]}")
            phones.append(_phone(i))
        validator = RequestValidator(AUTH_TOKEN)
        forms = []
        texts = cycle(TEXTS)
        for n in range(turns + conversations):  # the first round warms caches, untimed
            form = {"From": phones[n % conversations], "To": "+15005550006",
                    "Body": next(texts), "MessageSid": f"SM{n:032x}",
                    "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}
            forms.append((form, validator.compute_signature(PUBLIC_URL + SMS_PATH, form)))

        def post(form: dict, signature: str) -> None:
            resp = client.post(SMS_PATH, data=form, headers={"X-Twilio-Signature": signature})
            if resp.status_code != 200:
                raise RuntimeError(f"turn refused: {resp.status_code}")

        for form, signature in forms[:conversations]:
            post(form, signature)
        profiler = Profiler(interval=0.0005)
        t0 = time.perf_counter()
        profiler.start()
        for form, signature in forms[conversations:]:
            post(form, signature)
        profiler.stop()
        elapsed = time.perf_counter() - t0
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"{turns} turns in {elapsed:.2f} s: {elapsed / turns * 1000:.2f} ms per turn "
              f"(profiled; unprofiled is a little faster)")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def datetime_now():  # noqa: ANN201 - small helper
    from datetime import UTC, datetime
    return datetime.now(UTC)
