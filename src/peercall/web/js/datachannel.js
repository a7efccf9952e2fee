// What travels on the data channel between two peers (docs/protocol.md, "Data
// channel"): one pre-negotiated channel per peer connection, so neither side waits
// for the other to announce it; each message is a JSON object with a "type".

export const CHANNEL_LABEL = "chat";
export const CHANNEL_OPTIONS = Object.freeze({ negotiated: true, id: 0, ordered: true });
export const MAX_TEXT_LENGTH = 4000;

export function encodeText(text) {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_TEXT_LENGTH) {
    throw new RangeError(`a chat message has 1 to ${MAX_TEXT_LENGTH} characters`);
  }
  return JSON.stringify({ type: "chat", text, sent_at: Date.now() });
}

/** The chat message in `data` as { text, sentAt: Date }, or null for anything else. */
export function decodeMessage(data) {
  if (typeof data !== "string") return null;
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return null;
  }
  const valid =
    message?.type === "chat" &&
    typeof message.text === "string" &&
    message.text.length > 0 &&
    message.text.length <= MAX_TEXT_LENGTH &&
    Number.isSafeInteger(message.sent_at) &&
    message.sent_at >= 0;
  return valid ? { text: message.text, sentAt: new Date(message.sent_at) } : null;
}
