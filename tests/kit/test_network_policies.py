"""The NetworkPolicies by behaviour: the reachability matrix the rendered policies allow
(tests/kit/netpol.py) is exactly the intended one, and removing any single policy, rule, peer
or port changes it (so every line of components/network-policies is needed and tested).

Each connection is locked twice (the source's egress and the destination's ingress), so the
matrix is checked three ways: allowed end to end, by our pods' egress rules alone, and by our
pods' ingress rules alone; each lock must be right on its own.

Intended, in prod: the ingress-nginx controller's pods and the Gateway's Envoy proxies ->
frontend:5000; Prometheus -> frontend:5000 and imagebackend:8080 (/metrics); frontend ->
imagebackend:8080, redis:6379, kube-dns:53 (UDP and TCP). Nothing else: not the other pods of
those namespaces, not a pod of our own namespace, not the imagebackend or Redis to anything
(they resolve no name and call nobody, so they have no DNS egress either). With a NodePort or
LoadBalancer component the frontend's port is open to any source, as the Service is.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import kube
from .netpol import Connection, Endpoint, matrix, pods_of

Docs = list[kube.Doc]


def _outside(ns: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": ns}


def actors(namespace: str) -> dict[str, Endpoint]:
    """The pods and addresses around ours, labelled as their projects label them."""
    return {
        e.name: e
        for e in (
            Endpoint(
                "ingress-controller",
                "ingress-nginx",
                {
                    "app.kubernetes.io/name": "ingress-nginx",
                    "app.kubernetes.io/instance": "ingress-nginx",
                    "app.kubernetes.io/component": "controller",
                },
                _outside("ingress-nginx"),
            ),
            Endpoint(
                "ingress-admission-job",
                "ingress-nginx",
                {
                    "app.kubernetes.io/name": "ingress-nginx",
                    "app.kubernetes.io/component": "admission-webhook",
                },
                _outside("ingress-nginx"),
            ),
            Endpoint(
                "gateway-proxy",
                "envoy-gateway-system",
                {
                    "app.kubernetes.io/name": "envoy",
                    "app.kubernetes.io/component": "proxy",
                    "app.kubernetes.io/managed-by": "envoy-gateway",
                    "gateway.envoyproxy.io/owning-gateway-name": "monsterstack",
                    "gateway.envoyproxy.io/owning-gateway-namespace": namespace,
                },
                _outside("envoy-gateway-system"),
            ),
            Endpoint(
                "other-gateway-proxy",
                "envoy-gateway-system",
                {
                    "app.kubernetes.io/name": "envoy",
                    "app.kubernetes.io/component": "proxy",
                    "gateway.envoyproxy.io/owning-gateway-name": "internal",
                },
                _outside("envoy-gateway-system"),
            ),
            Endpoint(
                "envoy-gateway-controller",
                "envoy-gateway-system",
                {"control-plane": "envoy-gateway"},
                _outside("envoy-gateway-system"),
            ),
            Endpoint(
                "prometheus",
                "monitoring",
                {"app.kubernetes.io/name": "prometheus"},
                _outside("monitoring"),
            ),
            Endpoint(
                "kube-dns",
                "kube-system",
                {"k8s-app": "kube-dns"},
                _outside("kube-system"),
                {"dns": 53, "dns-tcp": 53, "metrics": 9153},
            ),
            Endpoint(
                "other-kube-system-pod",
                "kube-system",
                {"k8s-app": "kube-proxy"},
                _outside("kube-system"),
            ),
            # other apps' pods, with ports named as ours are
            Endpoint("stranger", "default", {"app": "web"}, _outside("default"), {"http": 8080}),
            Endpoint(
                "someone-elses-redis",
                "default",
                {"app": "redis"},
                _outside("default"),
                {"redis": 6379},
            ),
            # a pod of our namespace that is none of our services (kubectl run debug ...)
            Endpoint("debug", namespace, {"run": "debug"}, _outside(namespace)),
            Endpoint("internet", ip="203.0.113.10"),
            Endpoint("client", ip="198.51.100.7"),  # a user, through a NodePort/LoadBalancer
        )
    }


OURS = ("frontend", "imagebackend", "redis")
INTENDED = {
    Connection("ingress-controller", "frontend", 5000),
    Connection("gateway-proxy", "frontend", 5000),
    Connection("prometheus", "frontend", 5000),
    Connection("prometheus", "imagebackend", 8080),
    Connection("frontend", "imagebackend", 8080),
    Connection("frontend", "redis", 6379),
    Connection("frontend", "kube-dns", 53, "UDP"),
    Connection("frontend", "kube-dns", 53, "TCP"),
}
# A NodePort/LoadBalancer serves whoever reaches a node: the frontend's port from any source.
EXPOSURES = {
    "prod": ((), False),
    "prod+gateway-api": (("gateway-api",), False),
    "prod+frontend-nodeport": (("frontend-nodeport",), True),
    "prod+frontend-loadbalancer": (("frontend-loadbalancer",), True),
}


def endpoints_of(docs: Docs) -> dict[str, Endpoint]:
    [namespace] = {d["metadata"]["namespace"] for d in docs if d["kind"] == "Deployment"}
    ours = {p.name: p for p in pods_of(docs)}
    assert set(ours) == set(OURS), f"the matrix knows {OURS}, the rendering runs {set(ours)}"
    return {**actors(namespace), **ours}


def probes(endpoints: dict[str, Endpoint]) -> Iterator[Connection]:
    """Every pair where one side is ours, on each port either side exposes, on 53 (UDP and
    TCP), and on a port nobody serves."""
    for src in endpoints.values():
        for dst in endpoints.values():
            if src.name not in OURS and dst.name not in OURS:
                continue
            ports = {*dst.ports.values(), *src.ports.values(), 443, 9999}
            for port in sorted(ports):
                yield Connection(src.name, dst.name, port, "TCP")
            yield Connection(src.name, dst.name, 53, "UDP")


def policies_of(docs: Docs) -> Docs:
    return [d for d in docs if d["kind"] == "NetworkPolicy"]


@pytest.fixture(scope="module")
def exposures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Docs]:
    tmp: Path = tmp_path_factory.mktemp("exposures")
    jobs = {
        name: kube.write_overlay_with(tmp, "prod", components)
        if components
        else kube.DEPLOY / "overlays" / "prod"
        for name, (components, _) in EXPOSURES.items()
    }
    return kube.render_many(jobs)


def views(policies: Docs, endpoints: dict[str, Endpoint], grid: list[Connection]) -> dict:
    """What is allowed end to end, by our pods' egress rules alone, by their ingress alone."""
    return {
        "end to end": matrix(policies, endpoints, grid),
        "our egress": matrix(policies, endpoints, [c for c in grid if c.src in OURS], "egress"),
        "our ingress": matrix(policies, endpoints, [c for c in grid if c.dst in OURS], "ingress"),
    }


def intended_views(grid: list[Connection], public: bool) -> dict:
    opened = {c for c in grid if c.dst == "frontend" and c.port == 5000 and c.protocol == "TCP"}
    # end to end, the sources whose own egress is free (not ours, not debug's)
    reach = {c for c in opened if c.src not in (*OURS, "debug")} if public else set()
    return {
        "end to end": INTENDED | reach,
        "our egress": {c for c in INTENDED if c.src in OURS},
        "our ingress": {c for c in INTENDED if c.dst in OURS} | (opened if public else set()),
    }


def differences(got: dict, want: dict) -> list[str]:
    out = []
    for view in want:
        for c in sorted(want[view] - got[view], key=str):
            out.append(f"{view}: refused, intended: {c}")
        for c in sorted(got[view] - want[view], key=str):
            out.append(f"{view}: allowed, not intended: {c}")
    return out


@pytest.mark.parametrize("exposure", sorted(EXPOSURES))
def test_the_policies_allow_exactly_the_intended_matrix(
    exposures: dict[str, Docs], exposure: str
) -> None:
    docs = exposures[exposure]
    endpoints = endpoints_of(docs)
    grid = list(probes(endpoints))
    assert set(grid) >= INTENDED, "the matrix probes every intended connection"
    want = intended_views(grid, EXPOSURES[exposure][1])
    wrong = differences(views(policies_of(docs), endpoints, grid), want)
    assert not wrong, "\n".join(wrong)


# ---- removing any single piece changes the matrix ----


def single_removals(policies: Docs) -> Iterator[tuple[str, Callable[[Docs], None]]]:
    """(what, a function removing it from a deep copy of the policies) for every policy, every
    ingress/egress rule, every peer of a rule and every port entry."""
    for i, policy in enumerate(policies):
        name = policy["metadata"]["name"]

        def drop_policy(ps: Docs, i: int = i) -> None:
            del ps[i]

        yield f"NetworkPolicy {name}", drop_policy
        for key, peers_key in (("ingress", "from"), ("egress", "to")):
            for r, rule in enumerate(policy["spec"].get(key) or []):

                def drop_rule(ps: Docs, i: int = i, key: str = key, r: int = r) -> None:
                    del ps[i]["spec"][key][r]

                yield f"{name} {key}[{r}]", drop_rule
                for what in (peers_key, "ports"):
                    for e in range(len(rule.get(what) or [])):

                        def drop_entry(
                            ps: Docs,
                            i: int = i,
                            key: str = key,
                            r: int = r,
                            what: str = what,
                            e: int = e,
                        ) -> None:
                            del ps[i]["spec"][key][r][what][e]

                        yield f"{name} {key}[{r}].{what}[{e}]", drop_entry


@pytest.mark.parametrize("exposure", sorted(EXPOSURES))
def test_removing_any_single_rule_changes_the_matrix(
    exposures: dict[str, Docs], exposure: str
) -> None:
    docs = exposures[exposure]
    endpoints = endpoints_of(docs)
    grid = list(probes(endpoints))
    policies = policies_of(docs)
    public = EXPOSURES[exposure][1]
    want = intended_views(grid, public)
    removals = list(single_removals(policies))
    assert len(removals) > 20
    if public:  # the open port subsumes the frontend's other ingress rules: its own rules count
        removals = [(w, r) for w, r in removals if "frontend-from-anywhere" in w]
        assert removals
    unnoticed = []
    for what, remove in removals:
        mutated = copy.deepcopy(policies)
        remove(mutated)
        if not differences(views(mutated, endpoints, grid), want):
            unnoticed.append(what)
    assert not unnoticed, f"removing these changes nothing the matrix sees: {unnoticed}"
