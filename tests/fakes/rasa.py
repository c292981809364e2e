"""FakeRasa: a loopback HTTP server speaking Rasa 3.x's ``POST /model/parse``.

Request: JSON ``{"text": str, "message_id"?: str}``, ``?token=`` when the server was
started with an auth token (Rasa's ``--auth-token``). Response, as Rasa 3.x sends it::

    {"text", "intent": {"name", "confidence"},
     "entities": [{"entity", "start", "end", "confidence_entity", "value", "extractor"}],
     "text_tokens": [[start, end], ...], "intent_ranking": [{"name", "confidence"}, ...],
     "response_selector": {"all_retrieval_intents": [], "default": {...}}}

Intents come from a keyword table (most keyword hits wins; none gives Rasa's
FallbackClassifier answer ``nlu_fallback``); entities from a phrase table, shaped like the
extractor named (DIET carries ``confidence_entity``, Duckling ``text``/``confidence``/
``additional_info``, regex neither). Errors use Rasa's body ``{version, status: "failure",
message, reason, details, help, code}``: 401 NotAuthenticated for a missing or wrong
token, 400 BadRequest for a body without text.

Failure modes (:meth:`FakeRasa.fail`): ``slow`` (answers after ``slow_seconds``),
``error`` (500), ``garbage`` (200 with a non-JSON body), ``wrong_shape`` (200 with JSON
that is not a parse result) and ``stopped`` (the socket is closed: connection refused;
the fake cannot come back on the same port). Every request is recorded in
:attr:`FakeRasa.received`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from werkzeug.wrappers import Request, Response

from .http import HTTPFake

__all__ = ["DEFAULT_ENTITIES", "DEFAULT_INTENTS", "FakeRasa", "MODES", "RASA_VERSION"]

RASA_VERSION = "3.6.20"
MODES = ("ok", "slow", "error", "garbage", "wrong_shape", "stopped")
DEFAULT_INTENTS: dict[str, tuple[str, ...]] = {
    "reschedule": ("reschedule", "come", "deliver", "another day", "redeliver"),
    "human": ("human", "agent", "person", "representative"),
    "affirm": ("yes", "yep", "sure", "ok"),
    "deny": ("no", "nope"),
    "greet": ("hi", "hello", "hey"),
}
#: phrase -> (entity, extractor, value or None for the matched text)
DEFAULT_ENTITIES: dict[str, tuple[str, str, Any]] = {
    "tomorrow": ("date", "DIETClassifier", None),  # DIET tags it, but cannot resolve it
    "fedex": ("carrier", "DIETClassifier", "FedEx"),
}
_HELP = "https://rasa.com/docs/rasa/user-guide/configuring-http-api/#security-considerations"
_NO_TEXT = ("No text message defined in request_body. Add text message to request body "
            "in order to obtain the intent and extracted entities.")
_DEFAULT_SELECTOR = {
    "all_retrieval_intents": [],
    "default": {"response": {"responses": None, "confidence": 0.0,
                             "intent_response_key": None, "utter_action": "utter_None"},
                "ranking": []},
}


def rasa_error(status: int, reason: str, message: str, help_url: str | None = None) -> Response:
    """Rasa's ``ErrorResponse`` JSON body with ``status``."""
    body = {"version": RASA_VERSION, "status": "failure", "message": message,
            "reason": reason, "details": {}, "help": help_url, "code": status}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _hits(text: str, phrase: str) -> list[re.Match[str]]:
    return list(re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE))


class FakeRasa(HTTPFake):
    """A Rasa server's ``/model/parse`` on loopback, with switchable failures.

    ``received`` (a snapshot, safe from any thread) lists every request: ``method``,
    ``path``, ``token`` (the query parameter or None), ``json`` (the body, parsed, or None)
    and ``status`` (what the fake answered).
    """

    def __init__(self, token: str | None = None,
                 intents: Mapping[str, Sequence[str]] | None = None,
                 entities: Mapping[str, tuple[str, str, Any]] | None = None,
                 *, slow_seconds: float = 1.0) -> None:
        """Create (not start) the fake; ``token`` makes it demand ``?token=`` like Rasa."""
        self.token = token
        self.intents = {k: tuple(v) for k, v in (intents or DEFAULT_INTENTS).items()}
        self.entities = dict(DEFAULT_ENTITIES if entities is None else entities)
        self.slow_seconds = slow_seconds
        self._lock = threading.Lock()
        self._received: list[dict[str, Any]] = []
        self._mode = "ok"
        self._release = threading.Event()  # set to end a slow answer early
        self._last_url: str | None = None
        super().__init__("fake-rasa")

    @property
    def url(self) -> str:
        """Base URL; after ``fail("stopped")`` the dead address (connection refused)."""
        if self._server.running or self._last_url is None:
            return self._server.url
        return self._last_url

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every request seen, oldest first."""
        with self._lock:
            return [dict(r) for r in self._received]

    @property
    def mode(self) -> str:
        """The current mode: one of :data:`MODES`."""
        return self._mode

    def start(self) -> FakeRasa:
        """Start serving; returns ``self``."""
        super().start()
        self._last_url = self._server.url
        return self

    def stop(self) -> None:
        """Stop serving (ends any slow answer first)."""
        self._release.set()
        super().stop()

    def fail(self, mode: str) -> None:
        """Switch to a failure mode (see :data:`MODES`); ``stopped`` closes the socket."""
        if mode not in MODES:
            raise ValueError(f"FakeRasa: unknown mode {mode!r}; use one of {MODES}")
        self._release.clear()
        self._mode = mode
        if mode == "stopped":
            self.stop()

    def recover(self) -> None:
        """Answer normally again (a stopped fake stays stopped)."""
        self._mode = "ok"
        self._release.set()

    def clear(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._received.clear()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_json(silent=True)
        response = self._handle(request, body)
        with self._lock:
            self._received.append({"method": request.method, "path": request.path,
                                   "token": request.args.get("token"), "json": body,
                                   "status": response.status_code})
        return response(environ, start_response)

    def _handle(self, request: Request, body: Any) -> Response:
        if request.path != "/model/parse":
            return rasa_error(404, "NotFound", f"Requested URL {request.path} not found")
        if request.method != "POST":
            return rasa_error(405, "MethodNotAllowed", f"Method {request.method} not allowed")
        if self.token is not None and request.args.get("token") != self.token:
            return rasa_error(401, "NotAuthenticated", "User is not authenticated.", _HELP)
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return rasa_error(400, "BadRequest", _NO_TEXT)
        mode = self._mode
        if mode == "slow":
            self._release.wait(self.slow_seconds)
        elif mode == "error":
            return rasa_error(500, "ParsingError", "An unexpected error occurred. Error: fake")
        elif mode == "garbage":
            return Response("<html><body>502 Bad Gateway</body></html>", status=200,
                            content_type="application/json")
        elif mode == "wrong_shape":
            return Response(json.dumps({"status": "ok", "result": [1, 2, 3]}), status=200,
                            content_type="application/json")
        return Response(json.dumps(self.parse(body["text"])), status=int(HTTPStatus.OK),
                        content_type="application/json")

    def parse(self, text: str) -> dict[str, Any]:
        """The ``/model/parse`` body the fake answers for ``text``."""
        ranking = self._ranking(text)
        return {"text": text, "intent": ranking[0], "entities": self._entities(text),
                "text_tokens": [[m.start(), m.end()] for m in re.finditer(r"\w+", text)],
                "intent_ranking": ranking, "response_selector": _DEFAULT_SELECTOR}

    def _ranking(self, text: str) -> list[dict[str, Any]]:
        """Intents by keyword hits; confidences sum to 1 like DIET's softmax."""
        hits = {name: sum(len(_hits(text, k)) for k in words)
                for name, words in self.intents.items()}
        order = sorted(self.intents, key=lambda n: -hits[n])  # stable: table order on ties
        if not hits or hits[order[0]] == 0:
            rest = [{"name": n, "confidence": round(0.3 / len(order), 4)} for n in order]
            return [{"name": "nlu_fallback", "confidence": 0.7}] + rest
        others = 0.08 / max(1, len(order) - 1)
        return [{"name": n, "confidence": 0.92 if i == 0 else round(others, 4)}
                for i, n in enumerate(order)]

    def _entities(self, text: str) -> list[dict[str, Any]]:
        found = [(m, spec) for phrase, spec in self.entities.items() for m in _hits(text, phrase)]
        return [_entity(m, *spec) for m, spec in sorted(found, key=lambda f: f[0].start())]


def _entity(match: re.Match[str], entity: str, extractor: str, value: Any) -> dict[str, Any]:
    """One entity in the shape ``extractor`` gives it in Rasa 3.x."""
    start, end, value = match.start(), match.end(), match.group(0) if value is None else value
    if extractor == "DucklingEntityExtractor":
        return {"start": start, "end": end, "text": match.group(0), "value": value,
                "confidence": 1.0, "additional_info": {"value": value, "type": "value"},
                "entity": entity, "extractor": extractor}
    if extractor == "DIETClassifier":
        return {"entity": entity, "start": start, "end": end, "confidence_entity": 0.9987,
                "value": value, "extractor": extractor}
    return {"entity": entity, "start": start, "end": end, "value": value, "extractor": extractor}
