"""Logging setup. Log lines never carry message bodies, full phone numbers or secrets."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """One-line logs to stderr (once per process); ``fmt`` is json or text."""
    root = logging.getLogger()
    if getattr(root, "_doorstep", False):
        return
    logging.basicConfig(level=level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root._doorstep = True  # type: ignore[attr-defined]
    for noisy in ("twilio.http_client", "urllib3", "dramatiq", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
