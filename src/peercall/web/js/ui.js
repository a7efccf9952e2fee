// Everything the person sees. Only this module touches the DOM, and it never
// builds HTML from text: every string goes in through textContent or value.

import { CallState } from "./call.js";
import { ChatPanel } from "./chat.js";
import { ChatToast } from "./chat-toast.js";
import { MicrophoneMeter } from "./microphone-meter.js";
import { StatsPanel } from "./stats-panel.js";
import { RemoteTiles } from "./tiles.js";

const NAME_KEY = "peercall.name";
const MUTED_HINT_MS = 4000;

export const STATUS_TEXT = Object.freeze({
  starting: "Starting your camera…",
  ready: "Choose your camera and microphone, then start a call.",
  "ready-to-join": "Ready to join",
  joining: "Joining…",
  [CallState.WAITING]: "Waiting for someone to join",
  [CallState.CONNECTING]: "Connecting",
  [CallState.CONNECTED]: "Connected",
  [CallState.RECONNECTING]: "Reconnecting",
  [CallState.PEER_LEFT]: "Everybody else left. Waiting for someone to join",
  [CallState.LEFT]: "You left the call",
  [CallState.SERVER_LOST]: "Connection to the server lost. Reconnecting…",
  "call-not-found": "Call not found. Check the link, or start a new call.",
  "call-ended": "This call has ended. Start a new call.",
  "call-full": "This call is full.",
  "passcode-required": "This call has a passcode. Enter it, then Join.",
  "wrong-passcode": "That passcode is not right. Try again.",
  "server-unreachable": "Cannot reach the server. Check your connection and try again.",
  "no-webrtc":
    "This browser cannot make calls: WebRTC is turned off or missing in it. Open the link in Chrome, Firefox, Safari or Edge.",
});

function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page is missing #${id}`);
  return element;
}

/**
 * A button that turns something on and off: it says what a press does (`text`),
 * whether the thing is on (`pressed`), and in its tooltip its key, the one
 * shortcuts.js gave it (aria-keyshortcuts).
 */
function showToggle(button, text, pressed) {
  button.textContent = text;
  button.setAttribute("aria-pressed", String(pressed));
  const key = button.getAttribute("aria-keyshortcuts");
  button.title = key ? `${text} (${key})` : text;
}

export class CallView {
  constructor() {
    this.status = byId("status");
    this.notice = byId("media-notice");
    this.mutedHint = byId("muted-hint");
    this.camera = byId("camera");
    this.microphone = byId("microphone");
    this.microphoneMeter = new MicrophoneMeter(byId("microphone-level"));
    this.speaker = byId("speaker");
    this.speakerField = byId("speaker-field");
    this.localVideo = byId("local-video");
    this.localCaption = byId("local-caption");
    this.tiles = new RemoteTiles({
      grid: byId("tiles"),
      placeholder: byId("waiting-tile"),
      tapToHear: byId("unmute-call"),
    });
    this.nameField = byId("name-field");
    this.displayName = byId("display-name");
    this.displayName.value = this.#storedName();
    this.displayName.addEventListener("change", () => this.#storeName());
    this.newCallButton = byId("new-call");
    this.joinButton = byId("join");
    this.hangUpButton = byId("hang-up");
    this.passcodeField = byId("passcode-field");
    this.passcode = byId("passcode");
    this.passcodeLabel = this.passcodeField.querySelector("label");
    this.share = byId("share");
    this.callLink = byId("call-link");
    this.copyButton = byId("copy-link");
    this.sendLinkButton = byId("send-link");
    this.callQr = byId("call-qr");
    this.mediaControls = byId("media-controls");
    this.muteButton = byId("mute");
    this.cameraButton = byId("camera-toggle");
    this.switchCameraButton = byId("switch-camera");
    this.shareScreenButton = byId("share-screen");
    this.handButton = byId("raise-hand");
    this.statsToggle = byId("stats-toggle");
    this.callOptions = byId("call-options");
    this.incomingVideoButton = byId("incoming-video");
    this.incomingVideoHint = byId("incoming-video-hint");
    this.stats = new StatsPanel({
      section: byId("stats"),
      toggle: this.statsToggle,
      chart: byId("stat-chart"),
      peerField: byId("stat-peer-field"),
      peerList: byId("stat-peer"),
      fields: {
        send: byId("stat-send"),
        receive: byId("stat-receive"),
        sentVideo: byId("stat-sent-video"),
        receivedVideo: byId("stat-received-video"),
        audio: byId("stat-audio"),
        roundTrip: byId("stat-rtt"),
        loss: byId("stat-loss"),
        route: byId("stat-route"),
      },
    });
    this.copyButton.addEventListener("click", () => this.#copyLink());
    this.sendLinkButton.addEventListener("click", () => this.#sendLink());
    this.chat = new ChatPanel({
      section: byId("chat"),
      log: byId("chat-log"),
      scroller: byId("chat-scroll"),
      form: byId("chat-form"),
      input: byId("chat-input"),
      sendButton: byId("chat-send"),
      fileButton: byId("send-file"),
      fileInput: byId("file-input"),
    });
    this.chatToast = new ChatToast({ button: byId("chat-toast"), chat: this.chat });
  }

  /** Shows a state from STATUS_TEXT; the status region is read out by screen readers. */
  showState(state) {
    this.status.textContent = STATUS_TEXT[state] ?? state;
    this.status.dataset.state = state;
    document.body.dataset.callState = state;
  }

  showNotice(text) {
    this.notice.textContent = text ?? "";
    this.notice.hidden = !text;
  }

  #mutedHintTimer = null;

  /** "You are muted" for a few seconds (`shown`), or hidden at once. */
  showMutedHint(shown) {
    clearTimeout(this.#mutedHintTimer);
    this.mutedHint.hidden = !shown;
    if (shown) this.#mutedHintTimer = setTimeout(() => this.showMutedHint(false), MUTED_HINT_MS);
  }

  /**
   * The passcode field: "new" offers an optional one for a new call, "join" asks for
   * the invited call's, "none" hides it.
   */
  showPasscode(purpose) {
    this.passcodeField.hidden = purpose === "none";
    this.passcodeLabel.textContent = purpose === "new" ? "Passcode (optional)" : "Passcode";
    this.passcode.autocomplete = purpose === "new" ? "new-password" : "off";
    if (purpose === "join") this.passcode.focus();
  }

  #incomingVideo = { wanted: true, poorComing: false };

  /** Whether we take the others' video: the button says what a press does, and the
   * tiles say when it is stopped. */
  showIncomingVideo(wanted) {
    const text = wanted ? "Stop incoming video" : "Show incoming video";
    showToggle(this.incomingVideoButton, text, !wanted);
    this.tiles.setIncomingVideo(wanted);
    this.#incomingVideo.wanted = wanted;
    this.#showIncomingVideoHint();
  }

  /** Whether what someone sends us gets through badly: while their video comes, the
   * page suggests stopping it. */
  showPoorComing(poor) {
    this.#incomingVideo.poorComing = poor;
    this.#showIncomingVideoHint();
  }

  #showIncomingVideoHint() {
    const { wanted, poorComing } = this.#incomingVideo;
    this.incomingVideoHint.hidden = !(wanted && poorComing);
  }

  /** Which buttons make sense: "home", "invited", "in-call" or "out-of-call". */
  showControls(mode) {
    const entering = mode === "in-call" && document.body.dataset.mode !== "in-call";
    document.body.dataset.mode = mode;
    // Join may have been pressed low on a long page (a phone's, with a notice): the
    // call starts with its videos at the top of the screen, not scrolled past.
    if (entering) window.scrollTo(0, 0);
    this.newCallButton.hidden = !(mode === "home" || mode === "out-of-call");
    this.joinButton.hidden = !(mode === "invited" || mode === "out-of-call");
    this.hangUpButton.hidden = mode !== "in-call";
    this.nameField.hidden = mode === "in-call" || mode === "none";
    this.chat.show(mode === "in-call");
    this.mediaControls.hidden = mode === "none";
    this.callOptions.hidden = mode !== "in-call";
    this.statsToggle.hidden = mode !== "in-call";
    this.incomingVideoButton.hidden = mode !== "in-call";
    if (mode !== "in-call") this.stats.setOpen(false);
    if (mode !== "in-call") this.showIncomingVideo(true); // the next call starts with video
    // Sharing the screen only means something to someone in the call.
    this.shareScreenButton.hidden = !(this.#canShareScreen && mode === "in-call");
    this.#hand.inCall = mode === "in-call";
    if (this.#hand.inCall) this.#showHandButton();
    else this.showHand(false); // a hand goes down with the call
    this.joinButton.disabled = false;
    this.newCallButton.disabled = false;
  }

  #canShareScreen = false;

  /** Which media buttons apply here: "Switch camera" with two cameras or more,
   * "Share screen" where the browser can (not on phones). */
  showMediaOptions({ cameras, canShareScreen }) {
    this.switchCameraButton.hidden = cameras < 2;
    this.#canShareScreen = canShareScreen;
  }

  /** The button names say what a press does: "Mute" while sound goes out, etc. */
  showMediaState({ muted, cameraOff, sharingScreen, denied, cameraMissing }) {
    showToggle(this.muteButton, muted ? "Unmute" : "Mute", muted);
    showToggle(this.cameraButton, cameraOff ? "Camera on" : "Camera off", cameraOff);
    this.shareScreenButton.textContent = sharingScreen ? "Stop sharing" : "Share screen";
    this.localVideo.closest("figure").dataset.screen = String(sharingScreen);
    // Said over the preview when it has no picture, rather than a black box.
    this.localCaption.textContent = denied.has("video")
      ? "Camera not allowed"
      : cameraMissing
        ? "No camera"
        : "Camera off";
  }

  // "Raise hand" is for group calls (two others or more): in a call of two it would
  // only crowd a phone's row of buttons. A raised hand can always be lowered.
  #hand = { inCall: false, others: 0, raised: false };

  /** The button says what a press does: "Raise hand", or "Lower hand" once raised. */
  showHand(raised) {
    this.#hand.raised = raised;
    showToggle(this.handButton, raised ? "Lower hand" : "Raise hand", raised);
    this.#showHandButton();
  }

  /** How many other people are in the call. */
  showOthers(count) {
    this.#hand.others = count;
    this.#showHandButton();
  }

  #showHandButton() {
    const { inCall, others, raised } = this.#hand;
    this.handButton.hidden = !(inCall && (others >= 2 || raised));
  }

  busy() {
    this.newCallButton.disabled = true;
    this.joinButton.disabled = true;
  }

  showCallLink(url, callId) {
    this.callLink.value = url;
    this.share.hidden = false;
    // Where the system can send it (a phone's share sheet: messages, mail, chat apps).
    this.sendLinkButton.hidden = !navigator.canShare?.({ url });
    this.callQr.src = `/api/calls/${encodeURIComponent(callId)}/qr.svg`;
    this.callQr.hidden = false;
  }

  /** `denied`: access to this kind was refused (the browser then lists none of it). */
  fillDeviceList(select, devices, selectedId, denied = false) {
    const options = devices.map(({ id, label }) => {
      const option = document.createElement("option");
      option.value = id;
      option.textContent = label;
      option.selected = id === selectedId;
      return option;
    });
    if (options.length === 0) {
      const none = document.createElement("option");
      none.value = "";
      none.textContent = denied ? "Not allowed" : "None found";
      options.push(none);
    }
    select.replaceChildren(...options);
    select.disabled = devices.length === 0;
  }

  /** The speaker list, shown only where the page can choose (see canChooseSpeaker). */
  showSpeakers(speakers, selectedId) {
    this.speakerField.hidden = speakers.length === 0;
    this.fillDeviceList(this.speaker, speakers, selectedId);
  }

  /** Shows `deviceId` as the speaker in use; the first in the list (the default) for "". */
  selectSpeaker(deviceId) {
    this.speaker.value = deviceId;
    if (this.speaker.selectedIndex < 0) this.speaker.selectedIndex = 0;
  }

  showLocalStream(stream) {
    this.localVideo.srcObject = stream;
    this.localCaption.hidden = stream !== null;
  }

  /** The name others see: what was typed, kept for next time on this device. */
  get name() {
    return this.displayName.value.trim();
  }

  #storedName() {
    try {
      return localStorage.getItem(NAME_KEY) ?? "";
    } catch {
      return ""; // storage blocked (private mode): nothing remembered
    }
  }

  #storeName() {
    try {
      localStorage.setItem(NAME_KEY, this.name);
    } catch {
      // Not remembered; the name still goes with this call.
    }
  }

  async #sendLink() {
    try {
      await navigator.share({ title: "Join my call", url: this.callLink.value });
    } catch (error) {
      // Closing the share sheet is no error; anything else, copying still works.
      if (error.name !== "AbortError") console.warn("peercall: cannot send the link", error);
    }
  }

  async #copyLink() {
    try {
      await navigator.clipboard.writeText(this.callLink.value);
      this.copyButton.textContent = "Copied";
    } catch {
      this.callLink.select();
      this.copyButton.textContent = "Press Ctrl+C to copy";
    }
    setTimeout(() => (this.copyButton.textContent = "Copy link"), 2000);
  }
}
