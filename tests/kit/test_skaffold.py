"""skaffold.yaml is written in the newest configuration version a released skaffold 2.x reads,
and validates against that version's schema (deploy/schemas/skaffold-v4beta14.subset.json:
skaffold's own types and enums for the fields the kit uses, anything else refused; its source
in deploy/schemas/README.md). test_files.py checks what the fields point at (the Dockerfile's
stages, the overlays, the Services forwarded)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from . import kube

# The newest skaffold release when the schema was written, and the config version it reads
# (its pkg/skaffold/schema/latest: `const Version string = "skaffold/v4beta14"`).
SKAFFOLD_RELEASE = "v2.24.0"
CONFIG_VERSION = "skaffold/v4beta14"
SCHEMA = kube.DEPLOY / "schemas" / "skaffold-v4beta14.subset.json"


def config() -> dict[str, Any]:
    loaded: dict[str, Any] = kube.load_yaml(kube.ROOT / "skaffold.yaml")
    return loaded


def errors(doc: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc)]


def test_skaffold_yaml_is_the_newest_config_version() -> None:
    assert config()["apiVersion"] == CONFIG_VERSION
    assert json.loads(SCHEMA.read_text())["properties"]["apiVersion"] == {"const": CONFIG_VERSION}
    readme = (kube.DEPLOY / "schemas" / "README.md").read_text()
    assert SCHEMA.name in readme and SKAFFOLD_RELEASE in readme


def test_skaffold_yaml_validates_against_its_schema() -> None:
    assert not errors(config()), "\n".join(errors(config()))


def _old_version(doc: dict[str, Any]) -> None:
    doc["apiVersion"] = "skaffold/v4beta11"


def _typo(doc: dict[str, Any]) -> None:
    doc["build"]["artifact"] = doc["build"].pop("artifacts")


def _variant(doc: dict[str, Any]) -> None:
    doc["build"]["tagPolicy"]["gitCommit"]["variant"] = "ShortSha"


def _concurrency(doc: dict[str, Any]) -> None:
    doc["build"]["local"]["concurrency"] = "1"


def _profile_key(doc: dict[str, Any]) -> None:
    doc["profiles"][0]["manifest"] = doc["profiles"][0].pop("manifests")


def _forward_port(doc: dict[str, Any]) -> None:
    doc["portForward"][0]["localPort"] = "5000"


def _no_image(doc: dict[str, Any]) -> None:
    del doc["build"]["artifacts"][0]["image"]


def _v1_key(doc: dict[str, Any]) -> None:
    # skaffold v1's deploy.kustomize, moved to manifests.kustomize in v2 (skaffold/v3+)
    doc["deploy"]["kustomize"] = {"paths": ["deploy/overlays/dev"]}


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "an older config version": (_old_version, "skaffold/v4beta14"),
    "a misspelt key": (_typo, "'artifact' was unexpected"),
    "a tagger variant skaffold does not know": (_variant, "'ShortSha' is not one of"),
    "a string for an integer": (_concurrency, "is not of type 'integer'"),
    "a misspelt profile key": (_profile_key, "'manifest' was unexpected"),
    "a string for a port": (_forward_port, "is not of type 'integer'"),
    "an artifact without image": (_no_image, "'image' is a required property"),
    "skaffold v1's deploy.kustomize": (_v1_key, "'kustomize' was unexpected"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_schema_catches(mutation: str) -> None:
    mutate, expected = MUTATIONS[mutation]
    doc = copy.deepcopy(config())
    mutate(doc)
    found = errors(doc)
    assert any(expected in e for e in found), found
