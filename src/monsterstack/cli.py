"""The `monsterstack` command: thin glue from arguments to the services and the generator."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .core.settings import ServiceSettings
from .generator import (
    DEFAULT_SIZE,
    DEFAULT_STYLE,
    DEFAULT_THEME,
    MAX_SIZE,
    MIN_SIZE,
    Format,
    Style,
    Theme,
)
from .services import SERVICES


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"must be from {MIN_SIZE} to {MAX_SIZE}")
    return value


def _settings_class(dotted: str) -> type[ServiceSettings]:
    import importlib

    module, _, attr = dotted.partition(":")
    cls: type[ServiceSettings] = getattr(importlib.import_module(module), attr)
    return cls


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    from .core import logging as mlogging
    from .core.server import serve
    from .core.settings import ConfigError, load

    factory, settings_path = SERVICES[args.service]
    # Command-line options win over the environment; the workers read the environment.
    for option, env in (("host", "HOST"), ("port", "PORT"), ("workers", "WORKERS")):
        value = getattr(args, option)
        if value is not None:
            os.environ[env] = str(value)
    try:
        settings = load(_settings_class(settings_path))
    except ConfigError as exc:
        print(f"monsterstack {args.service}: {exc}", file=sys.stderr)
        return 2
    mlogging.configure(settings.context, settings.log_level, args.service)
    serve(factory, settings)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .generator import render

    fmt = Format(args.format) if args.format else None
    suffix = Path(args.output).suffix.lstrip(".").lower() if args.output else ""
    if fmt is None and suffix in Format.__members__.values():
        fmt = Format(suffix)
    try:
        data = render(
            args.name,
            args.size,
            fmt or Format.PNG,
            args.style,
            width=args.width,
            height=args.height,
            theme=args.theme,
        )
    except ValueError as exc:  # a name over MAX_NAME_BYTES
        print(f"monsterstack render: {exc}", file=sys.stderr)
        return 2
    if args.output in (None, "-"):
        sys.stdout.buffer.write(data)
        return 0
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        print(f"monsterstack render: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def cmd_sheet(args: argparse.Namespace) -> int:
    from .generator.sheet import sample_names, sheet

    Path(args.output).write_bytes(
        sheet(sample_names(args.count), args.cell, args.columns, args.style)
    )
    print(f"wrote {args.count} monsters to {args.output}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from .stack import up

    return up(args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="monsterstack", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run one service")
    s.add_argument("service", choices=sorted(SERVICES))
    s.add_argument("--host", help="address to listen on (env HOST, default 0.0.0.0)")
    s.add_argument("--port", type=int, help="port (env PORT; imagebackend 8080, frontend 5000)")
    s.add_argument(
        "--workers",
        type=int,
        help="worker processes (env WORKERS; imagebackend: the CPUs it may use, frontend: 1)",
    )
    s.set_defaults(func=cmd_serve)

    r = sub.add_parser(
        "render",
        help="draw one monster to a file or stdout",
        description="Draw the monster for NAME, as the imagebackend's /monster/NAME does with "
        "the same parameters (byte for byte).",
    )
    r.add_argument("name")
    bounds = f"{MIN_SIZE}-{MAX_SIZE}"
    r.add_argument(
        "--size",
        type=_size,
        default=DEFAULT_SIZE,
        help=f"square side, {bounds} (default: %(default)s)",
    )
    for side in ("width", "height"):
        r.add_argument(
            f"--{side}",
            type=_size,
            help=f"the canvas {side}, {bounds}, the monster centred (default: --size)",
        )
    r.add_argument("--format", choices=[f.value for f in Format], help="default: from -o, else png")
    r.add_argument(
        "--style",
        choices=[s.value for s in Style],
        default=DEFAULT_STYLE.value,
        help="default: %(default)s",
    )
    r.add_argument(
        "--theme",
        choices=[t.value for t in Theme],
        default=DEFAULT_THEME.value,
        help="colours (default: %(default)s)",
    )
    r.add_argument("-o", "--output", help="file to write (default: stdout)")
    r.set_defaults(func=cmd_render)

    h = sub.add_parser("sheet", help="a grid of monsters, to look at the art")
    h.add_argument("-o", "--output", default="sheet.png")
    h.add_argument("--count", type=int, default=64)
    h.add_argument("--columns", type=int, default=8)
    h.add_argument("--cell", type=_size, default=128)
    h.add_argument("--style", choices=[s.value for s in Style], default=DEFAULT_STYLE.value)
    h.set_defaults(func=cmd_sheet)

    u = sub.add_parser("up", help="run the whole stack on this machine")
    u.add_argument("--host", default="127.0.0.1")
    u.add_argument("--port", type=int, default=5000, help="the page's port")
    u.add_argument("--backend-port", type=int, default=8080)
    u.add_argument("--redis", action="store_true", help="start a local redis-server too")
    u.add_argument("--redis-port", type=int, default=6379)
    u.add_argument(
        "--monitoring", action="store_true", help="start a local Prometheus too (Debian's)"
    )
    u.add_argument("--prometheus-port", type=int, default=9090)
    u.set_defaults(func=cmd_up)

    from .kit import add_commands  # `images`, `manifests`, `kube-play`: the kit
    from .rollout.command import add_commands as add_rollout  # `rollout watch`

    add_commands(sub)
    add_rollout(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
