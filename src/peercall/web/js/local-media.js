// What this page sends: the chosen microphone and camera, or the screen while it is
// shared (with its sound, mixed with the microphone, when the person shares it), with
// the microphone muted or the camera off at the person's wish.
// Every change of an outgoing track is announced ("sendtrack") so the call can put
// it on its senders with replaceTrack: no renegotiation, nothing for the other
// side to wait for.
//
// A device can stop by itself mid-call: unplugged, taken by another app (a phone
// call), or its permission withdrawn. Its track then ends ("ended" fires only for
// that, never for our own stop()): the camera counts as off and the microphone as
// muted, which the other side is told, and pressing "Camera on" or "Unmute" opens
// the device again.

import { accessDenied, deviceConstraint, listDevices, openLocalMedia } from "./devices.js";
import { SoundMix } from "./sound-mix.js";

const STOPPED_BY_ITSELF = "it was unplugged, taken by another app, or its permission was withdrawn";
const LOST_NOTICES = {
  video: `Your camera stopped: ${STOPPED_BY_ITSELF}. Press Camera on to try again.`,
  audio: `Your microphone stopped: ${STOPPED_BY_ITSELF}. Press Unmute to try again.`,
  both: `Your camera and microphone stopped: ${STOPPED_BY_ITSELF}. Press Camera on and Unmute to try again.`,
};
const CANNOT_OPEN = { video: "Cannot open the camera", audio: "Cannot open the microphone" };

export class LocalMedia extends EventTarget {
  #camera = null; // MediaStreamTrack or null
  #microphone = null;
  #screen = null;
  #screenSound = null; // the shared tab's (or computer's) sound, when shared
  #soundMix = null; // the microphone and #screenSound as one track
  #cameraId = null; // the camera to turn back on after "Camera off"
  #microphoneId = null; // the microphone to open again after it stopped by itself
  #lost = new Set(); // kinds whose device stopped by itself, until opened again

  constructor() {
    super();
    this.muted = false;
    this.cameraOff = false;
    this.notice = null;
    this.denied = new Set(); // "video", "audio": kinds whose access was refused
  }

  /** The tracks to send now, by kind (null: send nothing of that kind). */
  get outgoing() {
    return {
      audio: this.#soundMix?.track ?? this.#microphone,
      video: this.#screen ?? (this.cameraOff ? null : this.#camera),
    };
  }

  /** What the preview shows: the screen while sharing, else the camera. */
  get previewStream() {
    const video = this.outgoing.video;
    return video ? new MediaStream([video]) : null;
  }

  /** The microphone alone (what is sent may have the screen's sound in it). */
  get microphone() {
    return this.#microphone;
  }

  /** No camera is open, and not because one stopped by itself or was turned off
   * (none there, refused, held elsewhere): what the preview says instead. */
  get cameraMissing() {
    return this.#camera === null && !this.#lost.has("video");
  }

  get sharingScreen() {
    return this.#screen !== null;
  }

  get cameraDeviceId() {
    return this.#camera?.getSettings().deviceId ?? null;
  }


  get microphoneDeviceId() {
    return this.#microphone?.getSettings().deviceId ?? null;
  }

  get canShareScreen() {
    // Phones have no getDisplayMedia (and a touch screen is no place for it);
    // neither do insecure pages.
    const touchFirst = window.matchMedia("(pointer: coarse)").matches;
    return !touchFirst && typeof navigator.mediaDevices?.getDisplayMedia === "function";
  }

  /** Opens the chosen devices (all of them again), keeping mute and camera-off. */
  async open({ cameraId, microphoneId } = {}) {
    // Stop first: a phone cannot open another camera while one runs.
    for (const track of [this.#camera, this.#microphone]) track?.stop();
    const { stream, notice, denied } = await openLocalMedia({ cameraId, microphoneId });
    this.notice = notice;
    this.denied = new Set(denied);
    this.#lost.clear();
    this.#cameraId = this.#microphoneId = null;
    this.#useCamera(stream?.getVideoTracks()[0] ?? null);
    this.#useMicrophone(stream?.getAudioTracks()[0] ?? null);
    // Nothing of a kind could be opened (none there, refused, held elsewhere): shown
    // as off or muted, as it is, and "Camera on" / "Unmute" asks for it again (after
    // the person allowed it, plugged one in, or closed the other application).
    if (!this.#camera) this.cameraOff = true;
    if (!this.#microphone) this.muted = true;
    if (this.cameraOff) this.#camera?.stop(); // off means the camera light is off too
    this.#applyMute();
    this.#announce("audio");
    this.#announce("video");
  }

  async setMuted(muted) {
    if (!muted && !this.#microphone) {
      if (!(await this.#reopenMicrophone())) return; // still muted, and said why
    }
    this.muted = muted;
    this.#applyMute();
    this.dispatchEvent(new Event("statechange"));
  }

  async setCameraOff(off) {
    if (off === this.cameraOff) return;
    this.cameraOff = off;
    if (off) {
      const camera = this.#camera;
      this.#announce("video");
      camera?.stop();
    } else {
      await this.#reopenCamera(deviceConstraint(this.#cameraId));
      // Not on without a camera: the button would say "Camera off" while nothing is sent.
      if (!this.#camera) this.cameraOff = true;
    }
    this.dispatchEvent(new Event("statechange"));
  }

  /** The next camera: the other facing mode on a phone, else the next in the list. */
  async switchCamera() {
    const facing = this.#camera?.getSettings().facingMode;
    if (facing) {
      const other = facing === "user" ? "environment" : "user";
      return this.#reopenCamera({ facingMode: { exact: other } });
    }
    const { cameras } = await listDevices();
    if (cameras.length < 2) return;
    const index = cameras.findIndex((camera) => camera.id === this.cameraDeviceId);
    await this.#reopenCamera({ deviceId: { exact: cameras[(index + 1) % cameras.length].id } });
  }

  async shareScreen() {
    // Chrome offers to share a tab's sound (and on Windows the computer's) with it.
    const stream = await navigator.mediaDevices.getDisplayMedia({
      video: true,
      audio: true,
      systemAudio: "include",
    });
    const [screen] = stream.getVideoTracks();
    const [sound] = stream.getAudioTracks();
    const soundMix = sound ? await SoundMix.start(sound) : null;
    if (sound && !soundMix) sound.stop();
    screen.addEventListener("ended", () => this.stopSharing()); // the browser's own "Stop"
    this.#screen = screen;
    if (soundMix) {
      this.#screenSound = sound;
      this.#soundMix = soundMix;
      soundMix.useMicrophone(this.#microphone);
      this.#announce("audio");
    }
    this.#announce("video");
    this.dispatchEvent(new Event("statechange"));
  }

  stopSharing() {
    if (!this.#screen) return;
    const screen = this.#screen;
    const soundMix = this.#soundMix;
    this.#screen = this.#soundMix = null;
    this.#announce("video");
    if (soundMix) this.#announce("audio"); // the microphone alone again
    for (const track of [screen, this.#screenSound]) track?.stop();
    this.#screenSound = null;
    soundMix?.close();
    this.dispatchEvent(new Event("statechange"));
  }

  close() {
    for (const track of [this.#camera, this.#microphone, this.#screen, this.#screenSound]) {
      track?.stop();
    }
    this.#soundMix?.close();
  }

  async #reopenCamera(video) {
    // Stop first: a phone cannot open its back camera while the front one runs.
    this.#camera?.stop();
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video });
      this.#useCamera(stream.getVideoTracks()[0]);
      this.#recovered("video");
    } catch (error) {
      console.warn("peercall: cannot open the camera", error);
      this.#camera = null;
      this.#cannotOpen("video", error);
    }
    this.#announce("video");
  }

  /** Opens the microphone again after it stopped by itself; whether it worked. */
  async #reopenMicrophone() {
    try {
      const audio = deviceConstraint(this.#microphoneId);
      const stream = await navigator.mediaDevices.getUserMedia({ audio });
      this.#useMicrophone(stream.getAudioTracks()[0]);
      this.#recovered("audio");
      this.#announce("audio");
      return true;
    } catch (error) {
      console.warn("peercall: cannot open the microphone", error);
      this.#cannotOpen("audio", error);
      return false;
    }
  }

  #useCamera(track) {
    this.#camera = track;
    if (track) this.#cameraId = this.cameraDeviceId;
    if (track) this.denied.delete("video");
    track?.addEventListener("ended", () => this.#stoppedByItself("video", track));
  }

  #useMicrophone(track) {
    this.#microphone = track;
    this.#soundMix?.useMicrophone(track);
    if (track) this.#microphoneId = this.microphoneDeviceId;
    if (track) this.denied.delete("audio");
    track?.addEventListener("ended", () => this.#stoppedByItself("audio", track));
  }

  /** A device stopped without us: sent as off or muted, and said. */
  #stoppedByItself(kind, track) {
    if (kind === "video" && track === this.#camera) {
      this.#camera = null;
      this.cameraOff = true;
    } else if (kind === "audio" && track === this.#microphone) {
      this.#useMicrophone(null);
      this.muted = true;
    } else {
      return; // one we had already let go of
    }
    this.#lost.add(kind);
    this.#say(LOST_NOTICES[this.#lost.size === 2 ? "both" : kind]);
    this.#announce(kind);
    this.dispatchEvent(new Event("statechange"));
  }

  #recovered(kind) {
    if (!this.#lost.delete(kind)) return;
    const [other] = this.#lost;
    this.#say(other ? LOST_NOTICES[other] : null);
  }

  #cannotOpen(kind, error) {
    const reason = accessDenied(error)
      ? "access was denied; allow it in the browser's site settings"
      : error.message;
    this.#say(`${CANNOT_OPEN[kind]}: ${reason}.`);
  }

  #say(notice) {
    this.notice = notice;
    this.dispatchEvent(new Event("notice"));
  }

  #applyMute() {
    if (this.#microphone) this.#microphone.enabled = !this.muted;
  }

  #announce(kind) {
    const track = this.outgoing[kind];
    this.dispatchEvent(new CustomEvent("sendtrack", { detail: { kind, track } }));
  }
}
