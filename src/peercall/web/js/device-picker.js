// The devices the page uses: the camera and microphone it sends, the speaker the
// call plays on. Each as the person picked it (remembered on this device, see
// device-choices.js), the lists kept in step as devices come and go.

import { DeviceChoices } from "./device-choices.js";
import { listDevices } from "./devices.js";

export class DevicePicker {
  #choices = new DeviceChoices();

  /**
   * @param {object} options
   * @param {import("./ui.js").CallView} options.view  the lists, notices and tiles
   * @param {import("./local-media.js").LocalMedia} options.media  what is sent
   */
  constructor({ view, media }) {
    Object.assign(this, { view, media });
    view.camera.addEventListener("change", () => this.#pick("camera", view.camera.value));
    view.microphone.addEventListener("change", () =>
      this.#pick("microphone", view.microphone.value),
    );
    view.speaker.addEventListener("change", () => this.#pickSpeaker(view.speaker.value));
    navigator.mediaDevices?.addEventListener?.("devicechange", () => this.refresh());
  }

  /**
   * Opens the camera and microphone picked last time on this device, where the
   * browser still lists them (one unplugged since is no error: the default then).
   * Without a lasting permission the browser lists no device before the page has
   * opened one: the defaults are opened first, then the remembered ones.
   */
  async openRemembered() {
    const { media } = this;
    const listed = await this.#open(this.#remembered(await listDevices()));
    const { cameraId, microphoneId } = this.#remembered(listed);
    const other = (wanted, open) => wanted !== undefined && wanted !== open;
    if (other(cameraId, media.cameraDeviceId) || other(microphoneId, media.microphoneDeviceId)) {
      await this.#open({ cameraId, microphoneId });
    }
  }

  /** The next camera (the other side of a phone), remembered for next time. */
  async switchCamera() {
    const { media } = this;
    await media.switchCamera();
    if (media.cameraDeviceId) this.#choices.remember("camera", media.cameraDeviceId);
    await this.refresh();
  }

  /** The lists as the browser has them now, showing the devices in use; returns
   * them ({ cameras, microphones, speakers }, as listDevices). */
  async refresh() {
    const { cameras, microphones, speakers } = await listDevices();
    const { view, media } = this;
    view.fillDeviceList(view.camera, cameras, media.cameraDeviceId, media.denied.has("video"));
    view.fillDeviceList(
      view.microphone,
      microphones,
      media.microphoneDeviceId,
      media.denied.has("audio"),
    );
    view.showSpeakers(speakers, view.tiles.speakerId);
    await this.#followSpeaker(speakers);
    view.showMediaOptions({ cameras: cameras.length, canShareScreen: media.canShareScreen });
    view.showMediaState(media);
    return { cameras, microphones, speakers };
  }

  /** The remembered camera and microphone among those `listDevices` gave (else undefined). */
  #remembered({ cameras, microphones }) {
    const listed = (devices, id) => (devices.some((device) => device.id === id) ? id : undefined);
    return {
      cameraId: listed(cameras, this.#choices.get("camera")),
      microphoneId: listed(microphones, this.#choices.get("microphone")),
    };
  }

  /** The person picked another camera or microphone: that one exactly, remembered. */
  async #pick(kind, deviceId) {
    const { view } = this;
    this.#choices.remember(kind, deviceId);
    await this.#open({
      cameraId: view.camera.value || undefined,
      microphoneId: view.microphone.value || undefined,
    });
  }

  /** (Re)opens the devices; the call gets the new tracks through "sendtrack".
   * Returns the device lists as refreshed after it. */
  async #open(choice) {
    await this.media.open(choice);
    this.view.showNotice(this.media.notice);
    return this.refresh();
  }

  /** The person picked another speaker: the call plays on it, and it is remembered. */
  async #pickSpeaker(deviceId) {
    if (await this.#useSpeaker(deviceId)) this.#choices.remember("speaker", deviceId);
  }

  /** Plays the call on `deviceId` ("" for the default); whether the browser could. */
  async #useSpeaker(deviceId) {
    const { view } = this;
    try {
      await view.tiles.setSpeaker(deviceId);
      return true;
    } catch (error) {
      console.warn("peercall: cannot play on that speaker", error);
      view.showNotice(`Cannot play the call on that speaker: ${error.message}`);
      return false;
    } finally {
      view.selectSpeaker(view.tiles.speakerId);
    }
  }

  /** The remembered speaker while it is there, else the default: unplugging a
   * headset moves the sound to the computer, plugging it in again moves it back. */
  async #followSpeaker(speakers) {
    if (speakers.length === 0) return; // the browser cannot choose
    const remembered = this.#choices.get("speaker");
    const wanted = speakers.some(({ id }) => id === remembered) ? remembered : "";
    if (wanted !== this.view.tiles.speakerId) await this.#useSpeaker(wanted);
  }
}
