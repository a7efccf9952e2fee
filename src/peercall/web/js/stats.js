// Live call statistics from RTCPeerConnection.getStats(): what a person (or
// whoever helps them) needs to see why a call looks or sounds bad.

const INTERVAL_MS = 1000;
export const HISTORY_SECONDS = 60;

function rtpOf(report, type, kind) {
  for (const stats of report.values()) {
    if (stats.type === type && stats.kind === kind) return stats;
  }
  return null;
}

function bitrate(now, before, field, seconds) {
  if (!now || !before || !(field in now) || !(field in before) || seconds <= 0) return 0;
  return Math.max(0, ((now[field] - before[field]) * 8) / seconds);
}

/** The candidate pair the connection uses (its transport's selected one), or null. */
export function selectedPair(report) {
  for (const stats of report.values()) {
    if (stats.type === "transport" && stats.selectedCandidatePairId) {
      return report.get(stats.selectedCandidatePairId) ?? null;
    }
  }
  for (const stats of report.values()) {
    if (stats.type === "candidate-pair" && stats.nominated && stats.state === "succeeded") {
      return stats;
    }
  }
  return null;
}

function codecName(report, rtp) {
  const codec = rtp?.codecId ? report.get(rtp.codecId) : null;
  return codec?.mimeType?.split("/")[1] ?? null;
}

/**
 * One summary from two consecutive getStats() reports (`before` may be null).
 * Pure: no clock, no DOM, so it can be checked alone.
 */
export function summarize(report, before, seconds) {
  const sentVideo = rtpOf(report, "outbound-rtp", "video");
  const sentAudio = rtpOf(report, "outbound-rtp", "audio");
  const gotVideo = rtpOf(report, "inbound-rtp", "video");
  const gotAudio = rtpOf(report, "inbound-rtp", "audio");
  const old = (stats) => (stats && before ? before.get(stats.id) : null);
  const sendBps =
    bitrate(sentVideo, old(sentVideo), "bytesSent", seconds) +
    bitrate(sentAudio, old(sentAudio), "bytesSent", seconds);
  const receiveBps =
    bitrate(gotVideo, old(gotVideo), "bytesReceived", seconds) +
    bitrate(gotAudio, old(gotAudio), "bytesReceived", seconds);
  const lost = (gotVideo?.packetsLost ?? 0) + (gotAudio?.packetsLost ?? 0);
  const received = (gotVideo?.packetsReceived ?? 0) + (gotAudio?.packetsReceived ?? 0);
  const pair = selectedPair(report);
  const local = pair ? report.get(pair.localCandidateId) : null;
  const remote = pair ? report.get(pair.remoteCandidateId) : null;
  const relayed = local?.candidateType === "relay" || remote?.candidateType === "relay";
  return {
    sendBps,
    receiveBps,
    sentVideo: sentVideo && {
      width: sentVideo.frameWidth ?? 0,
      height: sentVideo.frameHeight ?? 0,
      fps: sentVideo.framesPerSecond ?? 0,
      codec: codecName(report, sentVideo),
    },
    receivedVideo: gotVideo && {
      width: gotVideo.frameWidth ?? 0,
      height: gotVideo.frameHeight ?? 0,
      fps: gotVideo.framesPerSecond ?? 0,
      codec: codecName(report, gotVideo),
    },
    audioCodecs: { sent: codecName(report, sentAudio), received: codecName(report, gotAudio) },
    roundTripMs: pair?.currentRoundTripTime != null ? pair.currentRoundTripTime * 1000 : null,
    packetLossPercent: lost + received > 0 ? (100 * lost) / (lost + received) : 0,
    route: pair
      ? {
          relayed,
          local: local?.candidateType ?? "unknown",
          remote: remote?.candidateType ?? "unknown",
        }
      : null,
  };
}

/** Polls one peer connection every second; "stats" events carry summaries, with history. */
export class StatsMonitor extends EventTarget {
  #timer = null;
  #before = null;
  #beforeAt = 0;

  constructor(pc) {
    super();
    this.pc = pc;
    this.history = []; // { sendBps, receiveBps } per second, oldest first
  }

  /** Samples every second, the first time a second from now: getStats during the
   * call's set-up would compete with it for the browser's WebRTC threads. */
  start() {
    this.#timer ??= setInterval(() => this.#sample(), INTERVAL_MS);
  }

  stop() {
    clearInterval(this.#timer);
    this.#timer = null;
  }

  async #sample() {
    if (this.pc.connectionState === "closed") return this.stop();
    const report = await this.pc.getStats();
    const now = performance.now();
    const summary = summarize(report, this.#before, (now - this.#beforeAt) / 1000);
    if (this.#before) {
      this.history.push({ sendBps: summary.sendBps, receiveBps: summary.receiveBps });
      if (this.history.length > HISTORY_SECONDS) this.history.shift();
      this.dispatchEvent(new CustomEvent("stats", { detail: summary }));
    }
    this.#before = report;
    this.#beforeAt = now;
  }
}
