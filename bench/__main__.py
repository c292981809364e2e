"""``python -m bench nlu|insights|load|profile``: run a benchmark and print its figures."""

from __future__ import annotations

import argparse
import os

from bench import insights, load, nlu_latency, profile_turn


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="name", required=True)
    nlu = sub.add_parser("nlu", help="NLU parse latency, training and load time, memory")
    nlu.add_argument("--rounds", type=int, default=5, help="Passes over the test messages.")
    ins = sub.add_parser("insights", help="Insights at scale: seeding, figures, CSV, the page "
                         "over HTTP, what recording adds to a turn")
    ins.add_argument("--cases", type=int, default=100_000, help="Synthetic cases to seed.")
    ins.add_argument("--runs", type=int, default=20, help="Timed runs per figure.")
    ins.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                     help="Processes seeding at once [default: 2, or 1 with one CPU].")
    load.add_arguments(sub.add_parser(
        "load", help="Doorstep under gunicorn and Redis, driven over loopback, beside a "
        "baseline app: turns/s, latency, events/s, reply time, drain, memory"))
    prof = sub.add_parser("profile", help="Where an SMS turn's time goes: the app in this "
                          "process, real Redis, a pyinstrument tree")
    prof.add_argument("--turns", type=int, default=600, help="Timed turns.")
    prof.add_argument("--conversations", type=int, default=50, help="Customers taking turns.")
    args = parser.parse_args()
    if args.name == "nlu":
        nlu_latency.run(args.rounds)
    elif args.name == "insights":
        insights.run(args.cases, args.runs, args.workers)
    elif args.name == "load":
        load.run(args)
    elif args.name == "profile":
        profile_turn.run(args.turns, args.conversations)


if __name__ == "__main__":
    main()
