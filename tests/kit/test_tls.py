"""components/tls: the Ingress serves its host over HTTPS with a certificate cert-manager issues,
from a CA of its own for monsterstack.local. cert-manager's objects validate against their
vendored schemas (test_manifests.CRD_SCHEMAS); here, that they are wired to each other and to
the Ingress the way cert-manager reads them (no cert-manager runs here)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from . import contract, helm, kube
from .test_manifests import schema_errors, unique

ISSUER = "cert-manager.io/issuer"
CLUSTER_ISSUER = "cert-manager.io/cluster-issuer"


@pytest.fixture(scope="module")
def prod_tls(tmp_path_factory: pytest.TempPathFactory) -> list[kube.Doc]:
    tmp = tmp_path_factory.mktemp("tls")
    return kube.kustomize(helm.write_prod_variant(tmp, [*helm.prod_components(), "components/tls"]))


def _get(docs: list[kube.Doc], kind: str, name: str) -> kube.Doc | None:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found[0] if found else None


def tls_problems(docs: list[kube.Doc]) -> list[str]:
    """How cert-manager would fail to give every Ingress host its certificate."""
    out: list[str] = []
    secrets_of = {
        c["spec"]["secretName"]: c for c in kube.of_kind(docs, "Certificate")
    }  # Secret -> the Certificate that fills it
    for ing in kube.of_kind(docs, "Ingress"):
        name, ns = ing["metadata"]["name"], ing["metadata"].get("namespace")
        annotations = ing["metadata"].get("annotations", {})
        hosts = {r.get("host") for r in ing["spec"].get("rules", [])}
        tls = ing["spec"].get("tls", [])
        if not tls:
            out.append(f"Ingress {name}: no tls")
        covered = {h for entry in tls for h in entry.get("hosts", [])}
        if hosts - covered:
            out.append(f"Ingress {name}: hosts {sorted(hosts - covered)} have no certificate")
        if covered - hosts:
            out.append(f"Ingress {name}: certificate for {sorted(covered - hosts)}, no such rule")
        for entry in tls:
            if not entry.get("secretName"):
                out.append(f"Ingress {name}: a tls entry without secretName")
            elif entry["secretName"] in secrets_of:
                out.append(
                    f"Ingress {name}: Secret {entry['secretName']} is also filled by Certificate "
                    f"{secrets_of[entry['secretName']]['metadata']['name']}"
                )
        if ISSUER in annotations:
            issuer = _get(docs, "Issuer", annotations[ISSUER])
            if issuer is None or issuer["metadata"].get("namespace") != ns:
                out.append(f"Ingress {name}: Issuer {annotations[ISSUER]} is not in {ns}")
        elif CLUSTER_ISSUER not in annotations:
            out.append(f"Ingress {name}: no cert-manager issuer annotation")
    for issuer in kube.of_kind(docs, "Issuer"):
        ca = issuer["spec"].get("ca")
        if ca is None:
            continue
        cert = secrets_of.get(ca["secretName"])
        where = f"Issuer {issuer['metadata']['name']}"
        if cert is None:
            out.append(f"{where}: no Certificate fills its CA Secret {ca['secretName']}")
        elif not cert["spec"].get("isCA"):
            out.append(f"{where}: Certificate {cert['metadata']['name']} is not a CA")
    for cert in kube.of_kind(docs, "Certificate"):
        ref = cert["spec"]["issuerRef"]
        kind = ref.get("kind", "Issuer")
        if kind == "Issuer" and _get(docs, "Issuer", ref["name"]) is None:
            out.append(f"Certificate {cert['metadata']['name']}: no Issuer {ref['name']}")
        if ref["name"] == cert["metadata"]["name"]:
            out.append(f"Certificate {cert['metadata']['name']}: issued by its own CA")
    return out


def test_prod_with_tls_keeps_the_contract_and_schemas(prod_tls: list[kube.Doc]) -> None:
    assert not contract.problems(prod_tls, release="prod")
    errors = [e for d in unique(prod_tls).values() for e in schema_errors(d)]
    assert not errors, "\n".join(errors)
    assert not tls_problems(prod_tls)


def test_monsterstack_local_gets_a_certificate_from_its_own_ca(prod_tls: list[kube.Doc]) -> None:
    [ingress] = kube.of_kind(prod_tls, "Ingress")
    assert ingress["spec"]["tls"] == [
        {"hosts": ["monsterstack.local"], "secretName": "monsterstack-tls"}
    ]
    assert ingress["metadata"]["annotations"] == {ISSUER: "monsterstack-ca"}
    selfsigned = _get(prod_tls, "Issuer", "monsterstack-selfsigned")
    assert selfsigned and selfsigned["spec"] == {"selfSigned": {}}
    ca = _get(prod_tls, "Certificate", "monsterstack-ca")
    assert ca and ca["spec"]["isCA"] is True
    assert ca["spec"]["issuerRef"]["name"] == "monsterstack-selfsigned"
    # the rules are the base's: the component adds HTTPS, it reroutes nothing
    base = kube.kustomize(kube.DEPLOY / "overlays" / "prod")
    [plain] = kube.of_kind(base, "Ingress")
    assert ingress["spec"]["rules"] == plain["spec"]["rules"]


def _other_host(docs: list[kube.Doc]) -> None:
    kube.of_kind(docs, "Ingress")[0]["spec"]["rules"][0]["host"] = "monsters.example"


def _no_annotation(docs: list[kube.Doc]) -> None:
    del kube.of_kind(docs, "Ingress")[0]["metadata"]["annotations"]


def _issuer_gone(docs: list[kube.Doc]) -> None:
    docs.remove(_get(docs, "Issuer", "monsterstack-ca"))


def _not_a_ca(docs: list[kube.Doc]) -> None:
    cert = _get(docs, "Certificate", "monsterstack-ca")
    assert cert
    cert["spec"]["isCA"] = False


def _ca_secret_as_tls(docs: list[kube.Doc]) -> None:
    kube.of_kind(docs, "Ingress")[0]["spec"]["tls"][0]["secretName"] = "monsterstack-ca"


MUTATIONS: dict[str, tuple[Callable[[list[kube.Doc]], None], str]] = {
    "a host without certificate": (_other_host, "have no certificate"),
    "no issuer annotation": (_no_annotation, "no cert-manager issuer annotation"),
    "the CA Issuer missing": (_issuer_gone, "Issuer monsterstack-ca is not in"),
    "the CA certificate not a CA": (_not_a_ca, "is not a CA"),
    "the CA's Secret served to browsers": (_ca_secret_as_tls, "is also filled by"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_tls_check_catches(prod_tls: list[kube.Doc], mutation: str) -> None:
    mutate, expected = MUTATIONS[mutation]
    docs = copy.deepcopy(prod_tls)
    mutate(docs)
    assert any(expected in p for p in tls_problems(docs)), tls_problems(docs)


def test_the_readme_says_how_to_trust_the_ca() -> None:
    readme = (kube.DEPLOY / "README.md").read_text()
    assert "components/tls" in readme
    assert "kubectl -n monsterstack get secret monsterstack-ca" in readme
    assert "https://monsterstack.local" in readme


def test_the_component_is_in_the_combinations() -> None:
    assert "tls" in kube.COMPONENTS
    assert Path(kube.DEPLOY / "components" / "tls" / "issuers.yaml").is_file()
