"""Understand messages with a Rasa server's intents and Doorstep's own resolved entities.

:class:`RasaHTTPNLU` implements :class:`nlu.base.NLU` by calling a Rasa 3.x server's
``POST {url}/model/parse`` with ``{"text": ...}`` (``?token=...`` when Rasa runs with
``--auth-token``), and merging its answer with a local engine (:class:`LocalNLU`, in
practice :class:`nlu.embedded.EmbeddedNLU`).

Rules
-----
* Intent and ``intent_ranking`` come from Rasa. Rasa's ``nlu_fallback`` (its
  FallbackClassifier) is renamed ``out_of_scope``, Doorstep's name for "nothing matched".
* Entities: Rasa (DIET, Duckling) cannot resolve "tomorrow" in the shipment's timezone, so
  Doorstep's slot entities come from ``local.entities(...)``. Rasa entities are added after
  them (keeping Rasa's ``extractor``) except:

  - ``date``, ``time_window`` and ``option_number`` from Rasa, always: flows read their
    values as ISO dates, ``{"start", "end"}`` and ints, which only the local engine makes;
  - ``tracking_number`` and ``address`` from Rasa that overlap a local entity (the local
    one wins). A Rasa address the local engine did not see is kept.

  The result's entities are in text order.
* ``language`` is the hint when one is given (the engine passes the conversation's);
  without one it is whatever ``local.parse`` says, and the hint (or None) is what the
  local engine gets for resolving entities.
* Any failure -- connection refused, timeout, HTTP 4xx/5xx (409 = no model loaded), a body
  that is not JSON or not the ``/model/parse`` shape -- logs one warning naming only the
  failure kind and status code, and returns ``local.parse(...)``. For ``retry_after``
  seconds afterwards Rasa is skipped; then one call probes it again (other threads keep
  using the local engine until that probe succeeds).
* Empty or blank messages never go to Rasa.

Limits
------
* Message text never reaches the logs; neither do exception strings, since ``requests``
  puts the URL (and so the ``token`` query parameter) in them.
* ``timeout`` bounds the connect and each read separately (``requests`` semantics), not
  the whole exchange: a server trickling bytes could take longer.
* One ``requests.Session`` is shared by all threads; that is safe for plain requests like
  these (urllib3's pool is thread-safe), but do not mutate the session after start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from nlu.base import Entity, Intent, ParseResult

__all__ = ["DOORSTEP_ENTITIES", "LocalNLU", "RESOLVED_ENTITIES", "RasaHTTPNLU"]

logger = logging.getLogger(__name__)

#: Entity types Doorstep's flows read; for these the local engine's entity wins.
DOORSTEP_ENTITIES = frozenset({"date", "time_window", "option_number", "tracking_number",
                               "address"})
#: Doorstep types whose values must be resolved locally; Rasa's are always dropped.
RESOLVED_ENTITIES = frozenset({"date", "time_window", "option_number"})
_INTENT_ALIASES = {"nlu_fallback": "out_of_scope"}


class LocalNLU(Protocol):
    """What :class:`RasaHTTPNLU` needs from the embedded engine."""

    def parse(self, text: str, reference_time: datetime, tz: str,
              language: str | None = None) -> ParseResult:
        """Parse ``text`` completely, as :class:`nlu.base.NLU` does."""
        ...

    def entities(self, text: str, reference_time: datetime, tz: str,
                 language: str | None = None) -> list[Entity]:
        """Resolved slot entities of ``text`` (dates in ``tz``), in text order."""
        ...


class _RasaFailure(Exception):
    """Rasa did not give a usable answer; ``kind`` and ``status`` are safe to log."""

    def __init__(self, kind: str, status: int | None = None) -> None:
        super().__init__(kind if status is None else f"{kind} {status}")
        self.kind, self.status = kind, status


class RasaHTTPNLU:
    """:class:`nlu.base.NLU` over a Rasa server, falling back to ``local``; thread-safe."""

    def __init__(self, url: str, local: LocalNLU, timeout: float = 2.0,
                 token: str | None = None, retry_after: float = 30.0,
                 session: requests.Session | None = None) -> None:
        """Prepare a client for the Rasa server at ``url`` (``http(s)://host[:port][/prefix]``).

        ``session`` is used as given (and not closed by :meth:`close`); by default a
        private one is made.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Rasa URL must be http(s)://host[:port], got {url!r}")
        if timeout <= 0 or retry_after < 0:
            raise ValueError("timeout must be > 0 and retry_after >= 0")
        self.url = url.rstrip("/")
        # what status() shows: no user:password@ a reverse proxy may need
        self._public_url = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        self.local = local
        self.timeout = timeout
        self.retry_after = retry_after
        self._token = token
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._lock = threading.Lock()
        self._skip_until: float | None = None  # monotonic; None while Rasa is healthy
        self._last_failure: str | None = None

    def parse(self, text: str, reference_time: datetime, tz: str,
              language: str | None = None) -> ParseResult:
        """Parse ``text``: Rasa's intent, locally resolved entities; local engine on failure."""
        if not text or not text.strip() or not self._may_call():
            return self.local.parse(text, reference_time, tz, language)
        try:
            remote = self._call(text)
        except _RasaFailure as failure:
            self._failed(failure)
            return self.local.parse(text, reference_time, tz, language)
        self._succeeded()
        lang = language or self.local.parse(text, reference_time, tz).language
        local = self.local.entities(text, reference_time, tz, language)
        found = [e if e.text else replace(e, text=text[e.start:e.end]) for e in remote.entities]
        return replace(remote, text=text, language=lang, entities=merge_entities(local, found))

    def status(self) -> dict[str, Any]:
        """Health for a status page: backend, url, healthy, last_failure, retry_in (s)."""
        with self._lock:
            until, last = self._skip_until, self._last_failure
        retry_in = 0.0 if until is None else max(0.0, until - time.monotonic())
        return {"backend": "rasa", "url": self._public_url.rstrip("/"), "healthy": until is None,
                "last_failure": last, "retry_in": round(retry_in, 1)}

    def close(self) -> None:
        """Close the HTTP session if this client made it."""
        if self._owns_session:
            self._session.close()

    def _may_call(self) -> bool:
        """True if Rasa is healthy, or if its pause is over and this call is the probe."""
        with self._lock:
            if self._skip_until is None:
                return True
            now = time.monotonic()
            if now < self._skip_until:
                return False
            self._skip_until = now + self.retry_after  # the others wait for this probe
            return True

    def _failed(self, failure: _RasaFailure) -> None:
        with self._lock:
            self._skip_until = time.monotonic() + self.retry_after
            self._last_failure = str(failure)
        status = "" if failure.status is None else f" (HTTP {failure.status})"
        logger.warning("Rasa NLU failed: %s%s; using the embedded NLU for %gs",
                       failure.kind, status, self.retry_after)

    def _succeeded(self) -> None:
        with self._lock:
            was_down, self._skip_until = self._skip_until is not None, None
        if was_down:
            logger.info("Rasa NLU answers again")

    def _call(self, text: str) -> ParseResult:
        """POST ``/model/parse``; raise :class:`_RasaFailure` unless the answer is usable."""
        params = {"token": self._token} if self._token else None
        try:
            response = self._session.post(f"{self.url}/model/parse", json={"text": text},
                                          params=params, timeout=self.timeout,
                                          allow_redirects=False)
        except requests.Timeout:
            raise _RasaFailure("timeout") from None
        except requests.ConnectionError:
            raise _RasaFailure("connection") from None
        except requests.RequestException:
            raise _RasaFailure("request") from None
        if response.status_code != 200:
            raise _RasaFailure("http_status", response.status_code)
        try:
            body = response.json()
        except ValueError:
            raise _RasaFailure("not_json", 200) from None
        return _read_body(body)


def _read_body(body: Any) -> ParseResult:
    """Read a ``/model/parse`` body; raise :class:`_RasaFailure` ("bad_shape") if it is not one."""
    try:
        if not isinstance(body, Mapping) or not isinstance(body.get("intent"), Mapping):
            raise TypeError("no intent object")
        name = body["intent"].get("name")
        if not isinstance(name, str) or not name:
            raise TypeError("intent without a name")  # e.g. a model with no intent classifier
        if not isinstance(body.get("entities", []), list) or \
                not isinstance(body.get("intent_ranking", []), list):
            raise TypeError("entities or intent_ranking not a list")
        result = ParseResult.from_dict(dict(body))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _RasaFailure("bad_shape", 200) from None
    intent = _alias(result.intent)
    ranking = tuple(_alias(i) for i in result.intent_ranking) or (intent,)
    return replace(result, intent=intent, intent_ranking=ranking)


def merge_entities(local: Iterable[Entity], remote: Iterable[Entity]) -> tuple[Entity, ...]:
    """Local entities plus the Rasa ones the rules in the module docstring keep, in text order."""
    mine = list(local)
    kept = [e for e in remote
            if e.entity not in RESOLVED_ENTITIES
            and not (e.entity in DOORSTEP_ENTITIES and any(_overlap(e, m) for m in mine))]
    return tuple(sorted(mine + kept, key=lambda e: (e.start, e.end)))


def _overlap(a: Entity, b: Entity) -> bool:
    return a.start < b.end and b.start < a.end


def _alias(intent: Intent) -> Intent:
    name = _INTENT_ALIASES.get(intent.name)
    return intent if name is None else Intent(name, intent.confidence)
