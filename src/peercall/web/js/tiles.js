// The other people in the call: one tile each (their video, their name, and
// "muted" / "camera off" marks), in a grid that the stylesheet sizes by count.
// Built with createElement and textContent only: names are other people's text.

import { LinkMark } from "./quality.js";

/** How a person is called on screen: their name, or "Guest" if they gave none. */
export function shownName(name) {
  return name || "Guest";
}

// The most of a picture a tile crops away to fill itself: a 16:9 camera in a 4:3
// tile loses a quarter of its width (as in most video calls); past a third, the
// picture is shown whole instead.
const MAX_CROPPED = 1 / 3;

const LINK_MARK_TEXT = {
  [LinkMark.POOR]: "Poor connection",
  [LinkMark.RECONNECTING]: "Reconnecting…",
};

function element(tag, className) {
  const created = document.createElement(tag);
  if (className) created.className = className;
  return created;
}

/** A mark on a tile ("Their microphone is muted"…), hidden until it applies. */
function mark(text, className = "mark") {
  const span = element("span", className);
  span.textContent = text;
  span.hidden = true;
  return span;
}

/** The first letter (grapheme: an accented letter or an emoji whole) of a name. */
function initialOf(name) {
  const [first] = new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(name);
  return first ? first.segment.toLocaleUpperCase() : "";
}

/** A hue of its own for each person, the same on every page (from their peer id). */
function hueOf(peerId) {
  let hash = 0;
  for (const char of peerId) hash = (hash * 31 + char.codePointAt(0)) % 360;
  return hash;
}

function actionButton(label, onClick) {
  const button = element("button");
  button.type = "button";
  button.textContent = label;
  button.addEventListener("click", onClick);
  return button;
}

class Tile {
  constructor(peerId, name) {
    this.figure = element("figure", "tile remote");
    this.figure.dataset.peer = peerId;
    this.figure.dataset.active = "false";
    this.video = element("video");
    this.video.autoplay = true;
    this.video.playsInline = true;
    // Shown instead of a black picture while their camera is off (or before it comes).
    this.avatar = element("div", "avatar");
    this.avatar.setAttribute("aria-hidden", "true"); // the caption names them already
    this.avatar.style.setProperty("--hue", String(hueOf(peerId)));
    this.caption = element("figcaption", "name");
    this.marks = element("div", "remote-marks");
    this.marks.setAttribute("aria-live", "polite");
    this.muted = mark("Their microphone is muted");
    this.cameraOff = mark("Their camera is off");
    this.linkMark = mark(""); // the connection with them (quality.js)
    this.hand = mark("Hand raised", "mark hand");
    this.videoStopped = mark("Incoming video stopped");
    this.marks.append(this.hand, this.muted, this.cameraOff, this.videoStopped, this.linkMark);
    // Their picture bigger: the whole screen, or a window of its own above other apps.
    this.actions = element("div", "tile-actions");
    if (document.fullscreenEnabled) {
      this.fullscreenButton = actionButton("Full screen", () => this.#toggleFullscreen());
      this.actions.append(this.fullscreenButton);
    }
    if (document.pictureInPictureEnabled) {
      this.popOutButton = actionButton("Pop out", () => this.togglePictureInPicture());
      this.actions.append(this.popOutButton);
      this.video.addEventListener("enterpictureinpicture", () => this.showViewState());
      this.video.addEventListener("leavepictureinpicture", () => this.showViewState());
    }
    this.figure.append(this.video, this.avatar, this.caption, this.marks, this.actions);
    this.setName(name);
    this.setIncomingVideo(true);
    this.setMediaState(null);
    // Their picture fills the tile, cropped, unless that would hide more than a third
    // of it (MAX_CROPPED): a phone held upright in a laptop's tile would lose its top
    // and bottom, a laptop's picture on a phone most of its width.
    this.video.addEventListener("resize", () => this.#fit());
    this.resizes = new ResizeObserver(() => this.#fit());
    this.resizes.observe(this.figure);
  }

  #fit() {
    const { videoWidth, videoHeight } = this.video;
    const { clientWidth, clientHeight } = this.figure;
    let shown = 1; // the share of the picture a filled tile shows
    if (videoWidth > 0 && videoHeight > 0 && clientWidth > 0 && clientHeight > 0) {
      const ratio = (videoWidth / videoHeight) * (clientHeight / clientWidth);
      shown = Math.min(ratio, 1 / ratio);
    }
    this.figure.dataset.fit = shown < 1 - MAX_CROPPED ? "whole" : "fill";
  }

  /** The buttons say what a press does: "Full screen" or "Exit full screen", etc. */
  showViewState() {
    const fullscreen = document.fullscreenElement === this.figure;
    const poppedOut = document.pictureInPictureElement === this.video;
    if (this.fullscreenButton) {
      this.fullscreenButton.textContent = fullscreen ? "Exit full screen" : "Full screen";
    }
    if (this.popOutButton) {
      this.popOutButton.textContent = poppedOut ? "Back to the page" : "Pop out";
    }
  }

  #toggleFullscreen() {
    const change =
      document.fullscreenElement === this.figure
        ? document.exitFullscreen()
        : this.figure.requestFullscreen();
    change.catch((error) => console.warn("peercall: full screen refused", error));
  }

  /** Into a window of its own above other apps, or back to the page. */
  togglePictureInPicture() {
    const change =
      document.pictureInPictureElement === this.video
        ? document.exitPictureInPicture()
        : this.video.requestPictureInPicture();
    change.catch((error) => console.warn("peercall: picture-in-picture refused", error));
  }

  /** Out of the page: its window closed if popped out (a full screen ends by itself). */
  close() {
    this.resizes.disconnect();
    if (document.pictureInPictureElement === this.video) {
      document.exitPictureInPicture().catch(() => {});
    }
    this.video.srcObject = null;
    this.figure.remove();
  }

  setName(name) {
    const shown = shownName(name);
    this.caption.textContent = shown;
    this.avatar.textContent = initialOf(shown);
    this.video.setAttribute("aria-label", `Remote video: ${shown}`);
  }

  /** Whether they raised their hand (to speak next, in a group call). */
  setHand(raised) {
    this.hand.hidden = !raised;
  }

  /** Whether we take their video (false: we asked them to stop sending it). */
  setIncomingVideo(wanted) {
    this.videoStopped.hidden = wanted;
    this.figure.dataset.incomingVideo = String(wanted);
  }

  /** What they told us they send; null before they said. A shared screen is shown
   * whole (a tile crops a camera's picture to fill it, and would cut a slide's edges). */
  setMediaState(state) {
    this.muted.hidden = !state || state.audio;
    this.cameraOff.hidden = !state || state.video;
    this.figure.dataset.cameraOff = String(Boolean(state && !state.video));
    this.figure.dataset.screen = String(Boolean(state?.screen));
  }
}

export class RemoteTiles extends EventTarget {
  #tiles = new Map();
  #speakerId = ""; // where the call's sound goes: "" for the system's default output
  #incomingVideo = true; // false: we asked everybody to stop sending us video

  /**
   * @param {HTMLElement} grid  where tiles go
   * @param {HTMLElement} placeholder  shown while nobody else is there
   * @param {HTMLButtonElement} tapToHear  shown when the browser blocks sound until a tap
   */
  constructor({ grid, placeholder, tapToHear }) {
    super();
    Object.assign(this, { grid, placeholder, tapToHear });
    tapToHear.addEventListener("click", () => this.#unmuteAll());
    document.addEventListener("fullscreenchange", () => {
      for (const tile of this.#tiles.values()) tile.showViewState();
    });
    this.#layOut();
  }

  /** How many people have a tile. */
  get count() {
    return this.#tiles.size;
  }

  /** Adds (or renames) the tile of `peerId`. */
  add(peerId, name) {
    const existing = this.#tiles.get(peerId);
    if (existing) return existing.setName(name);
    const tile = new Tile(peerId, name);
    tile.setIncomingVideo(this.#incomingVideo);
    if (this.#speakerId) {
      tile.video.setSinkId(this.#speakerId).catch((error) => {
        console.warn("peercall: cannot play on the chosen speaker", error);
      });
    }
    this.#tiles.set(peerId, tile);
    this.grid.append(tile.figure);
    this.#layOut();
  }

  remove(peerId) {
    const tile = this.#tiles.get(peerId);
    if (!tile) return;
    tile.close();
    this.#tiles.delete(peerId);
    this.#layOut();
  }

  clear() {
    for (const peerId of [...this.#tiles.keys()]) this.remove(peerId);
    this.tapToHear.hidden = true;
  }

  /** The speaker every tile plays on ("" for the default). */
  get speakerId() {
    return this.#speakerId;
  }

  /**
   * Plays the call's sound on the speaker `deviceId` ("" for the default), on every
   * tile and on those still to come. Rejects as setSinkId does (a speaker gone, or
   * not allowed), and the tiles then stay on the speaker they had.
   */
  async setSpeaker(deviceId) {
    const previous = this.#speakerId;
    this.#speakerId = deviceId;
    try {
      await this.#playOn(deviceId);
    } catch (error) {
      this.#speakerId = previous;
      await this.#playOn(previous).catch(() => {});
      throw error;
    }
  }

  #playOn(deviceId) {
    return Promise.all([...this.#tiles.values()].map(({ video }) => video.setSinkId(deviceId)));
  }

  setHand(peerId, raised) {
    this.#tiles.get(peerId)?.setHand(raised);
  }

  /** Whether we take everybody's video, on every tile and on those still to come. */
  setIncomingVideo(wanted) {
    this.#incomingVideo = wanted;
    for (const tile of this.#tiles.values()) tile.setIncomingVideo(wanted);
  }

  setMediaState(peerId, state) {
    this.#tiles.get(peerId)?.setMediaState(state);
  }

  /** Says on their tile how the connection with them is (a LinkMark of quality.js). */
  setLinkMark(peerId, mark) {
    const tile = this.#tiles.get(peerId);
    if (!tile) return;
    tile.linkMark.textContent = LINK_MARK_TEXT[mark] ?? "";
    tile.linkMark.hidden = !tile.linkMark.textContent;
  }

  /** Pops a picture out into a window of its own (Chrome asks for one when the person
   * switches away from the call's tab): whoever speaks, else someone whose camera is
   * on. Nothing if a picture is out already. */
  popOutSomeone() {
    if (!document.pictureInPictureEnabled || document.pictureInPictureElement) return;
    const playing = [...this.#tiles.values()].filter(({ video }) => video.srcObject);
    const seen = playing.filter(({ cameraOff }) => cameraOff.hidden);
    const tile =
      seen.find(({ figure }) => figure.dataset.speaking === "true") ?? seen[0] ?? playing[0];
    tile?.togglePictureInPicture(); // none is out: this one goes out
  }

  /** Marks the tile of someone speaking (an outline, see style.css). */
  setSpeaking(peerId, speaking) {
    const tile = this.#tiles.get(peerId);
    if (tile) tile.figure.dataset.speaking = String(speaking);
  }

  /**
   * Plays `peerId`'s stream in their tile. Where the browser blocks sound that
   * starts on its own (autoplay rules, iOS Safari), play muted and ask for one tap.
   */
  setStream(peerId, stream, name) {
    if (!this.#tiles.has(peerId)) this.add(peerId, name);
    const { figure, video } = this.#tiles.get(peerId);
    figure.dataset.active = "true";
    if (video.srcObject === stream) return;
    video.srcObject = stream;
    video.muted = false;
    video.play().catch((error) => {
      if (error.name !== "NotAllowedError") return;
      video.muted = true;
      video.play().catch(() => {});
      this.tapToHear.hidden = false;
    });
  }

  #unmuteAll() {
    for (const { video } of this.#tiles.values()) {
      video.muted = false;
      video.play().catch(() => {});
    }
    this.tapToHear.hidden = true;
  }

  #layOut() {
    const count = this.#tiles.size;
    this.grid.dataset.count = String(count);
    this.placeholder.hidden = count > 0;
  }
}
