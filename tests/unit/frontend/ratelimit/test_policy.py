"""The token bucket, its headers, and who the client is (the Redis bucket is tested against a
real redis-server in tests/integration/frontend/test_rate_limit.py)."""

from __future__ import annotations

import pytest

from monsterstack.core.settings import ConfigError, load
from monsterstack.frontend.ratelimit import (
    Decision,
    MemoryLimiter,
    Policy,
    client_address,
    parse_networks,
)
from monsterstack.frontend.settings import FrontendSettings

POLICY = Policy(rate=2.0, burst=5)


def test_a_burst_is_allowed_then_refused_then_refilled_at_the_rate() -> None:
    limiter = MemoryLimiter(POLICY)
    allowed = [limiter.take_now("a", now=100.0).allowed for _ in range(7)]
    assert allowed == [True] * 5 + [False] * 2
    assert not limiter.take_now("a", now=100.4).allowed  # 0.8 token: not yet
    assert limiter.take_now("a", now=100.5).allowed  # 1 token after 0.5 s at 2/s
    assert not limiter.take_now("a", now=100.5).allowed
    # A long pause refills to the burst, never beyond it.
    assert [limiter.take_now("a", now=1000.0).allowed for _ in range(6)] == [True] * 5 + [False]


def test_clients_have_their_own_buckets() -> None:
    limiter = MemoryLimiter(POLICY)
    for _ in range(5):
        limiter.take_now("a", now=0.0)
    assert not limiter.take_now("a", now=0.0).allowed
    assert limiter.take_now("b", now=0.0).allowed


def test_tracked_clients_are_bounded() -> None:
    limiter = MemoryLimiter(POLICY, max_clients=100)
    for i in range(1000):
        limiter.take_now(f"client-{i}", now=0.0)
    assert len(limiter) == 100


def test_headers_of_an_allowed_and_a_refused_request() -> None:
    ok = dict(Decision(True, 3.5).headers(POLICY))
    assert ok == {
        b"ratelimit-limit": b"5",
        b"ratelimit-remaining": b"3",
        b"ratelimit-reset": b"1",  # 1.5 tokens to refill at 2/s: 0.75 s, rounded up
        b"ratelimit-policy": b"5;w=3",
    }
    refused = dict(Decision(False, 0.2).headers(Policy(rate=0.5, burst=5)))
    assert refused[b"ratelimit-remaining"] == b"0"
    assert refused[b"retry-after"] == b"2"  # 0.8 token at 0.5/s = 1.6 s, rounded up
    assert refused[b"ratelimit-reset"] == b"10"


def _scope(peer: str, *forwarded: str) -> dict[str, object]:
    headers = [(b"x-forwarded-for", f.encode()) for f in forwarded]
    return {"client": (peer, 1234), "headers": headers}


PROXIES = parse_networks(["10.0.0.0/8", "192.168.1.10"])


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_claims() -> None:
    assert client_address(_scope("203.0.113.9", "1.2.3.4"), ()) == "203.0.113.9"


def test_an_untrusted_peer_cannot_choose_its_identity() -> None:
    assert client_address(_scope("203.0.113.9", "1.2.3.4"), PROXIES) == "203.0.113.9"


def test_behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() -> None:
    # The client sent a made-up header; the ingress (10.1.2.3) appended the real address.
    scope = _scope("10.1.2.3", "6.6.6.6, 198.51.100.7", "192.168.1.10")
    assert client_address(scope, PROXIES) == "198.51.100.7"


def test_a_malformed_chain_stops_at_the_last_good_hop() -> None:
    scope = _scope("10.1.2.3", "198.51.100.7, not-an-ip, 10.9.9.9")
    assert client_address(scope, PROXIES) == "10.9.9.9"
    assert client_address(_scope("10.1.2.3"), PROXIES) == "10.1.2.3"


def test_ipv6_peers_and_networks() -> None:
    proxies = parse_networks(["fd00::/8"])
    assert client_address(_scope("fd00::1", "2001:db8::7"), proxies) == "2001:db8::7"


def test_settings_name_a_bad_trusted_proxy_and_accept_cidrs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.300")
    with pytest.raises(ConfigError) as err:
        load(FrontendSettings)
    assert "TRUSTED_PROXIES" in str(err.value)
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.3,fd00::/8")
    assert len(load(FrontendSettings).trusted_networks) == 3


@pytest.mark.parametrize("value", ["-1", "abc"])
def test_settings_refuse_a_bad_rate(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RATE_LIMIT", value)
    with pytest.raises(ConfigError) as err:
        load(FrontendSettings)
    assert "RATE_LIMIT" in str(err.value)
