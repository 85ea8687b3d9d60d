"""`make bench`'s plots (tb/cli/bench_plots.py): one PNG per figure group, from bench.json's
shape, and none for a figure the run did not measure."""

from __future__ import annotations

from pathlib import Path

from tb.cli.bench_plots import plot

PNG = b"\x89PNG\r\n\x1a\n"


def figures() -> dict:
    dist = {"n": 4, "min": 1, "p50": 2, "p90": 3, "max": 4, "mean": 2.5}
    return {
        "hit_rate_vs_working_set": {"pages_4": 0.99, "pages_64": 0.87, "pages_256": 0.56},
        "mixed_load": {"translations": 12, "cycles": 20, "per_cycle": 0.6,
                       "latency_cycles": {"hit": dist, "cold_miss": dist}},
        "miss_latency": {f"start_level_{lv}": {"cold": {"cycles": 30 - lv},
                                               "config_cached": {"cycles": 20 - lv}}
                         for lv in (0, 1, 2)},
        "miss_walk_cached": {"cycles": 8},
        "memory_latency": {"read_latency_cycles": 100, "write_latency_cycles": 60,
                           "sva_cost": {"device": "sequential",
                                        "copy": {"overhead_cold_pct": 2.3,
                                                 "overhead_warm_pct": 0.0}}},
    }


def test_every_plot_is_a_png(tmp_path: Path) -> None:
    made = plot(figures(), tmp_path)
    assert sorted(p.name for p in made) == ["hit_rate_vs_working_set.png",
                                            "latency_by_outcome.png", "sva_cost.png"]
    for p in made:
        assert p.read_bytes()[:8] == PNG, p


def test_a_figure_not_measured_has_no_plot(tmp_path: Path) -> None:
    f = figures()
    del f["memory_latency"]  # (cocotbext-axi's memory model has no latency)
    assert [p.name for p in plot(f, tmp_path)] == ["hit_rate_vs_working_set.png",
                                                    "latency_by_outcome.png"]
