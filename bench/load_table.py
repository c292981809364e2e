"""The table ``python -m bench load`` prints: each figure, its baseline, the ratio, errors,
the issue's target and PASS/MISS. A row with errors is never a PASS."""

from __future__ import annotations

import argparse
from typing import Any

P99_AT_50_MS = 50.0
TURNS_SHARE_OF_BASELINE = 0.5
EVENTS_PER_S = 1000.0
REPLY_P99_MS = 1000.0
WEB_RSS_MB = 250.0
COLUMNS = ("figure", "Doorstep", "baseline", "ratio", "errors", "target", "result")
WIDTHS = (38, 22, 22, 13, 6, 20, 6)

Row = tuple[str, str, str, str, str, str, str]


def _n(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ms(result: dict[str, Any], p50: str = "p50", p99: str = "p99") -> str:
    return f"{_n(result[p50], 1)} / {_n(result[p99], 1)} ms"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.2f}"


def _errors(result: dict[str, Any]) -> int:
    return sum(result["errors"].values())


def _verdict(passed: bool, result: dict[str, Any] | None = None) -> str:
    if result is not None and _errors(result):
        return "MISS*"
    return "PASS" if passed else "MISS"


def rows(args: argparse.Namespace, found: dict[str, Any]) -> list[Row]:
    """Every row of the table, in order."""
    table: list[Row] = []
    base = found["baseline"]
    for level in found["levels"]:
        ds, b = found["turns"][level], base[level]
        share = ds["rate"] / b["rate"] if b["rate"] else 0.0
        table.append((f"SMS turns/s, {level} conversation{'s' * (level > 1)}",
                      _n(ds["rate"]), f"{_n(b['rate'])} req/s", _ratio(ds["rate"], b["rate"]),
                      str(_errors(ds)), f">= {TURNS_SHARE_OF_BASELINE:.2f} x baseline",
                      _verdict(share >= TURNS_SHARE_OF_BASELINE, ds)))
        at_50 = level == 50
        table.append(("  latency p50 / p99", _ms(ds), _ms(b),
                      f"{_ratio(ds['p50'], b['p50'])} / {_ratio(ds['p99'], b['p99'])}", "",
                      f"p99 <= {P99_AT_50_MS:.0f} ms" if at_50 else "",
                      _verdict((ds["p99"] or 1e9) <= P99_AT_50_MS, ds) if at_50 else ""))
        table.append(_cost_row("  CPU/turn web+queue+Redis", ds, b))
    ev, b = found["events"], base[args.events_concurrency]
    table.append((f"events/s, {args.events_concurrency} in flight", _n(ev["rate"]),
                  f"{_n(b['rate'])} req/s (SMS)", _ratio(ev["rate"], b["rate"]),
                  str(_errors(ev)), f">= {EVENTS_PER_S:.0f} events/s",
                  _verdict(ev["rate"] >= EVENTS_PER_S, ev)))
    table.append(("  latency p50 / p99", _ms(ev), _ms(b),
                  f"{_ratio(ev['p50'], b['p50'])} / {_ratio(ev['p99'], b['p99'])}", "", "", ""))
    table.append(_cost_row("  CPU/event web+queue+Redis", ev, b))
    rep, bo = found["replies"], found["baseline_open"]
    table.append((f"reply time at {_n(args.rate)} turns/s p50/p99", _ms(rep, "reply_p50",
                   "reply_p99"), _ms(bo) + " (HTTP)",
                   f"{_ratio(rep['reply_p50'], bo['p50'])} / "
                   f"{_ratio(rep['reply_p99'], bo['p99'])}", str(_errors(rep)),
                   f"p99 <= {REPLY_P99_MS:.0f} ms",
                   _verdict((rep["reply_p99"] or 1e9) <= REPLY_P99_MS, rep)))
    table.append(("  webhook answered p50 / p99", _ms(rep), _ms(bo),
                  f"{_ratio(rep['p50'], bo['p50'])} / {_ratio(rep['p99'], bo['p99'])}",
                  str(_errors(bo)), "", ""))
    ping = found["ping"]
    table.append(("Redis PING/s (redis-py), 1 / 50 clients", "",
                  f"{_n(ping[1]['rate'])} / {_n(ping[50]['rate'])}", "", "", "", ""))
    if "drain" in found:
        table.append(_drain_row(found["drain"]))
    rss = found["rss"]
    table.append(("RSS per web worker (MB)", " / ".join(_n(m) for m in rss["web"]),
                  " / ".join(_n(m) for m in rss["baseline"]),
                  _ratio(max(rss["web"]), max(rss["baseline"])), "",
                  f"<= {WEB_RSS_MB:.0f} MB", _verdict(max(rss["web"]) <= WEB_RSS_MB)))
    table.append(("RSS per queue worker (MB)", " / ".join(_n(m) for m in rss["queue"]),
                  "", "", "", "", ""))
    return table


def _cost_row(name: str, result: dict[str, Any], baseline: dict[str, Any]) -> Row:
    """CPU per handled request, split by process kind (step and queue backlog included)."""
    cost, web = result["cost"], baseline["cost"]["baseline"]
    split = "+".join(_n(cost.get(kind), 1) for kind in ("web", "queue", "redis"))
    return (name, f"{split} ms", f"{_n(web, 2)} ms (web)", f"{_ratio(cost['web'], web)} (web)",
            "", "", "")


def _drain_row(drain: dict[str, Any]) -> Row:
    lost = (drain["cases"] != drain["count"] or drain["received"] != drain["expected"]
            or drain["reached"] != drain["count"] or drain["dead"] or drain["rejected"])
    seconds = drain["seconds"]
    rate = drain["count"] / seconds if seconds else None
    return (f"drain {drain['count']:,} events: all 1st texts", f"{_n(seconds, 1)} s",
            f"{_n(rate)} cases/s", "", str(_errors(drain["posted"])), "drained without loss",
            _verdict(not lost, drain["posted"]))


def notes(args: argparse.Namespace, found: dict[str, Any]) -> list[str]:
    """What the table does not say: error kinds, backlogs, the drain's counts."""
    lines = []
    for level in found["levels"]:
        ds = found["turns"][level]
        lines.append(f"{level} conversation(s): {ds['cost']['commands']:.0f} Redis commands "
                     f"per turn; the queue needed {ds['backlog_s']:.1f} s after the step to "
                     "send the replies (not timed)")
    ev = found["events"]
    lines.append(f"events ({ev['ok']:,} cases): {ev['cost']['commands']:.0f} Redis commands "
                 f"per event; the queue needed {ev['backlog_s']:.1f} s after the step to send "
                 "the first texts (not timed)")
    if "drain" in found:
        d = found["drain"]
        lines.append(f"drain: posted in {d['posted']['elapsed']:.1f} s "
                     f"({d['posted']['rate']:,.0f} events/s); cases {d['cases']:,}/"
                     f"{d['count']:,}, texts received {d['received']:,}/{d['expected']:,}, "
                     f"phones reached {d['reached']:,}, dead letters {d['dead']}")
    named = [("SMS turns", found["turns"][lv]) for lv in found["levels"]]
    named += [("baseline", b) for b in found["baseline"].values()]
    named += [("events", ev), ("reply time", found["replies"])]
    for name, result in named:
        if result["errors"]:
            lines.append(f"{name}: errors {result['errors']}")
        if result.get("exhausted"):
            lines.append(f"{name}: ran out of pre-signed requests before the step's end")
    delayed = found["delayed"]
    lines.append(f"delayed jobs left in Redis: {delayed['idle']:,} reminder checks (one per "
                 f"turn or case), {delayed['outbound_next']:,} send-order watchdogs")
    if found["rejected_sends"]:
        lines.append(f"fake Twilio refused {found['rejected_sends']} send(s) Twilio would refuse")
    lines.append("* a row with errors is a MISS whatever its figure")
    return lines


def print_table(args: argparse.Namespace, found: dict[str, Any], seconds: float) -> None:
    """Print the header, the table and the notes."""
    web = f"{args.web_workers} {args.worker_class} web workers" + (
        f" x {args.threads} threads" if args.worker_class == "gthread" else "")
    print(f"Doorstep load bench: {web}, {args.queue_workers} queue worker(s) x "
          f"{args.queue_threads} threads, Redis {found['redis_version']}; "
          f"{args.duration:g} s per step; run took {seconds:.0f} s")
    print()
    for row in [COLUMNS, tuple("-" * w for w in WIDTHS), *rows(args, found)]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, WIDTHS, strict=True))
              .rstrip())
    print()
    for line in notes(args, found):
        print(line)
