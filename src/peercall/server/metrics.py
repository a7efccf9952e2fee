"""Prometheus metrics at `/metrics`: what an operator watches on a signaling server.

Counts and durations only, never ids: a scrape tells how busy the server is, not who
talks to whom. Gauges are read from the live state when scraped, so they cannot
drift from it. Each app has its own registry (tests run several in one process).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

# Call set-up on the server's side takes milliseconds to a few seconds.
SETUP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RelayedSignals(Collector):
    """`peercall_signals_relayed_total{type}`, counted in a plain dict and turned into
    a metric only when scraped: a relay is the server's most frequent act (22 per
    call set-up), and a prometheus_client counter takes a lock and makes three calls
    for each increment (here only the event loop's thread counts: no lock)."""

    def __init__(self) -> None:
        self.counts: Tally[str] = Tally()

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "peercall_signals_relayed",
            "Offers, answers, candidates and ends of candidates relayed, by type.",
            labels=["type"],
        )
        for signal_type, count in sorted(self.counts.items()):
            family.add_metric([signal_type], count)
        yield family


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge(
            "peercall_connections", "Open signaling WebSockets.", registry=self.registry
        )
        self.active_calls = Gauge(
            "peercall_active_calls", "Calls somebody is in.", registry=self.registry
        )
        self.members = Gauge(
            "peercall_members",
            "Members of calls, connected or away (keeping their place to resume).",
            registry=self.registry,
        )
        self.queued_signals = Gauge(
            "peercall_queued_signals",
            "Messages held for members: open offers waiting for someone, and messages "
            "not yet acknowledged.",
            registry=self.registry,
        )
        self.signals_relayed = RelayedSignals()
        self.registry.register(self.signals_relayed)
        self.errors = Counter(
            "peercall_errors",
            "Error replies sent on signaling connections, by code.",
            ["code"],
            registry=self.registry,
        )
        self.setup_seconds = Histogram(
            "peercall_setup_seconds",
            "From a newcomer's join to its answer to somebody in the call: the server's "
            "share of a call's set-up, plus the clients' work in between (0 when the "
            "answer came with the join).",
            buckets=SETUP_BUCKETS,
            registry=self.registry,
        )

    def error(self, code: str) -> None:
        """Counts one error reply."""
        self.errors.labels(str(code)).inc()

    def relayed(self, signal_type: str, count: int = 1) -> None:
        """Counts relayed signals (a hot path)."""
        self.signals_relayed.counts[signal_type] += count

    def watch(
        self,
        *,
        connections: Callable[[], float],
        active_calls: Callable[[], float],
        members: Callable[[], float],
        queued_signals: Callable[[], float],
    ) -> None:
        """Where the gauges read their values at each scrape."""
        self.connections.set_function(connections)
        self.active_calls.set_function(active_calls)
        self.members.set_function(members)
        self.queued_signals.set_function(queued_signals)

    def render(self) -> bytes:
        return generate_latest(self.registry)
