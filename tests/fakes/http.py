"""Run a WSGI app on a real loopback HTTP server in a background thread.

Used by the fakes in this package (and usable directly by tests, e.g. to run a
tiny Flask receiver for status callbacks)::

    with LocalServer(app) as server:
        requests.get(server.url + "/ping")

The server binds ``127.0.0.1`` on an ephemeral port, is threaded (each request
gets its own daemon thread) and does not log every request to stderr.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = ["HTTPFake", "LocalServer", "LOOPBACK_HOST"]

LOOPBACK_HOST = "127.0.0.1"


class _QuietHandler(WSGIRequestHandler):
    """Request handler that keeps errors but drops the per-request access log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log successful requests; test output stays readable."""


class LocalServer:
    """A WSGI app served on ``http://127.0.0.1:<ephemeral port>`` from a daemon thread.

    Use as a context manager, or call :meth:`start` / :meth:`stop` explicitly.
    ``start`` is idempotent; ``stop`` may be called more than once.
    """

    def __init__(self, app: Any, *, name: str = "local-http") -> None:
        """Prepare (but do not start) a server for the WSGI callable ``app``."""
        self._app = app
        self._name = name
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The ephemeral TCP port the server listens on (only while running)."""
        if self._server is None:
            raise RuntimeError(f"{self._name}: server is not running; call start() first")
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        """Base URL without trailing slash, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{LOOPBACK_HOST}:{self.port}"

    def start(self) -> LocalServer:
        """Bind the socket and start serving in a background thread; returns ``self``."""
        with self._lock:
            if self._server is not None:
                return self
            server = make_server(
                LOOPBACK_HOST, 0, self._app, threaded=True, request_handler=_QuietHandler
            )
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{self._name}:{server.server_port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close the listening socket and join the serving thread."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class HTTPFake:
    """Base class for fakes served by a :class:`LocalServer`; subclasses implement ``_wsgi``.

    Gives them ``url``, ``start()`` (returns ``self``), ``stop()`` and context-manager use.
    """

    def __init__(self, name: str) -> None:
        """Create the (not yet started) server for ``self._wsgi``."""
        self._server = LocalServer(self._wsgi, name=name)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        raise NotImplementedError

    @property
    def url(self) -> str:
        """Base URL of the running fake, e.g. ``http://127.0.0.1:54321``."""
        return self._server.url

    def start(self) -> Self:
        """Start serving in a background thread; returns ``self``."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
