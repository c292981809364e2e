"""Score an NLU engine on the held-out test split (``nlu/data/test``).

Intent figures per language: accuracy and macro-F1 over the intents, and the confusion
pairs (gold -> predicted) that happen most. Entity figures per entity type: precision and
recall of ``(type, value)`` against the annotations, where a test annotation carries its
expected value (dates as ``YYYY-MM-DD``, windows as ``HH:MM-HH:MM``, option numbers as
digits, tracking numbers normalised, addresses as the annotated text). Values are resolved
against :data:`REFERENCE_TIME` in :data:`REFERENCE_TZ`, the time the test file was written
for. ``exact_match`` is recall: the share of annotated cases found with exactly that value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sklearn.metrics import accuracy_score, f1_score

from nlu.base import NLU, Entity
from nlu.training_data import DATA_DIR, Example, load

__all__ = ["Report", "evaluate", "entity_key", "REFERENCE_TIME", "REFERENCE_TZ", "TARGETS"]

REFERENCE_TZ = "America/New_York"
REFERENCE_TIME = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(REFERENCE_TZ))
TARGETS = {"intent_accuracy": 0.95, "macro_f1": 0.93, "date_exact": 0.95,
           "time_window_exact": 0.95}


def entity_key(e: Entity) -> tuple[str, str]:
    """``(type, value as the test file writes it)`` for a predicted entity."""
    v = e.value
    if e.entity == "time_window" and isinstance(v, dict):
        return e.entity, f"{v.get('start')}-{v.get('end')}"
    if e.entity == "address" and isinstance(v, dict):
        return e.entity, str(v.get("text", e.text)).strip().lower()
    return e.entity, str(v)


def _gold_key(entity: str, value: str | None, text: str) -> tuple[str, str]:
    if entity == "address":
        return entity, (value or text).strip().lower()
    return entity, value if value is not None else text


@dataclass
class Report:
    """Evaluation figures; :meth:`to_dict` is the ``--json`` output."""

    languages: dict[str, dict[str, Any]] = field(default_factory=dict)
    entities: dict[str, dict[str, float | int]] = field(default_factory=dict)
    examples: int = 0

    def meets_targets(self) -> bool:
        """True when every language and entity target of the NLU issue is met."""
        ok = all(v["intent_accuracy"] >= TARGETS["intent_accuracy"]
                 and v["macro_f1"] >= TARGETS["macro_f1"] for v in self.languages.values())
        for name in ("date", "time_window"):
            ok = ok and self.entities.get(name, {}).get("recall", 0.0) >= TARGETS[
                f"{name}_exact"]
        return ok

    def to_dict(self) -> dict[str, Any]:
        return {"examples": self.examples, "languages": self.languages,
                "entities": self.entities, "targets": TARGETS,
                "meets_targets": self.meets_targets(),
                "reference_time": REFERENCE_TIME.isoformat(), "timezone": REFERENCE_TZ}


def _intent_figures(gold: list[str], predicted: list[str]) -> dict[str, Any]:
    labels = sorted(set(gold))
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    return {"examples": len(gold),
            "intent_accuracy": round(float(accuracy_score(gold, predicted)), 4),
            "macro_f1": round(float(f1_score(gold, predicted, labels=labels, average="macro",
                                             zero_division=0)), 4),
            "confusions": [{"gold": g, "predicted": p, "count": n}
                           for (g, p), n in confusions.most_common(8)]}


def _entity_figures(pairs: Iterable[tuple[Counter, Counter]]) -> dict[str, dict[str, Any]]:
    tp: Counter = Counter()
    n_gold: Counter = Counter()
    n_pred: Counter = Counter()
    for gold, pred in pairs:
        for (name, _), n in (gold & pred).items():
            tp[name] += n
        for (name, _), n in gold.items():
            n_gold[name] += n
        for (name, _), n in pred.items():
            n_pred[name] += n
    out = {}
    for name in sorted(n_gold.keys() | n_pred.keys()):
        out[name] = {"annotated": n_gold[name], "predicted": n_pred[name],
                     "precision": round(tp[name] / n_pred[name], 4) if n_pred[name] else 0.0,
                     "recall": round(tp[name] / n_gold[name], 4) if n_gold[name] else 0.0}
    return out


def evaluate(nlu: NLU, test_dir: Path = DATA_DIR / "test",
             kinds: tuple[str, ...] = ("date", "time_window", "option_number",
                                       "tracking_number", "address")) -> Report:
    """Parse every test example with ``nlu`` and score intents and entities."""
    examples: list[Example] = load(test_dir).examples
    by_lang: dict[str, tuple[list[str], list[str]]] = {}
    pairs = []
    for ex in examples:
        result = nlu.parse(ex.text, REFERENCE_TIME, REFERENCE_TZ)
        gold_list, pred_list = by_lang.setdefault(ex.language, ([], []))
        gold_list.append(ex.intent)
        pred_list.append(result.intent.name)
        gold = Counter(_gold_key(a.entity, a.value, a.text) for a in ex.entities
                       if a.entity in kinds)
        pred = Counter(entity_key(e) for e in result.entities if e.entity in kinds)
        pairs.append((gold, pred))
    report = Report(examples=len(examples))
    for lang, (gold_list, pred_list) in sorted(by_lang.items()):
        report.languages[lang] = _intent_figures(gold_list, pred_list)
    report.entities = _entity_figures(pairs)
    return report
