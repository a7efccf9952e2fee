// Files over the data channel (docs/protocol.md, "Data channel"): a "file-start"
// message, the bytes as binary messages of CHUNK_BYTES, then "file-end". The
// channel is ordered and reliable, so chunks need no numbering; one file is sent
// at a time per channel. Sending waits whenever the channel's buffer is full
// (bufferedAmountLowThreshold), so a large file never floods memory.

import { OneAtATime } from "./one-at-a-time.js";
import { randomId } from "./random-id.js";

export const CHUNK_BYTES = 16 * 1024; // what every browser's SCTP takes in one message
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
const BUFFER_HIGH = 1024 * 1024;
const BUFFER_LOW = 256 * 1024;
const MAX_NAME_LENGTH = 255;
const UNTYPED = "application/octet-stream";

export function validFileStart(message) {
  return (
    typeof message.id === "string" &&
    message.id.length > 0 &&
    message.id.length <= 64 &&
    typeof message.name === "string" &&
    message.name.length > 0 &&
    message.name.length <= MAX_NAME_LENGTH &&
    Number.isSafeInteger(message.size) &&
    message.size >= 0 &&
    message.size <= MAX_FILE_BYTES &&
    typeof message.mime === "string" &&
    message.mime.length <= 255
  );
}

/** Sends files one after another on `channel`; "progress" events carry bytes sent. */
export class FileSender {
  #sending = new OneAtATime();

  constructor(channel) {
    this.channel = channel;
    channel.bufferedAmountLowThreshold = BUFFER_LOW;
  }

  /** Queues `file`; `onProgress(bytesSent)` is called as it goes. Resolves when sent. */
  send(file, onProgress) {
    return this.#sending.run(() => this.#send(file, onProgress));
  }

  async #send(file, onProgress) {
    if (file.size > MAX_FILE_BYTES) throw new RangeError("The file is larger than 512 MB.");
    const { channel } = this;
    const id = randomId(16); // not crypto.randomUUID: plain-http pages have none
    channel.send(
      JSON.stringify({
        type: "file-start",
        id,
        name: file.name.slice(0, MAX_NAME_LENGTH) || "file",
        size: file.size,
        mime: file.type.slice(0, 255),
      }),
    );
    let sent = 0;
    while (sent < file.size) {
      if (channel.bufferedAmount > BUFFER_HIGH) await this.#drained();
      if (channel.readyState !== "open") throw new Error("The connection closed while sending.");
      const chunk = await file.slice(sent, sent + CHUNK_BYTES).arrayBuffer();
      channel.send(chunk);
      sent += chunk.byteLength;
      onProgress(sent);
    }
    channel.send(JSON.stringify({ type: "file-end", id }));
  }

  #drained() {
    return new Promise((resolve) => {
      const done = () => {
        this.channel.removeEventListener("bufferedamountlow", done);
        this.channel.removeEventListener("close", done);
        resolve();
      };
      this.channel.addEventListener("bufferedamountlow", done);
      this.channel.addEventListener("close", done);
    });
  }
}

/**
 * Puts received files together. Feed it "file-start"/"file-end" messages and binary
 * chunks; it calls `onStart({ id, name, size })`, `onProgress(id, bytes)` and
 * `onFile(id, blob)` (or `onFailure(id, reason)` when the sender breaks the rules).
 */
export class FileReceiver {
  #current = null;

  constructor({ onStart, onProgress, onFile, onFailure }) {
    Object.assign(this, { onStart, onProgress, onFile, onFailure });
  }

  start(message) {
    if (this.#current) this.#fail("a new file started before the last one ended");
    this.#current = { ...message, chunks: [], received: 0 };
    this.onStart({ id: message.id, name: message.name, size: message.size });
  }

  chunk(data) {
    const current = this.#current;
    if (!current) return; // a chunk of a file we refused
    current.received += data.byteLength;
    if (current.received > current.size) return this.#fail("more bytes than announced");
    current.chunks.push(data);
    this.onProgress(current.id, current.received);
  }

  end(message) {
    const current = this.#current;
    if (!current || current.id !== message.id) return;
    if (current.received !== current.size) return this.#fail("fewer bytes than announced");
    this.#current = null;
    // Bytes of no type, whatever `mime` the sender gave: a blob URL of ours opened in a
    // tab is a document of this origin, where an SVG's or an HTML file's script would
    // run with this page's storage and server. Untyped, opening it downloads it.
    this.onFile(current.id, new Blob(current.chunks, { type: UNTYPED }));
  }

  /** The channel closed: whatever was coming will not. */
  abort() {
    if (this.#current) this.#fail("the connection closed");
  }

  #fail(reason) {
    const { id } = this.#current;
    this.#current = null;
    this.onFailure(id, reason);
  }
}
