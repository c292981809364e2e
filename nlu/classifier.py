"""The trained part of the embedded engine: intent and language classifiers.

Both are scikit-learn linear models over TF-IDF n-grams of the *featurised* message:

1. slot entities found by the extractors are replaced by placeholders ("can u come
   tomorrow after 5" -> "can you come entdate enttime"), so the model learns the shape
   of a request rather than particular dates;
2. the text is canonicalised (:func:`nlu.text.canonicalize`: lower case, no accents,
   SMS shorthand expanded, stretched letters collapsed);
3. a token is appended for every regex and lookup table of the training data that
   matches (Rasa's RegexFeaturizer idea), e.g. ``lkdamage_word``.

Intent features are word 1-2-grams plus character 2-5-grams within word boundaries,
which carry typos ("tommorow", "recieve") and Spanish without accents; the classifier
is a multinomial logistic regression, whose probabilities give the confidence and
ranking. The language classifier is a logistic regression over character 1-4-grams.
The choice was made by measurement: see ``doorstep nlu evaluate`` and the README.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlu.base import Entity, Intent
from nlu.text import canonicalize, fold_text
from nlu.training_data import TrainingData

__all__ = ["IntentModel", "featurize", "PLACEHOLDERS"]

PLACEHOLDERS = {"date": "entdate", "time_window": "enttime", "option_number": "entoption",
                "tracking_number": "enttracking", "address": "entaddress"}

EntityFinder = Callable[[str], Sequence[Entity]]


@dataclass(frozen=True)
class Features:
    """Compiled regex and lookup features from the training data."""

    regexes: tuple[tuple[str, re.Pattern[str]], ...]
    lookups: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def from_data(cls, data: TrainingData) -> Features:
        regexes = tuple((name, re.compile("|".join(f"(?:{p})" for p in patterns), re.I))
                        for name, patterns in sorted(data.regexes.items()))
        lookups = []
        for name, items in sorted(data.lookups.items()):
            words = sorted({fold_text(i).strip() for i in items if i.strip()}, key=len,
                           reverse=True)
            alt = "|".join(re.escape(w) for w in words)
            lookups.append((name, re.compile(rf"\b(?:{alt})\b")))
        return cls(regexes, tuple(lookups))

    def tokens(self, text: str, folded: str) -> list[str]:
        """Feature tokens for the regexes and lookups that match."""
        found = [f"rx{name}" for name, rx in self.regexes if rx.search(text)]
        found += [f"lk{name}" for name, rx in self.lookups if rx.search(folded)]
        return found


def featurize(text: str, entities: Sequence[Entity], features: Features) -> str:
    """The classifier's view of a message: placeholders, canonical words, feature tokens."""
    pieces: list[str] = []
    pos = 0
    for e in sorted(entities, key=lambda e: e.start):
        if e.start < pos or e.entity not in PLACEHOLDERS:
            continue
        pieces += [text[pos:e.start], f" {PLACEHOLDERS[e.entity]} "]
        pos = e.end
    pieces.append(text[pos:])
    canonical = canonicalize("".join(pieces))
    extra = features.tokens(text, fold_text(text))
    return " ".join([canonical, *extra]) if extra else canonical


class _Vectorizer:
    """A fitted :class:`TfidfVectorizer`'s transform for one document, without the
    per-call input validation that costs scikit-learn about a millisecond per message.

    Same arithmetic: the vectorizer's own analyzer, counts, ``1 + log(tf)`` (sublinear),
    times ``idf_``, L2-normalised. ``tests/nlu/test_embedded.py`` checks it against
    ``transform``.
    """

    def __init__(self, fitted: TfidfVectorizer, offset: int = 0) -> None:
        self.analyze = fitted.build_analyzer()
        self.vocabulary: dict[str, int] = fitted.vocabulary_
        self.idf = fitted.idf_
        self.offset = offset

    def __call__(self, doc: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(i for t in self.analyze(doc) if (i := self.vocabulary.get(t)) is not None)
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0)
        index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts))))
        values *= self.idf[index]
        values /= np.sqrt(values @ values)
        return index + self.offset, values


class IntentModel:
    """Intent and language classifiers trained together from one :class:`TrainingData`.

    The fitted scikit-learn objects are what is saved; the per-message scorers built from
    them (:class:`_Vectorizer`, coefficient arrays) are rebuilt when a model is loaded.
    """

    def __init__(self, features: Features, words: TfidfVectorizer, chars: TfidfVectorizer,
                 intents: LogisticRegression, lang_chars: TfidfVectorizer,
                 languages: LogisticRegression | str) -> None:
        self.features = features
        self.words, self.chars, self.intents = words, chars, intents
        self.lang_chars, self.languages = lang_chars, languages
        self._compile()

    def _compile(self) -> None:
        self._word_vector = _Vectorizer(self.words)
        self._char_vector = _Vectorizer(self.chars, offset=len(self.words.vocabulary_))
        self._coef = np.ascontiguousarray(self.intents.coef_.T)
        self._classes = [str(c) for c in self.intents.classes_]
        if not isinstance(self.languages, str):
            self._lang_vector = _Vectorizer(self.lang_chars)
            self._lang_classes = [str(c) for c in self.languages.classes_]

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._compile()

    def probabilities(self, doc: str) -> np.ndarray:
        """Intent probabilities for a featurised ``doc``, in ``intents.classes_`` order."""
        (wi, wv), (ci, cv) = self._word_vector(doc), self._char_vector(doc)
        index, values = np.concatenate([wi, ci]), np.concatenate([wv, cv])
        logits = self.intents.intercept_ + values @ self._coef[index]
        logits = np.exp(logits - logits.max())
        return logits / logits.sum()

    @classmethod
    def train(cls, data: TrainingData, find_entities: EntityFinder,
              c: float = 20.0) -> IntentModel:
        """Fit both classifiers; ``find_entities`` is the extractor used at parse time."""
        features = Features.from_data(data)
        docs = [featurize(e.text, find_entities(e.text), features) for e in data.examples]
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+")
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                min_df=2)
        x = hstack([words.fit_transform(docs), chars.fit_transform(docs)]).tocsr()
        intents = LogisticRegression(C=c, max_iter=3000)
        intents.fit(x, [e.intent for e in data.examples])
        lang_chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True,
                                     min_df=2)
        raw = [fold_text(e.text) for e in data.examples]
        labels = [e.language for e in data.examples]
        languages: LogisticRegression | str = labels[0]  # data in one language: that one
        if len(set(labels)) > 1:
            languages = LogisticRegression(C=10.0, max_iter=2000)
            languages.fit(lang_chars.fit_transform(raw), labels)
        return cls(features, words, chars, intents, lang_chars, languages)

    def rank(self, text: str, entities: Sequence[Entity]) -> list[Intent]:
        """Every intent with its probability, best first."""
        probs = self.probabilities(featurize(text, entities, self.features))
        return [Intent(self._classes[i], round(float(probs[i]), 4)) for i in np.argsort(-probs)]

    def language(self, text: str) -> tuple[str, float]:
        """The more likely language of ``text`` and its probability."""
        if isinstance(self.languages, str):
            return self.languages, 1.0
        index, values = self._lang_vector(fold_text(text))
        z = float(self.languages.intercept_[0] + values @ self.languages.coef_[0][index])
        second = 1.0 / (1.0 + np.exp(-z))  # binary logistic regression: P(classes_[1])
        if second >= 0.5:
            return self._lang_classes[1], second
        return self._lang_classes[0], 1.0 - second
