// Wires the page together: devices -> preview, buttons -> call session -> view.

import { ApiError, createCall, getCall } from "./api.js";
import { CallSession, CallState } from "./call.js";
import { DeviceChoices } from "./device-choices.js";
import { listDevices } from "./devices.js";
import { LocalMedia } from "./local-media.js";
import { MutedSpeechWatch } from "./muted-speech.js";
import { SignalingChannel, SignalingError } from "./signaling.js";
import { QualityWatch } from "./quality.js";
import { SpeakingWatch } from "./speaking.js";
import { StatsMonitor } from "./stats.js";
import { shownName } from "./tiles.js";
import { CallView } from "./ui.js";
import { warmUpWebRtc } from "./warm-up.js";

const CALL_PATH = /^\/c\/([A-Za-z0-9_-]+)$/;
const PASSCODE_ERRORS = ["passcode-required", "wrong-passcode"];
// "Ready to join" waits this long at most for the answers to be prepared.
const PREPARE_WAIT_MS = 1500;

class App {
  constructor(view) {
    this.view = view;
    this.signaling = SignalingChannel.forPage(window.location);
    this.media = new LocalMedia();
    this.choices = new DeviceChoices();
    this.session = null;
    this.statsMonitor = null;
    this.watches = []; // while in a call: who speaks, whose connection is poor
    this.mutedSpeech = new MutedSpeechWatch(); // while in a call and muted
    this.inCall = false;
    this.callId = window.location.pathname.match(CALL_PATH)?.[1] ?? null;
    this.passcode = ""; // of the call we are in or about to join
  }

  async start() {
    const { view, media } = this;
    view.newCallButton.addEventListener("click", () => this.startNewCall());
    view.joinButton.addEventListener("click", () => this.join());
    view.hangUpButton.addEventListener("click", () => this.hangUp());
    view.muteButton.addEventListener("click", () => media.setMuted(!media.muted));
    view.cameraButton.addEventListener("click", () => media.setCameraOff(!media.cameraOff));
    view.switchCameraButton.addEventListener("click", () => this.switchCamera());
    view.shareScreenButton.addEventListener("click", () => this.toggleScreenSharing());
    view.chat.addEventListener("send", (event) => this.sendText(event.detail.text));
    view.chat.addEventListener("sendfile", (event) => this.sendFile(event.detail.file));
    view.camera.addEventListener("change", () => this.pickDevice("camera", view.camera.value));
    view.microphone.addEventListener("change", () =>
      this.pickDevice("microphone", view.microphone.value),
    );
    view.speaker.addEventListener("change", () => this.pickSpeaker(view.speaker.value));
    navigator.mediaDevices?.addEventListener?.("devicechange", () => this.refreshDeviceLists());
    // Closing the tab (or reloading it) is hanging up: said to the server now, or the
    // others would see "Reconnecting" until the server gave up waiting for a resume.
    window.addEventListener("pagehide", () => this.session?.leave());
    media.addEventListener("sendtrack", ({ detail }) => this.onOutgoingTrack(detail));
    media.addEventListener("statechange", () => this.onMediaState());
    media.addEventListener("notice", () => view.showNotice(media.notice));
    this.mutedSpeech.addEventListener("speaking", () => view.showMutedHint(true));
    view.showState("starting");
    view.showControls("none");
    // Someone invited will press Join: be ready before they do.
    if (this.callId) this.signaling.warmUp();
    warmUpWebRtc();
    await this.openDevices();
    if (this.callId) await this.checkInvitation();
    else {
      view.showState("ready");
      view.showControls("home");
      view.showPasscode("new");
    }
  }

  /**
   * Opens the camera and microphone picked last time on this device, where the
   * browser still lists them (one unplugged since is no error: the default then).
   * Without a lasting permission the browser lists no device before the page has
   * opened one: the defaults are opened first, then the remembered ones.
   */
  async openDevices() {
    const { media } = this;
    await this.#open(await this.#rememberedDevices());
    const { cameraId, microphoneId } = await this.#rememberedDevices();
    const other = (wanted, open) => wanted !== undefined && wanted !== open;
    if (other(cameraId, media.cameraDeviceId) || other(microphoneId, media.microphoneDeviceId)) {
      await this.#open({ cameraId, microphoneId });
    }
  }

  /** The remembered camera and microphone among those listed now (else undefined). */
  async #rememberedDevices() {
    const { cameras, microphones } = await listDevices();
    const listed = (devices, id) => (devices.some((device) => device.id === id) ? id : undefined);
    return {
      cameraId: listed(cameras, this.choices.get("camera")),
      microphoneId: listed(microphones, this.choices.get("microphone")),
    };
  }

  /** The person picked another camera or microphone: that one exactly, remembered. */
  async pickDevice(kind, deviceId) {
    const { view } = this;
    this.choices.remember(kind, deviceId);
    await this.#open({
      cameraId: view.camera.value || undefined,
      microphoneId: view.microphone.value || undefined,
    });
  }

  /** (Re)opens the devices; the call gets the new tracks through "sendtrack". */
  async #open(choice) {
    await this.media.open(choice);
    this.view.showNotice(this.media.notice);
    await this.refreshDeviceLists();
  }

  /** The person picked another speaker: the call plays on it, and it is remembered. */
  async pickSpeaker(deviceId) {
    if (await this.useSpeaker(deviceId)) this.choices.remember("speaker", deviceId);
  }

  /** Plays the call on `deviceId` ("" for the default); whether the browser could. */
  async useSpeaker(deviceId) {
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
  async followSpeaker(speakers) {
    if (speakers.length === 0) return; // the browser cannot choose
    const remembered = this.choices.get("speaker");
    const wanted = speakers.some(({ id }) => id === remembered) ? remembered : "";
    if (wanted !== this.view.tiles.speakerId) await this.useSpeaker(wanted);
  }

  onOutgoingTrack({ kind, track }) {
    if (kind === "video") this.view.showLocalStream(this.media.previewStream);
    this.session?.replaceTrack(kind, track);
    if (kind === "audio") this.followMutedSpeech();
  }

  onMediaState() {
    this.view.showMediaState(this.media);
    this.session?.sendMediaState();
    this.followMutedSpeech();
  }

  /** Listens for talking into the muted microphone while in a call, and only then. */
  followMutedSpeech() {
    const microphone = this.media.outgoing.audio;
    if (this.inCall && this.media.muted && microphone?.readyState === "live") {
      this.mutedSpeech.watch(microphone);
    } else {
      this.mutedSpeech.stop();
      this.view.showMutedHint(false);
    }
  }

  async switchCamera() {
    await this.media.switchCamera();
    // The camera now facing the person (or the next one) is the one to open next time.
    if (this.media.cameraDeviceId) this.choices.remember("camera", this.media.cameraDeviceId);
    await this.refreshDeviceLists();
  }

  async toggleScreenSharing() {
    if (this.media.sharingScreen) return this.media.stopSharing();
    try {
      await this.media.shareScreen();
    } catch (error) {
      // Cancelling the browser's picker is not an error worth a notice.
      if (error.name !== "NotAllowedError" && error.name !== "AbortError") {
        this.view.showNotice(`Could not share the screen: ${error.message}`);
      }
    }
  }

  async refreshDeviceLists() {
    const { cameras, microphones, speakers } = await listDevices();
    const { view, media } = this;
    view.fillDeviceList(view.camera, cameras, media.cameraDeviceId);
    view.fillDeviceList(view.microphone, microphones, media.microphoneDeviceId);
    view.showSpeakers(speakers, view.tiles.speakerId);
    await this.followSpeaker(speakers);
    view.showMediaOptions({ cameras: cameras.length, canShareScreen: media.canShareScreen });
    view.showMediaState(media);
  }

  async checkInvitation() {
    const { view } = this;
    view.showCallLink(window.location.href, this.callId);
    try {
      const call = await getCall(this.callId);
      const full = call.members >= call.capacity;
      // With no passcode to ask for, the people there are answered while the
      // person still looks at their own picture: Join then sends the answers.
      if (!full && !call.passcode) await this.prepareToJoin();
      view.showState(full ? "call-full" : "ready-to-join");
      view.showControls("invited");
      view.showPasscode(call.passcode ? "join" : "none");
    } catch (error) {
      this.showFailure(error);
      view.showControls("home");
    }
  }

  async startNewCall() {
    const { view } = this;
    view.busy();
    this.passcode = view.passcode.value;
    this.signaling.warmUp(); // while the call is being created
    try {
      const call = await createCall({ passcode: this.passcode });
      this.callId = call.call_id;
      window.history.pushState({}, "", `/c/${call.call_id}`);
      // The server's link: reachable by others even when this page is on localhost.
      view.showCallLink(call.url, this.callId);
    } catch (error) {
      this.showFailure(error);
      view.showControls("home");
      return;
    }
    await this.join();
  }

  /** A call session ahead of Join (`CallSession.prepare`); waits for it at most
   * PREPARE_WAIT_MS: Join works whether or not it is done. */
  async prepareToJoin() {
    const session = this.newSession();
    this.session = session;
    const waited = new Promise((resolve) => setTimeout(resolve, PREPARE_WAIT_MS));
    const prepared = session.prepare(this.callId).catch((error) => {
      console.warn("peercall: could not prepare to join; joining will", error);
    });
    await Promise.race([prepared, waited]);
  }

  async join() {
    const { view } = this;
    view.busy();
    if (!view.passcodeField.hidden) this.passcode = view.passcode.value;
    view.showState("joining");
    const session = this.session ?? this.newSession();
    this.session = null; // ours once joined
    try {
      await session.join(this.callId, { passcode: this.passcode, name: view.name });
    } catch (error) {
      this.showFailure(error);
      view.showControls(this.callId ? "invited" : "home");
      if (PASSCODE_ERRORS.includes(error.code)) view.showPasscode("join");
      return;
    }
    this.session = session;
    this.inCall = true;
    this.watchTiles(session);
    this.followMutedSpeech();
    view.passcode.value = "";
    view.showPasscode("none");
    view.showControls("in-call");
  }

  /** A call session wired to the view. */
  newSession() {
    const { view } = this;
    const session = new CallSession({ signaling: this.signaling, localMedia: this.media });
    session.addEventListener("state", (event) => this.onSessionState(event.detail));
    session.addEventListener("remotestream", ({ detail }) => {
      view.tiles.setStream(detail.peerId, detail.stream, detail.name);
    });
    session.addEventListener("peerjoined", ({ detail }) => {
      view.tiles.add(detail.peerId, detail.name);
      if (!detail.wasThere) view.chat.notice(`${shownName(detail.name)} joined`);
    });
    session.addEventListener("peerleft", ({ detail }) => {
      view.tiles.remove(detail.peerId);
      if (!detail.quietly) view.chat.notice(`${shownName(detail.name)} left`);
    });
    session.addEventListener("remotemediastate", ({ detail }) => {
      view.tiles.setMediaState(detail.peerId, detail);
    });
    session.addEventListener("message", ({ detail }) => {
      const author = shownName(detail.peerName);
      view.chat.add({ author, text: detail.text, sentAt: detail.sentAt });
    });
    session.addEventListener("flooding", ({ detail }) => {
      const who = shownName(detail.peerName);
      view.chat.notice(`${who} sent too many messages too fast: some were not shown.`);
    });
    session.addEventListener("relayerror", ({ detail }) => {
      view.showNotice(
        `The relay server (TURN) refused the connection (${detail.code} ${detail.text}). ` +
          "Its credentials may have expired: rejoin the call, or tell whoever runs this server.",
      );
    });
    session.addEventListener("incomingfile", ({ detail }) => this.onIncomingFile(detail));
    session.addEventListener("chatchange", () => view.chat.setReady(session.canSendText));
    return session;
  }

  sendText(text) {
    if (this.session?.sendText(text)) this.view.chat.sent(text);
  }

  /** Marks the tiles of those who speak, and of those with a poor connection, in
   * `session`'s call (null: stops). */
  watchTiles(session) {
    for (const watch of this.watches) watch.stop();
    this.watches = [];
    if (!session) return;
    const { tiles } = this.view;
    const speaking = new SpeakingWatch(() => session.audioLevels());
    speaking.addEventListener("change", ({ detail }) => {
      tiles.setSpeaking(detail.peerId, detail.speaking);
    });
    const quality = new QualityWatch(() => session.peerConnections());
    quality.addEventListener("change", ({ detail }) => {
      tiles.setPoorConnection(detail.peerId, detail.poor);
    });
    this.watches = [speaking, quality];
    for (const watch of this.watches) watch.start();
  }

  /** Follows the peer connection that carries the call, for the statistics panel. */
  watchStats() {
    const pc = this.session?.activePeerConnection ?? null;
    if (this.statsMonitor?.pc === pc) return;
    this.statsMonitor?.stop();
    this.statsMonitor = null;
    this.view.stats.clear();
    if (!pc) return;
    const monitor = new StatsMonitor(pc);
    monitor.addEventListener("stats", ({ detail }) =>
      this.view.stats.show(detail, monitor.history),
    );
    monitor.start();
    this.statsMonitor = monitor;
  }

  async sendFile(file) {
    const { chat } = this.view;
    const id = chat.addTransfer({
      id: crypto.randomUUID(),
      name: file.name,
      size: file.size,
      mine: true,
    });
    try {
      await this.session.sendFile(file, (bytes) => chat.updateTransfer(id, bytes));
      chat.finishTransfer(id);
    } catch (error) {
      chat.failTransfer(id, error.message);
    }
  }

  onIncomingFile({ phase, id: fileId, peerId, peerName, name, size, bytes, blob, reason }) {
    const { chat } = this.view;
    // Ids are the sender's: two people may pick the same one.
    const id = `${peerId}/${fileId}`;
    if (phase === "start") {
      chat.addTransfer({ id, name, size, mine: false, author: shownName(peerName) });
    } else if (phase === "progress") chat.updateTransfer(id, bytes);
    else if (phase === "done") chat.finishTransfer(id, blob);
    else chat.failTransfer(id, reason);
  }

  hangUp() {
    this.session?.leave();
    this.session = null;
    this.inCall = false;
    this.watchStats();
    this.watchTiles(null);
    this.followMutedSpeech();
    this.view.chat.setReady(false);
    // Hidden from now on; the next call, this one again or a new one, starts afresh.
    this.view.chat.clear();
    this.view.tiles.clear();
    this.view.showControls("out-of-call");
  }

  onSessionState(state) {
    this.view.showState(state);
    this.watchStats();
    if (state === CallState.SERVER_LOST) this.view.showControls("in-call");
  }

  showFailure(error) {
    if (error instanceof ApiError || error instanceof SignalingError) {
      const known = ["call-not-found", "call-ended", "call-full", ...PASSCODE_ERRORS];
      if (known.includes(error.code)) return this.view.showState(error.code);
      if (error.code === "connection-failed") return this.view.showState("server-unreachable");
      this.view.showState(error.message);
      return;
    }
    console.error(error);
    this.view.showState("server-unreachable");
  }
}

new App(new CallView()).start();
