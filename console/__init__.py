"""The support console: staff pages at ``/console``, the JSON API at ``/api``.

Flask types stop here and in ``channels/``; the work is done by ``bot.desk``,
``bot.inbox``, ``bot.staff``, ``bot.sessions`` and ``bot.playbook``.
"""

from __future__ import annotations

from typing import Any


def init_app(app: Any) -> None:
    """Register the console's blueprints (the runtime is already in ``app.extensions``)."""
    from console import api, auth, simulator, stream, views

    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(stream.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(simulator.bp)
