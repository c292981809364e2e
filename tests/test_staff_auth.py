"""Console sign-in, sessions, CSRF, throttling and API tokens, through the real login form
over HTTP."""

from __future__ import annotations

import time

import pytest
from console_support import (
    LOGIN_CSRF_COOKIE,
    PASSWORD,
    SESSION_COOKIE,
    add_staff,
    bearer,
    fresh_http,
    hidden_field,
    login,
    login_form,
    open_case,
    post_login,
)

from bot.settings import load_settings
from bot.store import key_for
from webhook_server import create_app

pytestmark = pytest.mark.timeout(120)


# -- signing in ----------------------------------------------------------------------
def test_login_sets_an_httponly_lax_session_cookie_and_redirects_to_next(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    http = fresh_http()
    page = http.get(system.url + "/console/login", timeout=15)
    assert page.status_code == 200
    for needle in ('name="viewport"', 'name="email"', 'type="email"', 'autocomplete="username"',
                   'name="password"', 'autocomplete="current-password"', 'id="email"',
                   'id="password"', "Sign in", "/console/static/console.css"):
        assert needle in page.text, needle
    assert 'id="login-error"' not in page.text
    login_cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in login_cookie and "SameSite=Strict" in login_cookie

    resp = post_login(http, system, "sam@example.com", PASSWORD,
                      next_path="/console/conversations/abc?x=1")
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/console/conversations/abc?x=1"
    cookie = next(c for c in resp.raw.headers.getlist("Set-Cookie")
                  if c.startswith(SESSION_COOKIE + "="))
    attributes = [a.strip() for a in cookie.split(";")]
    assert "HttpOnly" in attributes and "SameSite=Lax" in attributes and "Path=/" in attributes
    assert "Secure" not in attributes
    assert not any(a.lower().startswith(("max-age", "expires")) for a in attributes)
    sid = http.cookies[SESSION_COOKIE]
    assert system.runtime.redis.exists(key_for("session", sid)) == 0  # only a digest is kept
    assert system.runtime.sessions.get(sid).email == "sam@example.com"
    assert system.runtime.store.staff_online(60) == 1


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", ""])
def test_login_never_redirects_off_site(make_system, target):
    system = make_system()
    add_staff(system, "sam@example.com")
    resp = post_login(fresh_http(), system, "sam@example.com", PASSWORD, next_path=target)
    assert resp.status_code == 303 and resp.headers["Location"] == "/console"


def test_https_public_url_makes_the_cookies_secure(redis_client, redis_url, tmp_path,
                                                    nlu_model_dir):
    settings = load_settings({"REDIS_URL": redis_url, "DOORSTEP_DATA_DIR": str(tmp_path),
                              "NLU_MODEL_DIR": str(nlu_model_dir), "QUIET_HOURS": "off",
                              "EVENTS_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                              "PUBLIC_URL": "https://doorstep.example.com"}, read_dotenv=False)
    assert settings.secure_cookies
    app = create_app(settings)
    runtime = app.extensions["doorstep"]
    try:
        runtime.staff.add("sam@example.com", "agent", PASSWORD)
        client = app.test_client()
        page = client.get("/console/login")
        assert "Secure" in page.headers["Set-Cookie"]
        resp = client.post("/console/login", data={
            "email": "sam@example.com", "password": PASSWORD, "next": "/console",
            "csrf_token": hidden_field(page.get_data(as_text=True), "csrf_token")})
        assert resp.status_code == 303
        cookie = next(c for c in resp.headers.getlist("Set-Cookie")
                      if c.startswith(SESSION_COOKIE + "="))
        attributes = [a.strip() for a in cookie.split(";")]
        assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} <= set(attributes)
    finally:
        runtime.close()


def test_every_login_rotates_the_session_id_and_the_old_one_stops_working(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    client = login(system, "sam@example.com", PASSWORD)
    old_sid = client.sid
    elsewhere = login(system, "sam@example.com", PASSWORD)  # another browser stays signed in

    token = login_form(client.http, system.url)
    again = client.http.post(system.url + "/console/login", allow_redirects=False, timeout=15,
                             data={"email": "sam@example.com", "password": PASSWORD,
                                   "csrf_token": token, "next": "/console"})
    assert again.status_code == 303
    assert client.sid != old_sid
    assert client.get("/api/me").status_code == 200
    replay = fresh_http()
    replay.cookies.set(SESSION_COOKIE, old_sid)
    assert replay.get(system.url + "/api/me", timeout=15).status_code == 401
    assert elsewhere.get("/api/me").status_code == 200


def test_wrong_password_unknown_email_and_disabled_account_read_the_same(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    add_staff(system, "gone@example.com")
    system.runtime.staff.disable("gone@example.com")
    for email, password in (("sam@example.com", "not the password"),
                            ("nobody@example.com", PASSWORD), ("gone@example.com", PASSWORD)):
        http = fresh_http()
        resp = post_login(http, system, email, password)
        assert resp.status_code == 401
        assert 'id="login-error"' in resp.text and "Wrong email or password" in resp.text
        assert SESSION_COOKIE not in http.cookies


def test_login_is_throttled_after_repeated_failures(make_system):
    system = make_system(LOGIN_MAX_FAILURES="3")
    add_staff(system, "sam@example.com")
    http = fresh_http()
    for _ in range(3):
        assert post_login(http, system, "sam@example.com", "wrong password").status_code == 401
    blocked = post_login(http, system, "Sam@Example.com", PASSWORD)
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Try again in 15 minutes" in blocked.text
    assert SESSION_COOKIE not in http.cookies
    # Another account from the same address can still sign in...
    add_staff(system, "ana@example.com")
    assert post_login(fresh_http(), system, "ana@example.com", PASSWORD).status_code == 303
    # ...and once the window passes, Sam can too (a success clears the count).
    system.runtime.redis.delete(key_for("loginfail", "email", "sam@example.com"))
    assert post_login(http, system, "sam@example.com", PASSWORD).status_code == 303


def test_one_address_guessing_many_emails_is_throttled(make_system):
    system = make_system(LOGIN_MAX_FAILURES="1")
    add_staff(system, "sam@example.com")
    for i in range(4):
        assert post_login(fresh_http(), system, f"guess{i}@example.com",
                          "whatever pw").status_code == 401
    resp = post_login(fresh_http(), system, "sam@example.com", PASSWORD)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0


def test_login_without_the_double_submit_token_is_refused(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    form = {"email": "sam@example.com", "password": PASSWORD, "next": "/console"}
    no_cookie = fresh_http().post(system.url + "/console/login", timeout=15,
                                  allow_redirects=False, data={**form, "csrf_token": "x" * 43})
    assert no_cookie.status_code == 403 and "expired" in no_cookie.text
    http = fresh_http()
    login_form(http, system.url)
    for field in ({}, {"csrf_token": ""}, {"csrf_token": "y" * 43}):
        resp = http.post(system.url + "/console/login", data={**form, **field},
                         allow_redirects=False, timeout=15)
        assert resp.status_code == 403, field
        assert SESSION_COOKIE not in http.cookies
    assert http.cookies.get(LOGIN_CSRF_COOKIE)  # the refusal page offers a working form
    assert system.runtime.store.staff_online(60) == 0


def test_sessions_expire_after_inactivity_and_activity_keeps_them(make_system):
    system = make_system(SESSION_IDLE_MINUTES="0.02")  # 1.2 s
    add_staff(system, "sam@example.com")
    client = login(system, "sam@example.com", PASSWORD)
    for _ in range(3):  # 2.1 s of steady use outlives the 1.2 s idle limit
        time.sleep(0.7)
        assert client.get("/api/me").status_code == 200
    time.sleep(2)
    assert client.get("/api/me").status_code == 401
    assert system.runtime.sessions.get(client.sid) is None


def test_logout_needs_the_csrf_token_then_ends_the_session(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    client = login(system, "sam@example.com", PASSWORD)
    forged = client.http.post(system.url + "/console/logout", allow_redirects=False, timeout=15)
    assert forged.status_code == 403
    assert client.get("/api/me").status_code == 200
    sid = client.sid
    out = client.http.post(system.url + "/console/logout", data={"csrf_token": client.csrf},
                           allow_redirects=False, timeout=15)
    assert out.status_code == 303 and out.headers["Location"] == "/console/login"
    assert SESSION_COOKIE not in client.http.cookies
    assert system.runtime.sessions.get(sid) is None


# -- protecting the API ----------------------------------------------------------------
def test_unauthenticated_calls_are_refused(make_system):
    system = make_system()
    case_id = open_case(system)
    assert system.http.get(system.url + "/api/me", timeout=15).status_code == 401
    resp = system.http.post(system.url + f"/api/conversations/{case_id}/notes",
                            json={"text": "hi"}, timeout=15)
    assert resp.status_code == 401 and "error" in resp.json()
    assert bearer(system, "dst_" + "x" * 43, "GET", "/api/me").status_code == 401
    assert bearer(system, "not-a-token", "GET", "/api/me").status_code == 401


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    client = login(system, "sam@example.com", PASSWORD)
    case_id = open_case(system)
    system.drain()  # the queue's own timeline entries (message.sent) are in before we compare

    def notes() -> list[dict]:
        return [e for e in system.runtime.store.timeline(case_id) if e["kind"] == "note.added"]
    path = f"/api/conversations/{case_id}/notes"
    for headers in ({"X-CSRF-Token": ""}, {"X-CSRF-Token": "wrong" * 8}):
        resp = client.http.post(system.url + path, json={"text": "sneaky"}, headers=headers,
                                timeout=15)
        assert resp.status_code == 403
        assert resp.json() == {"error": "missing or invalid CSRF token", "status": 403}
    bare = client.http.post(system.url + path, json={"text": "sneaky"}, timeout=15)
    assert bare.status_code == 403
    assert notes() == []
    ok = client.post(path, json={"text": "called the depot"})
    assert ok.status_code == 201, ok.text
    assert [n["text"] for n in notes()] == ["called the depot"]


def test_a_bearer_token_needs_no_csrf_token(make_system):
    system = make_system()
    add_staff(system, "sam@example.com", name="Sam")
    token = system.runtime.staff.issue_token("sam@example.com")
    case_id = open_case(system)
    resp = bearer(system, token, "POST", f"/api/conversations/{case_id}/notes",
                  json={"text": "left a voicemail"})
    assert resp.status_code == 201, resp.text
    assert bearer(system, token, "GET", "/api/me").json() == {
        "email": "sam@example.com", "name": "Sam", "role": "agent"}


def test_an_agent_may_not_use_supervisor_endpoints(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    add_staff(system, "zoe@example.com", role="supervisor")
    agent = login(system, "sam@example.com", PASSWORD)
    supervisor = login(system, "zoe@example.com", PASSWORD)
    assert agent.get("/api/staff").status_code == 403
    refused = agent.post("/api/resolution-codes", json={"code": "x_code", "label": "X"})
    assert refused.status_code == 403
    assert supervisor.get("/api/staff").status_code == 200
    assert "x_code" not in str(agent.get("/api/resolution-codes").json())


def test_console_pages_send_strangers_to_the_login_page(make_system):
    system = make_system()
    resp = system.http.get(system.url + "/console?view=mine", allow_redirects=False, timeout=15)
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/console/login?next=/console%3Fview%3Dmine")
    form = system.http.get(system.url + resp.headers["Location"], timeout=15)
    assert hidden_field(form.text, "next") == "/console?view=mine"


def test_presence_is_noted_at_most_once_a_minute_per_session(make_system):
    system = make_system()
    add_staff(system, "sam@example.com")
    client = login(system, "sam@example.com", PASSWORD)
    assert system.runtime.store.staff_online(60) == 1
    system.runtime.store.forget_staff_presence("sam@example.com")
    assert client.get("/api/me").status_code == 200
    assert system.runtime.store.staff_online(60) == 0  # noted at login, not again yet
    system.runtime.sessions.mark_seen(client.sid, time.time() - 61)
    assert client.get("/api/me").status_code == 200
    assert system.runtime.store.staff_online(60) == 1


def test_an_outdated_password_hash_is_upgraded_on_sign_in(make_system):
    from argon2 import PasswordHasher

    system = make_system()
    add_staff(system, "sam@example.com")
    key = key_for("staff", "sam@example.com")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    system.runtime.redis.hset(key, "password_hash", weak)
    assert system.runtime.staff.verify("sam@example.com", PASSWORD) is not None
    upgraded = system.runtime.redis.hget(key, "password_hash").decode()
    assert upgraded != weak and upgraded.startswith("$argon2id$")
    assert system.runtime.staff.verify("sam@example.com", PASSWORD) is not None
