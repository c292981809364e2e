"""The console's live updates: ``GET /api/stream`` (Server-Sent Events) over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests
from console_support import add_staff, login

import console.stream
from bot.store import CONSOLE_CHANNEL
from support import failed_event


class EventStream:
    """Read a ``text/event-stream`` response block by block."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.chunks = response.iter_content(chunk_size=None, decode_unicode=True)
        self.buffer = ""
        self.ended = False

    def next_block(self) -> dict[str, str] | None:
        """The next event as ``{"event", "data", "retry", "comment"}`` fields present in
        it; None when the server ended the stream."""
        while "\n\n" not in self.buffer:
            try:
                self.buffer += next(self.chunks)
            except StopIteration:
                self.ended = True
                return None
        raw, self.buffer = self.buffer.split("\n\n", 1)
        block: dict[str, str] = {}
        for line in raw.split("\n"):
            name, _, value = line.partition(":")
            name = name or "comment"
            value = value[1:] if value.startswith(" ") else value
            block[name] = block[name] + "\n" + value if name in block else value
        return block

    def next_event(self, name: str, timeout: float = 10.0) -> dict[str, str]:
        """Skip keepalives and other events until one named ``name``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            block = self.next_block()
            if block is None:
                raise AssertionError(f"the stream ended before an {name!r} event")
            if block.get("event") == name:
                return block
        raise AssertionError(f"no {name!r} event within {timeout}s")

    def ends_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.next_block() is None:
                return True
        return False


@pytest.fixture
def open_stream() -> Iterator:
    opened: list[requests.Response] = []

    def open_(http: requests.Session, url: str, **kw: object) -> EventStream:
        response = http.get(url + "/api/stream", stream=True, timeout=(5, 10), **kw)
        opened.append(response)
        assert response.status_code == 200, response.text
        return EventStream(response)

    yield open_
    for response in opened:
        response.close()


def subscribers(system) -> int:  # noqa: ANN001
    return dict(system.runtime.redis.pubsub_numsub(CONSOLE_CHANNEL)).get(
        CONSOLE_CHANNEL.encode(), 0)


def wait_for_subscribers(system, n: int, timeout: float = 5.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while subscribers(system) != n:
        assert time.monotonic() < deadline, f"{subscribers(system)} subscribers, not {n}"
        time.sleep(0.05)


def test_signed_in_staff_hear_about_a_case_as_it_changes(system, open_stream):
    add_staff(system, "sam@example.com")
    agent = login(system, "sam@example.com")
    stream = open_stream(agent.http, system.url)
    headers = stream.response.headers
    assert headers["Content-Type"].startswith("text/event-stream")
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Accel-Buffering"] == "no"
    assert stream.next_block() == {"retry": "3000"}  # sent once subscribed

    case_id = system.post_event(failed_event()).json()["case_id"]
    event = stream.next_event("conversation")
    data = json.loads(event["data"])
    assert data["type"] == "conversation.updated" and data["id"] == case_id


def test_an_api_token_opens_the_stream_too(system, open_stream, http):
    add_staff(system, "sam@example.com")
    token = system.runtime.staff.issue_token("sam@example.com")
    stream = open_stream(http, system.url, headers={"Authorization": f"Bearer {token}"})
    assert stream.next_block() == {"retry": "3000"}


def test_the_stream_refuses_anyone_not_signed_in(system, http):
    response = http.get(system.url + "/api/stream", timeout=5)
    assert response.status_code == 401
    assert "sign in" in response.json()["error"]
    assert subscribers(system) == 0


def test_a_disabled_agents_stream_stops_at_the_next_keepalive(system, open_stream,
                                                               monkeypatch):
    monkeypatch.setattr(console.stream, "KEEPALIVE_S", 0.3)
    add_staff(system, "sam@example.com")
    agent = login(system, "sam@example.com")
    stream = open_stream(agent.http, system.url)
    assert stream.next_block() == {"retry": "3000"}
    assert stream.next_block() == {"comment": "keepalive"}  # still welcome

    system.runtime.staff.disable("sam@example.com")
    assert stream.ends_within(3), "the disabled account's stream went on"
    wait_for_subscribers(system, 0)


def test_a_stream_ends_after_its_lifetime_and_lets_go_of_redis(system, open_stream,
                                                               monkeypatch):
    monkeypatch.setattr(console.stream, "STREAM_S", 0.5)
    add_staff(system, "sam@example.com")
    agent = login(system, "sam@example.com")
    stream = open_stream(agent.http, system.url)
    assert stream.next_block() == {"retry": "3000"}
    assert subscribers(system) == 1
    assert stream.ends_within(3)  # the browser reconnects after ``retry``
    wait_for_subscribers(system, 0)


def test_a_browser_going_away_unsubscribes_at_the_next_keepalive(system, monkeypatch):
    monkeypatch.setattr(console.stream, "KEEPALIVE_S", 0.2)
    add_staff(system, "sam@example.com")
    agent = login(system, "sam@example.com")
    response = agent.http.get(system.url + "/api/stream", stream=True, timeout=(5, 10))
    assert EventStream(response).next_block() == {"retry": "3000"}
    assert subscribers(system) == 1
    response.close()
    wait_for_subscribers(system, 0)
