// How loud the microphone is, as a bar under its picker: someone who picks a
// microphone sees that it hears them before anyone else has to say "I can't hear
// you". The bar shows what is sent, so it stays empty while muted. Everything is
// measured on this device; nothing of it is sent or kept.

const POLL_MS = 50;
// The bar spans -60 dBFS (a quiet room through the browser's noise suppression:
// empty) to 0 dBFS; speech sits around the middle, a shout near the end.
const FLOOR_DB = -60;
// How far the bar falls per poll: it follows a sound up at once and falls back
// smoothly, instead of flickering between words.
const FALL_PER_POLL = 0.05;
// Events that let a page start sound (a user activation).
const GESTURES = ["pointerdown", "pointerup", "keydown"];

/** The level (0 to 1) of `rms` (0 to 1) on the bar's decibel scale. */
function barLevel(rms) {
  if (!(rms > 0)) return 0;
  const decibels = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (decibels - FLOOR_DB) / -FLOOR_DB));
}

export class MicrophoneMeter {
  #meter; // the <meter> element
  #track = null; // the microphone listened to
  #context = null;
  #analyser = null;
  #samples = null;
  #timer = null;
  #waitForGesture = null; // AbortController of the listeners waiting for a tap or key

  constructor(meter) {
    this.#meter = meter;
  }

  /** Shows the level of `track`, a microphone (null: none, and the bar is hidden). */
  follow(track) {
    if (track === this.#track) return;
    this.stop();
    this.#track = track;
    this.#meter.hidden = !track;
    if (!track) return;
    try {
      this.#context = new AudioContext();
      this.#analyser = this.#context.createAnalyser();
      const source = this.#context.createMediaStreamSource(new MediaStream([track]));
      source.connect(this.#analyser);
      this.#samples = new Float32Array(this.#analyser.fftSize);
      this.#startSound();
      this.#timer = setInterval(() => this.#poll(), POLL_MS);
    } catch (error) {
      // No audio processing here (too many contexts, none allowed): no bar, no harm.
      console.warn("peercall: cannot show the microphone's level", error);
      this.stop();
      this.#track = track; // not tried again for the same track
      this.#meter.hidden = true;
    }
  }

  stop() {
    clearInterval(this.#timer);
    this.#waitForGesture?.abort();
    this.#context?.close().catch(() => {});
    this.#timer = this.#waitForGesture = null;
    this.#track = this.#context = this.#analyser = null;
    this.#meter.value = 0;
  }

  /** Before the person has touched the page, a browser may hold sound back (Chrome
   * on a computer, Safari): the bar then starts at their first tap or key. */
  #startSound() {
    const context = this.#context;
    const waiting = new AbortController();
    this.#waitForGesture = waiting;
    const resume = () => context.resume().then(() => waiting.abort(), () => {});
    for (const type of GESTURES) {
      document.addEventListener(type, resume, { capture: true, signal: waiting.signal });
    }
    resume();
  }

  #poll() {
    this.#analyser.getFloatTimeDomainData(this.#samples);
    let sum = 0;
    for (const sample of this.#samples) sum += sample * sample;
    const level = barLevel(Math.sqrt(sum / this.#samples.length));
    const before = this.#meter.value;
    const shown = Math.max(level, before - FALL_PER_POLL);
    if (Math.abs(shown - before) >= 0.01 || (shown === 0 && before !== 0)) this.#meter.value = shown;
  }
}
