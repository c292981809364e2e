"""``python -m bench nlu``: run a benchmark and print its figures."""

from __future__ import annotations

import argparse

from bench import nlu_latency


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="name", required=True)
    nlu = sub.add_parser("nlu", help="NLU parse latency, training and load time, memory")
    nlu.add_argument("--rounds", type=int, default=5, help="Passes over the test messages.")
    args = parser.parse_args()
    if args.name == "nlu":
        nlu_latency.run(args.rounds)


if __name__ == "__main__":
    main()
