"""`doorstep nlu ...` as an operator runs it: evaluate reaches the targets on the committed
held-out split, train caches a model, parse prints Rasa's shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)


def _nlu(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NLU_", "RASA_"))}
    environ.update({"DOORSTEP_DATA_DIR": str(tmp_path),
                    "EVENTS_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, **env)
    return subprocess.run([sys.executable, "-m", "bot.cli", "nlu", *args], env=environ,
                          capture_output=True, text=True, timeout=170)


def test_evaluate_meets_the_targets_on_the_held_out_split(tmp_path):
    done = _nlu("evaluate", "--json", "--strict", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["meets_targets"] is True
    assert report["examples"] >= 900
    for language in ("en", "es"):
        figures = report["languages"][language]
        assert figures["intent_accuracy"] >= 0.95 and figures["macro_f1"] >= 0.93
    assert report["entities"]["date"]["recall"] >= 0.95
    assert report["entities"]["time_window"]["recall"] >= 0.95
    assert report["train_seconds"] > 0


def test_evaluate_prints_a_readable_table_and_strict_fails_below_target(tmp_path):
    done = _nlu("evaluate", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "accuracy" in done.stdout and "macro-F1" in done.stdout
    assert "worst confusions" in done.stdout and "time_window" in done.stdout
    strict = _nlu("evaluate", "--strict", tmp_path=tmp_path, NLU_THRESHOLD="0.99")
    assert strict.returncode == 1
    assert "DOES NOT meet" in strict.stdout


def test_train_caches_the_model_and_parse_prints_rasas_shape(tmp_path):
    trained = _nlu("train", tmp_path=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert (tmp_path / "nlu" / "intent-model.joblib").exists()
    parsed = _nlu("parse", "la caja llegó aplastada", "--reference-time",
                  "2026-11-24T10:00:00-05:00", tmp_path=tmp_path)
    assert parsed.returncode == 0, parsed.stderr
    result = json.loads(parsed.stdout)
    assert result["intent"]["name"] == "report_damage"
    assert result["language"] == "es"
    assert set(result) >= {"text", "intent", "intent_ranking", "entities"}
    bad = _nlu("parse", "hi", "--reference-time", "tomorrow", tmp_path=tmp_path)
    assert bad.returncode != 0 and "reference-time" in bad.stderr


def test_broken_training_data_is_named(tmp_path):
    data = tmp_path / "broken"
    data.mkdir()
    (data / "en.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    hello\n")
    done = _nlu("train", "--data", str(data), tmp_path=tmp_path)
    assert done.returncode == 1
    assert "en.yml" in done.stderr and "must start with '- '" in done.stderr
