// The signaling channel: owns the WebSocket, speaks docs/protocol.md, and turns
// every server message into an event of the same name (event.detail = message).
//
// In a call it survives a dropped connection: it reconnects by itself (back-off
// with jitter), takes its place back with `resume`, drops what it has already seen
// (`seq`), acknowledges what it got (`ack`) and sends again the signals the server
// had not handled. Its owner only sees "connectionlost", then "resumed" (or
// "resumefailed": the place is gone and the call must be joined again).

import { OneAtATime } from "./one-at-a-time.js";

const KEEPALIVE_MS = 20000;
// Before joining, under the server's default handshake_seconds (15 s): a socket
// opened ahead of "Join" stays open until it is pressed.
const PRE_JOIN_KEEPALIVE_MS = 10000;
// A socket whose pong does not come back this soon is dead (a network change can
// leave one hanging for minutes without an error): drop it and reconnect.
const PONG_DEADLINE_MS = 5000;
const PROBE_DEADLINE_MS = 2000;
const ACK_DELAY_MS = 200;
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 10000;
const MAX_UNCONFIRMED = 256;
const UNREACHABLE = "Cannot reach the server.";
const SIGNAL_TYPES = new Set(["offer", "answer", "candidate", "end-of-candidates"]);

export class SignalingError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** A wait of about `base` ms, randomised ±50% so clients do not all come back at once. */
function jittered(base) {
  return base * (0.5 + Math.random());
}

export class SignalingChannel extends EventTarget {
  #socket = null;
  #keepalive = null;
  #place = null; // { callId, peerId, token } while in a call
  #lastSeq = 0; // highest numbered message handled
  #ackTimer = null;
  #ourSeq = 0; // numbers our signals
  #unconfirmed = []; // our numbered signals the server may not have handled
  #reconnectDelay = RECONNECT_FIRST_MS;
  #reconnectTimer = null;
  #closing = false;
  #pongDeadline = null;
  #pingMs = PRE_JOIN_KEEPALIVE_MS;
  #connecting = null;
  #requests = new OneAtATime(); // the requests in flight (`join`, `look`), in order

  constructor(url) {
    super();
    this.url = url;
  }

  static forPage(location) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return new SignalingChannel(`${scheme}//${location.host}/ws`);
  }

  get isOpen() {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket; resolves once it is open, rejects if it cannot be. */
  connect() {
    if (this.isOpen) return Promise.resolve();
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  /** Opens the socket ahead of joining, so that "Join" does not wait for it. A
   * failure is not an error yet: joining will try again and say so. */
  warmUp() {
    this.connect().catch(() => {});
  }

  #open() {
    this.#closing = false;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      this.#socket = socket;
      socket.addEventListener("open", () => {
        this.#keepAliveEvery(this.#pingMs);
        resolve();
      });
      socket.addEventListener("message", (event) => this.#receive(event.data));
      socket.addEventListener("close", (event) => {
        if (this.#socket !== socket) return;
        reject(new SignalingError("connection-failed", UNREACHABLE));
        this.#drop(event.code);
      });
    });
  }

  /**
   * Checks the socket still reaches the server: a ping whose pong does not come
   * back within `deadlineMs` means it is dead, and it is replaced. Called
   * periodically, and by the call when its media path breaks (often a network
   * change, which can leave the socket hanging).
   */
  probe(deadlineMs = PROBE_DEADLINE_MS) {
    if (!this.isOpen || this.#pongDeadline) return;
    this.#write({ type: "ping" });
    this.#pongDeadline = setTimeout(() => {
      this.#pongDeadline = null;
      console.warn("peercall: the server stopped answering; reconnecting");
      this.#drop(4000);
    }, deadlineMs);
  }

  /** Pings (and checks the pong) every `ms`: the server closes silent sockets. */
  #keepAliveEvery(ms) {
    this.#pingMs = ms;
    clearInterval(this.#keepalive);
    this.#keepalive = setInterval(() => this.probe(Math.min(PONG_DEADLINE_MS, ms)), ms);
  }

  #drop(code) {
    this.#detachSocket();
    this.dispatchEvent(new Event("socketlost"));
    this.#lost(code);
  }

  /** Closes the socket and stops its timers; its late events are ignored. */
  #detachSocket() {
    const socket = this.#socket;
    this.#socket = null;
    clearInterval(this.#keepalive);
    clearTimeout(this.#pongDeadline);
    this.#pongDeadline = null;
    socket?.close();
  }

  /** Sends a message; a signal in a call is numbered and kept until confirmed. */
  send(message) {
    if (this.#place && SIGNAL_TYPES.has(message.type)) {
      this.#ourSeq += 1;
      const numbered = { ...message, seq: this.#ourSeq };
      this.#unconfirmed.push(numbered);
      if (this.#unconfirmed.length > MAX_UNCONFIRMED) this.#unconfirmed.shift();
      // While reconnecting it waits in #unconfirmed and goes out after `resumed`.
      return this.#write(numbered);
    }
    return this.#write(message);
  }

  /** Joins a call; resolves with the `joined` message or rejects with its error
   * (a SignalingError: call-not-found, call-full…). `answers`: our answers to the
   * open offers of `look` ({ to, session, sdp }), sent with the join. */
  join(callId, { name = "", passcode = "", answers = [] } = {}) {
    const message = { type: "join", call_id: callId, name };
    if (passcode) message.passcode = passcode;
    if (answers.length > 0) message.answers = answers;
    return this.#request(message, "joined").then((joined) => {
      this.#place = { callId, peerId: joined.peer_id, token: joined.resume_token };
      this.#keepAliveEvery(joined.ping_seconds * 1000 || KEEPALIVE_MS);
      this.#lastSeq = 0;
      this.#ourSeq = 0;
      this.#unconfirmed = [];
      return joined;
    });
  }

  /** Before joining: the open offers of the people in the call (the `looked`
   * message), to answer them ahead of `join`. */
  look(callId, { passcode = "" } = {}) {
    const message = { type: "look", call_id: callId };
    if (passcode) message.passcode = passcode;
    return this.#request(message, "looked");
  }

  /**
   * Sends `message`; resolves with the reply of type `replyType`, or rejects with
   * the error that came instead. One request at a time, so that an error is
   * always the answer to the request it settles (a `join` right behind a `look`
   * waits for the look's reply).
   */
  #request(message, replyType) {
    return this.#requests.run(
      () =>
        new Promise((resolve, reject) => {
          const settle = (event) => {
            for (const type of [replyType, "error", "socketlost"]) {
              this.removeEventListener(type, settle);
            }
            const answer = event.detail;
            if (answer?.type === replyType) resolve(answer);
            else if (answer) reject(new SignalingError(answer.code, answer.message));
            else reject(new SignalingError("connection-failed", UNREACHABLE));
          };
          this.addEventListener(replyType, settle);
          this.addEventListener("error", settle);
          // A socket lost before the reply: no reply is coming.
          this.addEventListener("socketlost", settle);
          if (!this.#write(message)) this.dispatchEvent(new Event("socketlost"));
        }),
    );
  }

  /** Hangs up: our place is given up, so a drop from now on is not resumed. */
  leave() {
    this.#write({ type: "leave" });
    this.#place = null;
  }

  close() {
    this.#closing = true;
    this.#place = null;
    clearTimeout(this.#reconnectTimer);
    this.#detachSocket();
    this.dispatchEvent(new Event("socketlost"));
  }

  #write(message) {
    if (!this.isOpen) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  #lost(code) {
    if (this.#closing) return;
    if (!this.#place) {
      this.dispatchEvent(new CustomEvent("close", { detail: { code } }));
      return;
    }
    this.dispatchEvent(new CustomEvent("connectionlost", { detail: { code } }));
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    clearTimeout(this.#reconnectTimer);
    const delay = jittered(this.#reconnectDelay);
    this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, RECONNECT_MAX_MS);
    this.#reconnectTimer = setTimeout(() => this.#reconnect(), delay);
  }

  async #reconnect() {
    if (!this.#place || this.#closing) return;
    try {
      await this.connect();
    } catch {
      return; // #lost() has scheduled the next attempt
    }
    const { callId, peerId, token } = this.#place;
    this.#write({
      type: "resume",
      call_id: callId,
      peer_id: peerId,
      resume_token: token,
      last_seq: this.#lastSeq,
    });
  }

  #resumed(message) {
    this.#reconnectDelay = RECONNECT_FIRST_MS;
    const handled = message.last_received;
    // Unknown (the server restarted): nothing can be sent again safely.
    const again = handled == null ? [] : this.#unconfirmed.filter((m) => m.seq > handled);
    this.#unconfirmed = again;
    for (const signal of again) this.#write(signal);
    this.dispatchEvent(new CustomEvent("resumed", { detail: message }));
  }

  #acknowledge() {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = setTimeout(() => this.#write({ type: "ack", seq: this.#lastSeq }), ACK_DELAY_MS);
  }

  #receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn("peercall: ignoring a frame that is not JSON");
      return;
    }
    if (typeof message?.type !== "string") return;
    if (Number.isSafeInteger(message.seq)) {
      if (message.seq <= this.#lastSeq) return; // seen already
      this.#lastSeq = message.seq;
      this.#acknowledge();
    }
    if (message.type === "pong") {
      clearTimeout(this.#pongDeadline);
      this.#pongDeadline = null;
    }
    if (message.type === "resumed") return this.#resumed(message);
    if (message.type === "left") this.#place = null;
    if (message.type === "error") {
      console.warn("peercall server error:", message.code, message.message);
      if (message.code === "resume-failed" && this.#place) {
        this.#place = null;
        this.dispatchEvent(new CustomEvent("resumefailed", { detail: message }));
        return;
      }
    }
    this.dispatchEvent(new CustomEvent(message.type, { detail: message }));
  }
}
