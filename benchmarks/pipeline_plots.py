"""The pipeline benchmark's PNG plots (matplotlib, the `bench` extra of pyproject.toml): complete
message facts over time at saturation, and the CDF of webhook -> `message_added` and -> offer per
phase, from the JSON the benchmark writes (its `facts.over_time` and `latency_ms.cdf`).

    .venv/bin/python -m benchmarks.pipeline_plots .data/bench/pipeline.json   # again, from a saved run
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def write(result: dict, out: Path) -> list[Path]:
    """`<out>-throughput.png` and `<out>-latency.png` beside the JSON `out`; the paths written."""
    try:
        import matplotlib
    except ImportError:
        print("no plots: matplotlib is not installed (pip install -e '.[bench]', as make bench does)", file=sys.stderr)
        return []
    matplotlib.use("Agg")
    from matplotlib import pyplot

    written = []
    series = [(p["phase"], p["facts"]["over_time"]) for p in result["phases"] if p.get("facts", {}).get("over_time")]
    if series:
        fig, (total, rate) = pyplot.subplots(2, 1, figsize=(8, 6), sharex=True)
        for phase, points in series:
            t, n = [p[0] for p in points], [p[1] for p in points]
            total.plot(t, n, label=phase)
            rate.plot(t[1:], [(n[i] - n[i - 1]) / max(t[i] - t[i - 1], 1e-9) for i in range(1, len(t))], label=phase)
        total.set_ylabel("complete message facts")
        rate.set_ylabel("facts/s")
        rate.set_xlabel("seconds since the phase began")
        total.legend()
        total.set_title("webhook -> complete message fact, at saturation")
        written.append(_save(fig, out, "throughput"))
    fig, axes = pyplot.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, hop, title in ((axes[0], "added", "webhook -> message_added"), (axes[1], "offered", "webhook -> agent offer")):
        for p in result["phases"]:
            values = p["latency_ms"].get("cdf", {}).get(hop)
            if values:
                ax.plot(values, [q / (len(values) - 1) for q in range(len(values))], label=p["phase"])
        ax.set_xscale("log")
        ax.set_xlabel("ms (log scale)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend()
    axes[0].set_ylabel("fraction of messages")
    written.append(_save(fig, out, "latency"))
    return written


def _save(fig, out: Path, name: str) -> Path:
    from matplotlib import pyplot

    path = out.with_name(f"{out.stem}-{name}.png")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    pyplot.close(fig)
    return path


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else ".data/bench/pipeline.json")
    for path in write(json.loads(source.read_text()), source):
        print(path)
