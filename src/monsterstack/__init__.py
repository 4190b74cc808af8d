"""monsterstack: a fast, deterministic monster-avatar service and the stack around it.

As a library: `monsterstack.render(name, size=80, fmt="png", style="smooth", *, width=None,
height=None, theme="classic") -> bytes` (the same function as `monsterstack.generator.render`,
loaded on first use: `import monsterstack` stays light).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .generator import render as render

try:
    __version__ = version("monsterstack")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__", "render"]


def __getattr__(name: str) -> Any:
    if name == "render":
        from .generator import render

        return render
    raise AttributeError(f"module 'monsterstack' has no attribute {name!r}")
