"""The embedded NLU engine (the default): a trained intent model plus rule/library entities.

:class:`EmbeddedNLU` implements :class:`nlu.base.NLU` with no network and no GPU:

* **Intents** come from :class:`nlu.classifier.IntentModel`, trained from the Rasa YAML
  files in ``nlu/data/train`` in a few seconds. The trained model is cached as a joblib
  file in ``model_dir`` together with a fingerprint of the data and code version; when the
  data changes, the next start retrains (``doorstep nlu train`` does it ahead of time).
  A top confidence below ``threshold`` becomes ``out_of_scope`` (Rasa's FallbackClassifier
  behaviour: the fallback leads the ranking with the threshold as its confidence).
* **Entities** come from :mod:`nlu.entities.extract` — dates and time windows resolved
  against the reference time in the shipment's timezone, option numbers, tracking
  numbers and addresses.
* **Language** (``en``/``es``) comes from a character n-gram classifier trained on the
  same files. A known customer language is a hint: it wins when the message itself is
  not clearly in the other language ("ok", "2", "sí" alone say little).

Messages longer than :data:`MAX_CHARS` are understood from their first ``MAX_CHARS``
characters; an empty, blank or emoji-only message is ``out_of_scope`` with no entities.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import joblib
import sklearn

from nlu.base import LANGUAGES, Entity, Intent, ParseResult
from nlu.classifier import IntentModel
from nlu.entities.extract import extract_entities
from nlu.text import canonicalize
from nlu.training_data import DATA_DIR, fingerprint, load

__all__ = ["EmbeddedNLU", "train_model", "load_model", "MODEL_VERSION", "MAX_CHARS"]

log = logging.getLogger(__name__)

MAX_CHARS = 2000
DEFAULT_THRESHOLD = 0.3
MODEL_VERSION = "3"  # bump when featurisation changes, so cached models are retrained
MODEL_FILE = "intent-model.joblib"
_TRAIN_REFERENCE = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
# A hinted language yields only to a message that is clearly the other language.
_HINT_OVERRIDE = 0.9


def _model_identity(train_dir: Path) -> str:
    return fingerprint(train_dir, extra=f"{MODEL_VERSION}/{sklearn.__version__}")


def train_model(train_dir: Path = DATA_DIR / "train") -> IntentModel:
    """Train an intent model from the Rasa files in ``train_dir``."""
    data = load(train_dir)
    return IntentModel.train(
        data, lambda text: extract_entities(text, _TRAIN_REFERENCE, "UTC", None))


def _save(model: IntentModel, identity: str, path: Path) -> None:
    """Write atomically: concurrent starts may train at once; the last rename wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".model-", suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump({"identity": identity, "model": model}, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_model(model_dir: Path, train_dir: Path = DATA_DIR / "train",
               force_train: bool = False) -> tuple[IntentModel, bool]:
    """The cached model for the current data, training (and caching) it when needed.

    Returns the model and whether it was trained now.
    """
    identity = _model_identity(train_dir)
    path = model_dir / MODEL_FILE
    if not force_train and path.exists():
        try:
            saved = joblib.load(path)
            if saved.get("identity") == identity:
                return saved["model"], False
        except Exception as exc:  # a corrupt or foreign file is replaced, not fatal
            log.warning("nlu model cache unreadable, retraining: %s", type(exc).__name__)
    started = time.perf_counter()
    model = train_model(train_dir)
    _save(model, identity, path)
    log.info("nlu model trained in %.1f s", time.perf_counter() - started)
    return model, True


class EmbeddedNLU:
    """The default :class:`nlu.base.NLU`; construct once per process and share."""

    def __init__(self, model: IntentModel, threshold: float = DEFAULT_THRESHOLD,
                 default_language: str = "en") -> None:
        if default_language not in LANGUAGES:
            raise ValueError(f"unsupported language {default_language!r}")
        if not 0.0 <= threshold < 1.0:
            raise ValueError("threshold must be in [0, 1)")
        self.model = model
        self.threshold = threshold
        self.default_language = default_language

    @classmethod
    def from_dir(cls, model_dir: Path, threshold: float = DEFAULT_THRESHOLD,
                 train_dir: Path = DATA_DIR / "train") -> EmbeddedNLU:
        """Load the cached model from ``model_dir``, training it first if stale."""
        return cls(load_model(model_dir, train_dir)[0], threshold)

    def language_of(self, text: str, hint: str | None = None) -> str:
        """``"en"`` or ``"es"`` for ``text``; ``hint`` wins unless the text is clearly not it."""
        fallback = hint if hint in LANGUAGES else self.default_language
        if not any(ch.isalpha() for ch in text[:MAX_CHARS]):
            return fallback
        guess, probability = self.model.language(text[:MAX_CHARS])
        if hint in LANGUAGES and guess != hint and probability < _HINT_OVERRIDE:
            return fallback
        return guess

    def entities(self, text: str, reference_time: datetime, tz: str,
                 language: str | None = None) -> list[Entity]:
        """Slot entities of ``text`` in text order (negated dates and times removed)."""
        text = text[:MAX_CHARS]
        return extract_entities(text, reference_time, tz, self.language_of(text, language))

    def parse(self, text: str, reference_time: datetime, tz: str,
              language: str | None = None) -> ParseResult:
        """Parse one message; relative dates resolve against ``reference_time`` in ``tz``."""
        head = (text or "")[:MAX_CHARS]
        lang = self.language_of(head, language)
        if not canonicalize(head):  # nothing but punctuation or emoji we cannot read
            oos = Intent("out_of_scope", 1.0)
            return ParseResult(text=text, intent=oos, intent_ranking=(oos,), language=lang)
        entities = extract_entities(head, reference_time, tz, lang)
        ranking = self.model.rank(head, entities)
        if ranking[0].confidence < self.threshold:
            fallback = Intent("out_of_scope", self.threshold)
            ranking = [fallback, *(i for i in ranking if i.name != "out_of_scope")]
        return ParseResult(text=text, intent=ranking[0], intent_ranking=tuple(ranking[:10]),
                           entities=tuple(entities), language=lang)
