"""The reliability suite: real processes (granian, redis-server) under load and faults.

Every test here carries the `reliability` marker (registered below: pyproject.toml is not
this suite's to edit); `-m 'not reliability'` leaves them out, `-m reliability` runs only them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reliability: load and fault-injection scenarios with real servers "
        "(RELIABILITY_PROFILE=short in CI, full via scripts/reliability)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.reliability)
