// The "Call statistics" panel: figures as text, and the bitrate over the last
// minute drawn on a canvas.

import { HISTORY_SECONDS } from "./stats.js";

const SEND_COLOUR = "#1f6feb";
const RECEIVE_COLOUR = "#2da44e";

function kbps(bps) {
  return `${Math.round(bps / 1000)} kbit/s`;
}

function describeVideo(video) {
  if (!video || !video.width) return "none";
  const codec = video.codec ? ` (${video.codec})` : "";
  return `${video.width}×${video.height} at ${Math.round(video.fps)} fps${codec}`;
}

function describeRoute(route) {
  if (!route) return "not connected";
  const kind = route.relayed ? "relayed (TURN)" : "direct";
  return `${kind}: ${route.local} ↔ ${route.remote}`;
}

export class StatsPanel {
  /** `peerField`, `peerList`: whose connection the figures are of, in a group call. */
  constructor({ section, toggle, fields, chart, peerField, peerList }) {
    Object.assign(this, { section, toggle, fields, chart, peerField, peerList });
    this.toggle.addEventListener("click", () => this.setOpen(this.section.hidden));
    this.setOpen(false);
  }

  get open() {
    return !this.section.hidden;
  }

  setOpen(open) {
    this.section.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
  }

  /** The people whose figures can be shown ({ id, label }), `shownId` the one shown;
   * the list appears when there are two or more. */
  showPeople(people, shownId) {
    const { peerField, peerList } = this;
    peerField.hidden = people.length < 2;
    const same =
      peerList.options.length === people.length &&
      people.every(({ id, label }, index) => {
        const option = peerList.options[index];
        return option.value === id && option.textContent === label;
      });
    if (!same) {
      peerList.replaceChildren(
        ...people.map(({ id, label }) => {
          const option = document.createElement("option");
          option.value = id;
          option.textContent = label;
          return option;
        }),
      );
    }
    if (shownId) peerList.value = shownId;
  }

  show(summary, history) {
    const { fields } = this;
    fields.send.textContent = kbps(summary.sendBps);
    fields.receive.textContent = kbps(summary.receiveBps);
    fields.sentVideo.textContent = describeVideo(summary.sentVideo);
    fields.receivedVideo.textContent = describeVideo(summary.receivedVideo);
    const { sent, received } = summary.audioCodecs;
    fields.audio.textContent = `${sent ?? "none"} sent, ${received ?? "none"} received`;
    fields.roundTrip.textContent =
      summary.roundTripMs == null ? "unknown" : `${Math.round(summary.roundTripMs)} ms`;
    fields.loss.textContent = `${summary.packetLossPercent.toFixed(1)} %`;
    fields.route.textContent = describeRoute(summary.route);
    if (this.open) this.#draw(history);
  }

  clear() {
    for (const field of Object.values(this.fields)) field.textContent = "–";
    this.#draw([]);
  }

  #draw(history) {
    const { chart } = this;
    const context = chart.getContext("2d");
    const { width, height } = chart;
    context.clearRect(0, 0, width, height);
    const peak = Math.max(1, ...history.flatMap((point) => [point.sendBps, point.receiveBps]));
    const line = (field, colour) => {
      context.strokeStyle = colour;
      context.lineWidth = 2;
      context.beginPath();
      history.forEach((point, index) => {
        const x = (width * (HISTORY_SECONDS - history.length + index)) / (HISTORY_SECONDS - 1);
        const y = height - 2 - ((height - 4) * point[field]) / peak;
        if (index === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
      context.stroke();
    };
    line("sendBps", SEND_COLOUR);
    line("receiveBps", RECEIVE_COLOUR);
    chart.setAttribute("aria-label", `Bitrate over the last minute, peak ${kbps(peak)}`);
  }
}
