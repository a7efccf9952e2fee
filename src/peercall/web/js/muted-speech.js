// "You are muted": someone who talks with their microphone muted is told so, or they
// would go on talking to nobody. While muted (and only then), the page listens to a
// copy of the microphone on this device; nothing of it is sent or kept.

const POLL_MS = 100;
// RMS of the samples: talking into a microphone is well above it, a quiet room
// through the browser's noise suppression well below.
const LOUD_RMS = 0.01;
// Talking, not one knock on the desk: loud at least this often within the window.
const LOUD_MOMENTS = 2;
const WINDOW_MS = 2000;

export class MutedSpeechWatch extends EventTarget {
  #microphone = null; // the muted track watched
  #copy = null; // an enabled clone of it, listened to
  #context = null;
  #analyser = null;
  #samples = null;
  #timer = null;
  #loudAt = [];

  /** Listens to `microphone`, a muted track: "speaking" fires when it is talked into. */
  watch(microphone) {
    if (microphone === this.#microphone) return;
    this.stop();
    this.#microphone = microphone;
    try {
      this.#copy = microphone.clone();
      this.#copy.enabled = true;
      this.#context = new AudioContext();
      this.#context.resume().catch(() => {}); // allowed: pressing Mute was a gesture
      this.#analyser = this.#context.createAnalyser();
      const copy = this.#context.createMediaStreamSource(new MediaStream([this.#copy]));
      copy.connect(this.#analyser);
      this.#samples = new Float32Array(this.#analyser.fftSize);
      this.#timer = setInterval(() => this.#poll(), POLL_MS);
    } catch (error) {
      // No audio processing here (too many contexts, none allowed): no hint, no harm.
      console.warn("peercall: cannot listen to the muted microphone", error);
      this.stop();
      this.#microphone = microphone; // not tried again for the same track
    }
  }

  stop() {
    clearInterval(this.#timer);
    this.#timer = null;
    this.#copy?.stop();
    this.#context?.close().catch(() => {});
    this.#microphone = this.#copy = this.#context = this.#analyser = null;
    this.#loudAt = [];
  }

  #poll() {
    this.#analyser.getFloatTimeDomainData(this.#samples);
    let sum = 0;
    for (const sample of this.#samples) sum += sample * sample;
    if (Math.sqrt(sum / this.#samples.length) < LOUD_RMS) return;
    const now = performance.now();
    this.#loudAt = this.#loudAt.filter((at) => now - at < WINDOW_MS);
    this.#loudAt.push(now);
    if (this.#loudAt.length >= LOUD_MOMENTS) {
      this.#loudAt = [];
      this.dispatchEvent(new Event("speaking"));
    }
  }
}
