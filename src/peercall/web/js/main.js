// Wires the page together: devices -> preview, buttons -> call session -> view.

import { ApiError, createCall, getCall } from "./api.js";
import { BrowserCallControls } from "./browser-controls.js";
import { CallSession, CallState } from "./call.js";
import { DevicePicker } from "./device-picker.js";
import { LocalMedia } from "./local-media.js";
import { MutedSpeechWatch } from "./muted-speech.js";
import { LinkMark, QualityWatch } from "./quality.js";
import { randomId } from "./random-id.js";
import { ScreenOn } from "./screen-on.js";
import { bindShortcuts, pressIfShown } from "./shortcuts.js";
import { SignalingChannel, SignalingError } from "./signaling.js";
import { SpeakingWatch } from "./speaking.js";
import { StatsMonitor } from "./stats.js";
import { shownName } from "./tiles.js";
import { TitleNews } from "./title-news.js";
import { CallView } from "./ui.js";
import { warmUpWebRtc } from "./warm-up.js";
import { canMakeCalls } from "./webrtc-support.js";

const CALL_PATH = /^\/c\/([A-Za-z0-9_-]+)$/;
const PASSCODE_ERRORS = ["passcode-required", "wrong-passcode"];
// "Ready to join" waits this long at most for the answers to be prepared.
const PREPARE_WAIT_MS = 1500;

class App {
  constructor(view) {
    this.view = view;
    this.signaling = SignalingChannel.forPage(window.location);
    this.media = new LocalMedia();
    this.devices = new DevicePicker({ view, media: this.media });
    this.session = null;
    this.statsMonitor = null;
    this.statsPeerId = null; // whose connection the statistics are of, when picked
    this.watches = []; // while in a call: who speaks, whose connection is poor
    this.mutedSpeech = new MutedSpeechWatch(); // while in a call and muted
    this.screenOn = new ScreenOn(); // a phone's screen stays on while in a call
    this.titleNews = new TitleNews(); // what happened while the page was out of sight
    // The browser's own call buttons press the page's, as the keys do.
    this.browserControls = new BrowserCallControls({
      togglemicrophone: () => pressIfShown(view.muteButton),
      togglecamera: () => pressIfShown(view.cameraButton),
      hangup: () => pressIfShown(view.hangUpButton),
      enterpictureinpicture: () => view.tiles.popOutSomeone(),
    });
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
    view.switchCameraButton.addEventListener("click", () => this.devices.switchCamera());
    view.shareScreenButton.addEventListener("click", () => this.toggleScreenSharing());
    view.handButton.addEventListener("click", () => this.toggleHand());
    view.incomingVideoButton.addEventListener("click", () => this.toggleIncomingVideo());
    bindShortcuts({ m: view.muteButton, v: view.cameraButton, h: view.handButton });
    view.stats.peerList.addEventListener("change", () => {
      this.statsPeerId = view.stats.peerList.value;
      this.watchStats();
    });
    view.chat.addEventListener("send", (event) => this.sendText(event.detail.text));
    view.chat.addEventListener("sendfile", (event) => this.sendFile(event.detail.file));
    // Closing the tab (or reloading it) is hanging up: said to the server now, or the
    // others would see "Reconnecting" until the server gave up waiting for a resume.
    window.addEventListener("pagehide", () => this.session?.leave());
    media.addEventListener("sendtrack", ({ detail }) => this.onOutgoingTrack(detail));
    media.addEventListener("statechange", () => this.onMediaState());
    media.addEventListener("notice", () => view.showNotice(media.notice));
    this.mutedSpeech.addEventListener("speaking", () => view.showMutedHint(true));
    view.showState("starting");
    view.showControls("none");
    if (!canMakeCalls()) {
      view.showState("no-webrtc");
      // The link stays at hand, to open in a browser that can.
      if (this.callId) view.showCallLink(window.location.href, this.callId);
      return;
    }
    // Someone invited will press Join: be ready before they do.
    if (this.callId) this.signaling.warmUp();
    warmUpWebRtc();
    await this.devices.openRemembered();
    if (this.callId) await this.checkInvitation();
    else {
      view.showState("ready");
      view.showControls("home");
      view.showPasscode("new");
    }
  }

  onOutgoingTrack({ kind, track }) {
    if (kind === "video") this.view.showLocalStream(this.media.previewStream);
    this.session?.replaceTrack(kind, track);
    if (kind === "audio") this.followMicrophone();
  }

  onMediaState() {
    this.view.showMediaState(this.media);
    this.browserControls.show(this.media);
    this.session?.sendMediaState();
    this.followMicrophone();
  }

  /** The level bar and the "You are muted" watch listen to the microphone alone (what
   * is sent may have a shared screen's sound in it). */
  followMicrophone() {
    this.view.microphoneMeter.follow(this.media.microphone);
    this.followMutedSpeech();
  }

  /** Listens for talking into the muted microphone while in a call, and only then. */
  followMutedSpeech() {
    const microphone = this.media.microphone; // not the shared screen's sound
    if (this.inCall && this.media.muted && microphone?.readyState === "live") {
      this.mutedSpeech.watch(microphone);
    } else {
      this.mutedSpeech.stop();
      this.view.showMutedHint(false);
    }
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
    this.screenOn.keep();
    this.browserControls.start();
    this.browserControls.show(this.media);
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
      view.showOthers(view.tiles.count);
      this.watchStats();
      if (!detail.wasThere) {
        const name = shownName(detail.name);
        view.chat.notice(`${name} joined`);
        this.titleNews.joined(name);
      }
    });
    session.addEventListener("peerleft", ({ detail }) => {
      view.tiles.remove(detail.peerId);
      view.showOthers(view.tiles.count);
      this.watchStats();
      if (!detail.quietly) view.chat.notice(`${shownName(detail.name)} left`);
    });
    session.addEventListener("remotemediastate", ({ detail }) => {
      view.tiles.setMediaState(detail.peerId, detail);
    });
    session.addEventListener("remotehand", ({ detail }) => {
      view.tiles.setHand(detail.peerId, detail.raised);
    });
    session.addEventListener("message", ({ detail }) => {
      const author = shownName(detail.peerName);
      const { text, sentAt, earlier } = detail;
      view.chat.add({ author, text, sentAt, earlier });
      if (earlier) return; // said before we came: in the log, not news
      view.chatToast.show(author, text);
      this.titleNews.message();
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

  toggleHand() {
    if (!this.session) return;
    this.session.setHandRaised(!this.session.handRaised);
    this.view.showHand(this.session.handRaised);
  }

  /** Stops the others' video coming (a poor or metered connection keeps the sound),
   * or has it come again. */
  toggleIncomingVideo() {
    if (!this.session) return;
    this.session.setIncomingVideo(!this.session.incomingVideo);
    this.view.showIncomingVideo(this.session.incomingVideo);
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
    const poorComing = new Set(); // those whose media reaches us badly
    quality.addEventListener("change", ({ detail }) => {
      tiles.setLinkMark(detail.peerId, detail.mark);
      if (detail.mark === LinkMark.POOR && detail.poorComing) poorComing.add(detail.peerId);
      else poorComing.delete(detail.peerId);
      this.view.showPoorComing(poorComing.size > 0);
    });
    this.watches = [speaking, quality];
    for (const watch of this.watches) watch.start();
  }

  /** Follows one person's peer connection for the statistics panel: the one picked in
   * its list while they are in the call, else the first connected. */
  watchStats() {
    const { session } = this;
    const connections = session?.peerConnections() ?? new Map();
    const firstConnected = [...connections].find(([, pc]) => pc.connectionState === "connected");
    const peerId = connections.has(this.statsPeerId)
      ? this.statsPeerId
      : (firstConnected?.[0] ?? connections.keys().next().value ?? null);
    const people = [...connections.keys()].map((id) => ({
      id,
      label: shownName(session.nameOf(id)),
    }));
    this.view.stats.showPeople(people, peerId);
    const pc = connections.get(peerId) ?? null;
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
      id: randomId(16), // not crypto.randomUUID: plain-http pages have none
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
    this.statsPeerId = null;
    this.inCall = false;
    this.screenOn.letGo();
    this.browserControls.stop();
    this.titleNews.clear();
    this.watchStats();
    this.watchTiles(null);
    this.followMutedSpeech();
    this.view.chat.setReady(false);
    // Hidden from now on; the next call, this one again or a new one, starts afresh.
    this.view.chat.clear();
    this.view.chatToast.hide();
    this.view.tiles.clear();
    this.view.showOthers(0);
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
