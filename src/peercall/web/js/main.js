// Wires the page together: devices -> preview, buttons -> call session -> view.

import { ApiError, createCall, getCall } from "./api.js";
import { CallSession, CallState } from "./call.js";
import { listDevices, openLocalMedia, stopStream, trackDeviceId } from "./devices.js";
import { SignalingChannel, SignalingError } from "./signaling.js";
import { CallView } from "./ui.js";

const CALL_PATH = /^\/c\/([A-Za-z0-9_-]+)$/;

class App {
  constructor(view) {
    this.view = view;
    this.signaling = SignalingChannel.forPage(window.location);
    this.localStream = null;
    this.session = null;
    this.callId = window.location.pathname.match(CALL_PATH)?.[1] ?? null;
  }

  async start() {
    const { view } = this;
    view.newCallButton.addEventListener("click", () => this.startNewCall());
    view.joinButton.addEventListener("click", () => this.join());
    view.hangUpButton.addEventListener("click", () => this.hangUp());
    view.chat.addEventListener("send", (event) => this.sendText(event.detail.text));
    view.camera.addEventListener("change", () => this.openPreview());
    view.microphone.addEventListener("change", () => this.openPreview());
    navigator.mediaDevices?.addEventListener?.("devicechange", () => this.refreshDeviceLists());
    view.showState("starting");
    view.showControls("none");
    await this.openPreview();
    if (this.callId) await this.checkInvitation();
    else {
      view.showState("ready");
      view.showControls("home");
    }
  }

  /** (Re)opens the chosen devices, shows them, and sends them if in a call. */
  async openPreview() {
    const { view } = this;
    const previous = this.localStream;
    stopStream(previous);
    const { stream, notice } = await openLocalMedia({
      cameraId: view.camera.value || undefined,
      microphoneId: view.microphone.value || undefined,
    });
    this.localStream = stream;
    view.showLocalStream(stream);
    view.showNotice(notice);
    if (this.session && stream) {
      this.session.localStream = stream;
      for (const track of stream.getTracks()) await this.session.replaceTrack(track);
    }
    await this.refreshDeviceLists();
  }

  async refreshDeviceLists() {
    const { cameras, microphones } = await listDevices();
    const { view } = this;
    view.fillDeviceList(view.camera, cameras, trackDeviceId(this.localStream, "video"));
    view.fillDeviceList(view.microphone, microphones, trackDeviceId(this.localStream, "audio"));
  }

  async checkInvitation() {
    const { view } = this;
    view.showCallLink(window.location.href);
    try {
      const call = await getCall(this.callId);
      view.showState(call.members >= call.capacity ? "call-full" : "ready-to-join");
      view.showControls("invited");
    } catch (error) {
      this.showFailure(error);
      view.showControls("home");
    }
  }

  async startNewCall() {
    const { view } = this;
    view.busy();
    try {
      const call = await createCall();
      this.callId = call.call_id;
      window.history.pushState({}, "", `/c/${call.call_id}`);
      view.showCallLink(window.location.href);
    } catch (error) {
      this.showFailure(error);
      view.showControls("home");
      return;
    }
    await this.join();
  }

  async join() {
    const { view } = this;
    view.busy();
    view.showState("joining");
    const session = new CallSession({ signaling: this.signaling, localStream: this.localStream });
    session.addEventListener("state", (event) => this.onSessionState(event.detail));
    session.addEventListener("remotestream", (event) => view.showRemoteStream(event.detail.stream));
    session.addEventListener("peerleft", () => view.showRemoteStream(null));
    session.addEventListener("message", ({ detail }) => {
      view.chat.add({ author: "Them", text: detail.text, sentAt: detail.sentAt });
    });
    session.addEventListener("chatchange", () => view.chat.setReady(session.canSendText));
    try {
      await session.join(this.callId);
    } catch (error) {
      this.showFailure(error);
      view.showControls(this.callId ? "invited" : "home");
      return;
    }
    this.session = session;
    view.showControls("in-call");
  }

  sendText(text) {
    if (this.session?.sendText(text)) this.view.chat.sent(text);
  }

  hangUp() {
    this.session?.leave();
    this.session = null;
    this.view.chat.setReady(false);
    this.view.showRemoteStream(null);
    this.view.showControls("out-of-call");
  }

  onSessionState(state) {
    this.view.showState(state);
    if (state === CallState.SERVER_LOST) this.view.showControls("in-call");
  }

  showFailure(error) {
    if (error instanceof ApiError || error instanceof SignalingError) {
      const known = ["call-not-found", "call-ended", "call-full"];
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
