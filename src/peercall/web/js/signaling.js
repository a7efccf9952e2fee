// The signaling channel: owns the WebSocket, speaks docs/protocol.md, and turns
// every server message into an event of the same name (event.detail = message).

const KEEPALIVE_MS = 20000;

export class SignalingError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class SignalingChannel extends EventTarget {
  #socket = null;
  #keepalive = null;

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
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      this.#socket = socket;
      socket.addEventListener("open", () => {
        this.#keepalive = setInterval(() => this.send({ type: "ping" }), KEEPALIVE_MS);
        resolve();
      });
      socket.addEventListener("message", (event) => this.#receive(event.data));
      socket.addEventListener("close", (event) => {
        clearInterval(this.#keepalive);
        if (this.#socket !== socket) return;
        this.#socket = null;
        reject(new SignalingError("connection-failed", "Cannot reach the server."));
        this.dispatchEvent(new CustomEvent("close", { detail: { code: event.code } }));
      });
    });
  }

  send(message) {
    if (!this.isOpen) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  /** Joins a call; resolves with the `joined` message or rejects with its error. */
  join(callId, name = "") {
    return new Promise((resolve, reject) => {
      const settle = (event) => {
        this.removeEventListener("joined", settle);
        this.removeEventListener("error", settle);
        const message = event.detail;
        if (message.type === "joined") resolve(message);
        else reject(new SignalingError(message.code, message.message));
      };
      this.addEventListener("joined", settle);
      this.addEventListener("error", settle);
      this.send({ type: "join", call_id: callId, name });
    });
  }

  close() {
    const socket = this.#socket;
    this.#socket = null;
    clearInterval(this.#keepalive);
    socket?.close();
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
    if (message.type === "error") console.warn("peercall server error:", message.code, message.message);
    this.dispatchEvent(new CustomEvent(message.type, { detail: message }));
  }
}
