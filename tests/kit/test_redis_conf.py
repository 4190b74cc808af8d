"""deploy/base/redis/redis.conf, loaded by a real redis-server (Debian's, as the test needs no
image): a cache with bounded memory and LRU eviction, no persistence, and the password the
redis-password component adds on the command line."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import redis

from monsterstack.processes import redis_answers, stop, wait_until
from tests.servers import free_port

from . import kube

CONF = kube.BASE / "redis" / "redis.conf"


@contextmanager
def redis_server(tmp: Path, *extra: str) -> Iterator[int]:
    port = free_port()
    # the config as the pod reads it; only where it listens and writes differs here
    argv = [kube.tool("redis-server"), str(CONF), "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--dir", str(tmp), *extra]
    log = (tmp / "redis.log").open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        # NOAUTH counts as up: the redis-password component's server has a password.
        answers = partial(redis_answers, port)
        wait_until(answers, process, timeout=10, what="redis-server", log=tmp / "redis.log")
        yield port
    finally:
        stop(process, 10)
        log.close()


def test_redis_conf_is_a_bounded_lru_cache_without_persistence(tmp_path: Path) -> None:
    with redis_server(tmp_path) as port:
        client = redis.Redis(port=port, decode_responses=True)
        config = client.config_get("*")
        assert config["maxmemory-policy"] == "allkeys-lru"
        assert 0 < int(config["maxmemory"]) <= 128 * 2**20
        assert config["save"] == ""
        assert config["appendonly"] == "no"
        client.set("k", "v")
    assert not list(tmp_path.glob("*.rdb")) and not list(tmp_path.glob("appendonly*"))


def test_redis_password_as_the_component_passes_it(tmp_path: Path) -> None:
    with redis_server(tmp_path, "--requirepass", "0123456789abcdef") as port:
        try:
            redis.Redis(port=port, retry=None).ping()
            raise AssertionError("redis answered without the password")
        except redis.AuthenticationError:
            pass
        url = f"redis://:0123456789abcdef@127.0.0.1:{port}/0"
        assert redis.Redis.from_url(url).ping()
