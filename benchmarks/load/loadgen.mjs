// Signaling load generator for peercall and the PeerJS server (`peer`), in Node so
// that it is not the bottleneck: one process, pinned to its own core by the driver
// (benchmarks/signaling_load.py), speaking each server's own protocol.
//
// One "set-up" is what two people's clients say to start a call and end it: both
// connect and enter (peercall: join; PeerJS: register, OPEN), an offer, an answer,
// 10 ICE candidates each way, and both leave. Same SDP and candidate sizes for both.
//
//   node loadgen.mjs saturate TARGET URL CONCURRENCY SECONDS [CALLS_JSON]
//   node loadgen.mjs rate     TARGET URL SETUPS_PER_SECOND SECONDS [CALLS_JSON]
//   node loadgen.mjs idle     TARGET URL CONNECTIONS [CALLS_JSON]
// TARGET is "peercall" or "peerjs"; results are one JSON object on stdout.

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import WebSocket from "ws";

const CANDIDATES_EACH_WAY = 10;
const STEP_TIMEOUT_MS = 10_000;
// A browser's offer for audio + video + a data channel is about 3 KB.
const SDP = "v=0\r\n" + "a=x-padding:".padEnd(70, "x").concat("\r\n").repeat(42);
const candidateText = (n) =>
  `candidate:${n} 1 udp 2122260223 192.0.2.${n % 250} ${50000 + n} typ host generation 0 ufrag abcd network-id 1`;

class Client {
  constructor(url) {
    this.url = url;
    this.waiters = [];
    this.inbox = [];
  }

  open() {
    return new Promise((resolve, reject) => {
      // Like a browser: permessage-deflate is offered; each server decides.
      this.ws = new WebSocket(this.url, { perMessageDeflate: true });
      this.ws.on("open", resolve);
      this.ws.on("error", reject);
      this.ws.on("message", (data) => this.#deliver(JSON.parse(data)));
    });
  }

  send(message) {
    this.ws.send(JSON.stringify(message));
  }

  #deliver(message) {
    const at = performance.now();
    const index = this.waiters.findIndex((w) => w.match(message));
    if (index < 0) return this.inbox.push({ message, at });
    const [waiter] = this.waiters.splice(index, 1);
    clearTimeout(waiter.timer);
    waiter.resolve({ message, at });
  }

  /** The next message `match` accepts (kept if it came early). */
  next(match) {
    const index = this.inbox.findIndex((m) => match(m.message));
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      this.waiters.push(waiter);
      // Cleared on delivery: a pending timer keeps its client (and all it received)
      // from being collected, and the generator spent an eighth of its time in GC.
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timeout waiting; inbox: ${JSON.stringify(this.inbox.map((m) => m.message)).slice(0, 300)}`));
      }, STEP_TIMEOUT_MS);
    });
  }

  close() {
    this.ws.terminate();
  }
}

const isType = (type) => (message) => message.type === type;

/** peercall's protocol (docs/protocol.md). */
const peercall = {
  async setup(base, callId, latencies) {
    const a = new Client(`${base}`);
    const b = new Client(`${base}`);
    try {
      await a.open();
      a.send({ type: "join", call_id: callId });
      await a.next(isType("joined"));
      await b.open();
      b.send({ type: "join", call_id: callId });
      const aId = (await b.next(isType("joined"))).message.peers[0].peer_id;
      const bId = (await a.next(isType("peer-joined"))).message.peer_id;
      a.send({ type: "offer", to: bId, session: "s", sdp: SDP });
      await b.next(isType("offer"));
      b.send({ type: "answer", to: aId, session: "s", sdp: SDP });
      await a.next(isType("answer"));
      const candidate = (from, to, toId) =>
        exchange(from, to, latencies, (n) => ({
          type: "candidate", to: toId, session: "s",
          candidate: { candidate: candidateText(n), sdpMid: "0", sdpMLineIndex: 0 },
        }), (m) => m.type === "candidate", (m) => Number(m.candidate.candidate.split(/[: ]/)[1]));
      await Promise.all([candidate(a, b, bId), candidate(b, a, aId)]);
      a.send({ type: "leave" });
      await Promise.all([a.next(isType("left")), b.next(isType("peer-left"))]);
      b.send({ type: "leave" });
      await b.next(isType("left"));
    } finally {
      a.close();
      b.close();
    }
  },
  async idleClient(base, callId) {
    const client = new Client(base);
    await client.open();
    client.send({ type: "join", call_id: callId });
    const { message } = await client.next((m) => m.type === "joined" || m.type === "error");
    if (message.type !== "joined") throw new Error(message.code);
    return client;
  },
};

let idCounter = 0;
const newPeerId = () => `p${process.pid}x${++idCounter}x${Math.random().toString(36).slice(2)}`;

/** The PeerJS server's protocol, as the peerjs client speaks it. */
const peerjs = {
  async connect(base) {
    const id = newPeerId();
    const client = new Client(`${base}?key=peerjs&id=${id}&token=${Math.random().toString(36).slice(2)}`);
    client.id = id;
    await client.open();
    await client.next(isType("OPEN"));
    return client;
  },
  async setup(base, _callId, latencies) {
    let a, b;
    try {
      a = await peerjs.connect(base);
      b = await peerjs.connect(base);
      a.send({ type: "OFFER", dst: b.id, payload: { sdp: { type: "offer", sdp: SDP }, type: "media", connectionId: "mc_1" } });
      await b.next(isType("OFFER"));
      b.send({ type: "ANSWER", dst: a.id, payload: { sdp: { type: "answer", sdp: SDP }, type: "media", connectionId: "mc_1" } });
      await a.next(isType("ANSWER"));
      const candidate = (from, to) =>
        exchange(from, to, latencies, (n) => ({
          type: "CANDIDATE", dst: to.id,
          payload: { candidate: { candidate: candidateText(n), sdpMid: "0", sdpMLineIndex: 0 }, type: "media", connectionId: "mc_1" },
        }), (m) => m.type === "CANDIDATE", (m) => Number(m.payload.candidate.candidate.split(/[: ]/)[1]));
      await Promise.all([candidate(a, b), candidate(b, a)]);
      a.send({ type: "LEAVE", dst: b.id });
      await b.next(isType("LEAVE"));
    } finally {
      a?.close();
      b?.close();
    }
  },
  async idleClient(base) {
    return peerjs.connect(base);
  },
};

/** Sends CANDIDATES_EACH_WAY candidates and waits for all of them on the other side,
 * recording each one's relay latency (send -> receive, same clock). */
async function exchange(from, to, latencies, make, isCandidate, numberOf) {
  const sentAt = new Map();
  const arrivals = [];
  for (let n = 0; n < CANDIDATES_EACH_WAY; n++) arrivals.push(to.next(isCandidate));
  for (let n = 0; n < CANDIDATES_EACH_WAY; n++) {
    sentAt.set(n, performance.now());
    from.send(make(n));
  }
  for (const arrival of arrivals) {
    const { message, at } = await arrival;
    latencies?.push(at - sentAt.get(numberOf(message)));
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  return { count: sorted.length, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99) };
}

async function saturate(protocol, base, concurrency, seconds, calls) {
  const deadline = performance.now() + seconds * 1000;
  let setups = 0;
  const errors = {};
  const durations = [];
  const worker = async (index) => {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        await protocol.setup(base, calls[index], null);
        setups++;
        durations.push(performance.now() - started);
      } catch (error) {
        const key = String(error.message).slice(0, 80);
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  const elapsed = (performance.now() - started) / 1000;
  return { setups, seconds: elapsed, setups_per_second: setups / elapsed, errors, setup_ms: summary(durations) };
}

async function rate(protocol, base, perSecond, seconds, calls) {
  const latencies = [];
  const errors = {};
  let setups = 0;
  const free = [...calls];
  const inFlight = new Set();
  const total = Math.round(perSecond * seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const callId = free.pop();
    if (callId === undefined && protocol === peercall) {
      errors["no free call (offered load too high)"] = (errors["no free call (offered load too high)"] ?? 0) + 1;
      continue;
    }
    const run = protocol
      .setup(base, callId, latencies)
      .then(() => setups++)
      .catch((error) => {
        const key = String(error.message).slice(0, 80);
        errors[key] = (errors[key] ?? 0) + 1;
      })
      .finally(() => {
        if (callId !== undefined) free.push(callId);
        inFlight.delete(run);
      });
    inFlight.add(run);
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  return { offered_per_second: perSecond, setups, seconds: elapsed, errors, relay_ms: summary(latencies) };
}

async function idle(protocol, base, connections, calls) {
  const clients = [];
  const errors = {};
  const batch = 200;
  for (let i = 0; i < connections; i += batch) {
    const opening = [];
    for (let j = i; j < Math.min(connections, i + batch); j++) {
      opening.push(
        protocol.idleClient(base, calls[Math.floor(j / 2)]).then(
          (client) => clients.push(client),
          (error) => {
            const key = String(error.message).slice(0, 80);
            errors[key] = (errors[key] ?? 0) + 1;
          },
        ),
      );
    }
    await Promise.all(opening);
  }
  console.log(JSON.stringify({ asked: connections, open: clients.length, errors }));
  // Held until the driver has measured the server, then closed.
  const lines = createInterface({ input: process.stdin });
  for await (const _ of lines) break;
  for (const client of clients) client.close();
}

const [mode, target, base, amount, seconds, callsFile] = process.argv.slice(2);
const protocol = { peercall, peerjs }[target];
const calls = callsFile ? JSON.parse(readFileSync(callsFile, "utf8")) : [];
if (mode === "saturate") {
  console.log(JSON.stringify(await saturate(protocol, base, Number(amount), Number(seconds), calls)));
} else if (mode === "rate") {
  console.log(JSON.stringify(await rate(protocol, base, Number(amount), Number(seconds), calls)));
} else if (mode === "idle") {
  await idle(protocol, base, Number(amount), JSON.parse(readFileSync(seconds, "utf8")));
} else {
  console.error("usage: loadgen.mjs saturate|rate|idle TARGET URL ...");
  process.exit(2);
}
process.exit(0);
