"""The manifests run for real: the dev overlay played by `podman kube play` (kit.play).

The played pods run the rendered Deployments under their own securityContext, resources,
envFrom and volumes; every probe of the unmodified manifests passes from the host, as a
kubelet would run it. Then end-to-end checks on the played stack, a ConfigMap change re-played,
SIGTERM, and kits broken on purpose, each refused with a message naming the cause.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monsterstack.kit import KitError, head_revision, play
from monsterstack.kit.engine import Engine
from monsterstack.services import SERVICES
from tests.servers import free_port

from . import contract, kube

pytestmark = [pytest.mark.play, pytest.mark.timeout(900)]

DEV = kube.DEPLOY / "overlays" / "dev"
NONCE = os.urandom(3).hex()


def on_dev(tmp: Path, name: str, body: str) -> Path:
    """A kustomization of `body` on top of the dev overlay, in tmp/name."""
    where = tmp / name
    where.mkdir(parents=True, exist_ok=True)
    text = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n  - {os.path.relpath(DEV, where)}\n{body}"
    )
    (where / "kustomization.yaml").write_text(text)
    return where


def configmap_literal(name: str, key: str) -> str:
    for doc in kube.kustomize(DEV):
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].startswith(f"{name}-"):
            return str(doc["data"][key])
    raise AssertionError(f"no ConfigMap {name} in the dev overlay")


def title(url: str) -> str:
    page = httpx.get(f"{url}docs", timeout=10)
    assert page.status_code == 200, page.text[:300]
    found = re.search(r"<title>(.*?)</title>", page.text)
    assert found, page.text[:300]
    return found[1]


@pytest.fixture(scope="module")
def registry_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def stack(engine: Engine, registry_port: int) -> Iterator[play.Played]:
    try:
        yield play.play(DEV, f"playtest-{NONCE}", engine=engine, registry_port=registry_port)
    finally:
        play.down(engine)


def test_every_deployment_is_played_and_probed(stack: play.Played) -> None:
    played = {p.workload.name for p in stack.pods}
    assert played == {*SERVICES, "redis"}
    # every container of the unmodified manifests has its probes, and they were run
    for pod in stack.pods:
        for c in pod.workload.containers():
            assert "readinessProbe" in c and "livenessProbe" in c, (pod.name, c["name"])
            assert (
                "livenessProbe"
                not in pod.workload.played["spec"]["template"]["spec"]["containers"][0]
            ), "the played copy has no liveness probe (podman would curl in the image)"


def test_the_page_and_a_monster_through_the_frontend(stack: play.Played) -> None:
    page = httpx.get(stack.url, params={"name": "bob"}, timeout=10)
    assert page.status_code == 200
    src = re.search(r'src="(/monster/[^"]+)"', page.text)
    assert src, page.text[:500]
    png = httpx.get(stack.url.rstrip("/") + src[1], timeout=10)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_docs_are_titled_by_the_configmap(stack: play.Played) -> None:
    assert title(stack.url) == f"{configmap_literal('frontend-config', 'APP_TITLE')} - Swagger UI"


def test_version_is_the_tag_and_the_commit(stack: play.Played) -> None:
    version = httpx.get(f"{stack.url}version", timeout=10).json()
    assert version["version"] == stack.tag
    assert version["commit"] == head_revision(kube.ROOT)
    page = httpx.get(stack.url, timeout=10).text
    assert f"v{stack.tag}</span>" in page


def test_redis_holds_the_pictures(engine: Engine, stack: play.Played) -> None:
    redis = stack.pod("redis")
    for name in ("alice", "carol", "dave"):
        assert httpx.get(f"{stack.url}monster/{name}", timeout=10).status_code == 200
    keys = engine.podman(
        "exec", redis.container(redis.workload.containers()[0]), "redis-cli", "dbsize"
    )
    assert int(keys) >= 3, "the frontend found Redis by its Service name and cached the pictures"


def test_containers_run_as_the_manifests_say(engine: Engine, stack: play.Played) -> None:
    for pod in stack.pods:
        spec = pod.workload.deployment["spec"]["template"]["spec"]
        for c in pod.workload.containers():
            name = pod.container(c)
            info = engine.inspect("container", name)[0]
            sc = {**spec.get("securityContext", {}), **c.get("securityContext", {})}
            assert info["Config"]["User"] == f"{sc['runAsUser']}:{sc['runAsGroup']}", name
            assert info["HostConfig"]["ReadonlyRootfs"] is sc["readOnlyRootFilesystem"], name
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert info["EffectiveCaps"] in (None, []), (name, info["EffectiveCaps"])
            limits = c["resources"]["limits"]
            assert info["HostConfig"]["Memory"] == contract._quantity(limits["memory"]), name
            status = engine.podman("exec", name, "cat", "/proc/1/status")
            assert re.search(r"^NoNewPrivs:\s+1$", status, re.M), name
            assert re.search(r"^CapEff:\s+0+$", status, re.M), name
            uid = re.search(r"^Uid:\s+(\d+)", status, re.M)
            assert uid and int(uid[1]) == sc["runAsUser"], name


def test_a_configmap_change_replayed_gives_the_new_title(
    engine: Engine, stack: play.Played, registry_port: int, tmp_path: Path
) -> None:
    before = engine.inspect("container", stack.pod("frontend").container({"name": "frontend"}))
    changed = on_dev(
        tmp_path,
        "retitled",
        "configMapGenerator:\n  - name: frontend-config\n    behavior: merge\n"
        "    literals:\n      - APP_TITLE=monsterstack replayed\n",
    )
    again = play.play(changed, stack.tag, engine=engine, registry_port=registry_port)
    frontend = again.pod("frontend")
    after = engine.inspect("container", frontend.container({"name": "frontend"}))
    assert after[0]["Id"] != before[0]["Id"], "a new pod, as the new ConfigMap name rolls it"
    assert again.url == stack.url, "the re-played pod keeps its address"
    assert title(again.url) == "monsterstack replayed - Swagger UI"


def test_sigterm_drains_and_exits_zero(engine: Engine, stack: play.Played) -> None:
    """Last of the module: stops the imagebackend as the kubelet would (grace period)."""
    pod = stack.pod("imagebackend")
    name = pod.container(pod.workload.containers()[0])
    delay = float(configmap_literal("monsterstack-common", "SHUTDOWN_DELAY"))
    started = time.monotonic()
    engine.podman("stop", f"--time={pod.workload.grace}", name, timeout=120)
    took = time.monotonic() - started
    state = engine.inspect("container", name)[0]["State"]
    assert state["ExitCode"] == 0, (state, engine.logs(name))
    assert delay <= took < pod.workload.grace, f"stopped in {took:.1f}s"


# ---- kits broken on purpose: the play refuses them, naming the cause ----

BROKEN = {
    # The frontend stays ready without its imagebackend (core.health), and the play refuses
    # the kit anyway: its readiness answer says the imagebackend is degraded.
    "wrong-imagebackend-domain": (
        "configMapGenerator:\n  - name: frontend-config\n    behavior: merge\n"
        "    literals:\n      - IMAGEBACKEND_DOMAIN=nowhere:8080\n",
        r"frontend/frontend readinessProbe: GET http://[\d.]+:5000/healthz .*answered 200, "
        r"degraded: imagebackend \(ConnectError",
    ),
    "invalid-frontend-setting": (
        "configMapGenerator:\n  - name: frontend-config\n    behavior: merge\n"
        "    literals:\n      - BACKEND_TIMEOUT=soon\n",
        r"frontend/frontend: the container is \w+ \(exit code \d+, \d+ restarts\)"
        r"(.|\n)*BACKEND_TIMEOUT: Input should be a valid number",
    ),
    "probe-path-not-served": (
        "patches:\n  - target: {kind: Deployment, name: imagebackend}\n    patch: |-\n"
        "      - op: replace\n        path: /spec/template/spec/containers/0/readinessProbe/"
        "httpGet/path\n        value: /ready-or-not\n",
        r"imagebackend/imagebackend readinessProbe: GET http://[\d.]+:8080/ready-or-not "
        r"answered 404",
    ),
    "read-only-root-without-tmp": (
        "patches:\n  - target: {kind: Deployment, name: imagebackend}\n    patch: |-\n"
        "      - op: remove\n        path: /spec/template/spec/containers/0/volumeMounts\n"
        "      - op: remove\n        path: /spec/template/spec/volumes\n",
        r"imagebackend/imagebackend: the container is \w+ \(exit code \d+, \d+ restarts\)"
        r"(.|\n)*No usable temporary directory",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_kit_is_refused_with_its_cause(
    engine: Engine, registry_port: int, tmp_path: Path, case: str
) -> None:
    body, cause = BROKEN[case]
    try:
        with pytest.raises(KitError) as refused:
            play.play(
                on_dev(tmp_path, case, body),
                f"playtest-{NONCE}",
                engine=engine,
                registry_port=registry_port,
                timeout=15,
            )
    finally:
        play.down(engine)
    assert re.search(cause, str(refused.value)), str(refused.value)[:3000]


def test_down_leaves_nothing_of_ours(engine: Engine) -> None:
    play.down(engine)
    assert engine.podman("pod", "ps", "--format={{.Name}}").split() == []
    volumes = engine.podman("volume", "ls", "--format={{.Name}}").split()
    assert volumes == [], volumes
    assert not engine.exists("network", play.NETWORK)
    assert not play.state_file().exists()
    assert json.loads(engine.podman("ps", "--all", "--format=json") or "[]") == []
