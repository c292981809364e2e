"""Gunicorn settings when run from a working copy (gunicorn reads this file from the
working directory): the hooks and the redacting logger in :mod:`bot.gunicorn_config`,
which an installed Doorstep names as ``gunicorn -c python:bot.gunicorn_config``."""

from bot.gunicorn_config import child_exit, logger_class, on_starting, post_worker_init

__all__ = ["child_exit", "logger_class", "on_starting", "post_worker_init"]
