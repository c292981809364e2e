"""Who is asking: console sessions (cookie) or API tokens (Bearer); CSRF; login/logout."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("console_auth", __name__, template_folder="templates")


def init_app(app: Any) -> None:
    """Make ``csrf_token()`` available to templates."""
