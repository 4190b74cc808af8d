"""The imagebackend's settings (environment variables, case-insensitive)."""

from __future__ import annotations

from pydantic import Field

from ..core.cpus import MAX_WORKERS, usable_cores
from ..core.settings import ServiceSettings
from ..generator import DEFAULT_STYLE, DEFAULT_THEME, MAX_SIZE, Style, Theme


class ImagebackendSettings(ServiceSettings):
    port: int = Field(8080, ge=1, le=65535, description="TCP port (dnmonster's is 8080)")
    workers: int = Field(
        default_factory=usable_cores,
        ge=1,
        le=MAX_WORKERS,
        description="server worker processes; default: the CPUs this process may use (its "
        "affinity, capped by a container's CPU limit). Renders are CPU-bound and keep no state, "
        "so one process per CPU is what a 2-core machine measures best (benchmarks/README.md)",
    )
    default_style: Style = Field(DEFAULT_STYLE, description="style when a request names none")
    theme: Theme = Field(
        DEFAULT_THEME,
        description="colour theme when a request names none (classic, cool, warm): a second "
        "release of the same image can look different",
    )
    inline_render_max_pixels: int = Field(
        256 * 256,
        ge=0,
        le=MAX_SIZE * MAX_SIZE,
        description="renders up to this many pixels run on the event loop; larger ones in a "
        "thread, so a 1024 px render never stalls small requests (see benchmarks/README.md)",
    )
    render_threads: int = Field(
        1,
        ge=1,
        le=16,
        description="threads per process for large renders. One is best measured: more threads "
        "only fight the event loop for the GIL (80 px p99 under 1024 px load: 18.6 ms with 1, "
        "136 ms with anyio's default 40, run of 2026-11-23; with one, 9.5 ms on 2026-12-02: "
        "benchmarks/README.md)",
    )
    render_queue: int = Field(
        16,
        ge=0,
        le=10_000,
        description="large renders allowed to wait for a render thread, per process; one more "
        "gets 503 with Retry-After at once instead of queueing without bound",
    )
