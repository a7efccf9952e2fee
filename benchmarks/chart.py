"""Draws benchmarks/results/benchmarks.png from the latest results (setup_time.json,
signaling_load.json) and writes their table into benchmarks/README.md.

    .venv/bin/python -m benchmarks.chart
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt

from benchmarks.common import BENCHMARKS, RESULTS
from benchmarks.signaling_load import ROWS

COLOURS = {"peercall": "#1a73e8", "peerjs": "#e8711a", "floor": "#7f7f7f", "floor_dc": "#b0b0b0"}


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def bars(axis: Any, labels: list[str], values: list[float], title: str, unit: str) -> None:
    drawn = axis.bar(labels, values, color=[COLOURS.get(label, "#444") for label in labels])
    shown = [f"{value:.0f}" if value >= 100 else f"{value:.3g}" for value in values]
    axis.bar_label(drawn, labels=shown, padding=2)
    axis.set_title(title)
    axis.set_ylabel(unit)
    axis.margins(y=0.2)


def draw() -> Path:
    setup, load_result = load("setup_time"), load("signaling_load")
    figure, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    if setup:
        names = list(setup["results"])
        bars(
            axes[0][0], names, [setup["results"][n]["median_ms"] for n in names],
            f"Call set-up, median of {setup['calls']} (lower is better)", "ms",
        )  # fmt: skip
    if load_result:
        results = load_result["results"]
        names = list(results)
        bars(
            axes[0][1], names, [results[n]["saturation"]["setups_per_cpu_second"] for n in names],
            "Set-ups per server CPU-second (higher is better)", "set-ups",
        )  # fmt: skip
        bars(
            axes[1][0], names, [results[n]["latency"]["relay_ms"]["p99_ms"] for n in names],
            f"Relay latency p99 at {load_result['offered_per_second']:.0f} set-ups/s "
            "(median of rounds)", "ms",
        )  # fmt: skip
        bars(
            axes[1][1], names, [results[n]["idle"]["kib_per_connection"] for n in names],
            f"Memory per idle connection ({results['peercall']['idle']['asked']:,} held)", "KiB",
        )  # fmt: skip
    figure.suptitle("peercall against PeerJS and the browser's floor (same machine, same run)")
    figure.tight_layout()
    path = RESULTS / "benchmarks.png"
    figure.savefig(path, dpi=100)
    return path


README = BENCHMARKS / "README.md"
TABLE_START, TABLE_END = (
    "<!-- results: written by `python -m benchmarks.chart` -->",
    "<!-- /results -->",
)


def table() -> str:
    lines: list[str] = []
    setup, load_result = load("setup_time"), load("signaling_load")
    if setup:
        results = setup["results"]
        lines += [
            f"Call set-up in Chromium ({setup['calls']} calls each, {setup['measured_at']}, "
            f"{setup['machine']['cpus']} cores):",
            "",
            "| | median | p90 |",
            "| --- | ---: | ---: |",
            *(
                f"| {name} | {r['median_ms']:.0f} ms | {r['p90_ms']:.0f} ms |"
                for name, r in results.items()
            ),
            "",
            " · ".join(f"{name}: **{value:.2f}**" for name, value in setup["ratios"].items()),
            "",
        ]
    if load_result:
        ours, theirs = load_result["results"]["peercall"], load_result["results"]["peerjs"]
        lines += [
            f"Signaling load ({load_result['measured_at']}, server on one core; fixed load "
            f"{load_result['offered_per_second']:.0f} set-ups/s):",
            "",
            "| | peercall | PeerJS server |",
            "| --- | ---: | ---: |",
            *(f"| {label} | {cell(ours)} | {cell(theirs)} |" for label, cell in ROWS),
            "",
            " · ".join(
                f"peercall/PeerJS {name.replace('_', ' ')}: **{value:.2f}**"
                for name, value in load_result["ratios"].items()
                if value is not None
            ),
        ]
    return "\n".join(lines)


def write_table() -> None:
    text = README.read_text()
    start = text.index(TABLE_START) + len(TABLE_START)
    end = text.index(TABLE_END)
    README.write_text(text[:start] + "\n" + table() + "\n" + text[end:])


if __name__ == "__main__":
    print(f"written to {draw()}")
    write_table()
    print(f"table written to {README}")
