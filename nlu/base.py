"""The NLU protocol and its result, shaped like Rasa's ``/model/parse`` response.

The engine depends only on :class:`ParseResult`; any implementation (the embedded
rule engine, a Rasa server over HTTP) returns one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

LANGUAGES = ("en", "es")  # what the NLU understands and reports as ``language``


@dataclass(frozen=True)
class Entity:
    """One extracted entity: ``value`` is already resolved (e.g. ``"2026-11-27"``).

    ``extractor`` names what found it (Rasa's field); ``confidence`` is 1.0 for rule and
    library extractors, which either match or do not.
    """

    entity: str
    value: Any
    start: int
    end: int
    text: str = ""
    confidence: float = 1.0
    extractor: str = "doorstep"

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "value": self.value, "start": self.start,
                "end": self.end, "confidence": self.confidence, "extractor": self.extractor,
                "text": self.text}


@dataclass(frozen=True)
class Intent:
    name: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "confidence": self.confidence}


@dataclass(frozen=True)
class ParseResult:
    """What a message means: Rasa's ``/model/parse`` shape."""

    text: str
    intent: Intent
    intent_ranking: tuple[Intent, ...] = ()
    entities: tuple[Entity, ...] = field(default_factory=tuple)
    language: str = "en"

    def first(self, entity: str) -> Any | None:
        """Return the value of the first entity of this type, or None."""
        for e in self.entities:
            if e.entity == entity:
                return e.value
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "intent": self.intent.to_dict(),
                "intent_ranking": [i.to_dict() for i in self.intent_ranking],
                "entities": [e.to_dict() for e in self.entities], "language": self.language}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParseResult:
        """Build from a Rasa ``/model/parse`` JSON body."""
        intent = data.get("intent") or {"name": "out_of_scope", "confidence": 0.0}
        return cls(
            text=data.get("text", ""),
            intent=Intent(intent["name"], float(intent.get("confidence", 0.0))),
            intent_ranking=tuple(Intent(i["name"], float(i.get("confidence", 0.0)))
                                 for i in data.get("intent_ranking", [])),
            entities=tuple(Entity(e["entity"], e.get("value"), int(e.get("start", 0)),
                                  int(e.get("end", 0)), e.get("text", ""),
                                  float(e.get("confidence_entity", e.get("confidence", 1.0))
                                        or 1.0),
                                  e.get("extractor") or "rasa")
                           for e in data.get("entities", [])),
            language=data.get("language") or "en",
        )


class NLU(Protocol):
    """Understands one customer message."""

    def parse(self, text: str, reference_time: datetime, tz: str,
              language: str | None = None) -> ParseResult:
        """Parse ``text``; resolve relative dates against ``reference_time`` in ``tz``.

        ``reference_time`` is timezone-aware; ``tz`` is an IANA name such as
        ``"America/New_York"``; ``language`` is ``"en"``, ``"es"`` or None (detect).
        """
        ...
