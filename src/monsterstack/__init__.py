"""monsterstack: a fast, deterministic monster-avatar service and the stack around it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("monsterstack")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
