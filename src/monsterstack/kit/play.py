"""`monsterstack kube-play`: an overlay of deploy/ run for real by podman's `kube play`.

There is no Kubernetes API server here, but `podman kube play` consumes Kubernetes YAML: the
Deployments start under their own securityContext, resources, envFrom and volumes. What podman
lacks is made up for by a small transform of the *rendered* overlay (never a second copy of
the manifests), each adaptation listed in `adapt()`:

- no Services: each Deployment is played on one network, with the names of the Services that
  select it as DNS aliases (each Service port must equal its target containerPort);
- podman turns a livenessProbe into an in-image `curl` healthcheck (our images have no curl):
  probes are removed from the played copy and every probe of the unmodified manifests is run
  from the host instead, as a kubelet would (`wait_probes`);
- containerPorts would be published on 0.0.0.0: they are dropped; pods are reached by IP;
- emptyDir volumes become named volumes shared by name: each is named after its Deployment;
- images are pulled (`imagePullPolicy: Always`) from the project's loopback registry, Redis
  included (built on the project's Debian base: no registry image of Redis can be pulled).

podman plays `replicas` pods per Deployment (`<deployment>-pod-<i>`, all under the Service's
alias); it ignores Namespaces, Services, Ingresses, NetworkPolicies, HPAs (so the autoscaling
component's Deployments, which leave replicas to the HPA, get one pod), PDBs, runAsNonRoot
and terminationGracePeriodSeconds (`down` applies it).
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .checkout import KitError, head_revision, project_root
from .engine import Engine, base_image, cache_dir, local_registry, log, redis_image
from .images import IMAGE_PREFIX, check_tag, image_name, image_ref, images_commands, services
from .manifests import OVERLAYS_DIR, overlays, render_manifests

Doc = dict[str, Any]

NETWORK = "monsterstack-play"
ANNOTATION = "io.monsterstack.play"
REGISTRY_PORT = 30500  # the course's NodePort registry, here on 127.0.0.1
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
REDIS_IMAGE = "monsterstack-redis"


# ---- the transform ----


@dataclass
class Workload:
    """One Deployment, played as `replicas` pods."""

    deployment: Doc  # as the overlay renders it: its probes are the ones run
    played: Doc  # the adapted copy podman plays
    configmaps: list[Doc]
    aliases: list[str]  # the Services that select its pods

    @property
    def name(self) -> str:
        return str(self.deployment["metadata"]["name"])

    @property
    def pod_prefix(self) -> str:
        """podman names a Deployment's pods `<deployment>-pod-<i>`."""
        return f"{self.name}-pod-"

    def containers(self) -> list[Doc]:
        return list(self.deployment["spec"]["template"]["spec"]["containers"])

    @property
    def grace(self) -> int:
        spec = self.deployment["spec"]["template"]["spec"]
        return int(spec.get("terminationGracePeriodSeconds", 30))

    def manifest(self) -> str:
        """What podman plays: the ConfigMaps the pod reads, then the adapted Deployment."""
        return str(yaml.safe_dump_all([*self.configmaps, self.played], sort_keys=False))


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _port(container: Doc, port: int | str) -> int:
    """A probe's or Service's port, named or numbered, as a number."""
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for p in container.get("ports", []):
        if p.get("name") == port:
            return int(p["containerPort"])
    raise KitError(f"container {container['name']!r} has no port named {port!r}")


def adapt(docs: Iterable[Doc], images: Mapping[str, str] | None = None) -> list[Workload]:
    """The rendered overlay's Deployments, adapted to `podman kube play` (see the module).

    `images`: image name (without tag) -> the reference to play instead."""
    docs = list(docs)
    svcs = [d for d in docs if d["kind"] == "Service"]
    configmaps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    out: list[Workload] = []
    for deploy in (d for d in docs if d["kind"] == "Deployment"):
        name = deploy["metadata"]["name"]
        template = deploy["spec"]["template"]
        labels = template["metadata"].get("labels", {})
        aliases = []
        for svc in svcs:
            if not _selects(svc["spec"].get("selector", {}), labels):
                continue
            aliases.append(svc["metadata"]["name"])
            for p in svc["spec"]["ports"]:
                target = p.get("targetPort", p["port"])
                numbers = []
                for c in template["spec"]["containers"]:
                    try:
                        numbers.append(_port(c, target))
                    except KitError:
                        continue
                if p["port"] not in numbers:
                    raise KitError(
                        f"Service {svc['metadata']['name']} port {p['port']} -> {target}: podman "
                        "has no Services, pods are reached on their containerPort; keep the "
                        "Service port equal to it"
                    )
        played = copy.deepcopy(deploy)
        spec = played["spec"]["template"]["spec"]
        renamed = {}
        for volume in spec.get("volumes", []):
            if "emptyDir" in volume:
                renamed[volume["name"]] = volume["name"] = f"{name}-{volume['name']}"
        used: list[Doc] = []
        for c in spec["containers"]:
            for probe in PROBES:
                c.pop(probe, None)
            c.pop("ports", None)
            for mount in c.get("volumeMounts", []):
                mount["name"] = renamed.get(mount["name"], mount["name"])
            bare = image_name(str(c["image"]))
            if images and bare in images:
                c["image"] = images[bare]
            for source in c.get("envFrom", []):
                if "configMapRef" in source:
                    used.append(configmaps[source["configMapRef"]["name"]])
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                used.append(configmaps[volume["configMap"]["name"]])
        maps = list({m["metadata"]["name"]: m for m in used}.values())
        out.append(Workload(deploy, played, maps, aliases))
    if not out:
        raise KitError("the overlay has no Deployment to play")
    return out


# ---- probes, run from the host as a kubelet would ----


@dataclass
class Pod:
    workload: Workload
    name: str
    ip: str

    def container(self, container: Doc) -> str:
        """The podman name of one of the pod's containers."""
        return f"{self.name}-{container['name']}"

    def url(self, port: int, path: str = "/") -> str:
        return f"http://{self.ip}:{port}{path}"


def probe_once(engine: Engine, pod: Pod, container: Doc, kind: str) -> str | None:
    """None if the probe passes, else what it saw."""
    probe = container[kind]
    timeout = float(probe.get("timeoutSeconds", 1))
    if "httpGet" in probe:
        get = probe["httpGet"]
        url = pod.url(_port(container, get["port"]), get.get("path", "/"))
        headers = {h["name"]: h["value"] for h in get.get("httpHeaders", [])}
        shown = f"GET {url}" + "".join(f" ({k}: {v})" for k, v in headers.items())
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=timeout) as r:
                status = r.status
                body = r.read(4096)
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read(300)
        except OSError as exc:
            return f"{shown}: {exc}"
        if not 200 <= status < 400:
            return f"{shown} answered {status}: {body[:300].decode(errors='replace')}"
        if kind == "readinessProbe" and (degraded := _degraded(body)):
            return f"{shown} answered {status}, degraded: {degraded}"
        return None
    if "tcpSocket" in probe:
        port = _port(container, probe["tcpSocket"]["port"])
        try:
            socket.create_connection((pod.ip, port), timeout=timeout).close()
        except OSError as exc:
            return f"TCP {pod.ip}:{port}: {exc}"
        return None
    if "exec" in probe:
        command = probe["exec"]["command"]
        argv = engine.podman_argv("exec", pod.container(container), *command)
        try:
            done = subprocess.run(argv, env=engine.env, capture_output=True, text=True,
                                  timeout=timeout + 5, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            return f"exec {command}: no answer in {timeout:g}s"
        if done.returncode == 0:
            return None
        return f"exec {command} -> {done.returncode}: {(done.stdout + done.stderr)[-300:]}"
    raise KitError(f"{kind} of {container['name']}: no httpGet, tcpSocket or exec")


def _degraded(body: bytes) -> str:
    """The dependencies a readiness answer reports degraded ("" if none, or not our JSON).
    A frontend stays ready without its imagebackend or Redis (core.health), so a probe alone
    would pass a kit whose IMAGEBACKEND_DOMAIN points nowhere; a play wants it wired."""
    try:
        answer = json.loads(body)
        names = answer.get("degraded") or []
        deps = answer.get("dependencies") or {}
        return ", ".join(f"{n} ({deps.get(n, {}).get('detail', '?')})" for n in names)
    except (ValueError, AttributeError):
        return ""


def _state(engine: Engine, name: str) -> dict[str, Any]:
    info = engine.inspect("container", name)[0]
    state: dict[str, Any] = dict(info["State"])
    state["Restarts"] = int(info.get("RestartCount") or 0)
    return state


def wait_probes(engine: Engine, pods: list[Pod], timeout: float) -> None:
    """Until every probe of every container passes at once; a KitError naming the ones that
    did not (and the log of their container) at the deadline, or at once if one exits."""
    deadline = time.monotonic() + timeout
    while True:
        failures: dict[str, str] = {}
        for pod in pods:
            for c in pod.workload.containers():
                cname = pod.container(c)
                state = _state(engine, cname)
                if state.get("Status") != "running" or state["Restarts"]:  # crashed, or looping
                    last = engine.logs(cname)
                    raise KitError(
                        f"{pod.workload.name}/{c['name']}: the container is {state.get('Status')} "
                        f"(exit code {state.get('ExitCode')}, {state['Restarts']} restarts); "
                        f"its log:\n{last}"
                    )
                for kind in PROBES:
                    if kind in c:
                        seen = probe_once(engine, pod, c, kind)
                        if seen:
                            failures[f"{pod.workload.name}/{c['name']} {kind}"] = seen
        if not failures:
            return
        if time.monotonic() > deadline:
            lines = [f"  {where}: {seen}" for where, seen in sorted(failures.items())]
            logs: list[str] = []
            for pod in pods:
                for c in pod.workload.containers():
                    if any(k.startswith(f"{pod.workload.name}/{c['name']} ") for k in failures):
                        name = pod.container(c)
                        tail = engine.logs(name, 15)
                        logs.append(f"--- log of {name} ---\n{tail}")
            raise KitError(f"probes still failing after {timeout:g}s:\n" + "\n".join(lines + logs))
        time.sleep(0.5)


# ---- play and down ----


@dataclass
class Played:
    overlay: str
    tag: str
    pods: list[Pod] = field(default_factory=list)

    def pod(self, deployment: str) -> Pod:
        return next(p for p in self.pods if p.workload.name == deployment)

    @property
    def url(self) -> str:
        """The page: the frontend Service's port on the frontend pod."""
        pod = self.pod("frontend")
        return pod.url(_port(pod.workload.containers()[0], "http"))


def state_file() -> Path:
    return cache_dir() / "kube-play.json"


def _last_play() -> dict[str, Any]:
    path = state_file()
    state: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {"pods": []}
    return state


def _overlay_dir(overlay: str | Path) -> Path:
    path = Path(overlay)
    if (path / "kustomization.yaml").is_file():
        return path.resolve()
    known = overlays()
    if str(overlay) not in known:
        raise KitError(f"unknown overlay {overlay!r}: one of {', '.join(known)}, or a folder")
    return project_root() / OVERLAYS_DIR / str(overlay)


def build_images(engine: Engine, registry: str, tag: str, revision: str | None) -> None:
    """Every service's image, built with buildah on the Debian base and pushed: the commands
    `monsterstack images --builder buildah` prints, version = tag."""
    root = project_root()
    options = ["--network=host"]
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    if ca.is_file():  # a TLS-intercepting proxy's CA, for pip and uv in the build
        options.append(f"--secret=id=ca-certificates,src={ca}")
    commands = images_commands(
        registry,
        tag,
        builder="buildah",
        base_image=base_image(engine),
        version=tag,
        revision=revision,
        build_options=options,
        global_options=engine.storage,
        context=str(root),
    )
    for argv in commands:
        engine.run_tool(argv)


def build_and_push(engine: Engine, registry: str, tag: str) -> dict[str, str]:
    """Every service's image and the Redis image, in the registry; -> image name in the
    manifests -> the reference to play."""
    build_images(engine, registry, tag, head_revision(project_root()))
    local = redis_image(engine)
    redis = f"{registry}/{REDIS_IMAGE}:{local.rsplit(':', 1)[1]}"
    engine.podman("tag", local, redis)
    engine.podman("push", "--tls-verify=false", "--quiet", redis)
    out = {f"{registry}/{IMAGE_PREFIX}{s}": image_ref(registry, s, tag) for s in services()}
    return {**out, "redis": redis}


def _pods(engine: Engine, prefix: str) -> list[str]:
    names = engine.podman("pod", "ps", "--format={{.Name}}").split()
    return sorted(n for n in names if n.startswith(prefix))


def _volumes(engine: Engine, pod: str) -> list[str]:
    """The named volumes podman made for the pod (emptyDirs and ConfigMaps)."""
    info = engine.inspect("pod", pod)[0]
    names = []
    for c in info.get("Containers", []):
        mounts = engine.inspect("container", c["Name"])[0].get("Mounts", [])
        names += [m["Name"] for m in mounts if m.get("Type") == "volume"]
    return sorted(set(names))


def _remove(engine: Engine, pods: Iterable[str], grace: int, volumes: Iterable[str]) -> None:
    """Stops pods with the manifests' grace period, removes them and their volumes."""
    for pod in pods:
        if engine.exists("pod", pod):
            engine.podman("pod", "stop", f"--time={grace}", pod, check=False, timeout=grace + 60)
            engine.podman("pod", "rm", "--force", pod, check=False)
    for volume in volumes:
        if engine.exists("volume", volume):
            engine.podman("volume", "rm", volume, check=False)


def play(
    overlay: str | Path = "dev",
    tag: str | None = None,
    *,
    timeout: float = 120,
    registry_port: int = REGISTRY_PORT,
    engine: Engine | None = None,
) -> Played:
    """Builds (layer cache) and pushes the images, renders the overlay, plays each Deployment
    (replacing the pods of an earlier play) and waits for every probe. Raises KitError."""
    root = project_root()
    engine = engine or Engine.open()
    tag = check_tag(tag or f"play-{head_revision(root) or 'unknown'}")
    directory = _overlay_dir(overlay)
    started = time.monotonic()
    with local_registry(cache_dir() / "registry", registry_port) as registry:
        images = build_and_push(engine, registry, tag)
        text = render_manifests(registry, tag, directory, root=root)
        workloads = adapt([d for d in yaml.safe_load_all(text) if d], images)
        if not engine.exists("network", NETWORK):
            engine.podman("network", "create", NETWORK)
        # a re-played pod keeps its address, as a Service would: its URL stays valid
        before = {e["pod"]: e.get("ip") for e in _last_play()["pods"]}
        _clear(engine, workloads)
        with tempfile.TemporaryDirectory(prefix="monsterstack-play-") as tmp:
            for w in workloads:
                path = Path(tmp) / f"{w.name}.yaml"
                path.write_text(w.manifest())
                network = f"{NETWORK}:" + ",".join(f"alias={a}" for a in w.aliases)
                ips = [ip for name, ip in sorted(before.items()) if name.startswith(w.pod_prefix)]
                engine.podman(
                    "kube", "play", "--quiet", "--tls-verify=false", f"--network={network}",
                    *(f"--ip={ip}" for ip in ips if ip),
                    f"--annotation={ANNOTATION}={directory.name}", str(path), timeout=600,
                )  # fmt: skip
    pods: list[Pod] = []
    state: dict[str, Any] = {"overlay": str(directory), "tag": tag, "pods": []}
    for w in workloads:
        for name in _pods(engine, w.pod_prefix):
            pod = Pod(w, name, "")
            info = engine.inspect("container", pod.container(w.containers()[0]))[0]
            networks: dict[str, Any] = info["NetworkSettings"]["Networks"]
            pod.ip = networks[NETWORK]["IPAddress"]
            pods.append(pod)
            entry = {
                "pod": name,
                "ip": pod.ip,
                "grace": w.grace,
                "volumes": _volumes(engine, name),
            }
            state["pods"].append(entry)
    state_file().write_text(json.dumps(state, indent=2))
    wait_probes(engine, pods, timeout)
    log(f"played {directory.name} ({tag}) in {time.monotonic() - started:.1f}s")
    return Played(directory.name, tag, pods)


def _clear(engine: Engine, workloads: Iterable[Workload] = ()) -> list[str]:
    """Removes the last play's pods and volumes (its state file), and any pod of ours (our
    storage) of one of `workloads`' Deployments; -> the pods removed."""
    removed = []
    for entry in _last_play()["pods"]:
        _remove(engine, [entry["pod"]], int(entry["grace"]), entry["volumes"])
        removed.append(entry["pod"])
    for w in workloads:
        for pod in _pods(engine, w.pod_prefix):
            _remove(engine, [pod], w.grace, _volumes(engine, pod))
            removed.append(pod)
    state_file().unlink(missing_ok=True)
    return removed


def down(engine: Engine | None = None) -> list[str]:
    """Removes what the last play created (pods, their volumes, the network), by name."""
    engine = engine or Engine.open()
    removed = _clear(engine)
    if engine.exists("network", NETWORK):
        engine.podman("network", "rm", "--force", NETWORK, check=False)
    return removed
