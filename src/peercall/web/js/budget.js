// How much one person in the call may make this page do: a token bucket. The data
// channel goes peer to peer, past any limit of the server's, and every chat message
// or announced file becomes an element in the page: 20,000 of them sent at once kept
// the page from answering for over half a minute.

export class TokenBucket {
  #tokens;
  #updated;

  /** `burst` at once, then `perSecond`. */
  constructor({ burst, perSecond }) {
    this.burst = burst;
    this.perSecond = perSecond;
    this.#tokens = burst;
    this.#updated = performance.now();
  }

  /** Whether one more is allowed now (and counts it if so). */
  take() {
    const now = performance.now();
    const earned = ((now - this.#updated) / 1000) * this.perSecond;
    this.#tokens = Math.min(this.burst, this.#tokens + earned);
    this.#updated = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
