"""`monsterstack render`: the service's parameters on the command line, the same bytes as the
imagebackend answers, and a clear message (never a traceback) for a bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from monsterstack.cli import main
from monsterstack.generator import render

PARAMETERS = [
    ([], {}),
    (["--size", "64"], {"size": 64}),
    (["--width", "96", "--height", "40"], {"width": 96, "height": 40}),
    (["--size", "48", "--height", "100"], {"size": 48, "height": 100}),
    (["--style", "pixel", "--theme", "warm"], {"style": "pixel", "theme": "warm"}),
    (["--theme", "cool", "--format", "svg"], {"theme": "cool", "format": "svg"}),
    (["--format", "webp", "--width", "30"], {"format": "webp", "width": 30}),
]


@pytest.mark.parametrize(("argv", "query"), PARAMETERS)
async def test_render_writes_what_the_imagebackend_answers(
    argv: list[str],
    query: dict[str, str | int],
    imagebackend_client: httpx.AsyncClient,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert main(["render", "Ada Lovelace", *argv]) == 0
    written = capsysbinary.readouterr().out
    answer = await imagebackend_client.get("/monster/Ada Lovelace", params=query)
    assert answer.status_code == 200
    assert written == answer.content


def test_render_to_a_file_takes_the_format_from_its_suffix(tmp_path: Path) -> None:
    out = tmp_path / "ada.SVG"
    assert main(["render", "ada", "--width", "120", "--theme", "warm", "-o", str(out)]) == 0
    assert out.read_bytes() == render("ada", fmt="svg", width=120, theme="warm")
    assert b'width="120" height="80"' in out.read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--size", "8"], "argument --size: must be from 16 to 1024"),
        (["--width", "2000"], "argument --width: must be from 16 to 1024"),
        (["--height", "tall"], "argument --height: not an integer: 'tall'"),
        (["--theme", "blue"], "argument --theme: invalid choice: 'blue'"),
        (["--style", "cubist"], "argument --style: invalid choice: 'cubist'"),
        (["--format", "gif"], "argument --format: invalid choice: 'gif'"),
    ],
)
def test_a_bad_value_is_named_and_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["render", "ada", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "usage: monsterstack render" in err


def test_through_the_installed_command_errors_are_messages_not_tracebacks(
    tmp_path: Path,
) -> None:
    """The real entry point, as a user runs it: exit codes and stderr."""

    def run(*argv: str) -> subprocess.CompletedProcess[bytes]:
        command = [sys.executable, "-m", "monsterstack.cli", "render", *argv]
        return subprocess.run(command, capture_output=True, timeout=60)

    cases = {
        ("x" * 513,): (2, "monsterstack render: name must be at most 512 UTF-8 bytes"),
        ("ada", "-o", str(tmp_path / "no" / "such" / "dir.png")): (
            1,
            "monsterstack render: cannot write",
        ),
        ("ada", "--theme", "neon"): (2, "argument --theme: invalid choice: 'neon'"),
        ("ada", "--width", "0"): (2, "argument --width: must be from 16 to 1024"),
    }
    for argv, (code, message) in cases.items():
        done = run(*argv)
        err = done.stderr.decode()
        assert (done.returncode, done.stdout) == (code, b""), argv
        assert message in err and "Traceback" not in err, err
    ok = run("ada", "--width", "64", "--height", "32", "--style", "pixel", "-o", "-")
    assert (ok.returncode, ok.stderr) == (0, b"")
    assert ok.stdout == render("ada", width=64, height=32, style="pixel")
