// How well the media gets through with each person. Their tile says "Poor
// connection" while packets are lost (either way) or the round trip is long, so a
// frozen picture or choppy sound has an explanation on both sides.

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

function selectedRoundTripMs(report) {
  for (const stats of report.values()) {
    if (stats.type !== "transport" || !stats.selectedCandidatePairId) continue;
    const seconds = report.get(stats.selectedCandidatePairId)?.currentRoundTripTime;
    return typeof seconds === "number" ? seconds * 1000 : null;
  }
  return null;
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
  const roundTripMs = selectedRoundTripMs(report);
  const poor =
    receivedLossPercent >= POOR_LOSS_PERCENT ||
    sentLossPercent >= POOR_LOSS_PERCENT ||
    (roundTripMs ?? 0) >= POOR_ROUND_TRIP_MS;
  return { receivedLossPercent, sentLossPercent, roundTripMs, poor };
}

/** Samples every person's connection every INTERVAL_MS; "change" events carry
 * { peerId, poor } when someone's mark should change. */
export class QualityWatch extends EventTarget {
  #connections;
  #timer = null;
  #sampling = false;
  #paths = new Map(); // peer id -> { pc, report, poor, goodIntervals }

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
    for (const [peerId, path] of this.#paths) if (path.poor) this.#change(peerId, false);
    this.#paths.clear();
  }

  async #sample() {
    if (this.#sampling) return; // getStats can take longer than an interval
    this.#sampling = true;
    try {
      const connections = this.#connections();
      for (const peerId of this.#paths.keys()) {
        if (!connections.has(peerId)) this.#forget(peerId);
      }
      for (const [peerId, pc] of connections) await this.#sampleOne(peerId, pc);
    } finally {
      this.#sampling = false;
    }
  }

  async #sampleOne(peerId, pc) {
    // Not connected: the call's state says "Reconnecting" already.
    if (pc.connectionState !== "connected") return this.#forget(peerId);
    const report = await pc.getStats();
    if (!this.#timer) return; // stopped meanwhile
    const path = this.#paths.get(peerId);
    if (path?.pc !== pc) {
      // A new person, or a new peer connection with them: its first report.
      if (path?.poor) this.#change(peerId, false);
      this.#paths.set(peerId, { pc, report, poor: false, goodIntervals: 0 });
      return;
    }
    const { poor } = pathQuality(report, path.report);
    path.report = report;
    path.goodIntervals = poor ? 0 : path.goodIntervals + 1;
    if (poor && !path.poor) {
      path.poor = true;
      this.#change(peerId, true);
    } else if (path.poor && path.goodIntervals >= GOOD_INTERVALS_TO_CLEAR) {
      path.poor = false;
      this.#change(peerId, false);
    }
  }

  #forget(peerId) {
    if (this.#paths.get(peerId)?.poor) this.#change(peerId, false);
    this.#paths.delete(peerId);
  }

  #change(peerId, poor) {
    this.dispatchEvent(new CustomEvent("change", { detail: { peerId, poor } }));
  }
}
