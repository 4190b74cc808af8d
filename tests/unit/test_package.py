"""monsterstack as a library: typed (PEP 561's py.typed, in the wheel), and `monsterstack.render`
importable without loading the generator or Pillow until it is used."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from mypy import api as mypy

import monsterstack
import monsterstack.generator

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_py_typed(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv, "uv is not on PATH: scripts/bootstrap installs it"
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("monsterstack-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "monsterstack/py.typed" in names
    assert "monsterstack/__init__.py" in names


def test_render_is_the_generators() -> None:
    assert monsterstack.render is monsterstack.generator.render
    assert "render" in monsterstack.__all__


def test_importing_the_package_loads_neither_the_generator_nor_pillow() -> None:
    probe = (
        "import sys, monsterstack\n"
        "loaded = [m for m in ('monsterstack.generator', 'PIL') if m in sys.modules]\n"
        "assert loaded == [], loaded\n"
        "assert monsterstack.render('ada')[:4] == b'\\x89PNG'\n"
        "assert 'monsterstack.generator' in sys.modules\n"
        "try:\n"
        "    monsterstack.nothing\n"
        "except AttributeError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "module 'monsterstack' has no attribute 'nothing'"


def test_a_type_checker_checks_calls_to_render(tmp_path: Path) -> None:
    """Without py.typed mypy would skip the package ("missing library stubs or py.typed")."""
    user = tmp_path / "user.py"
    user.write_text(
        "from monsterstack import render\n"
        'ok: bytes = render("ada", 64, "svg", "pixel", width=32, height=64, theme="cool")\n'
        'bad = render("ada", fmt=3)\n'
    )
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    out, err, status = mypy.run(
        [
            "--strict",
            "--no-incremental",
            "--cache-dir=/dev/null",
            f"--config-file={tmp_path / 'mypy.ini'}",
            str(user),
        ]
    )
    assert status == 1, (out, err)
    assert out.splitlines()[0] == (
        f'{user}:3: error: Argument "fmt" to "render" has incompatible type "int"; '
        'expected "Format | str"  [arg-type]'
    )
    assert "Found 1 error in 1 file" in out
