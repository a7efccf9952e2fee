"""What sharing calls through Redis costs: peercall with `--redis` against peercall on
its own (in-process, SQLite), side by side, with the signaling load of
`signaling_load.py` (same load generator, same set-ups, same cores: the server and,
for the Redis variant, redis-server on core 0; the load generator on core 1).

    .venv/bin/python -m benchmarks.redis_cost [--seconds 10] [--concurrency 64]

Prints set-ups per second at saturation and relay latency at a fixed load (half the
lower saturation) for both, with ratios; writes benchmarks/results/redis_cost.json.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.redis_server import RedisServer
from tests.servers import ServerProcess

from benchmarks.common import PEERCALL_BENCH_ENV, npm_install, pinned, write_result
from benchmarks.signaling_load import (
    SERVER_CPU,
    Target,
    create_calls,
    ratios,
    saturation_then_latency,
)


class PeercallOnRedis(Target):
    """peercall with --redis, and a fresh redis-server for each phase."""

    @contextmanager
    def running(self) -> Iterator[tuple[str, int, Any]]:
        work = Path(tempfile.mkdtemp(dir=self.work_dir))
        redis = RedisServer(work / "redis", launcher=pinned(SERVER_CPU)).start()
        server = ServerProcess(
            work / "peercall",
            env=PEERCALL_BENCH_ENV,
            args=["--redis", redis.url],
            launcher=pinned(SERVER_CPU),
        )
        try:
            server.start()
            assert server.process is not None
            yield server.ws_url, server.process.pid, lambda n: create_calls(server.url, n)
        finally:
            server.stop()
            redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    npm_install()
    with tempfile.TemporaryDirectory() as tmp:
        targets = {
            "in_process": Target("peercall", Path(tmp)),
            "redis": PeercallOnRedis("peercall", Path(tmp)),
        }
        results, rate = saturation_then_latency(targets, args.concurrency, args.seconds)
    figures = ["setups_per_second", "relay_p50", "relay_p99"]
    found = ratios(results["redis"], results["in_process"], figures)
    path = write_result(
        "redis_cost",
        {"settings": vars(args), "offered_per_second": rate, "results": results, "ratios": found},
    )
    for name, r in results.items():
        print(
            f"{name:12} set-ups/s {r['saturation']['setups_per_second']:7.0f}"
            f"  errors {sum(r['saturation']['errors'].values())}"
            f"  relay p50 {r['latency']['relay_ms']['p50_ms']:.2f} ms"
            f"  p99 {r['latency']['relay_ms']['p99_ms']:.2f} ms"
        )
    for name, value in found.items():
        print(f"redis/in-process {name}: {value:.2f}" if value else f"{name}: n/a")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
