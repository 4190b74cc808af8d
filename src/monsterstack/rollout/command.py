"""`monsterstack rollout watch URL`: the subcommand (arguments in, report and plot out)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .watch import MAX_DURATION, MAX_RATE, MAX_TIMEOUT


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def cmd_watch(args: argparse.Namespace) -> int:
    from .plot import save
    from .watch import WatchOptions, run

    try:
        options = WatchOptions(
            args.url, args.rate, args.duration, args.timeout, tuple(args.header or ())
        )
    except ValueError as exc:
        print(f"monsterstack rollout watch: {exc}", file=sys.stderr)
        return 2
    timeline = run(options)
    print()
    print(timeline.summary())
    if args.out:
        path = save(timeline, Path(args.out), f"answers by version: {args.url}")
        print(f"\nplot: {path}")
    return 0 if any(s.ok for s in timeline.samples) else 1


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `rollout watch` to the `monsterstack` command's subcommands."""
    rollout = sub.add_parser("rollout", help="watch a version switch happen")
    verbs = rollout.add_subparsers(dest="rollout_command", required=True)
    w = verbs.add_parser(
        "watch",
        help="requests at a steady rate; a live chart of answers by version, errors, timeouts",
        description="The course's `while sleep 0.1; do curl $URL; done`, bounded and measured: "
        "reads X-Monsterstack-Version from every answer.",
    )
    w.add_argument("url", help="e.g. http://127.0.0.1:5000/version or the Ingress' URL")
    w.add_argument(
        "--rate", type=float, default=10.0, help=f"requests per second (<= {MAX_RATE:g})"
    )
    w.add_argument(
        "--duration", type=float, default=60.0, help=f"seconds to watch (<= {MAX_DURATION:g})"
    )
    w.add_argument(
        "--timeout",
        type=float,
        default=1.0,
        help=f"seconds before a request counts as a timeout (<= {MAX_TIMEOUT:g})",
    )
    w.add_argument(
        "-H",
        "--header",
        type=_header,
        action="append",
        help="extra request header, repeatable: 'Host: monsterstack.local', 'X-Canary: always'",
    )
    w.add_argument(
        "--out",
        default="rollout.svg",
        help="the share-by-version plot: .svg or .png (default rollout.svg; '' for none)",
    )
    w.set_defaults(func=cmd_watch)
