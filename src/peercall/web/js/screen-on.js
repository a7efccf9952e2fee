// Keeps a phone's screen on during a call. Left alone for a minute or two, a phone
// dims its screen and locks, and the call's picture goes with it, though nobody
// touches a phone while they talk. The Screen Wake Lock API asks for the screen to
// stay on; the browser lets go of it whenever the page is hidden, so it is asked for
// again when the page is seen again. Where the API is missing or refuses (a battery
// saver), the call goes on as before.

export class ScreenOn {
  #wanted = false;
  #lock = null; // the WakeLockSentinel held, if any

  constructor(doc = document) {
    doc.addEventListener("visibilitychange", () => {
      if (doc.visibilityState === "visible") this.#take();
    });
  }

  /** From now on the screen stays on (while the page is shown). */
  keep() {
    this.#wanted = true;
    return this.#take();
  }

  /** The screen may turn off again as it likes. */
  async letGo() {
    this.#wanted = false;
    const lock = this.#lock;
    this.#lock = null;
    await lock?.release();
  }

  /** Whether a lock is held now (the browser lets go of it when the page hides). */
  get #holding() {
    return Boolean(this.#lock && !this.#lock.released);
  }

  async #take() {
    if (!this.#wanted || this.#holding || !navigator.wakeLock) return;
    let lock;
    try {
      lock = await navigator.wakeLock.request("screen");
    } catch (error) {
      console.warn("peercall: the screen may turn off during the call", error);
      return;
    }
    if (this.#wanted && !this.#holding) this.#lock = lock;
    else await lock.release(); // let go of meanwhile, or taken twice at once
  }
}
