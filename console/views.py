"""Placeholder: written in issue 5."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console_views", __name__)
