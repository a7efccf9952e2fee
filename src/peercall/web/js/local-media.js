// What this page sends: the chosen microphone and camera, or the screen while it is
// shared, with the microphone muted or the camera off at the person's wish.
// Every change of an outgoing track is announced ("sendtrack") so the call can put
// it on its senders with replaceTrack: no renegotiation, nothing for the other
// side to wait for.

import { listDevices, openLocalMedia } from "./devices.js";

export class LocalMedia extends EventTarget {
  #camera = null; // MediaStreamTrack or null
  #microphone = null;
  #screen = null;
  #cameraId = null; // the camera to turn back on after "Camera off"

  constructor() {
    super();
    this.muted = false;
    this.cameraOff = false;
    this.notice = null;
  }

  /** The tracks to send now, by kind (null: send nothing of that kind). */
  get outgoing() {
    return {
      audio: this.#microphone,
      video: this.#screen ?? (this.cameraOff ? null : this.#camera),
    };
  }

  /** What the preview shows: the screen while sharing, else the camera. */
  get previewStream() {
    const video = this.outgoing.video;
    return video ? new MediaStream([video]) : null;
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
    const { stream, notice } = await openLocalMedia({ cameraId, microphoneId });
    this.notice = notice;
    this.#camera = stream?.getVideoTracks()[0] ?? null;
    this.#cameraId = this.cameraDeviceId;
    this.#microphone = stream?.getAudioTracks()[0] ?? null;
    if (this.cameraOff) this.#camera?.stop(); // off means the camera light is off too
    this.#applyMute();
    this.#announce("audio");
    this.#announce("video");
  }

  setMuted(muted) {
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
      const deviceId = this.#cameraId;
      await this.#reopenCamera(deviceId ? { deviceId: { exact: deviceId } } : true);
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
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const screen = stream.getVideoTracks()[0];
    screen.addEventListener("ended", () => this.stopSharing()); // the browser's own "Stop"
    this.#screen = screen;
    this.#announce("video");
    this.dispatchEvent(new Event("statechange"));
  }

  stopSharing() {
    if (!this.#screen) return;
    const screen = this.#screen;
    this.#screen = null;
    this.#announce("video");
    screen.stop();
    this.dispatchEvent(new Event("statechange"));
  }

  close() {
    for (const track of [this.#camera, this.#microphone, this.#screen]) track?.stop();
  }

  async #reopenCamera(video) {
    // Stop first: a phone cannot open its back camera while the front one runs.
    this.#camera?.stop();
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video });
      this.#camera = stream.getVideoTracks()[0];
      this.#cameraId = this.cameraDeviceId;
    } catch (error) {
      console.warn("peercall: cannot open the camera", error);
      this.#camera = null;
    }
    this.#announce("video");
  }

  #applyMute() {
    if (this.#microphone) this.#microphone.enabled = !this.muted;
  }

  #announce(kind) {
    const track = this.outgoing[kind];
    this.dispatchEvent(new CustomEvent("sendtrack", { detail: { kind, track } }));
  }
}
