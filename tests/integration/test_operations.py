"""What an operator watches: liveness, readiness and Prometheus metrics."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.client import candidate


def metrics_text(base_url: str) -> str:
    response = httpx.get(base_url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def scrape(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics_text(base_url))
        for sample in family.samples
    }


def test_liveness_and_readiness(server):
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "storage": "ok"}


async def test_metrics_follow_a_call(server, connect):
    call_id = server.create_call()
    before = scrape(server.url)
    assert before[("peercall_active_calls", ())] == 0
    alice, bob = await connect(), await connect()
    await alice.join(call_id)
    await alice.send({"type": "offer", "to": "next", "session": "s", "sdp": "v=0"})
    for n in range(3):
        await alice.send(
            {"type": "candidate", "to": "next", "session": "s", "candidate": candidate(n)}
        )
    await alice.drain()
    held = scrape(server.url)
    assert held[("peercall_queued_signals", ())] >= 4  # the open offer waits for Bob
    await bob.join(call_id)
    handed_over = await bob.drain()  # the open offer and its candidates
    assert [m["type"] for m in handed_over] == ["offer", "candidate", "candidate", "candidate"]
    await bob.send({"type": "answer", "to": alice.peer_id, "session": "s", "sdp": "v=0"})
    await alice.expect("peer-joined")
    await alice.expect("answer")
    await bob.send({"type": "nonsense"})
    await bob.expect_error("unknown-type")

    during = scrape(server.url)
    assert during[("peercall_connections", ())] == 2
    assert during[("peercall_active_calls", ())] == 1
    assert during[("peercall_members", ())] == 2
    assert during[("peercall_signals_relayed_total", (("type", "offer"),))] == 1
    assert during[("peercall_signals_relayed_total", (("type", "candidate"),))] == 3
    assert during[("peercall_signals_relayed_total", (("type", "answer"),))] == 1
    assert during[("peercall_errors_total", (("code", "unknown-type"),))] == 1
    assert during[("peercall_setup_seconds_count", ())] == 1
    assert during[("peercall_setup_seconds_sum", ())] > 0
    # Counts only: no call or peer id is ever in a metric.
    text = metrics_text(server.url)
    for secret in (call_id, alice.peer_id, bob.peer_id):
        assert secret not in text

    await alice.send({"type": "leave"})
    await alice.expect("left")
    await bob.expect("peer-left")
    await bob.send({"type": "leave"})
    await bob.expect("left")
    after = scrape(server.url)
    assert after[("peercall_active_calls", ())] == 0
    assert after[("peercall_members", ())] == 0
