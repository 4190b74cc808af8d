"""The checkout the kit works from: where it is, and which commit it holds."""

from __future__ import annotations

import subprocess
from pathlib import Path


class KitError(ValueError):
    """A registry, tag or overlay the kit refuses, with what to do instead."""


def project_root(start: Path | None = None) -> Path:
    """The checkout holding the Dockerfile and deploy/ (searching up from `start` or cwd)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Dockerfile").is_file() and (candidate / "deploy").is_dir():
            return candidate
    raise KitError(
        f"no monsterstack checkout (a Dockerfile beside a deploy/ folder) in {here} or above: "
        "run this from the repository"
    )


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=30
    )
    if done.returncode != 0:
        raise KitError(f"git {' '.join(args)} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout.strip()


def head_revision(root: Path) -> str | None:
    """HEAD's abbreviated commit (`git rev-parse --short=12 HEAD`), or None outside git."""
    try:
        return git(root, "rev-parse", "--short=12", "HEAD")
    except (OSError, subprocess.SubprocessError, KitError):
        return None
