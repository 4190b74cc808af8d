"""The container engine on this machine: podman and buildah on the project's own storage.

No Docker engine, no Docker Hub here: images are built with buildah on a Debian base made by
debootstrap, kept in the project's image cache (`/var/cache/monsterstack`, or
$MONSTERSTACK_CACHE), and run by podman (runc) with a containers.conf of our own: netavark for
pod DNS, and ulimits this sandbox allows (`kube play` has no --ulimit). Root only, as the
storage is under /var/cache. The image tests and `monsterstack kube-play` share all of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..processes import ProcessExited, http_ok, port_open, stop, wait_until
from .checkout import KitError

SUITE = "bookworm"  # its python3 is 3.11, as the project requires
BASE_PACKAGES = ("python3", "python3-venv", "passwd", "ca-certificates")
REDIS_PACKAGES = ("redis-server",)
TOOLS = ("buildah", "podman", "skopeo", "runc", "debootstrap", "docker-registry")
STORAGE_LIMIT = 12 * 2**30  # the layer cache is wiped beyond this

CONTAINERS_CONF = """\
# written by monsterstack (kit/engine.py): podman for the project's own storage
[containers]
# kube play has no --ulimit; the engine's defaults are above what this sandbox allows
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "netavark"
"""


def cache_dir() -> Path:
    return Path(os.environ.get("MONSTERSTACK_CACHE", "/var/cache/monsterstack"))


def log(message: str) -> None:
    print(f"[kit] {message}", file=sys.stderr, flush=True)


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise KitError(
            f"{name} is not installed: `scripts/bootstrap buildah podman skopeo runc "
            "debootstrap docker-registry catatonit netavark aardvark-dns iptables` installs "
            "the engine's tools (Debian packages)"
        )
    return found


def run(argv: Sequence[str], *, timeout: float = 900, check: bool = True, **kw: object) -> str:
    """Runs a command; its stdout, or a KitError with the end of its output."""
    started = time.monotonic()
    done = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kw
    )  # type: ignore[call-overload]
    line = " ".join(shlex.quote(a) for a in argv)
    took = time.monotonic() - started
    if check and done.returncode != 0:
        output = f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        raise KitError(f"{line[:300]} -> {done.returncode}\n{output}")
    if took > 1:  # the builds, pushes and plays; not every inspect
        log(f"{took:6.1f}s  {line[:160]}")
    return str(done.stdout)


def _storage_driver(cache: Path) -> str:
    """overlay where the kernel and filesystem allow it (fast), else vfs (works anywhere)."""
    wanted = os.environ.get("MONSTERSTACK_STORAGE_DRIVER")
    if wanted:
        return wanted
    probe = cache / "overlay-probe"
    shutil.rmtree(probe, ignore_errors=True)
    (probe / "lower").mkdir(parents=True)
    for d in ("upper", "work", "merged"):
        (probe / d).mkdir()
    opts = f"lowerdir={probe}/lower,upperdir={probe}/upper,workdir={probe}/work"
    done = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", opts, str(probe / "merged")],
        capture_output=True,
        check=False,
    )
    if done.returncode == 0:
        subprocess.run(["umount", str(probe / "merged")], check=False)
    shutil.rmtree(probe, ignore_errors=True)
    return "overlay" if done.returncode == 0 else "vfs"


def _du(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            with suppress(OSError):
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


@dataclass(frozen=True)
class Engine:
    """buildah and podman on one private storage (driver, root) in the cache."""

    driver: str
    root: Path
    runroot: Path
    conf: Path

    @classmethod
    def open(cls, cache: Path | None = None) -> Engine:
        if os.geteuid() != 0:
            raise KitError("the container engine needs root (its storage is in the cache)")
        for name in TOOLS:
            tool(name)
        cache = cache or cache_dir()
        cache.mkdir(parents=True, exist_ok=True)
        driver = _storage_driver(cache)
        root = cache / f"storage-{driver}"
        if root.exists() and _du(root) > STORAGE_LIMIT:
            log(f"layer cache above {STORAGE_LIMIT >> 30} GiB: wiping {root}")
            shutil.rmtree(root)
        conf = cache / "containers.conf"
        if not conf.is_file() or conf.read_text() != CONTAINERS_CONF:
            conf.write_text(CONTAINERS_CONF)
        return cls(driver, root, Path(f"/run/monsterstack-{driver}"), conf)

    @property
    def storage(self) -> list[str]:
        return [
            f"--storage-driver={self.driver}",
            f"--root={self.root}",
            f"--runroot={self.runroot}",
        ]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": str(self.conf)}

    def podman_argv(self, *args: str) -> list[str]:
        return [tool("podman"), *self.storage, *args]

    def podman(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        return run(self.podman_argv(*args), timeout=timeout, check=check, env=self.env)

    def run_tool(self, argv: Sequence[str], timeout: float = 1200) -> str:
        """A command of buildah's or podman's that already carries its storage options."""
        return run(argv, timeout=timeout, env=self.env)

    def logs(self, container: str, tail: int = 30) -> str:
        """The end of a container's log, stdout and stderr interleaved as written."""
        argv = self.podman_argv("logs", f"--tail={tail}", container)
        done = subprocess.run(
            argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
        )
        return done.stdout.decode(errors="replace")

    def exists(self, *what: str) -> bool:
        """`podman <kind> exists <name>`: image, pod, container, volume, network."""
        argv = self.podman_argv(*what[:-1], "exists", what[-1])
        return subprocess.run(argv, env=self.env, check=False).returncode == 0

    def inspect(self, *what: str) -> list[dict[str, Any]]:
        data = json.loads(self.podman(*what[:-1], "inspect", what[-1]))
        return data if isinstance(data, list) else [data]


# ---- the Debian base images ----


def apt_mirror(suite: str = SUITE) -> str:
    """The Debian mirror apt uses here (debootstrap takes the same), read from apt's sources."""
    sources = Path("/etc/apt/sources.list.d")
    for path in sorted(sources.glob("*.sources")):
        for block in path.read_text().split("\n\n"):
            fields = dict(
                (k.strip(), v.strip())
                for k, _, v in (line.partition(":") for line in block.splitlines())
                if v and not k.startswith("#")
            )
            if suite in fields.get("Suites", "").split() and fields.get("URIs"):
                return fields["URIs"].split()[0]
    for path in [Path("/etc/apt/sources.list"), *sorted(sources.glob("*.list"))]:
        if path.is_file():
            for line in path.read_text().splitlines():
                m = re.match(rf"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+{suite}\s", line)
                if m:
                    return m[1]
    raise KitError(f"no Debian {suite} source in apt's configuration for debootstrap")


def rootfs_tarball(packages: Sequence[str], *, drop: Sequence[str] = ()) -> Path:
    """Debian bookworm (minbase) + packages, as a root filesystem tarball, built once.

    `drop`: paths removed from the tree (e.g. a package's config folder that a volume mounts
    over: podman would copy its ownership onto the volume)."""
    cache = cache_dir()
    recipe = f"{SUITE} minbase {','.join(packages)} drop {','.join(drop)} v1"
    if not drop:  # the recipe the base has always had: its cached tarball stays valid
        recipe = f"{SUITE} minbase {','.join(packages)} v1"
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    tarball = cache / f"base-{SUITE}-{digest}.tar"
    if tarball.is_file():
        log(f"root filesystem from the cache: {tarball}")
        return tarball
    with tempfile.TemporaryDirectory(dir=cache, prefix="debootstrap-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        run(
            [
                tool("debootstrap"),
                "--variant=minbase",
                f"--include={','.join(packages)}",
                SUITE,
                str(rootfs),
                apt_mirror(SUITE),
            ],
            timeout=1200,
        )
        # what a slim image leaves out: caches, docs, manuals, translations
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc"):
            for child in (rootfs / junk).glob("*"):
                if child.is_file() or child.is_symlink():
                    child.unlink()
                else:
                    shutil.rmtree(child)
        for junk in ("usr/share/man", "usr/share/locale", *drop):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        partial = tarball.with_suffix(".partial")
        run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."])
        partial.rename(tarball)
    return tarball


def imported_image(
    engine: Engine, name: str, tarball: Path, cmd: Sequence[str], env: Sequence[str] = ()
) -> str:
    """The tarball as a local image (imported once): `localhost/<name>:<digest>`."""
    changes = [f"CMD {json.dumps(list(cmd))}", *(f"ENV {e}" for e in env)]
    tag = tarball.stem.removeprefix("base-")
    if env:  # the base's tag predates image settings beyond CMD: it stays as it was
        tag += "-" + hashlib.sha256("\n".join(changes).encode()).hexdigest()[:6]
    ref = f"localhost/{name}:{tag}"
    if not engine.exists("image", ref):
        engine.podman("import", *(f"--change={c}" for c in changes), str(tarball), ref)
    return ref


def base_image(engine: Engine) -> str:
    """The Dockerfile's BASE_IMAGE here: Debian bookworm with python3 (no Docker Hub)."""
    return imported_image(engine, "monsterstack-base", rootfs_tarball(BASE_PACKAGES), ["python3"])


def redis_image(engine: Engine) -> str:
    """A Redis image on the same Debian base (no registry image of Redis can be pulled here).

    /etc/redis is removed: the manifests mount the redis-config ConfigMap there."""
    tarball = rootfs_tarball(REDIS_PACKAGES, drop=("etc/redis",))
    path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    return imported_image(engine, "monsterstack-redis", tarball, ["redis-server"], [path])


# ---- the registry ----


@contextmanager
def local_registry(data: Path, port: int, *, log_file: Path | None = None) -> Iterator[str]:
    """The course's registry:2 (Debian's docker-registry) on 127.0.0.1:port; its address.

    Images are kept in `data`. A port some other program holds is refused, not shared."""
    address = f"127.0.0.1:{port}"
    port_free(port, f"the registry's port {port}")
    data.mkdir(parents=True, exist_ok=True)
    config = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(data)}, "delete": {"enabled": True}},
        "http": {"addr": address},
    }
    conf = data.parent / f"{data.name}.config.yml"
    conf.write_text(json.dumps(config))
    out = (log_file or data.parent / f"{data.name}.log").open("wb")
    process = subprocess.Popen(
        [tool("docker-registry"), "serve", str(conf)], stdout=out, stderr=subprocess.STDOUT
    )
    try:
        try:
            ready = partial(http_ok, f"http://{address}/v2/")
            wait_until(ready, process, timeout=20, what=f"the registry on {address}", interval=0.1)
        except (ProcessExited, TimeoutError) as exc:
            raise KitError(f"{exc}; see {out.name}") from None
        yield address
    finally:
        stop(process, 10)
        out.close()


def port_free(port: int, what: str) -> None:
    """Raises a KitError if something already listens on 127.0.0.1:port."""
    if port_open(port):
        raise KitError(f"{what} is taken by another program: pick another one")
