"""Who is asking: console sessions (cookie) or API tokens (Bearer); CSRF; login/logout.

A browser signs in at ``/console/login`` and gets a ``doorstep_session`` cookie holding a
random session id; the session itself (email, CSRF token) lives in Redis
(:class:`bot.sessions.SessionStore`). Scripts send ``Authorization: Bearer dst_…`` instead
and need no CSRF token, since a browser never adds that header by itself.

The login form has no session yet, so it is protected by a double-submit token: a random
``doorstep_login_csrf`` cookie (SameSite=Strict) that must equal the form's hidden field.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)

from bot.desk import SUPERVISOR, Actor

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.sessions import Session
    from bot.staff import StaffMember

bp = Blueprint("console_auth", __name__, template_folder="templates")

SESSION_COOKIE = "doorstep_session"
LOGIN_CSRF_COOKIE = "doorstep_login_csrf"
LOGIN_PATH = "/console/login"
HOME_PATH = "/console"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PRESENCE_EVERY_S = 60.0  # note "at the console now" at most this often per session
CSRF_REFUSED = "missing or invalid CSRF token"


def init_app(app: Any) -> None:
    """Make ``csrf_token()`` (and ``current_staff()``) available to templates."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_staff"] = current_staff


def _runtime() -> Runtime:
    return current_app.extensions["doorstep"]


# -- who is asking -----------------------------------------------------------------
def _identify() -> tuple[StaffMember | None, Session | None]:
    """The staff member behind this request and their cookie session (None for tokens);
    worked out once per request."""
    if "doorstep_auth" not in g:
        g.doorstep_auth = _lookup()
    return g.doorstep_auth


def _lookup() -> tuple[StaffMember | None, Session | None]:
    rt = _runtime()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":  # other schemes may come from a proxy in front: ignored
        return rt.staff.member_for_token(token.strip()), None
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None, None
    session = rt.sessions.get(sid)
    if session is None:
        return None, None
    member = rt.staff.get(session.email)
    if member is None or member.disabled:
        rt.sessions.revoke(sid)
        return None, None
    now = time.time()
    if now - session.seen_at >= PRESENCE_EVERY_S:
        rt.store.touch_staff(member.email)
        rt.sessions.mark_seen(sid, now)
    return member, session


def current_staff() -> StaffMember | None:
    """The signed-in staff member (session cookie or Bearer token), None if there is none,
    it expired, was revoked, or the account is disabled."""
    return _identify()[0]


def actor() -> Actor:
    """The current staff member as the desk's :class:`~bot.desk.Actor` (protected views only)."""
    member = current_staff()
    if member is None:
        raise RuntimeError("actor() called outside a staff_required view")
    return Actor(member.email, member.name, member.role)


def csrf_token() -> str:
    """The current session's CSRF token ("" without a cookie session)."""
    session = _identify()[1]
    return session.csrf if session is not None else ""


def _csrf_ok(session: Session) -> bool:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    return bool(sent) and hmac.compare_digest(sent.encode(), session.csrf.encode())


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _refuse(status: int, message: str) -> Response:
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    return response


def staff_required(role: str | Callable[..., Any] | None = None) -> Callable[..., Any]:
    """Protect a view: signed in (401, or a redirect to the login page for HTML), the role
    if given (403; a supervisor may do what an agent may), and for cookie sessions the CSRF
    token on unsafe methods (403). Use as ``@staff_required()`` or
    ``@staff_required("supervisor")``."""
    if callable(role):  # used bare: @staff_required
        return staff_required(None)(role)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            member, session = _identify()
            if member is None:
                if _is_api():
                    return _refuse(401, "sign in at /console/login or send "
                                        "'Authorization: Bearer <token>'")
                return redirect(f"{LOGIN_PATH}?next={quote(request.full_path.rstrip('?'))}")
            if session is not None and request.method in UNSAFE_METHODS \
                    and not _csrf_ok(session):
                return _refuse(403, CSRF_REFUSED)
            if role is not None and member.role != role and member.role != SUPERVISOR:
                return _refuse(403, f"only a {role} may do this")
            return view(*args, **kwargs)
        return wrapped
    return decorate


# -- login and logout ----------------------------------------------------------------
def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the console's home (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 for c in target):
        return HOME_PATH
    return target


def _cookie_args() -> dict[str, Any]:
    return {"httponly": True, "secure": _runtime().settings.secure_cookies}


def _login_page(status: int = 200, error: str | None = None, email: str = "",
                next_path: str = HOME_PATH, headers: dict[str, str] | None = None
                ) -> Response:
    presented = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    # Keep a token the browser already has, so two open login tabs both still work.
    token = presented if 20 <= len(presented) <= 100 else secrets.token_urlsafe(32)
    html = render_template("login.html", error=error, email=email, next_path=next_path,
                           login_csrf=token)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path=LOGIN_PATH, samesite="Strict",
                        **_cookie_args())
    return response


def _wait_words(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{seconds} seconds" if seconds < 60 else \
        "1 minute" if minutes == 1 else f"{minutes} minutes"


@bp.get(LOGIN_PATH)
def login_form() -> Response:
    # Shown even to someone signed in: signing in again (perhaps as someone else) is allowed
    # and rotates the session.
    return _login_page(next_path=safe_next(request.args.get("next")))


@bp.post(LOGIN_PATH)
def login() -> Response:
    rt = _runtime()
    email = request.form.get("email", "").strip().lower()[:254]
    password = request.form.get("password", "")
    next_path = safe_next(request.form.get("next"))
    sent, expected = request.form.get("csrf_token", ""), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(403, "This sign-in form expired. Please sign in again.", email,
                           next_path)
    client_ip = request.remote_addr or "unknown"
    wait = rt.login_throttle.retry_after(email, client_ip)
    if wait is not None:
        return _login_page(429, f"Too many failed sign-ins. Try again in {_wait_words(wait)}.",
                           email, next_path, {"Retry-After": str(wait)})
    member = rt.staff.verify(email, password)
    if member is None:
        rt.login_throttle.failed(email, client_ip)
        return _login_page(401, "Wrong email or password", email, next_path)
    rt.login_throttle.succeeded(email)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        rt.sessions.revoke(previous)  # rotation: never keep a pre-login session id
    session = rt.sessions.create(member.email)
    rt.store.touch_staff(member.email)
    rt.sessions.mark_seen(session.sid, time.time())
    response = redirect(next_path, 303)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(SESSION_COOKIE, session.sid, path="/", samesite="Lax", **_cookie_args())
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=LOGIN_PATH, samesite="Strict",
                           **_cookie_args())
    return response


@bp.post("/console/logout")
def logout() -> Response:
    rt = _runtime()
    sid = request.cookies.get(SESSION_COOKIE)
    session = rt.sessions.get(sid) if sid else None
    if session is not None:
        if not _csrf_ok(session):
            return _refuse(403, CSRF_REFUSED)
        rt.sessions.revoke(session.sid)
    response = redirect(LOGIN_PATH, 303)
    response.delete_cookie(SESSION_COOKIE, path="/", samesite="Lax", **_cookie_args())
    return response
