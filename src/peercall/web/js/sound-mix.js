// The microphone and a shared screen's sound (a tab's, or the whole computer's where
// the browser offers it) as one outgoing track. A call has one audio sender per
// person; putting the mix on it is a replaceTrack, where a second sender would mean
// renegotiating with everybody.
//
// Mute keeps working: a muted microphone is a disabled track, which the mix hears as
// silence, while the screen's sound goes on.

export class SoundMix {
  #context;
  #output;
  #screenSource;
  #microphone = null;
  #microphoneSource = null;

  /** A mix of `screenSound` (and a microphone, see `useMicrophone`), or null when the
   * browser will not run sound here (a page may only start sound after a click): the
   * screen is then shared without its sound. */
  static async start(screenSound) {
    let context = null;
    try {
      context = new AudioContext();
      await context.resume();
      if (context.state === "running") return new SoundMix(context, screenSound);
    } catch (error) {
      console.warn("peercall: cannot mix the screen's sound", error);
    }
    context?.close();
    return null; // a silent mix would take the microphone away too
  }

  constructor(context, screenSound) {
    this.#context = context;
    this.#output = context.createMediaStreamDestination();
    this.#screenSource = this.#sourceOf(screenSound);
  }

  /** The track to send. */
  get track() {
    return this.#output.stream.getAudioTracks()[0];
  }

  /** The microphone heard in the mix from now on (null: none). */
  useMicrophone(track) {
    if (track === this.#microphone) return;
    this.#microphoneSource?.disconnect();
    this.#microphone = track;
    this.#microphoneSource = track ? this.#sourceOf(track) : null;
  }

  close() {
    this.#microphoneSource?.disconnect();
    this.#screenSource.disconnect();
    this.track.stop();
    this.#context.close();
  }

  #sourceOf(track) {
    const source = this.#context.createMediaStreamSource(new MediaStream([track]));
    source.connect(this.#output);
    return source;
  }
}
