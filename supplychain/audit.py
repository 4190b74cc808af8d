"""The lock file's audit: pip-audit's verdict, and a fallback over the index's project JSON.

scripts/audit runs pip-audit over `uv export` (hashes required) and hands this module its JSON
report. This module then

1. counts what pip-audit really audited. pip-audit says "No known vulnerabilities found" and
   exits 0 even when its advisory service answered 404 for every package (each one
   "Dependency not found on PyPI and could not be audited"): that is not a pass, and we say so
   loudly, naming how many packages went unaudited;
2. fails on every vulnerability pip-audit did report;
3. always runs the fallback over every locked (name, version) pair, all platforms' markers
   included, from the registry each package was locked from (uv.lock's `source.registry`,
   `.../simple` -> `.../pypi/<name>/json`, the index's project-level JSON), in parallel. It fails
   on:
   - a locked version that is yanked (PEP 592) or no longer on the index;
   - a vulnerability the index lists for the project's latest release, when our locked version
     is that release, or when no fix it names is already in our version's major.minor series
     (a vulnerability that the latest release still has is assumed to be in older ones too);
   - a package it could not fetch or place (then nothing audited it: never a silent pass);
   and it reports the packages behind their latest release: for those, a vulnerability fixed
   between our version and the latest is NOT seen by the fallback (the project JSON lists only
   the latest release's vulnerabilities).

Exit status: 0 pass, 1 findings (or packages audited by nothing), 2 bad input. With `--strict`,
packages that pip-audit could not audit fail the run even when the fallback passes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import socket
import ssl
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)"
)

Document = dict[str, Any]
HEADERS = {"Accept": "application/json", "User-Agent": "monsterstack-audit"}
Fetch = Callable[[str], Document]


def canonical(name: str) -> str:
    """PEP 503's normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True, order=True)
class Pin:
    name: str  # canonical
    version: str


@dataclass(frozen=True)
class Finding:
    pin: Pin
    kind: str  # vulnerability | yanked | missing | unaudited
    detail: str

    def __str__(self) -> str:
        return f"{self.pin.name}=={self.pin.version}: {self.kind}: {self.detail}"


@dataclass
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    latest: str | None = None
    behind: bool = False


def read_requirements(text: str) -> tuple[list[Pin], list[str]]:
    """The pinned (name, version) pairs of a `uv export` file, and any line we cannot pin."""
    pins: set[Pin] = set()
    unpinned: list[str] = []
    for line in text.splitlines():
        if not line or line[0] in "# \t-":
            continue  # comments, hash continuation lines, options
        match = _REQUIREMENT.match(line)
        if match:
            pins.add(Pin(canonical(match["name"]), match["version"]))
        else:
            unpinned.append(line.rstrip(" \\"))
    return sorted(pins), unpinned


def read_registries(lock_text: str) -> dict[str, str | None]:
    """Each locked package's registry URL (None when it came from a path, URL or git)."""
    lock = tomllib.loads(lock_text)
    out: dict[str, str | None] = {}
    for package in lock.get("package", []):
        source = package.get("source", {})
        registry = source.get("registry")
        out[canonical(package["name"])] = registry if isinstance(registry, str) else None
    return out


def project_json_url(registry: str, name: str) -> str | None:
    """The project-level JSON of a PyPI-style index (`.../simple` -> `.../pypi/NAME/json`)."""
    base = registry.rstrip("/")
    if not base.endswith("/simple"):
        return None
    return f"{base.removesuffix('/simple')}/pypi/{name}/json"


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def reaches(locked: str, latest: str, fixed_in: Iterable[str]) -> bool:
    """Whether a vulnerability listed for `latest` is assumed to affect `locked`.

    Yes when `locked` is the latest release; otherwise yes unless one of its fixes is at or
    below `locked` in the same major.minor series (a backported fix we already have). With no
    fix, or fixes only in other series, it is assumed to reach older releases too: the
    project JSON gives no affected ranges, and a false alarm costs less than a miss.
    """
    ours = _version(locked)
    if ours is None:
        return True
    top = _version(latest)
    if top is not None and ours == top:
        return True
    for text in fixed_in:
        fix = _version(text)
        if fix is not None and fix <= ours and fix.release[:2] == ours.release[:2]:
            return False
    return True


def _ids(vuln: Document) -> list[str]:
    return [str(vuln.get("id", "?")), *(str(a) for a in vuln.get("aliases") or [])]


def judge(pin: Pin, document: Document, ignore: frozenset[str] = frozenset()) -> Verdict:
    """The fallback's verdict on one locked version, from its project's JSON document."""
    verdict = Verdict()
    info = document.get("info") or {}
    latest = str(info.get("version") or "")
    verdict.latest = latest or None
    releases: dict[str, list[Document]] = document.get("releases") or {}
    ours = _version(pin.version)
    files = None
    for key, entries in releases.items():
        if key == pin.version or (ours is not None and _version(key) == ours):
            files = entries
            break
    if files is None:
        verdict.findings.append(Finding(pin, "missing", "this version is not on the index"))
    else:
        yanked = [f for f in files if f.get("yanked")]
        if yanked:
            reason = next((str(f["yanked_reason"]) for f in yanked if f.get("yanked_reason")), "")
            detail = f"yanked ({len(yanked)} of {len(files)} files)"
            verdict.findings.append(Finding(pin, "yanked", f"{detail}: {reason.strip() or '-'}"))
    top = _version(latest)
    verdict.behind = bool(ours is not None and top is not None and ours < top)
    seen: set[str] = set()
    for vuln in document.get("vulnerabilities") or []:
        if vuln.get("withdrawn"):
            continue
        ids = _ids(vuln)
        if ignore.intersection(ids) or seen.intersection(ids):
            continue  # ignored, or the same advisory under another database's ID
        seen.update(ids)
        fixed_in = [str(v) for v in vuln.get("fixed_in") or []]
        if reaches(pin.version, latest, fixed_in):
            fixes = ", ".join(fixed_in) or "none yet"
            detail = f"{' / '.join(ids)} (listed for {latest}; fixed in: {fixes})"
            verdict.findings.append(Finding(pin, "vulnerability", detail))
    return verdict


@dataclass
class PipAuditReport:
    audited: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # canonical name -> reason
    findings: list[Finding] = field(default_factory=list)
    ran: bool = False


def read_pip_audit(text: str, ignore: frozenset[str] = frozenset()) -> PipAuditReport:
    """pip-audit's `--format json` report: what it audited, skipped, and found."""
    report = PipAuditReport()
    if not text.strip():
        return report
    document = json.loads(text)
    report.ran = True
    for dep in document.get("dependencies", []):
        name = canonical(str(dep.get("name", "?")))
        if dep.get("skip_reason"):
            report.skipped[name] = str(dep["skip_reason"])
            continue
        report.audited += 1
        pin = Pin(name, str(dep.get("version", "?")))
        seen: set[str] = set()
        for vuln in dep.get("vulns") or []:
            ids = _ids(vuln)
            if ignore.intersection(ids) or seen.intersection(ids):
                continue
            seen.update(ids)
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            report.findings.append(
                Finding(pin, "vulnerability", f"{' / '.join(ids)} (fixed in: {fixes})")
            )
    return report


class HttpStatus(Exception):
    def __init__(self, code: int, url: str) -> None:
        super().__init__(f"HTTP {code} from {url}")
        self.code = code


class HttpJson:
    """GETs JSON documents over keep-alive connections, one per thread, to an address resolved
    once per host. Measured here: about 1 name lookup in 40 stalls 5 s in the resolver, so a
    lookup per request (urllib) made the fallback take 12 s instead of 3.
    With a proxy configured in the environment, urllib (which honours it) is used instead."""

    def __init__(self, timeout: float = 15.0, attempts: int = 3) -> None:
        self.timeout = timeout
        self.attempts = attempts
        self.proxied = bool(urllib.request.getproxies())
        self._addresses: dict[tuple[str, int], tuple[str, int]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._tls = ssl.create_default_context()

    def _address(self, host: str, port: int) -> tuple[str, int]:
        with self._lock:
            if (host, port) not in self._addresses:
                info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                address = info[0][4]
                self._addresses[host, port] = (str(address[0]), int(address[1]))
            return self._addresses[host, port]

    def _connection(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str, int], http.client.HTTPConnection]
        pool = self._local.__dict__.setdefault("pool", {})
        key = (scheme, host, port)
        if key not in pool:
            address, timeout = self._address(host, port), self.timeout
            tls = self._tls if scheme == "https" else None

            class Pinned(http.client.HTTPConnection):
                def connect(self) -> None:
                    sock = socket.create_connection(address, timeout)
                    self.sock = tls.wrap_socket(sock, server_hostname=host) if tls else sock

            pool[key] = Pinned(host, port, timeout=timeout)
        return pool[key]

    def _get(self, url: str) -> bytes:
        if self.proxied:
            request = urllib.request.Request(url, headers=HEADERS)
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read()
                return body
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connection = self._connection(parts.scheme, parts.hostname, port)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", path, headers=HEADERS)
            response = connection.getresponse()
            body = response.read()
        except Exception:
            connection.close()  # a fresh connection next time
            raise
        if response.status != 200:
            raise HttpStatus(response.status, url)
        return body

    def __call__(self, url: str) -> Document:
        for attempt in range(self.attempts):
            try:
                document: Document = json.loads(self._get(url))
                return document
            except (HttpStatus, urllib.error.HTTPError) as exc:
                if exc.code < 500 or attempt == self.attempts - 1:
                    raise
            except (OSError, http.client.HTTPException):
                if attempt == self.attempts - 1:
                    raise
            time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")


@dataclass
class FallbackReport:
    verdicts: dict[Pin, Verdict] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    documents: int = 0


def fallback(
    pins: Sequence[Pin],
    registries: dict[str, str | None],
    ignore: frozenset[str] = frozenset(),
    fetch: Fetch | None = None,
    workers: int = 16,
) -> FallbackReport:
    """Fetches each project's JSON once (in parallel) and judges every locked version."""
    report = FallbackReport()
    urls: dict[str, str] = {}
    for pin in pins:
        registry = registries.get(pin.name)
        url = project_json_url(registry, pin.name) if registry else None
        if url is None:
            where = f"registry {registry}" if registry else "not locked from a registry"
            report.findings.append(Finding(pin, "unaudited", f"no project JSON ({where})"))
        else:
            urls[pin.name] = url

    get_json = fetch or HttpJson()

    def get(name: str) -> tuple[str, Document | Exception]:
        try:
            return name, get_json(urls[name])
        except Exception as exc:  # any failure leaves the package unaudited, reported below
            return name, exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        documents = dict(pool.map(get, sorted(urls)))
    report.documents = sum(1 for d in documents.values() if not isinstance(d, Exception))
    for pin in pins:
        if pin.name not in documents:
            continue
        document = documents[pin.name]
        if isinstance(document, Exception):
            detail = f"project JSON not fetched: {type(document).__name__}: {document}"
            report.findings.append(Finding(pin, "unaudited", detail[:200]))
            continue
        verdict = judge(pin, document, ignore)
        report.verdicts[pin] = verdict
        report.findings += verdict.findings
    return report


def _say(line: str = "") -> None:
    print(f"audit: {line}" if line else "", flush=True)


def _banner(lines: Sequence[str]) -> None:
    width = max(len(line) for line in lines) + 4
    print("!" * width, flush=True)
    for line in lines:
        print(f"! {line.ljust(width - 4)} !", flush=True)
    print("!" * width, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="supplychain.audit", description=__doc__.splitlines()[0])
    p.add_argument("--requirements", type=Path, required=True, help="`uv export` output")
    p.add_argument("--lock", type=Path, required=True, help="uv.lock (each package's registry)")
    p.add_argument("--pip-audit-json", type=Path, help="pip-audit's --format json report")
    p.add_argument("--pip-audit-status", type=int, default=0, help="pip-audit's exit status")
    p.add_argument("--ignore-vuln", action="append", default=[], help="an ID or alias to ignore")
    p.add_argument("--strict", action="store_true", help="fail if pip-audit skipped packages")
    p.add_argument("--workers", type=int, default=16)
    args = p.parse_args(argv)
    started = time.monotonic()
    ignore = frozenset(args.ignore_vuln)
    if ignore:
        _say(f"accepted, not reported (IGNORE_VULNS in scripts/audit): {', '.join(sorted(ignore))}")

    pins, unpinned = read_requirements(args.requirements.read_text())
    registries = read_registries(args.lock.read_text())
    if not pins:
        _say(f"no pinned requirement in {args.requirements}: nothing to audit is an error")
        return 2
    findings: list[Finding] = []
    for line in unpinned:
        findings.append(Finding(Pin(line, "?"), "unaudited", "not pinned with =="))

    # 1. pip-audit's own verdict.
    pip_text = ""
    if args.pip_audit_json and args.pip_audit_json.exists():
        pip_text = args.pip_audit_json.read_text()
    try:
        pip = read_pip_audit(pip_text, ignore)
    except (json.JSONDecodeError, AttributeError) as exc:
        _say(f"pip-audit's report is unreadable ({exc}): counted as not run")
        pip = PipAuditReport()
    total = pip.audited + len(pip.skipped)
    findings += pip.findings
    if not pip.ran:
        service = f"pip-audit did not produce a report (exit status {args.pip_audit_status})"
        gap = len(pins)
    else:
        _say(f"pip-audit: {pip.audited} of {total} packages audited by its advisory service")
        service = f"pip-audit's advisory service could not audit {len(pip.skipped)} of {total}"
        gap = len(pip.skipped)
        if pip.skipped:
            reasons = sorted({re.sub(r":.*", "", r) for r in pip.skipped.values()})
            _say(f"pip-audit's reasons: {'; '.join(reasons)}")
    if gap:
        _banner(
            [
                f"ADVISORY SERVICE INCOMPLETE: {service} packages.",
                "pip-audit's 'No known vulnerabilities found' does NOT cover those packages.",
                "What follows is the FALLBACK, with narrower coverage: yanked releases, and",
                "vulnerabilities listed for each project's LATEST release only (scripts/audit).",
            ]
        )

    # 2. the fallback, over every locked pair.
    fb = fallback(pins, registries, ignore, workers=args.workers)
    findings += fb.findings
    behind = sorted(
        f"{pin.name} {pin.version}->{v.latest}" for pin, v in fb.verdicts.items() if v.behind
    )
    judged = len(fb.verdicts)
    _say(
        f"fallback: {judged} of {len(pins)} locked versions ({fb.documents} projects) checked "
        "against the index's project JSON (yanked, latest release's vulnerabilities)"
    )
    if behind:
        _say(
            f"fallback: {len(behind)} of {judged} locked versions are behind their latest "
            "release; a vulnerability fixed after our version is NOT seen for them:"
        )
        for chunk in range(0, len(behind), 6):
            _say("  " + ", ".join(behind[chunk : chunk + 6]))

    elapsed = time.monotonic() - started
    if findings:
        _say(f"FAIL: {len(findings)} finding(s):")
        for finding in sorted(findings, key=str):
            _say(f"  {finding}")
        return 1
    if gap and args.strict:
        _say(f"FAIL (--strict): {gap} packages were not audited by an advisory service")
        return 1
    how = "pip-audit + fallback" if not gap else "FALLBACK ONLY for the packages above"
    _say(f"pass ({how}): no finding over {len(pins)} locked versions, {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
