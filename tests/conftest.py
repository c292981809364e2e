"""Shared fixtures: a real Redis server, the fakes, and the whole app over real HTTP.

Fixtures build on each other: ``redis_url`` → ``twilio_api`` / ``shipper`` →
``make_system`` → ``system`` → ``customer``. Any attempt to reach a host other than
loopback fails the test (nothing here may touch the network).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from bot.redis_server import redis_server_binary
from fakes.media_server import FakeMediaServer
from fakes.shipper import FakeShipper
from fakes.telegram_api import FakeTelegramAPI
from fakes.twilio_api import FakeTwilioAPI
from support import TELEGRAM_SECRET, Customer, System, start_system

# Chromium fixtures (browser, page, phone_page, screenshot); console API fixtures (sam,
# escalated) and helpers.
pytest_plugins = ("browser", "console_api_support")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(autouse=True, scope="session")
def nlu_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One trained NLU model for the whole run, shared by in-process apps and subprocesses.

    Subprocesses (``doorstep serve``) inherit ``NLU_MODEL_DIR`` and find the model ready.
    """
    from nlu.embedded import load_model

    path = tmp_path_factory.mktemp("nlu-model")
    load_model(path)
    previous = os.environ.get("NLU_MODEL_DIR")
    os.environ["NLU_MODEL_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("NLU_MODEL_DIR", None)
    else:
        os.environ["NLU_MODEL_DIR"] = previous


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``REDIS_URL`` when set (it will be flushed!), else a private redis-server process."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-redis-"))
    sock = workdir / "redis.sock"
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"unix://{sock}"
    deadline = time.monotonic() + 10
    while True:
        try:
            if redis.Redis.from_url(url).ping():
                break
        except redis.exceptions.RedisError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A requests session that never goes through an environment proxy."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    return client


@pytest.fixture(scope="session")
def twilio_api_server() -> Iterator[FakeTwilioAPI]:
    with FakeTwilioAPI() as fake:
        yield fake


@pytest.fixture
def twilio_api(twilio_api_server: FakeTwilioAPI) -> Iterator[FakeTwilioAPI]:
    twilio_api_server.clear()
    yield twilio_api_server
    assert twilio_api_server.invalid_requests == [], "Doorstep sent requests Twilio would refuse"


@pytest.fixture(scope="session")
def telegram_api_server() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI(username="doorstep_test_bot") as fake:
        yield fake


@pytest.fixture
def telegram_api(telegram_api_server: FakeTelegramAPI) -> Iterator[FakeTelegramAPI]:
    telegram_api_server.clear()
    yield telegram_api_server
    assert telegram_api_server.invalid_requests == [], \
        "Doorstep sent requests Telegram would refuse"


@pytest.fixture(scope="session")
def media_server_session(twilio_api_server: FakeTwilioAPI) -> Iterator[FakeMediaServer]:
    with FakeMediaServer(twilio_api_server.account_sid, twilio_api_server.auth_token) as fake:
        yield fake


@pytest.fixture
def media_server(media_server_session: FakeMediaServer) -> FakeMediaServer:
    media_server_session.clear()
    return media_server_session


@pytest.fixture(scope="session")
def shipper_server() -> Iterator[FakeShipper]:
    with FakeShipper() as fake:
        yield fake


@pytest.fixture
def shipper(shipper_server: FakeShipper) -> FakeShipper:
    shipper_server.clear()
    return shipper_server


@pytest.fixture
def make_system(redis_client: redis.Redis, redis_url: str, twilio_api: FakeTwilioAPI,
                shipper: FakeShipper, telegram_api: FakeTelegramAPI,
                tmp_path: Path) -> Iterator:
    """Start the app (web + queue workers in this process) with settings overrides."""
    started: list[System] = []

    def make(**overrides: str) -> System:
        env = {
            "REDIS_URL": redis_url,
            "DOORSTEP_DATA_DIR": str(tmp_path / "data"),
            "NLU_MODEL_DIR": os.environ["NLU_MODEL_DIR"],
            "EVENTS_WEBHOOK_SECRET": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "SHIPPER_WEBHOOK_URL": shipper.callback_url,
            "SHIPPER_WEBHOOK_SECRET": shipper.secret,
            "TWILIO_ACCOUNT_SID": twilio_api.account_sid,
            "TWILIO_AUTH_TOKEN": twilio_api.auth_token,
            "TWILIO_FROM_NUMBER": "+15005550006",
            "TWILIO_API_BASE_URL": twilio_api.url,
            "QUIET_HOURS": "off",
            "TWILIO_MESSAGES_PER_SECOND": "0",  # pacing has its own tests
            "OUTBOUND_MIN_BACKOFF_MS": "50",
            "CALLBACK_RETRY_SCHEDULE": "0s,1s,1s",
            "TELEGRAM_BOT_TOKEN": telegram_api.token,
            "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE_URL": telegram_api.url,
            "TELEGRAM_BOT_USERNAME": telegram_api.username,
            "MEDIA_FETCH_TIMEOUT": "2",
        }
        env.update(overrides)
        system = start_system(env, twilio_api, shipper, telegram_api)
        started.append(system)
        return system

    yield make
    for system in started:
        system.stop()


@pytest.fixture
def system(make_system) -> System:
    return make_system()


@pytest.fixture
def customer(system: System) -> Customer:
    return system.customer("+15551230001")
