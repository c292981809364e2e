"""Console test helpers: staff accounts and a browser-like client logged in through the form.

``add_staff(system, "sam@example.com")`` creates an account; ``login(system, email, pw)``
returns a :class:`StaffClient` that went through the real ``/console/login`` flow and sends
the session's CSRF token on every unsafe call.
"""

from __future__ import annotations

import re
from typing import Any

import requests

from support import Customer, System, failed_event

SESSION_COOKIE = "doorstep_session"
LOGIN_CSRF_COOKIE = "doorstep_login_csrf"
PASSWORD = "correct horse battery"


def add_staff(system: System, email: str, role: str = "agent", name: str | None = None,
              password: str = PASSWORD) -> str:
    """Create a staff account directly in the directory; returns its password."""
    system.runtime.staff.add(email, role, password, name=name)
    return password


def hidden_field(html: str, name: str) -> str:
    """The value of the hidden input ``name`` in a page."""
    for tag in re.findall(r"<input\b[^>]*>", html):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            found = re.search(r'\bvalue="([^"]*)"', tag)
            return found.group(1) if found else ""
    raise AssertionError(f"no input named {name!r} in the page")


def login_form(http: requests.Session, base_url: str, path: str = "/console/login"
               ) -> str:
    """GET the login page (setting the login CSRF cookie); the form's csrf_token."""
    page = http.get(base_url + path, timeout=15)
    assert page.status_code == 200, page.text
    return hidden_field(page.text, "csrf_token")


class StaffClient:
    """A requests session logged into the console as one staff member."""

    def __init__(self, system: System, email: str, password: str) -> None:
        self.system = system
        self.email = email
        self.http = requests.Session()
        self.http.trust_env = False
        token = login_form(self.http, system.url)
        self.login_response = self.http.post(
            system.url + "/console/login", timeout=15, allow_redirects=False,
            data={"email": email, "password": password, "csrf_token": token,
                  "next": "/console"})
        assert self.login_response.status_code in (302, 303), \
            (self.login_response.status_code, self.login_response.text[:300])
        assert self.sid, "login set no session cookie"

    @property
    def sid(self) -> str | None:
        return self.http.cookies.get(SESSION_COOKIE)

    @property
    def csrf(self) -> str:
        """The session's CSRF token (as pages put it in ``<meta name="csrf-token">``)."""
        session = self.system.runtime.sessions.get(self.sid or "")
        assert session is not None, "the session is gone"
        return session.csrf

    def get(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 15)
        return self.http.get(self.system.url + path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 15)
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.http.post(self.system.url + path, json=json, headers=headers, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 15)
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.http.delete(self.system.url + path, headers=headers, **kw)

    def close(self) -> None:
        self.http.close()


def login(system: System, email: str, password: str = PASSWORD) -> StaffClient:
    """Log in through the form; a client carrying the session cookie."""
    return StaffClient(system, email, password)


def fresh_http() -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    return http


def post_login(http: requests.Session, system: System, email: str, password: str,  # noqa: ANN001
               next_path: str = "/console", **form: str) -> requests.Response:
    token = login_form(http, system.url)
    data = {"email": email, "password": password, "csrf_token": token, "next": next_path}
    data.update(form)
    return http.post(system.url + "/console/login", data=data, allow_redirects=False,
                     timeout=15)


def bearer(system, token: str, method: str, path: str, **kw):  # noqa: ANN001, ANN003, ANN201
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    return system.http.request(method, system.url + path, headers=headers, timeout=15, **kw)


def open_case(system: System) -> str:
    """A case to act on (any case takes internal notes)."""
    return system.post_event(failed_event()).json()["case_id"]


ASK_FOR_A_PERSON = "I want to talk to a person"


def escalate(system: System, customer: Customer, **event: Any) -> str:
    """Open a failed-delivery case and have the customer ask for a person; read the bot's
    first texts and both hand-off texts (a person will reply, roughly when)."""
    case_id = system.post_event(failed_event(phone=customer.phone, **event)).json()["case_id"]
    customer.offered()
    customer.say(ASK_FOR_A_PERSON)
    assert "person from our team" in customer.reply()
    assert "within about" in customer.reply()
    return case_id
