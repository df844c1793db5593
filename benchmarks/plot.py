"""Draw ``benchmarks/results/overhead.png`` from the saved ``overhead`` JSON line.

Two panels, one bar per client: sequential latency and throughput at concurrency 50,
each as a ratio to raw aiohttp (the floor), with the targets drawn in. Reads
``results/overhead.json`` (a full run), else ``results/overhead.quick.json``.

Run: ``python benchmarks/plot.py`` (needs matplotlib: ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from _common import RESULTS


def load(name: str) -> dict[str, Any]:
    for path in (RESULTS / f"{name}.json", RESULTS / f"{name}.quick.json"):
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text().strip().splitlines()[-1])
            return data
    raise SystemExit(f"no {name} results in {RESULTS}: run `python benchmarks/{name}.py` first")


_LABEL = {"facecolor": "white", "edgecolor": "none", "pad": 1.5, "alpha": 0.85}


def plot_overhead(data: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = data["results"]
    names = list(results)
    # Older result files carry no targets: those of their day.
    targets = data.get("target_ratios", {"latency": 1.3, "throughput": 0.75})
    colors = ["#1f77b4" if n == "beatapi-async" else "#7f7f7f" if n == "raw aiohttp" else "#c9c9c9" for n in names]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)

    lat = [results[n]["latency_ratio"] for n in names]
    ax1.barh(names, lat, color=colors)
    ax1.axvline(1.0, color="black", lw=0.8)
    ax1.axvline(targets["latency"], color="#d62728", ls="--", lw=1, label=f"target <= {targets['latency']}x")
    ax1.set_title("Latency, one call at a time (lower is better)", fontsize=10)
    ax1.set_xlabel("median latency / raw aiohttp's")
    ax1.invert_yaxis()
    for i, (n, v) in enumerate(zip(names, lat, strict=True)):
        ax1.text(v + max(lat) * 0.02, i, f"{v:.2f}x  ({results[n]['latency_us']:,.0f} µs)", va="center",
                 fontsize=9, bbox=_LABEL)  # fmt: skip
    ax1.set_xlim(0, max(lat) * 1.45)
    ax1.legend(loc="lower right", fontsize=8)

    thr = [results[n]["throughput_ratio"] for n in names]
    ax2.barh(names, thr, color=colors)
    ax2.axvline(1.0, color="black", lw=0.8)
    ax2.axvline(targets["throughput"], color="#d62728", ls="--", lw=1, label=f"target >= {targets['throughput']}x")
    ax2.set_title(f"Throughput, {data['concurrency']} calls in flight (higher is better)", fontsize=10)
    ax2.set_xlabel("requests per second / raw aiohttp's")
    ax2.invert_yaxis()
    for i, (n, v) in enumerate(zip(names, thr, strict=True)):
        ax2.text(v + 0.02, i, f"{v:.2f}x  ({results[n]['throughput_rps']:,.0f}/s)", va="center", fontsize=9,
                 bbox=_LABEL)  # fmt: skip
    ax2.set_xlim(0, max(1.0, *thr) * 1.55)
    ax2.legend(loc="lower right", fontsize=8)

    m = data["machine"]
    fig.suptitle(
        f"GET one task on loopback vs raw aiohttp (the floor): medians of {data['rounds']} interleaved rounds "
        f"({m['cpus']} cores, Python {m['python']}{', quick run' if data['quick'] else ''})",
        fontsize=10,
    )
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry; plotting is always quick")
    parser.parse_args()
    out = RESULTS / "overhead.png"
    data = load("overhead")
    plot_overhead(data, out)
    print(f"wrote {out}")
    print(json.dumps({"benchmark": "plot", "png": str(out.relative_to(RESULTS.parent.parent)),
                      "from_quick_run": data["quick"]}))  # fmt: skip


if __name__ == "__main__":
    main()
