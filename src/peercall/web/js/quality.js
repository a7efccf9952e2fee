// How well the media gets through with each person. Their tile says "Poor
// connection" while packets are lost (either way) or the round trip is long, so a
// frozen picture or choppy sound has an explanation on both sides.

import { selectedPair } from "./stats.js";

const INTERVAL_MS = 2000;
// Past these over an interval, sound breaks up and pictures freeze.
const POOR_LOSS_PERCENT = 5;
const POOR_ROUND_TRIP_MS = 600;
// A mark that does not flicker: cleared after this many good intervals in a row.
const GOOD_INTERVALS_TO_CLEAR = 2;

function sumOf(report, type, field) {
  let sum = 0;
  for (const stats of report.values()) {
    if (stats.type === type && typeof stats[field] === "number") sum += stats[field];
  }
  return sum;
}

/**
 * The path with one person between two getStats() reports of their peer connection.
 * `receivedLossPercent`: of the packets they sent us in the interval (inbound-rtp);
 * `sentLossPercent`: of ours, as their last receiver reports said (remote-inbound-rtp,
 * fractionLost); `roundTripMs`: of the pair in use. Pure, so it can be read alone.
 */
export function pathQuality(report, before) {
  const inbound = (field) =>
    sumOf(report, "inbound-rtp", field) - sumOf(before, "inbound-rtp", field);
  const lost = inbound("packetsLost");
  const received = inbound("packetsReceived");
  const receivedLossPercent = lost > 0 ? (100 * lost) / (lost + Math.max(0, received)) : 0;
  let sentLossPercent = 0;
  for (const stats of report.values()) {
    if (stats.type === "remote-inbound-rtp" && typeof stats.fractionLost === "number") {
      sentLossPercent = Math.max(sentLossPercent, 100 * stats.fractionLost);
    }
  }
  const seconds = selectedPair(report)?.currentRoundTripTime;
  const roundTripMs = typeof seconds === "number" ? seconds * 1000 : null;
  // What comes to us suffers (so less coming would help: stopping their video).
  const poorComing =
    receivedLossPercent >= POOR_LOSS_PERCENT || (roundTripMs ?? 0) >= POOR_ROUND_TRIP_MS;
  const poor = poorComing || sentLossPercent >= POOR_LOSS_PERCENT;
  return { receivedLossPercent, sentLossPercent, roundTripMs, poor, poorComing };
}

/** What a person's tile says of the connection with them. */
export const LinkMark = Object.freeze({ NONE: "none", POOR: "poor", RECONNECTING: "reconnecting" });

/**
 * Samples every person's connection every INTERVAL_MS; "change" events carry
 * { peerId, mark, poorComing } (a LinkMark; whether what they send us suffers)
 * when someone's mark, or what it is about, should change. "reconnecting":
 * connected before, not now (in a group call the call itself stays "Connected"
 * while the others are, so their tile is where it shows).
 */
export class QualityWatch extends EventTarget {
  #connections;
  #timer = null;
  #sampling = false;
  #paths = new Map(); // peer id -> { pc, report, mark, goodIntervals, wasConnected }

  /** @param {() => Map<string, RTCPeerConnection>} connections  each person's, now */
  constructor(connections) {
    super();
    this.#connections = connections;
  }

  start() {
    this.#timer ??= setInterval(() => this.#sample(), INTERVAL_MS);
  }

  /** Stops sampling; every mark goes ("change" for each that was shown). */
  stop() {
    clearInterval(this.#timer);
    this.#timer = null;
    for (const [peerId, path] of this.#paths) this.#mark(peerId, path, LinkMark.NONE);
    this.#paths.clear();
  }

  async #sample() {
    if (this.#sampling) return; // getStats can take longer than an interval
    this.#sampling = true;
    try {
      const connections = this.#connections();
      for (const [peerId, path] of this.#paths) {
        if (connections.has(peerId)) continue;
        this.#mark(peerId, path, LinkMark.NONE); // gone: their tile goes too
        this.#paths.delete(peerId);
      }
      for (const [peerId, pc] of connections) await this.#sampleOne(peerId, pc);
    } finally {
      this.#sampling = false;
    }
  }

  async #sampleOne(peerId, pc) {
    let path = this.#paths.get(peerId);
    if (!path) {
      path = {
        pc: null,
        report: null,
        mark: LinkMark.NONE,
        poorComing: false,
        goodIntervals: 0,
        wasConnected: false,
      };
      this.#paths.set(peerId, path);
    }
    if (pc.connectionState !== "connected") {
      // Before the first connection there is nothing to lose; after it, a
      // connection that is not connected (restarting ICE, or a new one in its
      // place) is one that is coming back.
      path.report = null;
      if (path.wasConnected) this.#mark(peerId, path, LinkMark.RECONNECTING);
      return;
    }
    const report = await pc.getStats();
    if (!this.#timer) return; // stopped meanwhile
    path.wasConnected = true;
    if (path.pc !== pc || path.report === null) {
      // Connected (again), or a new peer connection with them: its first report.
      Object.assign(path, { pc, report, goodIntervals: 0 });
      if (path.mark === LinkMark.RECONNECTING) this.#mark(peerId, path, LinkMark.NONE);
      return;
    }
    const { poor, poorComing } = pathQuality(report, path.report);
    path.report = report;
    path.goodIntervals = poor ? 0 : path.goodIntervals + 1;
    if (poor) this.#mark(peerId, path, LinkMark.POOR, poorComing);
    else if (path.goodIntervals >= GOOD_INTERVALS_TO_CLEAR) this.#mark(peerId, path, LinkMark.NONE);
  }

  #mark(peerId, path, mark, poorComing = false) {
    if (path.mark === mark && path.poorComing === poorComing) return;
    Object.assign(path, { mark, poorComing });
    this.dispatchEvent(new CustomEvent("change", { detail: { peerId, mark, poorComing } }));
  }
}
