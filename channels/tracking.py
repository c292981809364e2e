"""The customer tracking page, ``/t/<token>``: server-rendered, mobile first, no script needed.

``GET`` shows the case (:mod:`bot.tracking`); ``POST`` takes one answer, photo or action
through the same engine and flows as the chat (:mod:`bot.web_turns`), then redirects back
to the page (303), whose replies come from the case timeline. Each form carries a fresh
nonce: submitting the same form twice is a replay and changes nothing. A session cookie
(``doorstep_track``, this path only) lets the page show the bot's replies to the browser
that prompted them and to nobody else.

Every way a link can fail — tampered, malformed, another kind of token, unknown, erased or
expired case — gets the same friendly 404 page. Pages are ``no-store``, ``no-referrer``
(the token is in the URL), ``noindex``, and under a strict content policy. The token is a
capability: nothing else authenticates the page, so it never reaches a log (``bot.logs``).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException

from bot.errors import BusyConversation
from bot.models import WEB, Inbound, MediaRef
from bot.runtime import Runtime
from bot.tracking import TrackingPages, message_id
from bot.web_turns import WebTurns, is_open
from channels import limits
from channels.web import WebUploads
from flows.messages import LANGUAGES, say

bp = Blueprint("tracking", __name__, template_folder="templates",
               static_folder="static/tracking", static_url_path="/tracking/static")
COOKIE = "doorstep_track"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAX_TEXT = 1000
FORM_OVERHEAD = 64 * 1024  # the form's other fields and multipart framing around a photo
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src 'self'; style-src 'self'; "
                           "script-src 'self'; form-action 'self'; base-uri 'none'; "
                           "frame-ancestors 'none'")
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "X-Robots-Tag": "noindex, nofollow", "X-Frame-Options": "DENY",
           "Content-Security-Policy": CONTENT_SECURITY_POLICY}


def _runtime() -> Runtime:
    return current_app.extensions["doorstep"]


def _pages() -> TrackingPages:
    return current_app.extensions["doorstep.tracking"]


def _turns() -> WebTurns:
    return current_app.extensions["doorstep.web_turns"]


def _visitor_language() -> str:
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def _problem(status: int, key: str, **values: Any) -> tuple[str, int]:
    """A small page saying what went wrong and what to do, in the visitor's language."""
    lang = _visitor_language()
    return render_template("tracking/problem.html", lang=lang, t=partial(say, lang),
                           message=say(lang, key, **values), back=status != 404), status


def gone() -> tuple[str, int]:
    """The one 404 for every link that does not open a page (never says which case)."""
    lang = _visitor_language()
    return render_template("tracking/gone.html", lang=lang, t=partial(say, lang)), 404


@bp.url_value_preprocessor
def _allow_photo_bodies(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Runs before the app's body guard: a post here may carry a photo up to MEDIA_MAX_MB,
    # more than MAX_BODY_BYTES allows elsewhere.
    if endpoint == "tracking.take":
        rt = _runtime()
        request.max_content_length = max(rt.settings.max_body_bytes,
                                         rt.settings.media_max_bytes + FORM_OVERHEAD)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


@bp.get("/t/")
@bp.get("/t/<path:token>")
def show(token: str = "") -> tuple[str, int] | str:
    case = _pages().case_for(token, datetime.now(UTC))
    if case is None:
        return gone()
    view = _pages().view(case, request.cookies.get(COOKIE))
    return render_template("tracking/page.html", v=view, lang=view.language,
                           t=partial(say, view.language), nonce=secrets.token_urlsafe(18))


@bp.post("/t/")
@bp.post("/t/<path:token>")
def take(token: str = "") -> Response | tuple[str, int]:
    now = datetime.now(UTC)
    case = _pages().case_for(token, now)
    if case is None:
        return gone()
    if request.mimetype not in FORMS or not _NONCE.fullmatch(request.form.get("nonce", "")):
        return _problem(400, "page.bad_form")
    back = redirect(request.path, 303)
    if not is_open(case):
        return back  # closed or with staff since the page was drawn: show how it stands
    cookie = request.cookies.get(COOKIE) or secrets.token_urlsafe(18)
    mid = message_id(request.form["nonce"], cookie)
    try:
        _take_turn(case.id, mid, now)
    except BusyConversation:
        return _problem(503, "page.busy")
    if request.cookies.get(COOKIE) != cookie:
        back.set_cookie(COOKIE, cookie, path="/t/", httponly=True, samesite="Lax",
                        secure=_runtime().settings.secure_cookies)
    return back


def _take_turn(case_id: str, mid: str, now: datetime) -> None:
    """Run the turn this form asks for: an action, or an answer with or without a photo."""
    action = request.form.get("action")
    if action:
        _turns().act(case_id, action, mid, now)
        return
    text = (request.form.get("answer") or request.form.get("text") or "").strip()[:MAX_TEXT]
    media = _runtime().engine.media
    uploads = media.fetchers.get(WEB) if media is not None else None
    refs = []
    photo = request.files.get("photo")
    if photo is not None and photo.filename:
        content = photo.stream.read(_runtime().settings.media_max_bytes + 1)
        # Without the page's fetcher the intake refuses it as "unavailable", and says so.
        ref = uploads.stash(content) if isinstance(uploads, WebUploads) else "upload:none"
        refs.append(MediaRef(ref, size=len(content), declared_type=photo.mimetype or None))
    if not text and not refs:
        return  # an empty form: nothing to say
    try:
        _turns().answer(Inbound(channel=WEB, sender=case_id, text=text, message_id=mid,
                                received_at=now, media=tuple(refs)))
    finally:
        if isinstance(uploads, WebUploads):
            for ref in refs:
                uploads.discard(ref.ref)


@bp.errorhandler(400)
@bp.errorhandler(404)
@bp.errorhandler(405)
@bp.errorhandler(413)
@bp.errorhandler(429)
def _error(exc: HTTPException) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Errors on these pages are pages too (the rest of the app answers JSON)."""
    if exc.code == 413:
        return _problem(413, "page.too_large", mb=_runtime().settings.media_max_bytes // 2**20)
    if exc.code == 429:
        page, status = _problem(429, "page.busy")
        return page, status, {"Retry-After": str(limits.retry_after(current_app))}
    if exc.code == 404:
        return gone()
    return _problem(exc.code or 400, "page.bad_form")


def init_app(app: Flask, rt: Runtime) -> None:
    """Serve the tracking page and describe it in the OpenAPI document."""
    from channels import tracking_openapi

    tracking_openapi.register()
    app.extensions["doorstep.tracking"] = TrackingPages(rt.store, rt.settings)
    app.extensions["doorstep.web_turns"] = WebTurns(rt.engine)
    app.register_blueprint(bp)
