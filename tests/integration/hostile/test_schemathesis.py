"""schemathesis against each service's own OpenAPI, served as a real process: every
operation, positive and negative data, the examples, coverage and fuzzing phases, then the
stateful phase (links between operations); every built-in check (no 5xx, status codes,
content types, headers and bodies as documented, valid data accepted, invalid refused,
`Allow` on 405...). Zero failures is the bar.

Two rules cannot be said in JSON Schema: a name's bound is 512 UTF-8 bytes once
NFC-normalised (a schema counts characters), and a `.svg`/`.png`/`.webp` suffix that
contradicts `format=` is refused. A 422 for schema-valid data is accepted (on /monster/{name},
and on the page for its name) only when the README's rules (strategies.expect) say that
request breaks one of those two, and nothing else; every other check still runs on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import Case, Response
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import positive_data_acceptance

from monsterstack.generator import MAX_NAME_BYTES

from .conftest import Served
from .strategies import PROFILE, examples, expect, norm

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20_260_601,
        "generation": {
            "max-examples": examples(400),
            "deterministic": PROFILE == "ci",
        },
    }
)


def _schema(served: Served, service: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{served.url(service)}/openapi.json", config=CONFIG)


@pytest.fixture(scope="module")
def imagebackend_schema(served: Served) -> schemathesis.BaseSchema:
    return _schema(served, "imagebackend")


@pytest.fixture(scope="module")
def frontend_schema(served: Served) -> schemathesis.BaseSchema:
    return _schema(served, "frontend")


def _name(case: Case) -> str:
    """The name as the server decodes it (schemathesis keeps path parameters encoded)."""
    return unquote(str(case.path_parameters["name"]), errors="strict")


def _query(case: Case) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in (case.query or {}).items() if v is not None]


def inexpressible_refusal(case: Case, response: Response) -> bool:
    """A 422 that the README's rules require for a reason the schema cannot express (see the
    module's docstring): on /monster/{name}, and on the page for a name over 512 bytes."""
    if response.status_code != 422:
        return False
    if case.operation.path == "/monster/{name}":
        want = expect(_name(case), _query(case))
        return not want.ok and set(want.problems) <= {"name", "format"}
    if case.operation.path == "/" and case.method == "GET":
        name = str((case.query or {}).get("name", ""))
        return len(norm(name).encode("utf-8")) > MAX_NAME_BYTES
    return False


def validate(case: Case, response: Response, check: Callable[..., None]) -> None:
    excluded: list[CheckFunction] = []
    if inexpressible_refusal(case, response):
        excluded.append(positive_data_acceptance)
    check(response, excluded_checks=excluded)


imagebackend = schemathesis.pytest.from_fixture("imagebackend_schema")
frontend = schemathesis.pytest.from_fixture("frontend_schema")


@imagebackend.parametrize()
def test_imagebackend_conforms_to_its_openapi(case: Case) -> None:
    response = case.call()
    validate(case, response, lambda r, **kw: case.validate_response(r, **kw))


@frontend.parametrize()
def test_frontend_conforms_to_its_openapi(case: Case) -> None:
    response = case.call()
    validate(case, response, lambda r, **kw: case.validate_response(r, **kw))


def test_stateful_sequences_conform(served: Served) -> None:
    """The frontend's responses feeding later requests (links schemathesis infers between
    its operations). The imagebackend's OpenAPI has none to follow."""
    service = "frontend"
    schema = _schema(served, service)

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            validate(
                case,
                response,
                lambda r, **kw: case.validate_response(r, transport_kwargs=kwargs or None, **kw),
            )

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=examples(100),
            stateful_step_count=6,
            deadline=None,
            derandomize=PROFILE == "ci",
            database=None,
        ),
    )
