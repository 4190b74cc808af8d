"""The layering: nothing in the package imports the CLI, not even inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import monsterstack

PACKAGE = Path(monsterstack.__file__).parent
CLI = {"cli.py", "__main__.py"}  # the command, and `python -m monsterstack` running it


def imported_modules(source: str, package: str) -> set[str]:
    """Every module `source` (a module of `package`) imports, anywhere in it, absolute."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def package_of(path: Path) -> str:
    return ".".join(("monsterstack", *path.relative_to(PACKAGE).parent.parts))


def test_the_scan_sees_the_cli_imported_inside_a_function_or_relatively() -> None:
    hidden = "def f():\n    from ..cli import main\n"
    assert "monsterstack.cli" in imported_modules(hidden, "monsterstack.kit")
    assert "monsterstack.cli" in imported_modules("from .. import cli", "monsterstack.kit")
    assert "monsterstack.cli" in imported_modules("import monsterstack.cli", "monsterstack.core")


def test_no_module_below_the_cli_imports_it() -> None:
    scanned, offenders = 0, []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).as_posix() in CLI:
            continue
        scanned += 1
        if "monsterstack.cli" in imported_modules(path.read_text(), package_of(path)):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
    assert scanned > 40  # it did look
