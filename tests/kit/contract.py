"""The contract between the rendered manifests and the application's code.

Reads both sides: the objects kustomize renders, and what the code declares: the services
`monsterstack.services.SERVICES` registers, each one's settings class (the environment variables it
reads, their defaults and validation), and the app each factory builds (the routes it serves).
`problems()` lists every way the two disagree, each said so that the fix is plain.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic_settings import BaseSettings
from starlette.routing import Match

from monsterstack.core.settings import ConfigError, ServiceSettings, load
from monsterstack.services import SERVICES

from .kube import ROOT, Doc, container_ports, image_parts, of_kind, pod_spec, selects

IMAGE_PREFIX = "monsterstack-"
SECRET_PLACEHOLDER = "0123456789abcdef"  # stands for a secretKeyRef's value
# What the course asks of a service's readiness probe (path, headers).
COURSE_READINESS = {"frontend": ("/healthz", {"Accept": "application/json"})}
# The course's replica counts, the floor in prod (HPA minReplicas or plain replicas).
COURSE_REPLICAS = {"imagebackend": 5, "frontend": 3, "redis": 1}
REQUIRED_POD_LABELS = ("app", "partie", "app.kubernetes.io/name", "app.kubernetes.io/part-of")
RELEASE_POD_LABELS = ("version", "app.kubernetes.io/version")
HASHED = re.compile(r"-[a-z0-9]{10}$")  # kustomize's generated-name suffix
VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def drain_bound() -> float:
    """The most granian waits for workers to finish at shutdown (core/server.py)."""
    source = (ROOT / "src/monsterstack/core/server.py").read_text()
    match = re.search(r"workers_kill_timeout\s*=\s*(\d+(?:\.\d+)?)", source)
    assert match, "core/server.py no longer sets workers_kill_timeout: update the kit's contract"
    return float(match[1])


# ---- the code's side ----


@dataclass(frozen=True)
class Service:
    name: str
    factory: str
    settings: type[ServiceSettings]

    @property
    def env_names(self) -> frozenset[str]:
        prefix = (self.settings.model_config.get("env_prefix") or "").upper()
        return frozenset(prefix + name.upper() for name in self.settings.model_fields)

    @property
    def required(self) -> frozenset[str]:
        prefix = (self.settings.model_config.get("env_prefix") or "").upper()
        return frozenset(
            prefix + name.upper()
            for name, field in self.settings.model_fields.items()
            if field.is_required()
        )


def _attr(dotted: str) -> Any:
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


@cache
def service(name: str) -> Service | None:
    if name not in SERVICES:
        return None
    factory, settings = SERVICES[name]
    cls = _attr(settings)
    assert issubclass(cls, BaseSettings), f"{settings} is not a settings class"
    return Service(name, factory, cls)


def every_env_name() -> frozenset[str]:
    names: set[str] = set()
    for name in SERVICES:
        svc = service(name)
        assert svc
        names |= svc.env_names
    return frozenset(names)


@contextlib.contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ holding exactly `env` for the variables any service reads."""
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name.upper() in every_env_name():
                del os.environ[name]
        os.environ.update(env)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def settings_for(svc: Service, env: Mapping[str, str]) -> ServiceSettings | str:
    """The service's settings as the container would load them, or the error it would print."""
    with environment(env):
        try:
            return load(svc.settings)
        except ConfigError as exc:
            return str(exc)


@cache
def _built(name: str, env_items: frozenset[tuple[str, str]]) -> Any:
    svc = service(name)
    assert svc
    with environment(dict(env_items)):
        return _attr(svc.factory)()


def build_app(svc: Service, env: Mapping[str, str]) -> Any:
    """The ASGI app the service's factory builds with this environment (as each worker does)."""
    return _built(svc.name, frozenset(env.items()))


def _routes(app: Any) -> tuple[list[str], list[Any]]:
    """(plain-ASGI path prefixes, framework routes) found down the middleware chain."""
    prefixes: list[str] = []
    node, seen = app, set()
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        prefix = getattr(node, "text_prefix", None)
        if isinstance(prefix, str):
            prefixes.append(prefix)
        routes = getattr(node, "routes", None)
        if isinstance(routes, list):
            return prefixes, routes
        node = getattr(node, "app", None)
    return prefixes, []


def serves(app: Any, path: str, method: str = "GET") -> bool:
    """Does the app route `method path` to a handler (not a 404/405)?"""
    prefixes, routes = _routes(app)
    if any(path.startswith(p) for p in prefixes):
        return True
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] is Match.FULL for route in routes)


def get(app: Any, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """One request through the app, in process (no lifespan: nothing is started)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            return await client.get(path, headers=dict(headers or {}))

    return asyncio.run(call())


def dependency_urls(settings: ServiceSettings) -> dict[str, str]:
    """The settings' fields and properties that hold a URL of another service."""
    out: dict[str, str] = {}
    own = [k for k in type(settings).__mro__ if issubclass(k, ServiceSettings)]
    names = [
        *type(settings).model_fields,
        *(n for k in own for n, v in vars(k).items() if isinstance(v, property)),
    ]
    for name in names:
        with contextlib.suppress(Exception):
            value = getattr(settings, name)
            if isinstance(value, str) and re.match(r"^(https?|rediss?)://", value):
                out[name] = value
    return out


# ---- the manifests' side ----


def container_env(
    container: Doc, configmaps: Mapping[str, Doc], problems: list[str], where: str
) -> tuple[dict[str, str], set[str]]:
    """(the container's environment, names referenced as $(NAME) by other values)."""
    env: dict[str, str] = {}
    referenced: set[str] = set()
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref is None:
            problems.append(f"{where}: envFrom other than a ConfigMap: {source}")
            continue
        cm = configmaps.get(ref["name"])
        if cm is None:
            problems.append(f"{where}: envFrom names ConfigMap {ref['name']!r}, not rendered")
            continue
        env.update({k: str(v) for k, v in (cm.get("data") or {}).items()})
    for var in container.get("env", []):
        if "value" in var:
            value = str(var["value"])
            for name in VAR_REF.findall(value):
                referenced.add(name)
                if name not in env:
                    problems.append(
                        f"{where}: env {var['name']} uses $({name}), not defined before"
                    )
            value = VAR_REF.sub(lambda m: env.get(m[1], m[0]), value)
            env[var["name"]] = value
        elif "secretKeyRef" in var.get("valueFrom", {}):
            env[var["name"]] = SECRET_PLACEHOLDER
        elif "configMapKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["configMapKeyRef"]
            cm = configmaps.get(ref["name"])
            if cm is None or ref["key"] not in (cm.get("data") or {}):
                problems.append(f"{where}: env {var['name']} names a missing ConfigMap key {ref}")
            else:
                env[var["name"]] = str(cm["data"][ref["key"]])
        else:
            problems.append(f"{where}: env {var['name']} has an unsupported source")
    for arg in [*container.get("args", []), *container.get("command", [])]:
        referenced.update(VAR_REF.findall(str(arg)))
    return env, referenced


def _resolve_port(port: str | int, ports: Mapping[str | int, int]) -> int | None:
    return ports.get(port)


def _probe_problems(
    where: str, container: Doc, ports: Mapping[str | int, int], expect_port: int | None
) -> list[str]:
    out: list[str] = []
    for kind in ("livenessProbe", "readinessProbe"):
        if kind not in container:
            out.append(f"{where}: no {kind}")
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container.get(kind)
        if not probe:
            continue
        handler = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
        if handler is None:
            if "exec" not in probe:
                out.append(f"{where}: {kind} has no handler")
            continue
        number = _resolve_port(handler["port"], ports)
        if number is None:
            out.append(f"{where}: {kind} port {handler['port']!r} is not a container port")
        elif expect_port is not None and number != expect_port:
            out.append(f"{where}: {kind} probes port {number}, the app listens on {expect_port}")
    return out


def _security_problems(where: str, spec: Doc, container: Doc) -> list[str]:
    """The Restricted Pod Security Standard, and the kit's own hardening."""
    out: list[str] = []
    pod = spec.get("securityContext", {})
    ctx = container.get("securityContext", {})
    if not (ctx.get("runAsNonRoot") or pod.get("runAsNonRoot")):
        out.append(f"{where}: runAsNonRoot is not set")
    uid = ctx.get("runAsUser", pod.get("runAsUser"))
    if uid == 0:
        out.append(f"{where}: runs as uid 0")
    if ctx.get("allowPrivilegeEscalation") is not False:
        out.append(f"{where}: allowPrivilegeEscalation is not false")
    if ctx.get("readOnlyRootFilesystem") is not True:
        out.append(f"{where}: readOnlyRootFilesystem is not true")
    if ctx.get("privileged"):
        out.append(f"{where}: privileged")
    caps = ctx.get("capabilities", {})
    if "ALL" not in caps.get("drop", []):
        out.append(f"{where}: capabilities do not drop ALL")
    if caps.get("add"):
        out.append(f"{where}: adds capabilities {caps['add']}")
    seccomp = ctx.get("seccompProfile", pod.get("seccompProfile", {})).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        out.append(f"{where}: seccompProfile is {seccomp!r}, not RuntimeDefault")
    if spec.get("automountServiceAccountToken") is not False:
        out.append(f"{where}: automountServiceAccountToken is not false")
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host):
            out.append(f"{where}: {host}")
    for volume in spec.get("volumes", []):
        if "hostPath" in volume:
            out.append(f"{where}: hostPath volume {volume['name']}")
    resources = container.get("resources", {})
    for bound in ("requests", "limits"):
        for res in ("cpu", "memory"):
            if res not in resources.get(bound, {}):
                out.append(f"{where}: no {bound}.{res}")
    return out


def _quantity(value: str | int | float) -> float:
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for unit, factor in sorted(units.items(), key=lambda u: -len(u[0])):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def problems(
    docs: list[Doc], *, release: str | None = None, app: bool = True, owns_namespace: bool = True
) -> list[str]:
    """Everything wrong in one rendering. `release`: the overlay's name (images pinned);
    `app`: the rendering deploys the application (every service of SERVICES);
    `owns_namespace`: the rendering creates its Namespace (an overlay) or, if not, must not
    render it at all (a strategy: `kubectl delete -k` of it would delete the namespace)."""
    out: list[str] = []
    namespaces = of_kind(docs, "Namespace")
    if not owns_namespace:
        if namespaces:
            return [
                f"renders the Namespace {namespaces[0]['metadata']['name']}: `kubectl delete -k` "
                "of this kustomization would delete the namespace and all that is in it"
            ]
        found = {d["metadata"].get("namespace") for d in docs}
        if len(found) != 1:
            return [f"expected every object in one namespace, found {sorted(map(str, found))}"]
        ns = str(found.pop())
    elif len(namespaces) != 1:
        out.append(f"expected one Namespace object, found {len(namespaces)}")
        return out
    else:
        ns = namespaces[0]["metadata"]["name"]
        ns_labels = namespaces[0]["metadata"].get("labels", {})
        if ns_labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            out.append(f"Namespace {ns}: Pod Security is not enforced at `restricted`")
    seen: set[tuple[str, str]] = set()
    for doc in docs:
        kind, meta = doc["kind"], doc["metadata"]
        if (kind, meta["name"]) in seen:
            out.append(f"{kind} {meta['name']} is rendered twice")
        seen.add((kind, meta["name"]))
        if kind != "Namespace" and meta.get("namespace") != ns:
            out.append(f"{kind} {meta['name']}: namespace {meta.get('namespace')!r}, not {ns!r}")
        if meta.get("labels", {}).get("app.kubernetes.io/part-of") != "monsterstack":
            out.append(f"{kind} {meta['name']}: no app.kubernetes.io/part-of=monsterstack label")

    configmaps = {d["metadata"]["name"]: d for d in of_kind(docs, "ConfigMap")}
    for name in configmaps:
        if not HASHED.search(name):
            out.append(
                f"ConfigMap {name}: not generated (no hash suffix): pods won't roll on change"
            )
    services = {d["metadata"]["name"]: d for d in of_kind(docs, "Service")}
    deployments = of_kind(docs, "Deployment")
    templates = [(d, d["spec"]["template"]) for d in deployments]
    hpa_targets = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(docs, "HorizontalPodAutoscaler")
    }
    ours: dict[str, Doc] = {}  # service name -> Deployment

    for deploy, template in templates:
        name = deploy["metadata"]["name"]
        spec = template["spec"]
        labels = template["metadata"].get("labels", {})
        if not selects(deploy["spec"]["selector"], labels):
            out.append(f"Deployment {name}: its selector does not select its own pod template")
        for label in REQUIRED_POD_LABELS + (RELEASE_POD_LABELS if release else ()):
            if label not in labels:
                out.append(f"Deployment {name}: pod template has no {label!r} label")
        if labels.get("app") != "monsterstack":
            out.append(f"Deployment {name}: pods are not labelled app=monsterstack")
        for volume in spec.get("volumes", []):
            ref = volume.get("configMap", {}).get("name")
            if ref and ref not in configmaps:
                out.append(f"Deployment {name}: volume {volume['name']} names ConfigMap {ref!r}")
        ports = container_ports(template)
        for container in spec["containers"]:
            where = f"Deployment {name}, container {container['name']}"
            out += _security_problems(where, spec, container)
            res = container.get("resources", {})
            for r in ("cpu", "memory"):
                req, lim = res.get("requests", {}).get(r), res.get("limits", {}).get(r)
                if req is not None and lim is not None and _quantity(req) > _quantity(lim):
                    out.append(f"{where}: {r} request {req} above its limit {lim}")
            repo, tag, digest = image_parts(container["image"])
            if release and not (tag or digest):
                out.append(f"{where}: image {container['image']!r} has no tag")
            if tag == "latest":
                out.append(f"{where}: image {container['image']!r} is tagged latest")
            env, referenced = container_env(container, configmaps, out, where)
            last = repo.rsplit("/", 1)[-1]
            if not last.startswith(IMAGE_PREFIX):
                out += _probe_problems(where, container, ports, None)
                continue
            svc_name = last[len(IMAGE_PREFIX) :]
            svc = service(svc_name)
            if svc is None:
                out.append(
                    f"{where}: runs the service {svc_name!r} (image {container['image']}), "
                    f"which monsterstack.services.SERVICES does not register (it has: "
                    f"{', '.join(sorted(SERVICES))}): register its app factory and settings "
                    "class there, or remove the Deployment"
                )
                continue
            ours[svc_name] = deploy
            out += _our_container_problems(
                where, deploy, container, svc, env, referenced, ports, services, hpa_targets
            )

    for svc_name in sorted(set(SERVICES) - set(ours) if app else ()):
        out.append(f"the service {svc_name!r} (monsterstack.services.SERVICES) has no Deployment")

    for svc in services.values():
        out += _service_problems(svc, templates)
    for ing in of_kind(docs, "Ingress"):
        out += _ingress_problems(ing, services)
    gateways = {d["metadata"]["name"]: d for d in of_kind(docs, "Gateway")}
    routes = of_kind(docs, "HTTPRoute")
    for route in routes:
        out += _http_route_problems(route, gateways, services, templates, configmaps)
    for gateway in gateways.values():
        out += _gateway_problems(gateway, routes)
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        match = [d for d in deployments if d["metadata"]["name"] == target["name"]]
        where = f"HorizontalPodAutoscaler {hpa['metadata']['name']}"
        if target.get("kind") != "Deployment" or not match:
            out.append(f"{where}: scales {target}, which is not rendered")
        elif "replicas" in match[0]["spec"]:
            out.append(f"{where}: Deployment {target['name']} still sets replicas (fights the HPA)")
        if hpa["spec"].get("minReplicas", 1) > hpa["spec"]["maxReplicas"]:
            out.append(f"{where}: minReplicas above maxReplicas")
    for pdb in of_kind(docs, "PodDisruptionBudget"):
        if not any(selects(pdb["spec"]["selector"], t["metadata"]["labels"]) for _, t in templates):
            out.append(f"PodDisruptionBudget {pdb['metadata']['name']}: selects no pod")
    for policy in of_kind(docs, "NetworkPolicy"):
        out += _network_policy_problems(policy, templates)
    for monitor in of_kind(docs, "ServiceMonitor"):
        out += _service_monitor_problems(monitor, services, templates, configmaps)

    if release is not None and (release == "prod" or release.startswith("prod-")):
        # prod and the overlays built on it (prod-monitoring)
        out += _prod_problems(docs, deployments, hpa_targets)
    if release == "dev":
        for deploy in deployments:
            if deploy["spec"].get("replicas") != 1:
                out.append(f"dev: Deployment {deploy['metadata']['name']} is not at 1 replica")
        common = [c for n, c in configmaps.items() if n.startswith("monsterstack-common")]
        if not common or common[0]["data"].get("CONTEXT") != "DEV":
            out.append("dev: CONTEXT is not DEV")
    return out


def _our_container_problems(
    where: str,
    deploy: Doc,
    container: Doc,
    svc: Service,
    env: dict[str, str],
    referenced: set[str],
    ports: Mapping[str | int, int],
    services: Mapping[str, Doc],
    hpa_targets: Mapping[str, Doc],
) -> list[str]:
    out: list[str] = []
    template = deploy["spec"]["template"]
    spec = template["spec"]
    labels = template["metadata"].get("labels", {})
    if labels.get("partie") != svc.name:
        out.append(f"{where}: pods run {svc.name} but are labelled partie={labels.get('partie')}")
    if container.get("args", ["serve", svc.name]) != ["serve", svc.name]:
        out.append(f"{where}: args {container['args']} do not serve {svc.name}")
    for name in sorted(env):
        if name not in svc.env_names and name not in referenced:
            out.append(
                f"{where}: sets {name}, which {svc.name} does not read "
                f"(it reads: {', '.join(sorted(svc.env_names))})"
            )
    for name in sorted(svc.required - set(env)):
        out.append(f"{where}: {svc.name} requires {name}, which is not set")
    settings = settings_for(svc, env)
    if isinstance(settings, str):
        out.append(f"{where}: {svc.name} would not start: {settings}")
        return out
    http = ports.get("http")
    if http != settings.port:
        out.append(
            f"{where}: the container port named 'http' is {http}, {svc.name} listens on "
            f"{settings.port} (PORT or its default)"
        )
    out += _probe_problems(where, container, ports, settings.port)
    app = build_app(svc, env)
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container.get(kind, {}).get("httpGet")
        if probe and not serves(app, probe["path"]):
            out.append(f"{where}: {kind} asks {probe['path']}, which {svc.name} does not serve")
    live = container.get("livenessProbe", {}).get("httpGet")
    if live and serves(app, live["path"]):
        response = get(app, live["path"])
        if response.status_code != 200:
            out.append(f"{where}: liveness {live['path']} answers {response.status_code}")
    if svc.name in COURSE_READINESS:
        path, headers = COURSE_READINESS[svc.name]
        ready = container.get("readinessProbe", {}).get("httpGet", {})
        got = {h["name"]: h["value"] for h in ready.get("httpHeaders", [])}
        if ready.get("path") != path or got != headers:
            out.append(f"{where}: the course's readiness probe is GET {path} with {headers}")
    # read-only root filesystem: the temp dir must be a writable volume
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    tmp = mounts.get("/tmp")
    if not tmp or tmp.get("readOnly") or "emptyDir" not in volumes.get(tmp["name"], {}):
        out.append(f"{where}: no writable emptyDir at /tmp (the app's temp dir)")
    # SIGTERM: unready for SHUTDOWN_DELAY, then a drain of at most drain_bound() seconds
    grace = spec.get("terminationGracePeriodSeconds", 30)
    needed = settings.shutdown_delay + drain_bound()
    if grace <= needed:
        out.append(
            f"{where}: terminationGracePeriodSeconds {grace} is not above SHUTDOWN_DELAY "
            f"{settings.shutdown_delay:g} + the drain bound {drain_bound():g}"
        )
    if "preStop" in container.get("lifecycle", {}):
        out.append(f"{where}: a preStop hook as well as SHUTDOWN_DELAY delays the drain twice")
    if settings.shutdown_delay <= 0 and deploy["metadata"]["name"] in hpa_targets:
        out.append(f"{where}: SHUTDOWN_DELAY 0 drops requests while scaling down")
    # every other service named in the settings must be a rendered Service and port
    for field, url in dependency_urls(settings).items():
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host in ("localhost",) or re.match(r"^[0-9.:]+$", host):
            out.append(f"{where}: {field} points at {host}, not at a Service")
            continue
        target = services.get(host.split(".", 1)[0])
        ns = deploy["metadata"].get("namespace")
        short = host.split(".")
        if target is None or (len(short) > 1 and short[1] != ns):
            out.append(f"{where}: {field}={url}: no Service {host!r} in namespace {ns}")
            continue
        if parts.port not in [p["port"] for p in target["spec"]["ports"]]:
            out.append(f"{where}: {field}={url}: Service {host} has no port {parts.port}")
    return out


def _service_problems(svc: Doc, templates: list[tuple[Doc, Doc]]) -> list[str]:
    name = svc["metadata"]["name"]
    selector = svc["spec"].get("selector")
    out: list[str] = []
    chosen = [t for _, t in templates if selects(selector, t["metadata"].get("labels", {}))]
    if not chosen:
        return [f"Service {name}: its selector {selector} matches no pod template"]
    for port in svc["spec"]["ports"]:
        target = port.get("targetPort", port["port"])
        for template in chosen:
            if target not in container_ports(template):
                owner = template["metadata"]["labels"].get("partie", "?")
                out.append(f"Service {name}: targetPort {target!r} is not exposed by {owner} pods")
        if "nodePort" in port and not 30000 <= port["nodePort"] <= 32767:
            out.append(f"Service {name}: nodePort {port['nodePort']} outside 30000-32767")
    return out


def _ingress_problems(ing: Doc, services: Mapping[str, Doc]) -> list[str]:
    name = ing["metadata"]["name"]
    out: list[str] = []
    annotations = ing["metadata"].get("annotations", {})
    if any(a.endswith("/rewrite-target") for a in annotations):
        out.append(f"Ingress {name}: a rewrite-target sends /monster/... to the page")
    if ing["spec"].get("ingressClassName") != "nginx":
        out.append(f"Ingress {name}: ingressClassName is not nginx")
    backends = []
    if "defaultBackend" in ing["spec"]:
        backends.append(ing["spec"]["defaultBackend"])
    for rule in ing["spec"].get("rules", []):
        if not rule.get("host"):
            out.append(f"Ingress {name}: a rule without host")
        for path in rule.get("http", {}).get("paths", []):
            backends.append(path["backend"])
            if path.get("path") != "/" or path.get("pathType") != "Prefix":
                out.append(f"Ingress {name}: path {path.get('path')} does not cover /monster/...")
    for backend in backends:
        ref = backend.get("service", {})
        target = services.get(ref.get("name", ""))
        if target is None:
            out.append(f"Ingress {name}: backend Service {ref.get('name')!r} is not rendered")
            continue
        port = ref.get("port", {})
        names = {p.get("name") for p in target["spec"]["ports"]}
        numbers = {p["port"] for p in target["spec"]["ports"]}
        if not (port.get("name") in names or port.get("number") in numbers):
            out.append(f"Ingress {name}: Service {ref['name']} has no port {port}")
    return out


def _network_policy_problems(policy: Doc, templates: list[tuple[Doc, Doc]]) -> list[str]:
    name = policy["metadata"]["name"]
    out: list[str] = []
    selector = policy["spec"]["podSelector"]
    pods = [t for _, t in templates if selects(selector, t["metadata"]["labels"])]
    if selector and not pods:
        out.append(f"NetworkPolicy {name}: podSelector {selector} selects no pod")
    if not selector:
        pods = [t for _, t in templates]
    for rule in policy["spec"].get("ingress", []):
        for peer in rule.get("from", []):
            if "podSelector" in peer and "namespaceSelector" not in peer:
                peers = [
                    t for _, t in templates if selects(peer["podSelector"], t["metadata"]["labels"])
                ]
                if not peers:
                    out.append(f"NetworkPolicy {name}: ingress from {peer} selects no pod")
        for port in rule.get("ports", []):
            if isinstance(port.get("port"), str) and not any(
                port["port"] in container_ports(t) for t in pods
            ):
                out.append(f"NetworkPolicy {name}: port {port['port']!r} is no selected pod's port")
    for rule in policy["spec"].get("egress", []):
        peers = [t for _, t in templates]
        for peer in rule.get("to", []):
            if "podSelector" in peer and "namespaceSelector" not in peer:
                peers = [
                    t for _, t in templates if selects(peer["podSelector"], t["metadata"]["labels"])
                ]
                if not peers:
                    out.append(f"NetworkPolicy {name}: egress to {peer} selects no pod")
        for port in rule.get("ports", []):
            if isinstance(port.get("port"), str) and not any(
                port["port"] in container_ports(t) for t in peers
            ):
                out.append(f"NetworkPolicy {name}: egress port {port['port']!r} is no peer's port")
    return out


def _service_monitor_problems(
    monitor: Doc,
    services: Mapping[str, Doc],
    templates: list[tuple[Doc, Doc]],
    configmaps: Mapping[str, Doc],
) -> list[str]:
    name = monitor["metadata"]["name"]
    chosen = [
        s
        for s in services.values()
        if selects(monitor["spec"]["selector"], s["metadata"]["labels"])
    ]
    if not chosen:
        return [f"ServiceMonitor {name}: selects no Service"]
    out: list[str] = []
    for endpoint in monitor["spec"]["endpoints"]:
        for svc in chosen:
            if endpoint["port"] not in [p.get("name") for p in svc["spec"]["ports"]]:
                svc_name = svc["metadata"]["name"]
                out.append(
                    f"ServiceMonitor {name}: Service {svc_name} has no port {endpoint['port']}"
                )
                continue
            for backing, app in apps_behind(svc, templates, configmaps):
                if not serves(app, endpoint.get("path", "/metrics")):
                    path = endpoint.get("path")
                    out.append(f"ServiceMonitor {name}: {backing} does not serve {path}")
    return out


def apps_behind(
    svc: Doc, templates: list[tuple[Doc, Doc]], configmaps: Mapping[str, Doc]
) -> list[tuple[str, Any]]:
    """(service name, the app its pods run) for each of our pod templates a Service selects,
    the app built from the service's factory with the container's environment."""
    out: list[tuple[str, Any]] = []
    for _, template in templates:
        if not selects(svc["spec"].get("selector"), template["metadata"]["labels"]):
            continue
        container = template["spec"]["containers"][0]
        last = image_parts(container["image"])[0].rsplit("/", 1)[-1]
        backing = service(last.removeprefix(IMAGE_PREFIX))
        if backing is not None and last.startswith(IMAGE_PREFIX):
            env, _ = container_env(container, configmaps, [], "")
            out.append((backing.name, build_app(backing, env)))
    return out


# ---- the Gateway API (components/gateway-api, the strategies' *-gateway steps) ----

GATEWAY_GROUP = "gateway.networking.k8s.io"
# What users ask through the front door: the page and a picture (a plain GET, no header).
FRONT_DOOR_PATHS = ("/", "/monster/monsterstack")


def _request_match(
    match: Doc, path: str, headers: Mapping[str, str]
) -> tuple[int, int, int] | None:
    """How a GET of `path` with `headers` (no query) matches one HTTPRouteMatch: None if it
    does not, else its precedence, the Gateway API's: an Exact path, then the longest
    PathPrefix, then the most header matches. A RegularExpression path is
    implementation-specific: not taken as matching; a header regex is searched as Python's."""
    if match.get("queryParams") or match.get("method", "GET") != "GET":
        return None
    sent = {k.lower(): v for k, v in headers.items()}
    for header in match.get("headers", []):
        value = sent.get(header["name"].lower())
        if value is None:
            return None
        if header.get("type", "Exact") == "Exact" and value != header["value"]:
            return None
        if header.get("type") == "RegularExpression" and not re.search(header["value"], value):
            return None
    rule = match.get("path") or {"type": "PathPrefix", "value": "/"}
    kind, value = rule.get("type", "PathPrefix"), rule.get("value", "/")
    if kind == "Exact":
        return (2, len(value), len(match.get("headers", []))) if path == value else None
    if kind == "PathPrefix":
        prefix = value.rstrip("/")  # element-wise: /monster matches /monster/x, not /monsters
        if not prefix or path == prefix or path.startswith(prefix + "/"):
            return (1, len(prefix), len(match.get("headers", [])))
    return None


def route_rule_for(route: Doc, path: str, headers: Mapping[str, str] | None = None) -> Doc | None:
    """The rule of an HTTPRoute that a GET of `path` goes to (plain: no header), None if no
    rule matches. Ties go to the first rule, as the Gateway API orders them."""
    best: tuple[tuple[int, int, int], Doc] | None = None
    for rule in route["spec"].get("rules", []):
        for match in rule.get("matches") or [{}]:
            score = _request_match(match, path, headers or {})
            if score is not None and (best is None or score > best[0]):
                best = (score, rule)
    return best[1] if best else None


def backend_refs(route: Doc) -> Iterator[tuple[str, Doc]]:
    """(where, backendRef) for every backend an HTTPRoute names: rules, mirrors included."""
    for i, rule in enumerate(route["spec"].get("rules", [])):
        filters = [(f"rules[{i}].filters", f) for f in rule.get("filters", [])]
        for j, ref in enumerate(rule.get("backendRefs", [])):
            yield f"rules[{i}].backendRefs[{j}]", ref
            filters += [(f"rules[{i}].backendRefs[{j}].filters", f) for f in ref.get("filters", [])]
        for where, filt in filters:
            if "requestMirror" in filt:
                yield f"{where}.requestMirror", filt["requestMirror"]["backendRef"]


def _hostname_matches(listener: str, host: str) -> bool:
    if listener.startswith("*."):
        return host.endswith(listener[1:]) or (host.startswith("*.") and host == listener)
    return listener == host


def _http_route_problems(
    route: Doc,
    gateways: Mapping[str, Doc],
    services: Mapping[str, Doc],
    templates: list[tuple[Doc, Doc]],
    configmaps: Mapping[str, Doc],
) -> list[str]:
    name, ns = route["metadata"]["name"], route["metadata"].get("namespace")
    where = f"HTTPRoute {name}"
    out: list[str] = []
    hostnames = route["spec"].get("hostnames", [])
    if not hostnames:
        out.append(f"{where}: no hostnames (it would take every host of its Gateway)")
    for parent in route["spec"].get("parentRefs", []):
        gateway = gateways.get(parent["name"])
        if (
            parent.get("group", GATEWAY_GROUP) != GATEWAY_GROUP
            or parent.get("kind", "Gateway") != "Gateway"
            or parent.get("namespace", ns) != ns
            or gateway is None
        ):
            out.append(f"{where}: parentRef {parent} is no Gateway of this rendering")
            continue
        listeners = gateway["spec"]["listeners"]
        if "sectionName" in parent:
            listeners = [lst for lst in listeners if lst["name"] == parent["sectionName"]]
            if not listeners:
                out.append(
                    f"{where}: Gateway {parent['name']} has no listener {parent['sectionName']}"
                )
        for listener in listeners:
            lname = f"Gateway {parent['name']} listener {listener['name']}"
            allowed = listener.get("allowedRoutes", {})
            if allowed.get("namespaces", {}).get("from", "Same") not in ("Same", "All"):
                out.append(f"{lname}: admits routes by a namespace selector the kit cannot check")
            kinds = [k.get("kind") for k in allowed.get("kinds", [])]
            if listener["protocol"] not in ("HTTP", "HTTPS") or (
                kinds and "HTTPRoute" not in kinds
            ):
                out.append(f"{lname}: does not take HTTPRoutes")
            host = listener.get("hostname")
            if host and not any(_hostname_matches(host, h) for h in hostnames):
                out.append(f"{lname}: hostname {host} matches none of the route's {hostnames}")
    for i, rule in enumerate(route["spec"].get("rules", [])):
        for filt in rule.get("filters", []):
            if "path" in filt.get("urlRewrite", {}):
                out.append(f"{where}: rules[{i}] rewrites the path: /monster/... would miss")
    for at, ref in backend_refs(route):
        target = services.get(ref["name"])
        if ref.get("group", "") != "" or ref.get("kind", "Service") != "Service":
            out.append(f"{where}: {at} is not a Service: {ref}")
        elif ref.get("namespace", ns) != ns or target is None:
            out.append(f"{where}: {at} names Service {ref['name']!r}, which is not rendered")
        elif ref.get("port") not in [p["port"] for p in target["spec"]["ports"]]:
            out.append(f"{where}: {at}: Service {ref['name']} has no port {ref.get('port')}")
    for path in FRONT_DOOR_PATHS:
        rule = route_rule_for(route, path)
        sends = [r for r in (rule or {}).get("backendRefs", []) if r.get("weight", 1) > 0]
        if not sends:
            out.append(f"{where}: a plain GET {path} goes to no backend")
        for ref in sends:
            svc = services.get(ref["name"])
            apps = apps_behind(svc, templates, configmaps) if svc else []
            for backing, app in apps:
                if not serves(app, path):
                    out.append(f"{where}: GET {path} goes to {backing}, which does not serve it")
            if svc and not apps:
                out.append(f"{where}: GET {path} goes to Service {ref['name']}, no pod of ours")
    return out


def _gateway_problems(gateway: Doc, routes: list[Doc]) -> list[str]:
    name = gateway["metadata"]["name"]
    attached = [
        r for r in routes if any(p["name"] == name for p in r["spec"].get("parentRefs", []))
    ]
    if not attached:
        return [f"Gateway {name}: no HTTPRoute of this rendering attaches to it"]
    return []


def _prod_problems(
    docs: list[Doc], deployments: list[Doc], hpa_targets: Mapping[str, Doc]
) -> list[str]:
    out: list[str] = []
    for deploy in deployments:
        name = deploy["metadata"]["name"]
        partie = deploy["spec"]["template"]["metadata"]["labels"].get("partie", "")
        want = COURSE_REPLICAS.get(partie)
        if want is None:
            continue
        got = hpa_targets[name]["spec"].get("minReplicas", 1) if name in hpa_targets else None
        got = deploy["spec"].get("replicas", 1) if got is None else got
        if got != want:
            out.append(f"prod: {name} runs {got} replicas at least, the course's count is {want}")
    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
        if not of_kind(docs, kind):
            out.append(f"prod: no {kind}")
    return out


def pod_specs(docs: list[Doc]) -> list[Doc]:
    return [s for d in docs if (s := pod_spec(d)) is not None]
