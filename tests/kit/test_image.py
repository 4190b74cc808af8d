"""The images, built, pushed, pulled and run for real, as the course's registry lesson does.

No Docker engine here, and no Docker Hub: buildah and podman (daemonless) build and run the
images; Debian's `docker-registry` is the course's `registry:2`; the base image is made with
debootstrap (Debian bookworm + python3, cached in /var/cache/monsterstack between runs) and
passed as BASE_IMAGE. Then: start the registry, build every service's image with a pinned
tag (the commands `monsterstack images` prints), push, check /v2/_catalog, remove the local
copies and pull them back, and run the containers as Kubernetes would: non-root, read-only
root filesystem with a tmpfs at /tmp, no capabilities; /livez and a monster are fetched from
inside the containers, and SIGTERM must drain and exit 0.

Slow (a few minutes from nothing, much less with the cache): deselect with `-m "not image"`.
Needs root (the storage lives in /var/cache/monsterstack), as CI and this machine have.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from monsterstack import kit
from monsterstack.kit import engine as engine_mod
from monsterstack.kit import play
from monsterstack.kit.engine import Engine
from monsterstack.processes import stop
from monsterstack.services import SERVICES
from tests.servers import free_port

from . import contract, kube

pytestmark = [pytest.mark.image, pytest.mark.timeout(1500)]

UID = 10001  # the Dockerfile's USER
PNG = b"\x89PNG\r\n\x1a\n"
# podman's default limits are above what this sandbox lets a container have
ULIMITS = ["--ulimit=nofile=1024:1024", "--ulimit=nproc=1024:1024"]
# the hardening Kubernetes applies (deploy/base), as podman flags
HARDENED = [
    "--read-only",
    "--tmpfs=/tmp:rw,size=64m,mode=1777",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
    "--network=host",
    *ULIMITS,
]


def log(message: str) -> None:
    print(f"[image] {message}", flush=True)


@dataclass
class Registry:
    address: str

    def get(self, path: str) -> Any:
        return httpx.get(f"http://{self.address}{path}", timeout=10).json()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The course's registry:2 (Debian's docker-registry), empty, on a free loopback port."""
    tmp = tmp_path_factory.mktemp("registry")
    with engine_mod.local_registry(tmp / "data", free_port()) as address:
        reg = Registry(address)
        # as the course checks it: an empty registry
        assert reg.get("/v2/_catalog") == {"repositories": []}
        yield reg


@dataclass
class Built:
    tag: str  # also its version
    refs: dict[str, str]  # service -> registry/monsterstack-<service>:tag
    revision: str


# Tags no other command of the project uses, so the tests never trust an image that something
# else built under the same name; the nonce makes every run's versions new to the layer cache.
TEST_TAG = "imagetest"


def build(engine: Engine, registry: Registry, tag: str, revision: str) -> Built:
    """Build and push every service's image: the commands `monsterstack images` prints."""
    play.build_images(engine, registry.address, tag, revision)
    refs = {s: kit.image_ref(registry.address, s, tag) for s in SERVICES}
    return Built(tag, refs, revision)


@pytest.fixture(scope="module")
def builds(engine: Engine, registry: Registry) -> Iterator[list[Built]]:
    """Two builds of the same tree, A (HEAD) then B (another version and revision): B is
    built on a cache A has just warmed, so it fails if a cached layer carries A's identity."""
    for ref in engine.podman("images", "--format={{.Repository}}:{{.Tag}}").split():
        if ref.rpartition(":")[2].startswith(f"{TEST_TAG}-"):  # left by an earlier run
            engine.podman("rmi", "--force", ref, check=False)
    nonce = os.urandom(3).hex()
    head = kit.head_revision(kube.ROOT)
    assert head, "the image tests run in a git checkout"
    out = [
        build(engine, registry, f"{TEST_TAG}-a-{nonce}", head),
        build(engine, registry, f"{TEST_TAG}-b-{nonce}", f"{head[:7]}b{nonce}"),
    ]
    yield out
    for b in out:
        for ref in b.refs.values():
            engine.podman("rmi", "--force", ref, check=False)


@pytest.fixture(scope="module")
def built(builds: list[Built]) -> Built:
    return builds[0]


# ---- the registry workflow ----


def test_catalog_lists_the_pushed_images(registry: Registry, builds: list[Built]) -> None:
    catalog = registry.get("/v2/_catalog")["repositories"]
    for service in SERVICES:
        assert f"monsterstack-{service}" in catalog
        tags = registry.get(f"/v2/monsterstack-{service}/tags/list")["tags"]
        assert sorted(tags) == sorted(b.tag for b in builds), "pinned tags, never latest"


def test_pulled_back_images_are_hardened_and_labelled(engine: Engine, built: Built) -> None:
    for service, ref in built.refs.items():
        engine.podman("rmi", "--force", ref)
        engine.podman("pull", "--tls-verify=false", ref)
        info = json.loads(engine.podman("image", "inspect", ref))[0]
        config = info["Config"]
        assert config["User"] == f"{UID}:{UID}"
        assert config["Entrypoint"] == ["monsterstack"] and config["Cmd"] == ["serve", service]
        svc = contract.service(service)
        assert svc
        assert f"{svc.settings.model_fields['port'].default}/tcp" in config["ExposedPorts"]
        assert "/readyz" in " ".join(info["Healthcheck"]["Test"])
        labels = config["Labels"]
        assert labels["org.opencontainers.image.revision"] == built.revision
        assert labels["org.opencontainers.image.version"] == built.tag
        assert labels["org.opencontainers.image.title"] == f"monsterstack-{service}"
        # no build tools in the final image
        files = engine.podman(
            "run", "--rm", *HARDENED, "--entrypoint=python3", ref, "-c",
            "import shutil; print([t for t in ('uv', 'pip', 'gcc', 'cc') if shutil.which(t)])",
        )  # fmt: skip
        assert files.strip() == "[]", files


def test_each_build_knows_who_it_is(engine: Engine, builds: list[Built]) -> None:
    """Labels, environment and the running service's answers all name the build's own tag and
    commit, for both builds (B on the cache A warmed: the layer cache must not leak A)."""
    a, b = builds
    assert a.tag != b.tag and a.revision != b.revision
    for one in builds:
        for service, ref in one.refs.items():
            config = json.loads(engine.podman("image", "inspect", ref))[0]["Config"]
            labels, env = config["Labels"], dict(e.split("=", 1) for e in config["Env"])
            assert labels["org.opencontainers.image.version"] == one.tag, (service, labels)
            assert labels["org.opencontainers.image.revision"] == one.revision, (service, labels)
            assert (env["VERSION_LABEL"], env["GIT_COMMIT"]) == (one.tag, one.revision), env
        port = free_port()
        name = f"kit-identity-{one.tag}"
        env = {"PORT": str(port)}
        with container(engine, name, one.refs["imagebackend"], env):
            wait_live(port)
            version, metrics = inside(
                engine,
                name,
                FETCH
                + "get('/monster/alice')\n"
                + "v, m = json.loads(get('/version')[1]), get('/metrics')[1].decode()\n"
                + "print(json.dumps([v, m]))",
            )
        assert (version["version"], version["commit"]) == (one.tag, one.revision), version
        info = re.search(r"^monsterstack_build_info\{(.*)\} ", metrics, re.MULTILINE)
        assert info and f'version="{one.tag}"' in info[1], metrics[:2000]
        requests = re.findall(r"^http_requests_total\{(.*)\} ", metrics, re.MULTILINE)
        assert requests and all(f'version="{one.tag}"' in r for r in requests), requests


# ---- running them as Kubernetes would ----


@contextmanager
def container(engine: Engine, name: str, ref: str, env: dict[str, str]) -> Iterator[str]:
    engine.podman("rm", "--force", name, check=False)
    envs = [f"--env={k}={v}" for k, v in env.items()]
    engine.podman("run", "--detach", f"--name={name}", *HARDENED, *envs, ref)
    try:
        yield name
    finally:
        print(engine.podman("logs", name, check=False)[-3000:])
        engine.podman("rm", "--force", "--time=5", name, check=False)


def inside(engine: Engine, name: str, code: str) -> Any:
    """Runs python code inside the container (as its user); returns what it prints, as JSON."""
    out = engine.podman("exec", name, "python3", "-c", code)
    return json.loads(out)


FETCH = """
import json, os, urllib.request as u
def get(path, headers={}):
    try:
        r = u.urlopen(u.Request("http://127.0.0.1:%s" % os.environ["PORT"] + path,
                                headers=headers), timeout=10)
        return r.status, r.read()
    except u.HTTPError as e:
        return e.code, e.read()
"""

CHECKS = (
    FETCH
    + """
live = get("/livez")
monster = get("/monster/alice?size=80")
try:
    open("/written-by-the-app", "w")
    writable = True
except OSError:
    writable = False
rss = 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        status = open("/proc/%s/status" % pid).read()
        rss += int(status.split("VmRSS:")[1].split()[0])
    except (IndexError, OSError):
        pass
print(json.dumps({"live": live[0], "monster": [monster[0], monster[1][:8].hex()],
    "uid": os.getuid(), "root_writable": writable, "tmp_writable": os.access("/tmp", os.W_OK),
    "rss_kib": rss}))
"""
)


def wait_live(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"nothing live on port {port}"
        time.sleep(0.2)


def memory_limit(service: str) -> float:
    docs = kube.kustomize(kube.DEPLOY / "overlays" / "prod")
    deploy = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == service)
    limit = deploy["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
    return contract._quantity(limit)


def check_hardened(result: dict[str, Any], service: str) -> None:
    assert result["live"] == 200
    assert result["monster"] == [200, PNG.hex()], result["monster"]
    assert result["uid"] == UID
    assert result["root_writable"] is False and result["tmp_writable"] is True
    rss = result["rss_kib"] * 1024
    log(f"{service}: {rss / 2**20:.0f} MiB resident in the container after a render")
    assert rss < 0.75 * memory_limit(service), f"{service} uses {rss} of its memory limit"


@pytest.fixture(scope="module")
def backend(engine: Engine, built: Built) -> Iterator[int]:
    port = free_port()
    env = {"PORT": str(port), "SHUTDOWN_DELAY": "1"}
    with container(engine, "kit-imagebackend", built.refs["imagebackend"], env):
        wait_live(port)
        yield port


def test_imagebackend_runs_hardened(engine: Engine, backend: int) -> None:
    result = inside(engine, "kit-imagebackend", CHECKS)
    check_hardened(result, "imagebackend")
    # the image's HEALTHCHECK (podman runs it on demand here: no systemd timers)
    engine.podman("healthcheck", "run", "kit-imagebackend")


def test_frontend_runs_with_the_backend_and_redis(
    engine: Engine, built: Built, backend: int, tmp_path: Path
) -> None:
    port, redis_port = free_port(), free_port()
    conf = kube.BASE / "redis" / "redis.conf"
    argv = [kube.tool("redis-server"), str(conf), "--port", str(redis_port)]
    argv += ["--bind", "127.0.0.1", "--dir", str(tmp_path)]
    redis_server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    env = {
        "PORT": str(port),
        "SHUTDOWN_DELAY": "1",
        "IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend}",
        "REDIS_DOMAIN": f"127.0.0.1:{redis_port}",
        "APP_TITLE": "monsterstack in podman",
    }
    try:
        with container(engine, "kit-frontend", built.refs["frontend"], env):
            wait_live(port)
            result = inside(engine, "kit-frontend", CHECKS)
            check_hardened(result, "frontend")
            page = inside(
                engine,
                "kit-frontend",
                FETCH
                + "s, b = get('/?name=bob')\n"
                + "h = get('/healthz', {'Accept': 'application/json'})\n"
                + "print(json.dumps([s, b.decode(), h[0], json.loads(h[1])]))",
            )
            status, html, ready, details = page
            assert status == 200 and "monsterstack in podman" in html
            assert f"v{built.tag}</span>" in html, "the page's badge names the build's version"
            assert re.search(r'src="/monster/[^"]+"', html)
            assert ready == 200 and details["ready"] is True, details
            engine.podman("healthcheck", "run", "kit-frontend")
            # the monster it served went through the Redis cache
            assert redis.Redis(port=redis_port, retry=None).dbsize() > 0
    finally:
        stop(redis_server, 10)


def test_sigterm_drains_and_exits_zero(engine: Engine, built: Built) -> None:
    port = free_port()
    env = {"PORT": str(port), "SHUTDOWN_DELAY": "2"}
    ref = built.refs["imagebackend"]
    with container(engine, "kit-sigterm", ref, env) as name:
        wait_live(port)
        started = time.monotonic()
        engine.podman("stop", "--time=30", name)
        took = time.monotonic() - started
        state = json.loads(engine.podman("inspect", name))[0]["State"]
        assert state["ExitCode"] == 0, state
        assert 2 <= took < 30, f"stopped in {took:.1f}s: SHUTDOWN_DELAY is 2s, the grace 30s"
