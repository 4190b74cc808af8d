"""The lock audit's decisions (supplychain/audit.py), on documents recorded from the index and
from pip-audit (fixtures/, trimmed to the fields read), and once live: a lock line for a
release the index has yanked must fail the run."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from supplychain.audit import (
    Pin,
    fallback,
    judge,
    main,
    project_json_url,
    reaches,
    read_pip_audit,
    read_registries,
    read_requirements,
)

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parents[3]


def recorded(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return document


def kinds(pin: Pin, document: dict[str, Any], **kw: Any) -> list[str]:
    return [f.kind for f in judge(pin, document, **kw).findings]


def test_a_yanked_release_fails_with_the_index_reason() -> None:
    verdict = judge(Pin("requests", "2.32.0"), recorded("requests"))
    assert [f.kind for f in verdict.findings] == ["yanked"]
    assert "CVE-2024-35195" in verdict.findings[0].detail
    assert verdict.behind and verdict.latest == "2.34.2"


def test_an_older_clean_release_passes_but_is_reported_behind() -> None:
    verdict = judge(Pin("requests", "2.31.0"), recorded("requests"))
    assert verdict.findings == [] and verdict.behind


def test_the_latest_clean_release_passes() -> None:
    verdict = judge(Pin("requests", "2.34.2"), recorded("requests"))
    assert verdict.findings == [] and not verdict.behind


def test_a_version_gone_from_the_index_fails() -> None:
    assert kinds(Pin("requests", "2.99.0"), recorded("requests")) == ["missing"]


def test_a_version_matches_its_release_key_by_pep440_equality() -> None:
    assert kinds(Pin("requests", "2.32.0.0"), recorded("requests")) == ["yanked"]


def test_vulnerabilities_listed_for_the_latest_release_fail_it_once_per_advisory() -> None:
    """pycrypto's latest release carries 4 entries: 2 advisories, each under PYSEC and GHSA."""
    verdict = judge(Pin("pycrypto", "2.6.1"), recorded("pycrypto"))
    assert [f.kind for f in verdict.findings] == ["vulnerability"] * 2
    assert {"CVE-2013-7459", "CVE-2018-6594"} <= {
        word for f in verdict.findings for word in f.detail.split()
    }


def test_an_unfixed_vulnerability_of_the_latest_release_is_assumed_in_older_ones() -> None:
    assert kinds(Pin("pycrypto", "2.6"), recorded("pycrypto")) == ["vulnerability"] * 2


def test_ecdsa_duplicate_advisories_count_once_and_an_ignored_alias_silences_both() -> None:
    document = recorded("ecdsa")
    assert len(document["vulnerabilities"]) == 2
    assert kinds(Pin("ecdsa", "0.19.2"), document) == ["vulnerability"]
    assert kinds(Pin("ecdsa", "0.19.2"), document, ignore=frozenset({"CVE-2024-23342"})) == []


def test_withdrawn_advisories_are_not_findings() -> None:
    document = copy.deepcopy(recorded("ecdsa"))
    for vuln in document["vulnerabilities"]:
        vuln["withdrawn"] = "2026-01-01T00:00:00Z"
    assert kinds(Pin("ecdsa", "0.19.2"), document) == []


def test_a_fix_already_in_our_series_clears_an_older_version_only() -> None:
    document = copy.deepcopy(recorded("ecdsa"))
    for vuln in document["vulnerabilities"]:
        vuln["fixed_in"] = ["0.19.1"]
    # 0.19.1 has the (hypothetical) backported fix; 0.19.0 does not; 0.19.2 is the latest,
    # for which the index lists the advisory: it stays affected whatever fixed_in says.
    assert kinds(Pin("ecdsa", "0.19.1"), document) == []
    assert kinds(Pin("ecdsa", "0.19.0"), document) == ["vulnerability"]
    assert kinds(Pin("ecdsa", "0.19.2"), document) == ["vulnerability"]


@pytest.mark.parametrize(
    ("locked", "latest", "fixed_in", "expected"),
    [
        ("2.0.0", "2.0.0", [], True),  # the latest release itself
        ("2.0.0", "2.0.0", ["1.9.5"], True),  # listed for it: whatever fixed_in says
        ("1.9.6", "2.0.0", ["1.9.5"], False),  # backported fix in our series
        ("1.9.4", "2.0.0", ["1.9.5"], True),  # older than the fix
        ("1.8.9", "2.0.0", ["1.9.5"], True),  # fix in another series only
        ("1.9.6", "2.0.0", [], True),  # no fix anywhere
        ("not-a-version", "2.0.0", ["1.0"], True),  # unparseable: never assumed safe
        ("1.9.6", "2.0.0", ["garbage", "1.9.5"], False),
    ],
)
def test_reaches(locked: str, latest: str, fixed_in: list[str], expected: bool) -> None:
    assert reaches(locked, latest, fixed_in) is expected


def test_pip_audit_skipping_everything_is_counted_as_not_audited() -> None:
    report = read_pip_audit((FIXTURES / "pip-audit-404.json").read_text())
    assert report.ran and report.audited == 0 and report.findings == []
    assert sorted(report.skipped) == ["aggdraw", "aiodns", "aiohappyeyeballs"]


def test_pip_audit_vulnerabilities_are_findings_unless_ignored() -> None:
    report = {
        "dependencies": [
            {"name": "Jinja2", "version": "3.1.4", "vulns": [
                {"id": "GHSA-q2x7-8rv6-6q7h", "fix_versions": ["3.1.5"],
                 "aliases": ["CVE-2024-56201"], "description": "sandbox breakout"},
                {"id": "PYSEC-2024-0000", "fix_versions": ["3.1.5"],
                 "aliases": ["CVE-2024-56201"], "description": "the same, under PYSEC"},
            ]},
            {"name": "idna", "version": "3.10", "vulns": []},
        ],
        "fixes": [],
    }  # fmt: skip
    parsed = read_pip_audit(json.dumps(report))
    assert parsed.audited == 2 and not parsed.skipped
    assert [(f.pin, f.kind) for f in parsed.findings] == [(Pin("jinja2", "3.1.4"), "vulnerability")]
    assert "fixed in: 3.1.5" in parsed.findings[0].detail
    assert read_pip_audit(json.dumps(report), frozenset({"CVE-2024-56201"})).findings == []


def test_no_pip_audit_report_is_not_a_run() -> None:
    assert not read_pip_audit("").ran


def test_requirements_keep_every_platforms_pin_and_flag_unpinned_lines() -> None:
    text = (
        "# uv export\n"
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n"
        "    --hash=sha256:00\n"
        "numpy==2.5.5 ; python_full_version >= '3.12' \\\n"
        "    --hash=sha256:01\n"
        "Redis[hiredis]==6.2.0 \\\n"
        "    --hash=sha256:02\n"
        "-e .\n"
        "somepkg @ git+https://example.invalid/somepkg \\\n"
    )
    pins, unpinned = read_requirements(text)
    assert pins == [Pin("numpy", "2.4.6"), Pin("numpy", "2.5.5"), Pin("redis", "6.2.0")]
    assert unpinned == ["somepkg @ git+https://example.invalid/somepkg"]


def test_every_locked_package_comes_from_an_index_with_a_project_json() -> None:
    """Otherwise the fallback reports them unaudited and CI fails: caught here first."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    registries = read_registries((ROOT / "uv.lock").read_text())
    assert set(registries) == {p["name"] for p in lock["package"]} and len(registries) > 100
    for name, registry in registries.items():
        if name == "monsterstack":
            continue  # the project itself: not exported, not audited
        assert registry is not None, name
        assert project_json_url(registry, name) is not None, (name, registry)


def test_packages_the_fallback_cannot_place_or_fetch_are_findings() -> None:
    document = recorded("requests")

    def fetch(url: str) -> dict[str, Any]:
        if "/requests/" in url:
            return document
        raise TimeoutError("timed out")

    pins = [Pin("requests", "2.31.0"), Pin("idna", "3.10"), Pin("local", "1.0"), Pin("odd", "1")]
    registries: dict[str, str | None] = {
        "requests": "https://index.invalid/simple",
        "idna": "https://index.invalid/simple/",
        "local": None,
        "odd": "https://index.invalid/not-a-simple-index",
    }
    report = fallback(pins, registries, fetch=fetch)
    assert {(f.pin.name, f.kind) for f in report.findings} == {
        ("idna", "unaudited"),
        ("local", "unaudited"),
        ("odd", "unaudited"),
    }
    assert report.verdicts[Pin("requests", "2.31.0")].behind
    assert report.documents == 1


def test_live_a_yanked_lock_line_fails_the_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real index: requests 2.32.0 is yanked. No pip-audit report: the banner says so."""
    registry = read_registries((ROOT / "uv.lock").read_text())["requests"]
    assert registry is not None
    lock = tmp_path / "uv.lock"
    lock.write_text(
        'version = 1\n\n[[package]]\nname = "requests"\nversion = "2.32.0"\n'
        f'source = {{ registry = "{registry}" }}\n'
    )
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("requests==2.32.0 \\\n    --hash=sha256:00\n")
    status = main(["--requirements", str(requirements), "--lock", str(lock)])
    out = capsys.readouterr().out
    assert status == 1, out
    assert "ADVISORY SERVICE INCOMPLETE" in out
    assert "requests==2.32.0: yanked" in out
