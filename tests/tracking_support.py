"""A customer on the tracking page over real HTTP: open the link, press, answer, upload.

``Visitor(system, link)`` keeps its own cookies (one browser). Each post sends the nonce
of the page it last read, as the page's forms do, and follows the 303 back to the page.
"""

from __future__ import annotations

import html
import re
from typing import Any

import requests

from support import System

LINK = re.compile(r"https?://[^\s]+/t/[A-Za-z0-9_-]{27}")
_NONCE = re.compile(r'name="nonce" value="([^"]+)"')
_BUTTON = re.compile(r'<button class="(choice|quick|action[^"]*)" name="(?:answer|action)" '
                     r'value="([^"]*)">([^<]*)</button>')


def link_in(text: str) -> str:
    """The tracking link in a message (fails the test when there is none)."""
    found = LINK.search(text)
    assert found, f"no tracking link in {text!r}"
    return found.group(0)


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


class Visitor:
    """One browser on one tracking link."""

    def __init__(self, system: System, link: str) -> None:
        self.system = system
        self.link = link
        self.http = requests.Session()
        self.http.trust_env = False
        self.page = ""
        self.last: requests.Response | None = None

    def open(self) -> str:
        resp = self.http.get(self.link, timeout=15)
        assert resp.status_code == 200, (resp.status_code, resp.text[:500])
        self.page, self.last = resp.text, resp
        return self.page

    def nonce(self) -> str:
        found = _NONCE.search(self.page)
        assert found, "the page has no form"
        return found.group(1)

    def post(self, data: dict[str, str], files: dict[str, Any] | None = None,
             nonce: str | None = None) -> requests.Response:
        """Post one form of the page (its nonce unless given); then read the page again."""
        resp = self.http.post(self.link, data={"nonce": nonce or self.nonce(), **data},
                              files=files, allow_redirects=False, timeout=15)
        assert resp.status_code == 303, (resp.status_code, resp.text[:500])
        assert resp.headers["Location"].endswith(self.link.split("://", 1)[1].split("/", 1)[1])
        self.open()
        return resp

    def act(self, action: str) -> str:
        self.post({"action": action})
        return self.page

    def answer(self, value: str) -> str:
        self.post({"answer": value})
        return self.page

    def say(self, text: str) -> str:
        self.post({"text": text})
        return self.page

    def photo(self, content: bytes, name: str = "photo.png", mime: str = "image/png") -> str:
        self.post({}, files={"photo": (name, content, mime)})
        return self.page

    def buttons(self, kind: str) -> list[tuple[str, str]]:
        """``(value, label)`` of the page's buttons of ``kind`` (choice, quick, action)."""
        return [(value, html.unescape(label)) for cls, value, label in _BUTTON.findall(self.page)
                if cls.split()[0] == kind]

    def question(self) -> str:
        """The text of the bot's replies shown on the page (empty when none)."""
        found = re.search(r'<section class="card conversation".*?</section>', self.page, re.S)
        if not found:
            return ""
        return html.unescape(" ".join(re.findall(r'<p class="bubble">([^<]*)</p>',
                                                 found.group(0))))

    def state(self) -> str:
        found = re.search(r'data-state="([^"]+)"', self.page)
        assert found, "no state on the page"
        return found.group(1)

    def history(self) -> list[str]:
        return [html.unescape(t) for t in re.findall(r'<span class="what">([^<]*)</span>',
                                                     self.page)]
