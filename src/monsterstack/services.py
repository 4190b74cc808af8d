"""The services monsterstack runs: name -> (app factory, settings class), as dotted paths.

A leaf module: the CLI serves them, the kit builds an image for each, the tests read it. Dotted
paths, so that importing this table imports neither service.
"""

from __future__ import annotations

SERVICES: dict[str, tuple[str, str]] = {
    "imagebackend": (
        "monsterstack.imagebackend.app:app_from_env",
        "monsterstack.imagebackend.settings:ImagebackendSettings",
    ),
    "frontend": (
        "monsterstack.frontend.app:app_from_env",
        "monsterstack.frontend.settings:FrontendSettings",
    ),
}
