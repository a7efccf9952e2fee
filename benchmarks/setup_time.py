"""Call set-up time in the browser: peercall against PeerJS and the browser's floor.

Headless Chromium with fake devices, on this machine's own addresses, no STUN. For
each variant, the time from "Join" to the first remote video frame the joiner shows
(requestVideoFrameCallback), with the joiner's camera already open (its preview):

- peercall: one person has made a call and waits; the joiner opens the link (its
  page opens its WebSocket, looks at the open offer and makes its answer while it
  shows "Ready to join") and presses Join (`join` with the answer, ICE, DTLS, video);
- PeerJS (the npm `peerjs` client and `peer` server): the callee has registered and
  answers calls with its camera; the joiner has registered its Peer ahead and calls;
- floor: two RTCPeerConnections in one page handing everything over directly;
- floor_dc: the same with a data channel, the session shape peercall uses (its
  chat and files): what the browser needs for a call like peercall's.

Variants take turns, a fresh page for every measurement, after one warm-up round. A
measurement with no video after 15 s (headless Chromium's fake camera stalls now and
then, in every variant) is counted as given up and taken again in a new browser; for
peercall, what both pages showed is printed (status, and whether each video moves).

    .venv/bin/python -m benchmarks.setup_time [--calls 20]

Prints median and p90 per variant and the ratios; writes results/setup_time.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.servers import ServerProcess

from benchmarks.common import BENCHMARKS, NODE_MODULES, PeerJsServer, npm_install, write_result

PAGES = BENCHMARKS / "pages"
JOIN_AND_TIME_FIRST_FRAME = """
() => new Promise((resolve) => {
  // The other person's tile (and its <video>) is made when they are known.
  const started = performance.now();
  const firstFrame = (video) =>
    video.requestVideoFrameCallback(() => resolve(performance.now() - started));
  new MutationObserver((changes) => {
    for (const added of changes.flatMap((change) => [...change.addedNodes])) {
      const video = added.querySelector?.("video");
      if (video) firstFrame(video);
    }
  }).observe(document.getElementById("tiles"), { childList: true });
  document.getElementById("join").click();
})
"""


# What a page shows when a measurement is given up: its status line, and for each
# <video> (the preview and the other person's) whether it plays and whether its time
# moves over half a second: a camera that stalled, or a call that did not connect.
PAGE_STATE = """
async () => {
  const videos = () => [...document.querySelectorAll("video")];
  const before = videos().map((video) => video.currentTime);
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    status: document.querySelector("[role=status]")?.textContent ?? null,
    videos: videos().map((video, index) => ({
      label: video.getAttribute("aria-label") ?? video.id,
      ready_state: video.readyState,
      paused: video.paused,
      width: video.videoWidth,
      moving: video.currentTime > (before[index] ?? Infinity),
    })),
  };
}
"""

# Now and then headless Chromium's fake camera stops giving frames, for minutes and in
# every page (the floor's too; seen on this 2-core machine: media connected, no frame).
# Such a measurement is abandoned after this long, counted, and taken again in a new
# browser.
MEASUREMENT_DEADLINE_MS = 15_000
GIVEN_UP = -1.0


def with_deadline(function: str) -> str:
    """A page function (one argument) that resolves to GIVEN_UP past the deadline."""
    return (
        f"(argument) => Promise.race([({function})(argument), new Promise((resolve) => "
        f"setTimeout(() => resolve({GIVEN_UP}), {MEASUREMENT_DEADLINE_MS}))])"
    )


class PagesHandler(SimpleHTTPRequestHandler):
    """benchmarks/pages, and the PeerJS client bundle under /peerjs/."""

    def translate_path(self, path: str) -> str:
        if path.startswith("/peerjs/"):
            return str(NODE_MODULES / "peerjs" / "dist" / Path(path).name)
        return str(PAGES / Path(path.split("?", 1)[0]).name)

    def do_GET(self) -> None:
        if self.path == "/favicon.ico":  # asked for by every page; there is none
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def pages_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(PagesHandler, directory=str(PAGES)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def time_peercall(browser: Browser, server: ServerProcess) -> float:
    host_context, joiner_context = browser.new_context(), browser.new_context()
    try:
        host = host_context.new_page()
        host.goto(server.url)
        host.get_by_role("button", name="New call").click()
        expect(host.get_by_role("status")).to_have_text("Waiting for someone to join")
        link = host.get_by_role("textbox", name="Call link").input_value()
        joiner = joiner_context.new_page()
        joiner.goto(link)
        expect(joiner.get_by_role("status")).to_have_text("Ready to join")
        elapsed = float(joiner.evaluate(with_deadline(JOIN_AND_TIME_FIRST_FRAME.strip()), None))
        if elapsed == GIVEN_UP:
            for name, page in (("joiner", joiner), ("host", host)):
                print(f"  peercall given up; the {name} shows {page.evaluate(PAGE_STATE)}")
        return elapsed
    finally:
        host_context.close()
        joiner_context.close()


def time_in_fresh_page(
    browser: Browser, url: str, run: str, argument: object, prepare: str = "prepare()"
) -> float:
    """Opens `url` in a new context, gets it ready (its camera open: `prepare`), then
    times `run`."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.evaluate(prepare)
        return float(page.evaluate(with_deadline(run), argument))
    finally:
        context.close()


def time_peerjs(
    browser: Browser, pages: str, peerjs: PeerJsServer, callee_id: str, callee: Page
) -> float:
    url = f"{pages}/peerjs.html?port={peerjs.port}"
    try:
        return time_in_fresh_page(
            browser, url, "(id) => runOnce(id)", callee_id, prepare="prepare(true)"
        )
    finally:
        # As peercall's host page is closed after each call, the callee hangs up.
        callee.evaluate("hangUpAll()")


def time_floor(browser: Browser, pages: str, data_channel: bool = False) -> float:
    return time_in_fresh_page(browser, f"{pages}/floor.html", "(dc) => runOnce(dc)", data_channel)


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": statistics.median(ordered),
        "p90_ms": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "min_ms": ordered[0],
        "max_ms": ordered[-1],
    }


class Bench:
    """The browser, with the PeerJS callee registered in it; started again (`restart`)
    when a measurement is given up, because once Chromium's fake camera stops giving
    frames it stays stuck for minutes, for every page (seen on this machine)."""

    def __init__(self, playwright: Playwright, pages: str, peerjs: PeerJsServer) -> None:
        self.playwright = playwright
        self.pages = pages
        self.peerjs = peerjs
        self.start()

    def start(self) -> None:
        self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.callee = self.browser.new_context().new_page()
        self.callee.goto(f"{self.pages}/peerjs.html?port={self.peerjs.port}")
        self.callee.evaluate("prepare()")
        callee_id = f"callee-{uuid.uuid4().hex}"
        self.callee_id = self.callee.evaluate("(id) => answerCalls(id)", callee_id)

    def restart(self) -> None:
        self.browser.close()
        self.start()

    def close(self) -> None:
        self.browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20, help="measured calls per variant")
    args = parser.parse_args()
    npm_install()
    times: dict[str, list[float]] = {"peercall": [], "peerjs": [], "floor": [], "floor_dc": []}
    given_up = dict.fromkeys(times, 0)
    with tempfile.TemporaryDirectory() as tmp, pages_server() as pages, sync_playwright() as p:
        server = ServerProcess(Path(tmp) / "peercall").start()
        peerjs = PeerJsServer([], Path(tmp) / "peerjs.log").start()
        bench = Bench(p, pages, peerjs)
        try:
            variants: dict[str, Callable[[], float]] = {
                "peercall": lambda: time_peercall(bench.browser, server),
                "peerjs": lambda: time_peerjs(
                    bench.browser, pages, peerjs, bench.callee_id, bench.callee
                ),
                "floor": lambda: time_floor(bench.browser, pages),
                "floor_dc": lambda: time_floor(bench.browser, pages, data_channel=True),
            }
            for round_number in range(args.calls + 1):
                for name, measure in variants.items():
                    elapsed = measure()
                    while elapsed == GIVEN_UP:
                        given_up[name] += 1
                        print(f"  {name}: no video in time; new browser, measured again")
                        bench.restart()
                        elapsed = measure()
                    if round_number > 0:  # the first round warms everything up
                        times[name].append(elapsed)
                print(f"round {round_number}: " + ", ".join(
                    f"{name} {values[-1]:.0f} ms" for name, values in times.items() if values
                ), flush=True)  # fmt: skip
        finally:
            bench.close()
            peerjs.stop()
            server.stop()
    results = {
        name: {**summary(values), "times_ms": values, "given_up": given_up[name]}
        for name, values in times.items()
    }
    ratios = {
        "peercall/floor": results["peercall"]["median_ms"] / results["floor"]["median_ms"],
        "peercall/floor_dc": results["peercall"]["median_ms"] / results["floor_dc"]["median_ms"],
        "peercall/peerjs": results["peercall"]["median_ms"] / results["peerjs"]["median_ms"],
    }
    path = write_result("setup_time", {"calls": args.calls, "results": results, "ratios": ratios})
    print(f"{'':10}{'median ms':>12}{'p90 ms':>10}{'given up':>10}")
    for name, result in results.items():
        print(
            f"{name:10}{result['median_ms']:>12.0f}{result['p90_ms']:>10.0f}"
            f"{result['given_up']:>10}"
        )
    for name, value in ratios.items():
        print(f"{name}: {value:.2f}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
