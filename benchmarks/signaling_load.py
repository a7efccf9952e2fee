"""Signaling load: peercall's server against the PeerJS server (`peer`), side by side.

The load generator (benchmarks/load/loadgen.mjs, Node) runs on core 1 and each
server on core 0, one server at a time, each fresh for every phase:

1. saturation: CONCURRENCY pairs run set-ups back to back (join, offer, answer,
   10 candidates each way, leave) for SECONDS: set-ups per second, errors, peak RSS,
   the CPU time each side used; five rounds, the servers taking turns (medians);
2. latency: the same set-ups offered at a fixed rate below both saturations: relay
   latency of the candidates (send -> receive) p50 / p99; five rounds likewise;
3. idle: CONNECTIONS sockets that have joined (peercall) or registered (PeerJS) and
   then say nothing: how many the process holds, and memory per connection.

    .venv/bin/python -m benchmarks.signaling_load [--seconds 10] [--connections 10000]

Prints a table and writes benchmarks/results/signaling_load.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from tests.processes import memory_kib
from tests.servers import ServerProcess

from benchmarks.common import (
    BENCHMARKS,
    PEERCALL_BENCH_ENV,
    PeerJsServer,
    cpu_times,
    npm_install,
    pinned,
    raise_open_files_limit,
    write_result,
)

LOADGEN = BENCHMARKS / "load" / "loadgen.mjs"
SERVER_CPU, LOADGEN_CPU = 0, 1
LATENCY_ROUNDS = 5
SATURATION_ROUNDS = 5
# The saturation figures whose median over rounds is reported.
SATURATION_FIGURES = (
    "setups_per_second", "setups_per_cpu_second", "server_cpu_share", "loadgen_cpu_share",
    "server_user_us_per_setup", "server_system_us_per_setup",
)  # fmt: skip
TARGETS = ("peercall", "peerjs")


class Target:
    """One server under test: started fresh, its WebSocket URL, its PID."""

    def __init__(self, name: str, work_dir: Path) -> None:
        self.name = name
        self.work_dir = work_dir

    @contextmanager
    def running(self) -> Iterator[tuple[str, int, Callable[[int], list[str]]]]:
        """(websocket url, pid, make_calls(n) -> call ids for peercall)."""
        if self.name == "peercall":
            data = Path(tempfile.mkdtemp(dir=self.work_dir))
            server = ServerProcess(data, env=PEERCALL_BENCH_ENV, launcher=pinned(SERVER_CPU))
            server.start()
            assert server.process is not None
            try:
                yield server.ws_url, server.process.pid, lambda n: create_calls(server.url, n)
            finally:
                server.stop()
        else:
            peerjs = PeerJsServer(pinned(SERVER_CPU), self.work_dir / "peerjs.log").start()
            try:
                yield peerjs.ws_url, peerjs.pid, lambda n: []
            finally:
                peerjs.stop()


def create_calls(base_url: str, count: int) -> list[str]:
    """Calls made before the clock starts: PeerJS has no such step."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        return [http.post("/api/calls").json()["call_id"] for _ in range(count)]


def children_cpu_seconds() -> float:
    """CPU time of the child processes waited for so far (here: load generators)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def loadgen(*args: str, calls: list[str], work_dir: Path) -> dict[str, Any]:
    """The load generator's figures, with the share of its core it used."""
    calls_file = work_dir / "calls.json"
    calls_file.write_text(json.dumps(calls))
    command = [*pinned(LOADGEN_CPU), "node", str(LOADGEN), *args, str(calls_file)]
    used_before = children_cpu_seconds()
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    result["loadgen_cpu_share"] = (children_cpu_seconds() - used_before) / result["seconds"]
    return result


def phase(target: Target, mode: str, amount: float, seconds: float, calls: int) -> dict[str, Any]:
    """One run of the load generator (`saturate` or `rate`) against a fresh server.

    With two cores, the load generator can use up its core before the server uses up
    its own: then set-ups per second measure the generator as much as the server. The
    server's CPU time per set-up does not depend on who waited for whom, so it is
    measured too (`setups_per_cpu_second`: what one core of the server carries), and
    how it splits between the server's own code and the kernel's work for it."""
    with target.running() as (url, pid, make_calls):
        call_ids = make_calls(calls)
        user_before, system_before = cpu_times(pid)
        result = loadgen(
            mode, target.name, url, str(amount), str(seconds),
            calls=call_ids, work_dir=target.work_dir,
        )  # fmt: skip
        user_after, system_after = cpu_times(pid)
        result.update(memory_kib(pid))
    user, system = user_after - user_before, system_after - system_before
    used = user + system
    setups = result["setups"]
    result["server_cpu_seconds"] = used
    result["server_cpu_share"] = used / result["seconds"]
    result["setups_per_cpu_second"] = setups / used if used else None
    result["server_user_us_per_setup"] = 1e6 * user / setups if setups else None
    result["server_system_us_per_setup"] = 1e6 * system / setups if setups else None
    return result


def saturation(target: Target, concurrency: int, seconds: float) -> dict[str, Any]:
    return phase(target, "saturate", concurrency, seconds, calls=concurrency)


def latency(target: Target, per_second: float, seconds: float) -> dict[str, Any]:
    # Enough calls for every set-up in flight (each takes well under a second).
    return phase(target, "rate", per_second, seconds, calls=max(64, int(per_second * 2)))


def idle(target: Target, connections: int) -> dict[str, Any]:
    with target.running() as (url, pid, make_calls):
        calls = make_calls((connections + 1) // 2)
        time.sleep(1)
        before = memory_kib(pid)["rss_kib"]
        calls_file = target.work_dir / "idle-calls.json"
        calls_file.write_text(json.dumps(calls))
        command = [*pinned(LOADGEN_CPU), "node", str(LOADGEN), "idle", target.name, url,
                   str(connections), str(calls_file)]  # fmt: skip
        generator = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert generator.stdout is not None
        assert generator.stdin is not None
        opened = json.loads(generator.stdout.readline())
        time.sleep(2)  # let the server settle (buffers, GC) before measuring
        after = memory_kib(pid)
        generator.stdin.write("close\n")
        generator.stdin.flush()
        generator.wait(timeout=120)
    per_connection = (after["rss_kib"] - before) / max(1, opened["open"])
    return {**opened, "rss_before_kib": before, **after, "kib_per_connection": per_connection}


def ratio(ours: float | None, theirs: float | None) -> float | None:
    return None if not ours or not theirs else ours / theirs


# Where each compared figure is in a target's results: phase, then keys.
FIGURES: dict[str, tuple[str, ...]] = {
    "setups_per_second": ("saturation", "setups_per_second"),
    "setups_per_cpu_second": ("saturation", "setups_per_cpu_second"),
    "relay_p99": ("latency", "relay_ms", "p99_ms"),
    "relay_p50": ("latency", "relay_ms", "p50_ms"),
    "kib_per_idle_connection": ("idle", "kib_per_connection"),
    "peak_rss_saturation": ("saturation", "peak_rss_kib"),
}


def ratios(
    ours: dict[str, Any], theirs: dict[str, Any], figures: list[str]
) -> dict[str, float | None]:
    """ours / theirs for each of `figures` (names in FIGURES)."""

    def figure(results: dict[str, Any], path: tuple[str, ...]) -> Any:
        for key in path:
            results = results[key]
        return results

    return {
        name: ratio(figure(ours, FIGURES[name]), figure(theirs, FIGURES[name])) for name in figures
    }


def saturation_then_latency(
    targets: dict[str, Target],
    concurrency: int,
    seconds: float,
    rate: float | None = None,
    rounds: tuple[int, int] = (SATURATION_ROUNDS, LATENCY_ROUNDS),
) -> tuple[dict[str, dict[str, Any]], float]:
    """Each target's saturation, then its latency at `rate` (default: half the lower
    saturation), one fresh server per run; the results and the rate offered.

    Each phase is run `rounds` times (saturation, latency), the targets taking
    turns, and the median of each figure is kept. In single runs on this machine,
    either server's p99 moved between 8 and 32 ms (the load generator's own pauses
    are in it), and the ratio of set-ups per server CPU-second between 0.82 and 1.10
    from one round to the next: more than the differences being measured."""
    saturation_rounds, latency_rounds = rounds
    runs = interleaved(
        targets, saturation_rounds, lambda target: saturation(target, concurrency, seconds)
    )
    results = {name: {"saturation": summary(measured)} for name, measured in runs.items()}
    lowest = min(r["saturation"]["setups_per_second"] for r in results.values())
    rate = round(rate or 0.5 * lowest, 1)
    runs = interleaved(targets, latency_rounds, lambda target: latency(target, rate, seconds))
    for name, measured in runs.items():
        results[name]["latency"] = {
            "rounds": measured,
            "errors": merged_errors(round_["errors"] for round_ in measured),
            "relay_ms": {
                key: statistics.median(round_["relay_ms"][key] for round_ in measured)
                for key in ("p50_ms", "p99_ms")
            },
        }
    return results, rate


def interleaved(
    targets: dict[str, Target], rounds: int, run: Callable[[Target], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """`run` `rounds` times for each target, the targets taking turns: a machine that
    slows down for a while slows both."""
    measured: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, target in targets.items():
            measured[name].append(run(target))
            print(name, measured[name][-1], flush=True)
    return measured


def summary(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """Saturation rounds as one: the median of each figure, every error, the highest
    peak RSS, and the rounds themselves."""
    return {
        **{key: statistics.median(r[key] for r in measured) for key in SATURATION_FIGURES},
        "errors": merged_errors(r["errors"] for r in measured),
        "peak_rss_kib": max(r["peak_rss_kib"] for r in measured),
        "rounds": measured,
    }


def merged_errors(found: Iterable[dict[str, int]]) -> dict[str, int]:
    merged: Counter[str] = Counter()
    for errors_of_round in found:
        merged.update(errors_of_round)
    return dict(merged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument(
        "--rate", type=float, help="offered set-ups/s (default: half the lower saturation)"
    )
    args = parser.parse_args()
    npm_install()
    raise_open_files_limit()
    with tempfile.TemporaryDirectory() as tmp:
        targets = {name: Target(name, Path(tmp)) for name in TARGETS}
        results, rate = saturation_then_latency(targets, args.concurrency, args.seconds, args.rate)
        for name, target in targets.items():
            results[name]["idle"] = idle(target, args.connections)
            print(name, "idle", results[name]["idle"], flush=True)
    ratios_found = ratios(results["peercall"], results["peerjs"], list(FIGURES))
    path = write_result(
        "signaling_load",
        {
            "settings": vars(args),
            "offered_per_second": rate,
            "results": results,
            "ratios": ratios_found,
        },
    )
    print_table(results, ratios_found)
    print(f"written to {path}")


def setups_per_second(r: dict[str, Any]) -> str:
    return f"{r['saturation']['setups_per_second']:.0f}"


def setups_per_cpu_second(r: dict[str, Any]) -> str:
    return f"{r['saturation']['setups_per_cpu_second']:.0f}"


def user_and_system(r: dict[str, Any]) -> str:
    saturation = r["saturation"]
    if saturation.get("server_user_us_per_setup") is None:
        return "n/a"  # a result from before it was measured
    user, system = saturation["server_user_us_per_setup"], saturation["server_system_us_per_setup"]
    return f"{user:.0f} / {system:.0f} µs"


def cpu_shares(r: dict[str, Any]) -> str:
    saturation = r["saturation"]
    return f"{saturation['server_cpu_share']:.0%} / {saturation['loadgen_cpu_share']:.0%}"


def errors(phase: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: str(sum(r[phase]["errors"].values()))


def peak_rss(r: dict[str, Any]) -> str:
    return f"{r['saturation']['peak_rss_kib'] / 1024:.0f} MiB"


def relay(percentile: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: f"{r['latency']['relay_ms'][percentile + '_ms']:.2f} ms"


def idle_held(r: dict[str, Any]) -> str:
    return f"{r['idle']['open']:,} of {r['idle']['asked']:,}"


def per_connection(r: dict[str, Any]) -> str:
    return f"{r['idle']['kib_per_connection']:.1f} KiB"


# (label, cell) for the table printed here and in benchmarks/README.md.
ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("set-ups per second at saturation (median of rounds)", setups_per_second),
    ("CPU used: server / load generator", cpu_shares),
    ("set-ups per CPU-second of the server (median of rounds)", setups_per_cpu_second),
    ("server CPU per set-up: its own code / the kernel (median of rounds)", user_and_system),
    ("errors at saturation", errors("saturation")),
    ("peak RSS at saturation (highest of rounds)", peak_rss),
    ("relay latency p50 at the fixed load (median of rounds)", relay("p50")),
    ("relay latency p99 at the fixed load (median of rounds)", relay("p99")),
    ("errors at the fixed load", errors("latency")),
    ("idle connections held", idle_held),
    ("memory per idle connection", per_connection),
]


def print_table(results: dict[str, dict[str, Any]], ratios: dict[str, float | None]) -> None:
    width = max(len(label) for label, _ in ROWS) + 2
    print(f"{'':{width}}{'peercall':>18}{'peerjs':>18}")
    for label, cell in ROWS:
        print(f"{label:{width}}{cell(results['peercall']):>18}{cell(results['peerjs']):>18}")
    for name, value in ratios.items():
        print(f"peercall/peerjs {name}: {value:.2f}" if value else f"{name}: n/a")


if __name__ == "__main__":
    main()
