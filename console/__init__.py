"""The support console: staff pages at ``/console``, the JSON API at ``/api``.

Flask types stop here and in ``channels/``; the work is done by ``bot.desk``,
``bot.inbox``, ``bot.staff``, ``bot.sessions`` and ``bot.playbook``.
"""

from __future__ import annotations

from typing import Any

# Pages load only this site's own scripts, styles and images (no CDN, no inline script).
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "script-src 'self'; connect-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def init_app(app: Any) -> None:
    """Register the console's blueprints (the runtime is already in ``app.extensions``)."""
    from console import api, auth, deadletters, insights, simulator, stream, views

    auth.init_app(app)
    app.after_request(_security_headers)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(deadletters.bp)
    app.register_blueprint(insights.bp)
    app.register_blueprint(stream.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(simulator.bp)


def _security_headers(response: Any) -> Any:
    """Console pages: a strict content policy, no framing, not cached; /api answers not
    cached either (a photo says its own); no sniffing anywhere."""
    from flask import request

    if request.path.startswith("/console"):
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/console/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
    elif request.path.startswith("/api/"):  # customers' details: never in a shared cache
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
