"""Hostile input against both services: the hypothesis profiles, in-process apps (fast
properties) and real served processes (fewer examples, and schemathesis)."""

from __future__ import annotations

from tests.integration.hostile import strategies  # noqa: F401 - registers and loads the profiles
