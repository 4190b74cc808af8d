"""What README.md and docs/ state that the code can compute, computed: the library's signature
and example, the CLI's options, combination counts, sizes and bounds, configuration defaults,
metric labels, answers quoted verbatim, and figures one page states twice."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import shlex
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from monsterstack import cli, generator
from monsterstack.core.settings import ServiceSettings
from monsterstack.frontend.page import MAX_FORM_BYTES
from monsterstack.frontend.ratelimit.shared import SYNC_INTERVAL
from monsterstack.frontend.settings import FrontendSettings
from monsterstack.generator import pixel, smooth
from monsterstack.imagebackend.settings import ImagebackendSettings
from monsterstack.monitoring import prometheus_config
from monsterstack.rollout.watch import MAX_DURATION, MAX_RATE
from tests.unit.generator.golden_cases import NAMES as GOLDEN_NAMES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
RELIABILITY = (ROOT / "docs" / "reliability.md").read_text()
MONITORING = (ROOT / "deploy" / "monitoring" / "README.md").read_text()


def section(text: str, title: str) -> str:
    """From a `## title` (or deeper) heading to the next heading of any level."""
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    assert match, f"no section {title!r}"
    return match[1]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


def table(text: str) -> list[list[str]]:
    """The rows of the Markdown tables in `text` (header and rule lines dropped)."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        for line in text.splitlines()
        if line.startswith("|") and not line.startswith("| ---")
    ]
    headers = {tuple(r) for r in rows if r and r[0] in {"argument", "parameter", "variable"}}
    return [r for r in rows if tuple(r) not in headers]


def number(text: str) -> int:
    return int(text.replace(",", ""))


# --- the library ---------------------------------------------------------------------------


def real_signature() -> str:
    signature = inspect.signature(generator.render)
    parts, keyword_only = [], False
    for p in signature.parameters.values():
        if p.kind is p.KEYWORD_ONLY and not keyword_only:
            parts.append("*")
            keyword_only = True
        if p.default is p.empty:
            parts.append(p.name)
        else:
            d = p.default
            parts.append(f'{p.name}="{d.value}"' if isinstance(d, Enum) else f"{p.name}={d!r}")
    returns = signature.return_annotation
    return f"render({', '.join(parts)}) -> {getattr(returns, '__name__', returns)}"


def test_the_documented_signature_is_the_real_one() -> None:
    library = section(README, "As a library")
    assert code_blocks(library, "python")[0].strip() == real_signature()
    # The art section names the same parameters, in order.
    names = [n for n in inspect.signature(generator.render).parameters]
    short = f"`render({', '.join([*names[:4], '*', *names[4:]])}) -> bytes`"
    assert short in " ".join(README.split())
    # The argument table documents every parameter, and nothing else.
    documented = {n.strip("`") for row in table(library) for n in row[0].split(", ")}
    assert documented == set(names)


def test_the_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = code_blocks(section(README, "As a library"), "python")[1]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    assert (tmp_path / "john.png").read_bytes() == generator.render("John Doe")


@pytest.mark.parametrize(
    "arguments",
    [
        {"size": generator.MIN_SIZE - 1},
        {"width": generator.MAX_SIZE + 1},
        {"name": "x" * (generator.MAX_NAME_BYTES + 1)},
        {"fmt": "gif"},
        {"style": "cubist"},
        {"theme": "neon"},
    ],
)
def test_what_the_readme_says_raises_value_error_does(arguments: dict[str, Any]) -> None:
    assert "raises\n`ValueError`" in section(README, "As a library")
    with pytest.raises(ValueError):
        generator.render(**{"name": "ada", **arguments})


def test_the_cli_synopsis_lists_the_render_options() -> None:
    library = " ".join(section(README, "As a library").split())
    synopsis = re.search(r"`monsterstack render NAME ([^`]*)`", library)
    assert synopsis
    documented = dict(re.findall(r"\[(-[\w-]+)(?: ([^\]]+))?\]", synopsis[1]))
    options = {a.option_strings[0]: a for a in subcommand("render")._actions if a.option_strings}
    options.pop("-h")
    assert set(documented) == set(options)
    for flag, shown in documented.items():
        choices = options[flag].choices
        if choices:
            assert shown.split("|") == list(choices), flag


# --- the art -------------------------------------------------------------------------------


def art() -> str:
    return " ".join(section(README, "The art, and the determinism guarantee").split())


def test_smooth_combination_count() -> None:
    text = art()
    parts = {
        "mouth": smooth.MOUTHS,
        "top": smooth.TOPS,
        "arms": smooth.ARMS,
        "legs": smooth.LEGS,
        "pattern": smooth.PATTERNS,
    }
    for part, variants in parts.items():
        found = re.search(rf"\b{part} \((?:[^()]*?, )?(\d+)\)", text)
        assert found and int(found[1]) == len(variants), part
    bodies = re.search(r"body \((\d+) silhouettes", text)
    gazes = re.search(r"eyes \((\d+) kinds, (\d+) gazes\)", text)
    hues = re.search(r"one of (\d+) hues", text)
    total = re.search(r"([\d,]+) combinations for `smooth`", text)
    assert bodies and gazes and hues and total
    assert int(gazes[1]) == len(smooth.EYES)
    product = int(bodies[1]) * int(gazes[1]) * int(gazes[2]) * int(hues[1])
    for variants in parts.values():
        product *= len(variants)
    assert product == number(total[1]) == smooth.combinations()


def test_pixel_combination_count() -> None:
    text = art()
    found = re.search(
        r"for `pixel`, ([\d,]+) shapes \(([^)]*)\) times ([\d,]+) colours "
        r"\(each channel (\d+)–(\d+)\), ([\d,]+) monsters",
        text,
    )
    assert found, "the pixel sentence changed: update this test with it"
    shapes, parts, colours, low, high, total = found.groups()
    families = {
        "body": pixel._BODIES,
        "top": pixel._HAIR,
        "arms": pixel._ARMS,
        "legs": pixel._LEGS,
        "eyes": pixel._EYES,
        "mouth": pixel._MOUTHS,
    }
    counts = dict(re.findall(r"(\w+) (\d+)", parts))
    assert {k: int(v) for k, v in counts.items()} == {k: len(v) for k, v in families.items()}
    product = 1
    for v in counts.values():
        product *= int(v)
    assert product == number(shapes)
    assert (int(high) - int(low) + 1) ** 3 == number(colours)
    assert number(shapes) * number(colours) == number(total) == pixel.combinations()
    # The channel range is the one drawn: over many names both ends occur and nothing outside.
    channels = {c for i in range(3000) for c in pixel.build(f"n{i}", "probe").colour}
    assert (min(channels), max(channels)) == (int(low), int(high))


def test_the_pixel_grid() -> None:
    grids = re.findall(r"(\d+) x (\d+) (?:grid|look)", README)
    assert grids and all(g == (str(pixel.GRID), str(pixel.GRID)) for g in grids)


def test_the_golden_names_count() -> None:
    found = re.search(r"Golden digests of (\d+) names", art())
    assert found and int(found[1]) == len(GOLDEN_NAMES)


# --- sizes and bounds ----------------------------------------------------------------------


def test_sizes_and_name_bounds() -> None:
    parameters = section(README, "The imagebackend") + section(README, "As a library")
    ranges = set(re.findall(r"(\d+)–(\d+)", parameters))
    assert ranges == {(str(generator.MIN_SIZE), str(generator.MAX_SIZE))}
    assert set(re.findall(r"(\d+) bytes", parameters)) == {str(generator.MAX_NAME_BYTES)}
    size_row = next(r for r in table(parameters) if r[0] == "`size`")
    assert size_row[2].startswith(f"{generator.DEFAULT_SIZE} ")
    assert "80 x 80 PNG" in section(README, "As a library")
    assert generator.DEFAULT_SIZE == 80
    limits = table(section(RELIABILITY, "Abuse limits"))
    rows = {r[0]: r[1] for r in limits}
    assert rows["picture size"] == f"{generator.MAX_SIZE} px a side"
    assert rows["name"] == f"{generator.MAX_NAME_BYTES} bytes once UTF-8"
    assert rows["form body"] == f"{MAX_FORM_BYTES // 1024} KiB"


# --- configuration -------------------------------------------------------------------------

SERVICES: dict[str, tuple[type[ServiceSettings], ...]] = {
    "all": (FrontendSettings, ImagebackendSettings),
    "frontend": (FrontendSettings,),
    "imagebackend": (ImagebackendSettings,),
}


def shown(name: str, value: object) -> str:
    """A default as the README writes it."""
    if name == "cache_max_bytes":
        alone = FrontendSettings().memory_cache_bytes >> 20
        shared = FrontendSettings(redis_domain="redis").memory_cache_bytes >> 20
        return f"{alone} MiB alone, {shared} MiB before Redis"
    if name == "version_label":
        return "package version"
    if value is None:
        return "unset"
    if value == "":
        return "empty"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def configuration() -> list[tuple[list[str], str, str]]:
    rows = table(section(README, "Configuration"))
    return [([v.strip("`") for v in r[0].split(", ")], r[1], r[2].replace("`", "")) for r in rows]


def test_every_setting_is_documented_with_its_default() -> None:
    documented: dict[type[ServiceSettings], set[str]] = {
        FrontendSettings: set(),
        ImagebackendSettings: set(),
    }
    for variables, service, default in configuration():
        for cls in SERVICES[service]:
            fields = {v: cls.model_fields[v.lower()] for v in variables}
            if any(f.default_factory is not None for f in fields.values()):
                # Computed at start (WORKERS: the usable CPUs): described for that service.
                assert f"{cls.__name__.removesuffix('Settings').lower()}: " in default, variables
                documented[cls] |= {v.lower() for v in variables}
                continue
            values = [shown(v.lower(), f.default) for v, f in fields.items()]
            cells = default.split(", ")
            bare = all(re.fullmatch(r"[\w.]+", c) for c in cells)
            if len(variables) > 1 and len(cells) == len(variables) and bare:
                assert cells == values, variables
            else:
                for value in values:
                    assert re.search(rf"(?<![\w.]){re.escape(value)}(?![\w.])", default), (
                        variables,
                        value,
                        default,
                    )
            documented[cls] |= {v.lower() for v in variables}
    for cls, names in documented.items():
        assert names == set(cls.model_fields), cls.__name__


def test_the_abuse_limits_name_the_defaults() -> None:
    limits = section(RELIABILITY, "Abuse limits")
    pairs = re.findall(r"`([A-Z_]+)=(\d+)`", " ".join(r[1] for r in table(limits)))
    assert len(pairs) >= 6
    for variable, value in pairs:
        cls = FrontendSettings if variable.lower() in FrontendSettings.model_fields else None
        cls = cls or ImagebackendSettings
        assert shown(variable.lower(), cls.model_fields[variable.lower()].default) == value


def test_cadences() -> None:
    readme = " ".join(README.split())
    assert f"reconciled every {round(SYNC_INTERVAL * 1000)} ms" in readme
    assert f"at most {int(MAX_RATE)} requests/s, one hour" in readme and MAX_DURATION == 3600
    scrape = re.search(r"every (\d+) s with the shipped alert rules", readme)
    config = prometheus_config({})
    assert scrape and config["global"]["scrape_interval"] == f"{scrape[1]}s"
    count = re.search(r"sheet -o sheet.png +# (\d+) monsters", README)
    assert count and subcommand("sheet").get_default("count") == int(count[1])


# --- answers the README quotes -------------------------------------------------------------


async def metrics_with_version(client: httpx.AsyncClient) -> set[str]:
    await client.get("/version")
    exposition = (await client.get("/metrics")).text
    names = set()
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if "version" in sample.labels:
                names.add(re.sub(r"_(bucket|count|sum)$", "", sample.name))
    return names


async def test_the_version_label_claim(
    frontend_client: httpx.AsyncClient, imagebackend_client: httpx.AsyncClient
) -> None:
    claim = re.search(r"the `version` label of (.*?)\.", " ".join(README.split()))
    assert claim
    documented = set(re.findall(r"`([a-z_]+)`", claim[1]))
    row = next(r for r in table(MONITORING) if r[0] == "`version`")
    assert set(re.findall(r"`([a-z_]+)`", row[1])) == documented
    for client in (frontend_client, imagebackend_client):
        assert await metrics_with_version(client) == documented


async def test_the_quoted_answers_are_the_real_ones(
    frontend_client: httpx.AsyncClient, imagebackend_client: httpx.AsyncClient
) -> None:
    (example,) = code_blocks(section(README, "The imagebackend"), "json")
    answer = await imagebackend_client.get("/monster/ada", params={"size": "abc"})
    assert answer.status_code == 422 and answer.json() == json.loads(example)
    picture = await imagebackend_client.get("/monster/ada")
    cache_control = re.search(r"`Cache-Control: ([^`]+)`", README)
    assert cache_control and picture.headers["cache-control"] == cache_control[1]
    keys = re.findall(r"`/version` \(`(\{[^`]*\})`\)|\| `GET /version` \| `(\{[^`]*\})`", README)
    shown_keys = {k for pair in keys for k in pair if k}
    assert len(keys) == 2 and len(shown_keys) == 1
    (documented,) = [set(re.findall(r'"(\w+)"', k)) for k in shown_keys]
    for client in (frontend_client, imagebackend_client):
        assert set((await client.get("/version")).json()) == documented


# --- docs/reliability.md -------------------------------------------------------------------


def test_the_integrity_headline_is_the_published_runs_figure() -> None:
    headline = re.search(r"\| 0 mismatches \| 0 in ([\d,]+) pictures", RELIABILITY)
    body = re.search(
        r"0 mismatches over ([\d,]+) pictures answered 200 in the run\s+above", RELIABILITY
    )
    assert headline and body and headline[1] == body[1]


# --- commands ------------------------------------------------------------------------------


def subcommand(*names: str) -> argparse.ArgumentParser:
    parser = cli.parser()
    for name in names:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def test_the_readme_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    block = code_blocks(section(README, "Quickstart"), "sh")[0]
    ran = []
    for line in block.splitlines():
        argv = shlex.split(line, comments=True)
        if argv[:3] == ["uv", "run", "monsterstack"] and argv[3] in ("render", "sheet"):
            assert cli.main(argv[3:]) == 0, line
            ran.append(argv[3])
    assert ran == ["render", "render", "render", "sheet"]
    sizes = {}
    for name in ("john.png", "john.webp", "sheet.png"):
        with Image.open(name) as image:
            sizes[name] = (image.format, image.size)
    assert sizes["john.png"] == ("PNG", (256, 256))
    assert sizes["john.webp"] == ("WEBP", (160, generator.DEFAULT_SIZE))
    assert sizes["sheet.png"][0] == "PNG"
    assert Path("john.svg").read_bytes().startswith(b"<svg")


@pytest.mark.parametrize(
    ("synopsis", "command"),
    [
        (r"`monsterstack rollout watch URL ([^`]*)`", ("rollout", "watch")),
        (r"`monsterstack up --monitoring\s+([^`]*)`", ("up",)),
    ],
)
def test_synopses_show_the_defaults(synopsis: str, command: tuple[str, ...]) -> None:
    found = re.search(synopsis, README)
    assert found
    shown_defaults = re.findall(r"\[(--[\w-]+) ([\w.]+)[|\]]", found[1])
    assert shown_defaults
    parser = subcommand(*command)
    for flag, value in shown_defaults:
        default = parser.get_default(flag.lstrip("-").replace("-", "_"))
        assert shown("", default) == value, flag


def test_reliability_counts_are_the_suites() -> None:
    from tests.e2e.test_xss import PAYLOADS
    from tests.integration.frontend import test_secrets
    from tests.reliability.profile import PROFILES

    text = " ".join(RELIABILITY.split())
    assert (
        re.findall(r"(\d+) requests(?: per state)? \(", text)
        == [str(len(test_secrets.REQUESTS))] * 2
    )
    (mark,) = (
        test_secrets.test_a_malformed_redis_url_stops_the_frontend_without_printing_it.pytestmark
    )  # type: ignore[attr-defined]
    assert len(mark.args[1]) == 6 and len(re.findall(r"six malformed", text)) == 2
    found = re.search(
        r"XSS in headless Chromium\*\* \(`tests/e2e/test_xss.py`\): (\d+) payloads", text
    )
    assert found and int(found[1]) == len(PAYLOADS)
    bugs = re.search(r"\| (\d+) bugs found, all fixed \|", text)
    rows = re.findall(r"^\| (\d+) \| ", section(RELIABILITY, "Hostile input"), re.M)
    assert bugs and rows == [str(i) for i in range(1, int(bugs[1]) + 1)]
    for name, profile in PROFILES.items():
        shown_profile = re.search(
            rf"the {name} profile \((?:CI: )?(\d+) clients, (\d+) s sustained, (\d+) s faults", text
        )
        assert shown_profile, name
        assert shown_profile.groups() == tuple(
            str(int(v)) for v in (profile.clients, profile.sustained_s, profile.fault_s)
        )
    slow = re.search(r"than a granian worker holds \(([\d,]+); ([\d,]+) in full\)", text)
    assert slow and (number(slow[1]), number(slow[2])) == (
        PROFILES["short"].slow_connections,
        PROFILES["full"].slow_connections,
    )


def test_the_rate_limiters_intervals() -> None:
    from monsterstack.frontend.ratelimit.shared import FRESH_FOR

    limits = " ".join(section(RELIABILITY, "Abuse limits").split())
    interval, fresh = round(SYNC_INTERVAL * 1000), round(FRESH_FOR * 1000)
    assert f"its sync loop ({interval} ms of sleep" in limits
    assert f"in the last {fresh} ms took" in limits
    assert f"a copy synced more than {fresh} ms ago is synced" in limits
    assert f"alone for {2 * fresh} ms" in limits
