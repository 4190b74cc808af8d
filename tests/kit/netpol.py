"""Who can reach whom under a set of NetworkPolicies: the semantics of networking.k8s.io/v1,
evaluated on the rendered objects (no cluster, no CNI).

A connection src -> dst:port/protocol is allowed when src's egress allows it and dst's ingress
does. A pod is isolated in a direction when a policy of its namespace selects it with that
policy type; then only the rules of those policies let traffic through (their union). A peer
is a podSelector (the policy's namespace), a namespaceSelector (any pod of those namespaces),
both (the pods they select together), or an ipBlock; no `from`/`to` is every source; no
`ports` every port. Named ports resolve on the destination pod. What a CNI adds on top (the
node's own traffic to its pods for probes, an ipBlock's meaning for pod addresses) is not
modelled: peers here are pods, and `Endpoint`s outside the cluster that have only an address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .kube import Doc, container_ports, selects


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels), or something outside the cluster (only an address)."""

    name: str
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str | int, int] = field(default_factory=dict)
    ip: str | None = None


@dataclass(frozen=True)
class Connection:
    src: str
    dst: str
    port: int
    protocol: str = "TCP"

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst}:{self.port}/{self.protocol}"


def pods_of(docs: Iterable[Doc]) -> list[Endpoint]:
    """Our pods, one per workload of the rendering (named after it), in its namespace."""
    docs = list(docs)
    ns_labels = {
        d["metadata"]["name"]: d["metadata"].get("labels", {})
        for d in docs
        if d["kind"] == "Namespace"
    }
    out = []
    for doc in docs:
        if doc["kind"] not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        ns = doc["metadata"]["namespace"]
        template = doc["spec"]["template"]
        out.append(
            Endpoint(
                name=doc["metadata"]["name"],
                namespace=ns,
                labels=template["metadata"].get("labels", {}),
                namespace_labels={**ns_labels.get(ns, {}), "kubernetes.io/metadata.name": ns},
                ports=container_ports(template),
            )
        )
    return out


def _selects_all_or(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A NetworkPolicy's selector: empty ({}) selects everything."""
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return True
    return selects(selector, labels)


def _policy_types(policy: Doc) -> list[str]:
    spec = policy["spec"]
    if "policyTypes" in spec:
        types: list[str] = spec["policyTypes"]
        return types
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def _peer_matches(peer: Doc, policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if other.ip is None:
            return False
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        inside = address in ipaddress.ip_network(block["cidr"])
        return inside and not any(
            address in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not _selects_all_or(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    return "podSelector" not in peer or _selects_all_or(peer["podSelector"], other.labels)


def _port_matches(entry: Doc, port: int, protocol: str, dst: Endpoint) -> bool:
    if entry.get("protocol", "TCP") != protocol:
        return False
    wanted = entry.get("port")
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return dst.ports.get(wanted) == port
    return bool(wanted <= port <= entry.get("endPort", wanted))


def _admits(
    policies: list[Doc], direction: str, me: Endpoint, other: Endpoint, c: Connection, dst: Endpoint
) -> bool:
    """Is `me` isolated in `direction` and, if so, does a rule of its policies admit `other`?"""
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    mine = [
        p
        for p in policies
        if p["metadata"].get("namespace") == me.namespace
        and direction in _policy_types(p)
        and _selects_all_or(p["spec"].get("podSelector"), me.labels)
    ]
    if not mine:
        return True  # not isolated in that direction
    for policy in mine:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key) or []
            if peers and not any(
                _peer_matches(p, policy["metadata"]["namespace"], other) for p in peers
            ):
                continue
            ports = rule.get("ports") or []
            if not ports or any(_port_matches(e, c.port, c.protocol, dst) for e in ports):
                return True
    return False


def allowed(
    policies: list[Doc], endpoints: Mapping[str, Endpoint], c: Connection, side: str = "both"
) -> bool:
    """Is the connection allowed: by both ends (`both`), or by one end's policies alone
    (`egress`: the source's, `ingress`: the destination's)?"""
    src, dst = endpoints[c.src], endpoints[c.dst]
    egress = src.namespace is None or _admits(policies, "Egress", src, dst, c, dst)
    ingress = dst.namespace is None or _admits(policies, "Ingress", dst, src, c, dst)
    return {"both": egress and ingress, "egress": egress, "ingress": ingress}[side]


def matrix(
    policies: list[Doc],
    endpoints: Mapping[str, Endpoint],
    probes: Iterable[Connection],
    side: str = "both",
) -> set[Connection]:
    """The probes the policies allow (see `allowed` for `side`)."""
    return {c for c in probes if allowed(policies, endpoints, c, side)}
