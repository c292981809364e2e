"""``doorstep nlu ...``: train, evaluate and try the NLU engine."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from bot.settings import Settings
from nlu.training_data import DATA_DIR, TrainingDataError, load


def _settings() -> Settings:
    from bot.cli import _settings as settings_or_exit  # bot.cli imports this module

    return settings_or_exit()


@click.group()
def nlu() -> None:
    """Train, evaluate and try the NLU engine."""


@nlu.command()
@click.option("--data", "data_dir", type=click.Path(exists=True, path_type=Path),
              default=DATA_DIR / "train", show_default=True, help="Rasa NLU YAML files.")
def train(data_dir: Path) -> None:
    """Train the embedded engine and cache it in NLU_MODEL_DIR (DOORSTEP_DATA_DIR/nlu)."""
    from nlu.embedded import MODEL_FILE, load_model

    settings = _settings()
    started = time.perf_counter()
    try:
        load_model(settings.model_dir, data_dir, force_train=True)
        examples = len(load(data_dir).examples)
    except TrainingDataError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"trained on {examples} examples in {time.perf_counter() - started:.1f} s; "
               f"model: {settings.model_dir / MODEL_FILE}")


def _print_report(report: dict, seconds: float, threshold: float) -> None:
    click.echo(f"trained in {seconds:.1f} s; {report['examples']} test examples; "
               f"out_of_scope below confidence {threshold}")
    click.echo(f"\n{'language':<10}{'examples':>9}{'accuracy':>10}{'macro-F1':>10}")
    for lang, v in report["languages"].items():
        click.echo(f"{lang:<10}{v['examples']:>9}{v['intent_accuracy']:>10.1%}"
                   f"{v['macro_f1']:>10.3f}")
    click.echo("\nworst confusions (gold -> predicted):")
    for lang, v in report["languages"].items():
        for c in v["confusions"][:5]:
            click.echo(f"  {lang}  {c['gold']} -> {c['predicted']}: {c['count']}")
    click.echo(f"\n{'entity':<17}{'annotated':>10}{'predicted':>10}{'precision':>10}"
               f"{'recall':>8}")
    for name, v in report["entities"].items():
        click.echo(f"{name:<17}{v['annotated']:>10}{v['predicted']:>10}{v['precision']:>10.1%}"
                   f"{v['recall']:>8.1%}")
    click.echo("\n(recall of date and time_window = exact-match rate of annotated cases)")
    verdict = "meets" if report["meets_targets"] else "DOES NOT meet"
    click.echo(f"targets {report['targets']}: {verdict} them")


@nlu.command()
@click.option("--data", "data_dir", type=click.Path(exists=True, path_type=Path),
              default=DATA_DIR / "train", show_default=True)
@click.option("--test", "test_dir", type=click.Path(exists=True, path_type=Path),
              default=DATA_DIR / "test", show_default=True, help="The held-out split.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 when a target is not met.")
def evaluate(data_dir: Path, test_dir: Path, as_json: bool, strict: bool) -> None:
    """Train on the training data, then score the test split it never saw."""
    from nlu.embedded import EmbeddedNLU, train_model
    from nlu.evaluate import evaluate as score

    settings = _settings()
    started = time.perf_counter()
    try:
        model = train_model(data_dir)
        seconds = time.perf_counter() - started
        report = score(EmbeddedNLU(model, settings.nlu_threshold), test_dir).to_dict()
    except TrainingDataError as exc:
        raise click.ClickException(str(exc)) from None
    report["train_seconds"] = round(seconds, 2)
    report["threshold"] = settings.nlu_threshold
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print_report(report, seconds, settings.nlu_threshold)
    if strict and not report["meets_targets"]:
        raise SystemExit(1)


@nlu.command()
@click.argument("text")
@click.option("--reference-time", default=None,
              help="ISO 8601 with offset [default: now].")
@click.option("--timezone", "tz", default=None, help="IANA zone [default: DEFAULT_TIMEZONE].")
@click.option("--language", type=click.Choice(["en", "es"]), default=None, help="A hint.")
def parse(text: str, reference_time: str | None, tz: str | None,
          language: str | None) -> None:
    """Print what the configured NLU makes of TEXT (Rasa's /model/parse shape)."""
    from webhook_server import default_nlu

    settings = _settings()
    tz = tz or settings.default_timezone
    try:
        zone = ZoneInfo(tz)
        when = datetime.fromisoformat(reference_time) if reference_time else datetime.now(zone)
    except (ValueError, KeyError) as exc:
        raise click.ClickException(f"bad --timezone or --reference-time: {exc}") from None
    if when.tzinfo is None:
        raise click.ClickException("--reference-time needs an offset, e.g. "
                                   "2026-11-24T10:00:00-05:00")
    result = default_nlu(settings).parse(text, when, tz, language)
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
