"""PNG plots of `make bench`'s cycle figures (build/bench/*.png).

The figures are the simulators' common cycle counts (bench.py fails if they differ), taken
from the first simulator's results:
  hit_rate_vs_working_set.png  the IOTLB's hit rate against the pages a workload touches
  latency_by_outcome.png       the mixed load's latency per outcome (min, median, 90th
                               percentile, max), and the miss latencies by start level
  sva_cost.png                 the overhead of translation against an identity bypass STE,
                               cold and warm, under the DRAM-like memory latency
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # (after the backend is chosen)


def _hit_rate(fig: Mapping[str, Any], path: Path) -> None:
    rates = fig["hit_rate_vs_working_set"]
    pages = sorted(int(k.split("_")[1]) for k in rates)
    f, ax = plt.subplots(figsize=(6, 4))
    ax.plot(pages, [rates[f"pages_{n}"] for n in pages], marker="o")
    ax.set_xscale("log", base=2)
    ax.set_xticks(pages, [str(n) for n in pages])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("working set, 4 KiB pages (512 reads at random lines)")
    ax.set_ylabel("IOTLB hit rate")
    ax.set_title("IOTLB hit rate against the working set, from empty")
    ax.grid(True, alpha=0.3)
    f.tight_layout()
    f.savefig(path, dpi=100)
    plt.close(f)


def _latency(fig: Mapping[str, Any], path: Path) -> None:
    mixed = fig["mixed_load"]
    dist = mixed["latency_cycles"]
    f, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(dist)
    for i, name in enumerate(names):
        d = dist[name]
        a1.plot([i, i], [d["min"], d["max"]], color="grey", linewidth=6, alpha=0.4)
        a1.plot(i, d["p50"], "o", color="C0", label="median" if i == 0 else None)
        a1.plot(i, d["p90"], "^", color="C1", label="90th percentile" if i == 0 else None)
    a1.set_xticks(range(len(names)), [f"{n}\n({dist[n]['n']})" for n in names])
    a1.set_ylabel("cycles, acceptance to response")
    a1.set_title(f"mixed load: {mixed['translations']} requests in {mixed['cycles']} cycles "
                 f"({mixed['per_cycle']}/cycle)", fontsize=10)
    a1.legend()
    a1.grid(True, axis="y", alpha=0.3)
    miss = fig["miss_latency"]
    levels = sorted(miss)
    width = 0.38
    for j, kind in enumerate(("cold", "config_cached")):
        a2.bar([i + (j - 0.5) * width for i in range(len(levels))],
               [miss[lv][kind]["cycles"] for lv in levels], width, label=kind.replace("_", " "))
    a2.axhline(fig["miss_walk_cached"]["cycles"], color="C2", linestyle="--",
               label="walk-cached miss")
    a2.set_xticks(range(len(levels)), [lv.replace("_", " ") for lv in levels])
    a2.set_ylabel("cycles, zero-wait memory")
    a2.set_title("a single miss", fontsize=10)
    a2.legend()
    a2.grid(True, axis="y", alpha=0.3)
    f.tight_layout()
    f.savefig(path, dpi=100)
    plt.close(f)


def _sva_cost(fig: Mapping[str, Any], path: Path) -> None:
    cost = fig["memory_latency"]["sva_cost"]
    names = [k for k, v in cost.items() if isinstance(v, dict)]
    width = 0.38
    f, ax = plt.subplots(figsize=(6, 4))
    for j, when in enumerate(("cold", "warm")):
        xs = [i + (j - 0.5) * width for i in range(len(names))]
        ys = [cost[n][f"overhead_{when}_pct"] for n in names]
        ax.bar(xs, ys, width, label=when)
        for x, y in zip(xs, ys, strict=True):
            ax.annotate(f"{y}%", (x, y), ha="center", va="bottom", fontsize=8)
    lat = fig["memory_latency"]
    ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names])
    ax.set_ylabel("time added by translation, % of bypass")
    ax.set_title(f"cost of SVA ({lat['read_latency_cycles']}-cycle reads, "
                 f"{lat['write_latency_cycles']}-cycle writes)", fontsize=10)
    ax.legend()
    ax.grid(True, axis="y", alpha=0.3)
    f.tight_layout()
    f.savefig(path, dpi=100)
    plt.close(f)


def plot(figures: Mapping[str, Any], out: Path) -> list[Path]:
    """Write the plots of one simulator's bench figures into ``out``; returns their paths.
    A figure missing from ``figures`` (memory_latency needs the batch memory engine) skips
    its plot."""
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for name, fn, need in (("hit_rate_vs_working_set", _hit_rate, "hit_rate_vs_working_set"),
                           ("latency_by_outcome", _latency, "mixed_load"),
                           ("sva_cost", _sva_cost, "memory_latency")):
        if need in figures:
            path = out / f"{name}.png"
            fn(figures, path)
            made.append(path)
    return made
