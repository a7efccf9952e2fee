// Who is speaking: a person whose sound is loud enough is "speaking", and stays so
// for a moment after (words have gaps), so that a group call shows who talks.
// Reads the receivers' audio levels a few times a second; nothing is sent.

// Each read gives the level of the latest packet (20 ms of sound) only.
const POLL_MS = 100;
// -40 dBov: speech is louder; a quiet room through the browser's noise suppression
// reads 0 to 0.003, and a muted microphone sends 0.
const SPEAKING_LEVEL = 0.01;
const HOLD_MS = 800;

export class SpeakingWatch extends EventTarget {
  #levels;
  #timer = null;
  #lastLoud = new Map(); // peer id -> when they were last loud (performance.now())
  #speaking = new Set();

  /** @param {() => Map<string, number>} levels  each person's audio level now, 0 to 1 */
  constructor(levels) {
    super();
    this.#levels = levels;
  }

  start() {
    this.#timer ??= setInterval(() => this.#poll(), POLL_MS);
  }

  /** Stops watching; nobody is speaking any more ("change" for each who was). */
  stop() {
    clearInterval(this.#timer);
    this.#timer = null;
    for (const peerId of this.#speaking) this.#change(peerId, false);
    this.#lastLoud.clear();
  }

  #poll() {
    const now = performance.now();
    const levels = this.#levels();
    for (const [peerId, level] of levels) {
      if (level >= SPEAKING_LEVEL) this.#lastLoud.set(peerId, now);
    }
    for (const peerId of new Set([...levels.keys(), ...this.#speaking])) {
      const lastLoud = this.#lastLoud.get(peerId) ?? -Infinity;
      const speaking = levels.has(peerId) && now - lastLoud < HOLD_MS;
      if (speaking !== this.#speaking.has(peerId)) this.#change(peerId, speaking);
    }
    for (const peerId of this.#lastLoud.keys()) {
      if (!levels.has(peerId)) this.#lastLoud.delete(peerId);
    }
  }

  #change(peerId, speaking) {
    if (speaking) this.#speaking.add(peerId);
    else this.#speaking.delete(peerId);
    this.dispatchEvent(new CustomEvent("change", { detail: { peerId, speaking } }));
  }
}
