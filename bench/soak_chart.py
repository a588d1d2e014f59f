"""The soak's curves as one PNG: memory of every process and the database's size (every
sample), accepted→delivered latency and messages per minute. matplotlib is a bench-only
dependency (the `bench` extra), imported here only, when a soak draws."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from bench.soak_samples import MINUTE, Sample

INSTALL_HINT = "the soak draws its curves with matplotlib: pip install -e '.[bench]'"


def missing() -> str | None:
    """Why the chart cannot be drawn here (checked before a long soak starts), or None."""
    return None if importlib.util.find_spec("matplotlib") else INSTALL_HINT


def draw(path: Path, title: str, samples: list[Sample], rows: list[dict[str, Any]]) -> None:
    from matplotlib.figure import Figure  # the Agg canvas: no display needed

    figure = Figure(figsize=(12, 8), layout="constrained")
    figure.suptitle(title)
    memory, database, latency, throughput = figure.subplots(2, 2, sharex=True).flat
    minutes = [s.second / MINUTE for s in samples]
    for name in samples[0].rss_mb if samples else ():
        memory.plot(minutes, [s.rss_mb[name] for s in samples], label=name)
    _label(memory, "memory (RSS) per process", "MB")
    database.plot(minutes, [s.database_mb for s in samples], label="database size (MB)")
    _label(database, "PostgreSQL database size, and bodies pruned so far", "MB")
    pruned = database.twinx()  # a count beside a size: its own scale on the right
    pruned.plot(minutes, [s.bodies_pruned for s in samples], color="tab:green", linestyle="--")
    pruned.set_ylabel("bodies pruned (dashed)")
    pruned.set_ylim(bottom=0)
    # Each minute's figures are drawn at the minute's end.
    ends = [(row["minute"] - 1) + row["seconds"] / MINUTE for row in rows]
    for key in ("p50_ms", "p99_ms"):
        latency.plot(ends, [row[key] for row in rows], marker="o", label=key.split("_")[0])
    _label(latency, "accepted → delivered, messages accepted in the minute", "ms")
    for key in ("accepted", "delivered"):
        throughput.plot(ends, [row[key] for row in rows], marker="o", label=key)
    _label(throughput, "messages per minute", "messages")
    for axes in (latency, throughput):
        axes.set_xlabel("minutes into the soak")
    figure.savefig(path, dpi=90)


def _label(axes: Any, title: str, unit: str) -> None:
    axes.set_title(title)
    axes.set_ylabel(unit)
    axes.set_ylim(0, axes.get_ylim()[1] * 1.1)  # room above a flat line
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
