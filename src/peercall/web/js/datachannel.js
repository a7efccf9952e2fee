// What travels on the data channel between two peers (docs/protocol.md, "Data
// channel"): one pre-negotiated channel per peer connection, so neither side waits
// for the other to announce it; each text message is a JSON object with a "type".

import { validFileStart } from "./files.js";
import { randomId } from "./random-id.js";

export const CHANNEL_LABEL = "chat";
export const CHANNEL_OPTIONS = Object.freeze({ negotiated: true, id: 0, ordered: true });
export const MAX_TEXT_LENGTH = 4000;

// Ids of chat messages: unique per sender, so that a message sent again (to whoever
// comes, see `encodeEarlierChat`) is shown once.
const MAX_ID_LENGTH = 64;

/** A chat message of ours, { id, text, sentAt: Date }; throws for an empty or long text. */
export function newChatMessage(text) {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_TEXT_LENGTH) {
    throw new RangeError(`a chat message has 1 to ${MAX_TEXT_LENGTH} characters`);
  }
  return { id: randomId(12), text, sentAt: new Date() };
}

export function encodeChat({ id, text, sentAt }) {
  return JSON.stringify({ type: "chat", id, text, sent_at: sentAt.getTime() });
}

/** One of our messages from before this channel opened, sent again on it: someone
 * who joined late, or whose page was reloaded, reads what was said before. */
export function encodeEarlierChat({ id, text, sentAt }) {
  return JSON.stringify({ type: "earlier-chat", id, text, sent_at: sentAt.getTime() });
}

function decodeChat({ id = null, text, sent_at: sentAt }, earlier) {
  // An earlier message needs its id: the id is what shows it only once.
  const validId =
    id === null ? !earlier : typeof id === "string" && id.length > 0 && id.length <= MAX_ID_LENGTH;
  const valid =
    validId &&
    typeof text === "string" &&
    text.length > 0 &&
    text.length <= MAX_TEXT_LENGTH &&
    Number.isSafeInteger(sentAt) &&
    sentAt >= 0;
  return valid ? { type: "chat", id, text, sentAt: new Date(sentAt), earlier } : null;
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

/** Whether we want the other side's video: false asks them to stop sending it to us
 * (to save a poor or metered connection); their sound goes on. */
export function encodeVideoWanted(wanted) {
  return JSON.stringify({ type: "video-wanted", wanted: Boolean(wanted) });
}

const DECODERS = {
  // `id` is optional in "chat": clients from before it send none.
  chat: (message) => decodeChat(message, false),
  "earlier-chat": (message) => decodeChat(message, true),
  "file-start": (message) => (validFileStart(message) ? message : null),
  "file-end": (message) => (typeof message.id === "string" ? message : null),
  hand: ({ raised }) => (typeof raised === "boolean" ? { type: "hand", raised } : null),
  "video-wanted": ({ wanted }) =>
    typeof wanted === "boolean" ? { type: "video-wanted", wanted } : null,
  // `screen` is optional: clients from before it say nothing of it.
  "media-state": ({ audio, video, screen = false }) =>
    typeof audio === "boolean" && typeof video === "boolean" && typeof screen === "boolean"
      ? { type: "media-state", audio, video, screen }
      : null,
};

/**
 * A text message as { type: "chat", id, text, sentAt: Date, earlier } (an "earlier-chat"
 * too, with `earlier` true), { type: "video-wanted", wanted }, { type: "media-state",
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
