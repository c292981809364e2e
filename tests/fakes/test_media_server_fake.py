"""Tests of the Twilio MMS media-URL fake: basic auth, the CDN redirect, stalls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from images import png_bytes

from .media_server import FakeMediaServer, MediaRequest

PNG = png_bytes()


SID, AUTH = "AC" + "0" * 32, "media-auth-token"


@pytest.fixture
def media() -> Iterator[FakeMediaServer]:
    with FakeMediaServer(SID, AUTH) as fake:
        yield fake


def test_media_requires_basic_auth(media: FakeMediaServer, http: requests.Session) -> None:
    url = media.add(PNG, "image/png")
    assert url.startswith(f"{media.url}/2010-04-01/Accounts/{SID}/Messages/MM")
    assert "/Media/ME" in url
    ok = http.get(url, auth=(SID, AUTH), timeout=5)
    assert ok.status_code == 200 and ok.content == PNG and ok.headers["Content-Type"] == "image/png"
    assert http.get(url, timeout=5).status_code == 401
    assert http.get(url, auth=(SID, "wrong"), timeout=5).status_code == 401
    path = url.removeprefix(media.url)
    assert media.requests == [MediaRequest(path, True), MediaRequest(path, False),
                              MediaRequest(path, False)]
    assert http.get(media.url + path + "x", auth=(SID, AUTH), timeout=5).status_code == 404


def test_media_redirects_to_unauthenticated_cdn(
    media: FakeMediaServer, http: requests.Session
) -> None:
    url = media.add(b"%PDF-1.4 label", "application/pdf", redirect=True)
    first = http.get(url, auth=(SID, AUTH), timeout=5, allow_redirects=False)
    assert first.status_code == 307
    cdn = first.headers["Location"]
    assert cdn.startswith(media.url + "/media.twiliocdn.com/") and cdn != url
    plain = http.get(cdn, timeout=5)
    assert plain.status_code == 200 and plain.content == b"%PDF-1.4 label"
    followed = http.get(url, auth=(SID, AUTH), timeout=5)
    assert followed.content == b"%PDF-1.4 label" and len(followed.history) == 1
    assert http.get(url, timeout=5).status_code == 401
    assert [r.had_valid_auth for r in media.requests] == [True, False, True, True, False]


def test_stalled_media_hits_client_timeout(media: FakeMediaServer, http: requests.Session) -> None:
    url = media.add(PNG, "image/png", delay_s=10)
    with pytest.raises(requests.ReadTimeout):
        http.get(url, auth=(SID, AUTH), timeout=(2, 0.3))
    media.clear()
    assert media.requests == []
