"""Read NLU training data written in Rasa's YAML format (``version: "3.1"``, ``nlu:``).

The files under ``nlu/data/`` are the same ones ``rasa train nlu`` reads. This module
understands the parts Doorstep uses:

* ``- intent: NAME`` with ``examples: |`` lines (``- text``), entity annotations inside
  them: ``[text](entity)``, ``[text](entity:value)`` and ``[text]{"entity": ..., "value": ...}``;
* ``- regex: NAME`` and ``- lookup: NAME`` (used as features by the embedded engine);
* ``- synonym: VALUE`` (variants of an entity value).

A file's language is its name (``en.yml``, ``es.yml``); a file of only regexes, lookups
and synonyms has no language. Anything malformed raises :class:`TrainingDataError`
naming the file and the block, so ``doorstep nlu train`` says what to fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import DoorstepError
from nlu.base import LANGUAGES

__all__ = ["Annotation", "Example", "TrainingData", "TrainingDataError", "load",
           "parse_example", "fingerprint", "DATA_DIR"]

DATA_DIR = Path(__file__).parent / "data"

_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+)\]"
    r"(?:\((?P<entity>[\w.-]+)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]*\}))")


class TrainingDataError(DoorstepError):
    """The NLU training data is not valid Rasa YAML of the expected shape."""


@dataclass(frozen=True)
class Annotation:
    """An entity marked in an example; ``value`` is None when the file gives none."""

    entity: str
    start: int
    end: int
    text: str
    value: str | None = None


@dataclass(frozen=True)
class Example:
    """One training or test message with its intent and entity annotations."""

    text: str
    intent: str
    language: str
    entities: tuple[Annotation, ...] = ()


@dataclass
class TrainingData:
    """Everything read from a set of Rasa NLU files."""

    examples: list[Example] = field(default_factory=list)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        """Intent names in first-seen order."""
        return list(dict.fromkeys(e.intent for e in self.examples))


def parse_example(line: str) -> tuple[str, tuple[Annotation, ...]]:
    """Return the plain text of an annotated example and its annotations."""
    out: list[str] = []
    annotations: list[Annotation] = []
    pos = 0
    length = 0
    for m in _ANNOTATION.finditer(line):
        before = line[pos:m.start()]
        out.append(before)
        length += len(before)
        text = m.group("text")
        entity, value = m.group("entity"), m.group("value")
        if m.group("json"):
            try:
                spec = json.loads(m.group("json"))
            except json.JSONDecodeError as exc:
                raise ValueError(f"bad entity annotation {m.group(0)!r}: {exc}") from None
            if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
                raise ValueError(f"entity annotation {m.group(0)!r} needs an \"entity\" name")
            entity, value = spec["entity"], spec.get("value")
        annotations.append(Annotation(str(entity), length, length + len(text), text,
                                      None if value is None else str(value)))
        out.append(text)
        length += len(text)
        pos = m.end()
    out.append(line[pos:])
    return "".join(out), tuple(annotations)


def _lines(block: dict[str, Any], where: str) -> list[str]:
    examples = block.get("examples")
    if not isinstance(examples, str):
        raise TrainingDataError(f"{where}: 'examples' must be a '|' block of '- ' lines")
    lines = []
    for raw in examples.splitlines():
        if not raw.strip():
            continue
        if not raw.lstrip().startswith("- "):
            raise TrainingDataError(f"{where}: example line must start with '- ': {raw!r}")
        lines.append(raw.lstrip()[2:].strip())
    return lines


def _read_file(path: Path, data: TrainingData) -> None:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TrainingDataError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("nlu"), list):
        raise TrainingDataError(f"{path}: expected a mapping with an 'nlu:' list")
    language = path.stem if path.stem in LANGUAGES else ""
    for block in doc["nlu"]:
        if not isinstance(block, dict):
            raise TrainingDataError(f"{path}: every 'nlu:' item must be a mapping")
        kind = next((k for k in ("intent", "regex", "lookup", "synonym") if k in block), None)
        if kind is None:
            raise TrainingDataError(f"{path}: unknown block with keys {sorted(block)}")
        name = str(block[kind])
        where = f"{path.name}, {kind} {name!r}"
        lines = _lines(block, where)
        if kind == "intent":
            if not language:
                raise TrainingDataError(f"{where}: intents belong in en.yml or es.yml")
            for line in lines:
                try:
                    text, annotations = parse_example(line)
                except ValueError as exc:
                    raise TrainingDataError(f"{where}: {exc}") from None
                data.examples.append(Example(text, name, language, annotations))
        elif kind == "regex":
            data.regexes.setdefault(name, []).extend(lines)
        elif kind == "lookup":
            data.lookups.setdefault(name, []).extend(lines)
        else:
            data.synonyms.update({variant.lower(): name for variant in lines})


def files_in(where: Path | Iterable[Path]) -> list[Path]:
    """The ``.yml``/``.yaml`` files of a directory (sorted) or the given list."""
    if isinstance(where, Path):
        if where.is_file():
            return [where]
        return sorted(p for p in where.rglob("*") if p.suffix in (".yml", ".yaml"))
    return sorted(where)


def load(where: Path | Iterable[Path] = DATA_DIR / "train") -> TrainingData:
    """Load every Rasa NLU file in ``where`` (a directory, a file or a list of files)."""
    data = TrainingData()
    paths = files_in(where)
    if not paths:
        raise TrainingDataError(f"no NLU data files (*.yml) in {where}")
    for path in paths:
        _read_file(path, data)
    if not data.examples:
        raise TrainingDataError(f"no intent examples in {where}")
    return data


def fingerprint(where: Path | Iterable[Path] = DATA_DIR / "train", extra: str = "") -> str:
    """A hash of the data files' names and contents (plus ``extra``): a model's identity."""
    digest = hashlib.sha256(extra.encode())
    for path in files_in(where):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
