// What travels on the data channel between two peers (docs/protocol.md, "Data
// channel"): one pre-negotiated channel per peer connection, so neither side waits
// for the other to announce it; each text message is a JSON object with a "type".

import { validFileStart } from "./files.js";

export const CHANNEL_LABEL = "chat";
export const CHANNEL_OPTIONS = Object.freeze({ negotiated: true, id: 0, ordered: true });
export const MAX_TEXT_LENGTH = 4000;

export function encodeText(text) {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_TEXT_LENGTH) {
    throw new RangeError(`a chat message has 1 to ${MAX_TEXT_LENGTH} characters`);
  }
  return JSON.stringify({ type: "chat", text, sent_at: Date.now() });
}

/**
 * Whether we send sound (microphone on, not muted) and a picture (camera or screen),
 * and whether that picture is a shared screen (shown whole on the other side).
 */
export function encodeMediaState({ audio, video, screen }) {
  return JSON.stringify({
    type: "media-state",
    audio: Boolean(audio),
    video: Boolean(video),
    screen: Boolean(screen),
  });
}

/** Whether our hand is raised (someone who wants to speak, in a group call). */
export function encodeHand(raised) {
  return JSON.stringify({ type: "hand", raised: Boolean(raised) });
}

const DECODERS = {
  chat: (message) => {
    const { text, sent_at: sentAt } = message;
    const valid =
      typeof text === "string" &&
      text.length > 0 &&
      text.length <= MAX_TEXT_LENGTH &&
      Number.isSafeInteger(sentAt) &&
      sentAt >= 0;
    return valid ? { type: "chat", text, sentAt: new Date(sentAt) } : null;
  },
  "file-start": (message) => (validFileStart(message) ? message : null),
  "file-end": (message) => (typeof message.id === "string" ? message : null),
  hand: ({ raised }) => (typeof raised === "boolean" ? { type: "hand", raised } : null),
  // `screen` is optional: clients from before it say nothing of it.
  "media-state": ({ audio, video, screen = false }) =>
    typeof audio === "boolean" && typeof video === "boolean" && typeof screen === "boolean"
      ? { type: "media-state", audio, video, screen }
      : null,
};

/**
 * A text message as { type: "chat", text, sentAt: Date }, { type: "media-state",
 * audio, video, screen }, { type: "hand", raised }, or a "file-start" / "file-end";
 * null for anything else (ignored).
 */
export function decodeMessage(data) {
  if (typeof data !== "string") return null;
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return null;
  }
  const decode = Object.hasOwn(DECODERS, message?.type) ? DECODERS[message.type] : null;
  return decode ? decode(message) : null;
}
