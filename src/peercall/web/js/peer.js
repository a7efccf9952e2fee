// One RTCPeerConnection to one remote member, negotiated with the W3C
// "perfect negotiation" pattern, so both sides may offer at any time (glare)
// without wedging. Remote ICE candidates that arrive before the remote
// description is set are queued, never dropped.

import {
  CHANNEL_LABEL,
  CHANNEL_OPTIONS,
  decodeMessage,
  encodeChat,
  encodeEarlierChat,
  encodeHand,
  encodeMediaState,
  encodeVideoWanted,
} from "./datachannel.js";
import { TokenBucket } from "./budget.js";
import { FileReceiver, FileSender } from "./files.js";
import { OneAtATime } from "./one-at-a-time.js";
import { randomId } from "./random-id.js";
import { preparedCertificates } from "./warm-up.js";

const DISCONNECTED_RESTART_MS = 3000;
// Chat messages and announced files taken from one person: more than anybody types
// or drops in at once, then a few a second. Beyond that they are not shown, and the
// page says so once in a while (FLOOD_NOTICE_MS).
const SHOWN_BURST = 50;
const SHOWN_PER_SECOND = 5;
const FLOOD_NOTICE_MS = 10_000;
// What counts against it: what becomes an element of the page.
const SHOWN_TYPES = new Set(["chat", "file-start"]);
// Earlier messages taken on one channel (what a sender keeps: call.js), apart from
// the bucket, which they would empty at once.
const MAX_EARLIER_MESSAGES = 50;
// An open offer waits (at most this long) for its candidates, to carry them in its
// SDP: whoever takes it then applies them with the offer, where a dozen separate
// candidates would each cost their main thread an addIceCandidate.
const OPEN_OFFER_GATHERING_MS = 2000;

const END_LINE = "a=end-of-candidates";
// The audio level of RTP packets older than this is no longer "now": a side that
// stopped sending (no microphone any more) is silent, not stuck at its last level.
const FRESH_LEVEL_MS = 1000;

/** Whether an SDP candidate line names its address by an mDNS name (xxxx.local). */
function isMdnsCandidate(line) {
  return (line.split(" ")[4] ?? "").endsWith(".local");
}

/** `sdp` without its candidates, and those candidates (RTCIceCandidateInit; null for
 * an end-of-candidates), each with the index of its media section. */
function takeCandidates(sdp) {
  const kept = [];
  const candidates = [];
  let section = -1;
  for (const line of sdp.split("\r\n")) {
    if (line.startsWith("m=")) section += 1;
    if (line.startsWith("a=candidate:")) {
      candidates.push({ candidate: line.slice(2), sdpMLineIndex: section });
    } else if (line === END_LINE) candidates.push(null);
    else kept.push(line);
  }
  return { sdp: kept.join("\r\n"), candidates };
}

/** The index of the media section whose transport carries all media once `sdp` (an
 * answer) is applied: its BUNDLE group's first mid. null when it bundles nothing. */
function bundledSection(sdp) {
  const lines = sdp.split("\r\n");
  const group = lines.find((line) => line.startsWith("a=group:BUNDLE "));
  if (!group) return null;
  const tag = `a=mid:${group.split(" ")[1]}`;
  let section = -1;
  for (const line of lines) {
    if (line.startsWith("m=")) section += 1;
    else if (line === tag) return section;
  }
  return null;
}

/** Of `candidates` (from `takeCandidates`), those for the transport of `section`,
 * and one end-of-candidates if there was one. */
function candidatesOf(candidates, section) {
  const kept = candidates.filter((candidate) => candidate?.sdpMLineIndex === section);
  return candidates.includes(null) ? [...kept, null] : kept;
}

export class PeerLink extends EventTarget {
  #makingOffer = false;
  #ignoreOffer = false;
  #holdingCandidates = false;
  #heldEnd = false;
  #pendingCandidates = [];
  #shown = new TokenBucket({ burst: SHOWN_BURST, perSecond: SHOWN_PER_SECOND });
  #earlierLeft = MAX_EARLIER_MESSAGES;
  #theyWantVideo = true; // false: they asked us not to send them video
  #floodNoticeAt = -Infinity;
  #outgoing = { audio: null, video: null };
  // Files coming in: each step is an "incomingfile" event (phase start, progress, done, failed).
  #incoming = new FileReceiver({
    onStart: (file) => this.#fileEvent({ phase: "start", ...file }),
    onProgress: (id, bytes) => this.#fileEvent({ phase: "progress", id, bytes }),
    onFile: (id, blob) => this.#fileEvent({ phase: "done", id, blob }),
    onFailure: (id, reason) => this.#fileEvent({ phase: "failed", id, reason }),
  });
  #inbox = new OneAtATime(); // the signals from them, applied in order
  #restartTimer = null;
  #videoBitrateCap = null;
  // Changes of our video's parameters (see #applyVideoParameters).
  #videoParametersChanges = new OneAtATime();
  // An answer to an open offer made before joining (see prepareAnswer).
  #answerPrepared = false;
  #theirCandidates = []; // taken out of their offer until Join is pressed
  #keepingCandidates = false; // ours are kept until we are in the call
  #keptCandidates = [];
  #inAnswer = new Set(); // the candidate lines (and end) the answer carried

  /**
   * @param {object} options
   * @param {RTCIceServer[]} options.iceServers
   * @param {RTCIceTransportPolicy} [options.iceTransportPolicy] "relay": TURN only
   * @param {string} options.localId  our peer id
   * @param {string|null} options.remoteId  theirs; null for an open offer ("next")
   * @param {string} [options.session] the session of a received offer; new if absent
   * @param {(message: object) => void} options.send  writes a message to the server
   */
  constructor({ iceServers, iceTransportPolicy = "all", localId, remoteId, session, send }) {
    super();
    this.localId = localId;
    this.remoteId = remoteId;
    this.session = session ?? randomId(9);
    this.send = send;
    this.remoteStream = new MediaStream();
    const certificates = preparedCertificates();
    // One transport for audio, video and chat from the start: an offer gathers and
    // names one set of addresses, not one per media section.
    const bundlePolicy = "max-bundle";
    this.pc = new RTCPeerConnection({ iceServers, iceTransportPolicy, certificates, bundlePolicy });
    this.pc.addEventListener("icecandidateerror", (event) => {
      // 401: the TURN server refused our credentials (expired, or a wrong secret).
      // 701 is only "could not reach this server", often harmless (one of several).
      if (event.errorCode === 401 || event.errorCode === 403 || event.errorCode === 437) {
        const detail = { url: event.url, code: event.errorCode, text: event.errorText };
        this.dispatchEvent(new CustomEvent("relayerror", { detail }));
      }
    });
    this.pc.addEventListener("negotiationneeded", () => this.#offer());
    this.pc.addEventListener("icecandidate", ({ candidate }) => {
      if (this.#holdingCandidates) {
        // They go in the open offer's SDP, or after a prepared answer (release);
        // the end of them is said after it.
        if (!candidate) this.#heldEnd = true;
        else if (this.#keepingCandidates) this.#keptCandidates.push(candidate.toJSON());
        return;
      }
      if (candidate) this.#signal({ type: "candidate", candidate: candidate.toJSON() });
      else this.#signal({ type: "end-of-candidates" });
    });
    this.pc.addEventListener("track", ({ track }) => {
      // One track per kind: a renegotiation (a rollback in glare) can hand us a new
      // track for the same kind, and a <video> keeps playing the first video track
      // of its stream. A new stream object makes the page take the new one.
      const others = this.remoteStream.getTracks().filter((t) => t.kind !== track.kind);
      this.remoteStream = new MediaStream([...others, track]);
      // At once: giving a <video> its stream takes the main thread for a while, and
      // now it overlaps with the browser applying the offer on its own threads.
      // (Told after the answer was sent, it delayed the connectivity checks.)
      this.dispatchEvent(new CustomEvent("remotestream", { detail: this.remoteStream }));
    });
    // Pre-negotiated: both sides create it, so it is in the first offer whoever makes it.
    this.channel = this.pc.createDataChannel(CHANNEL_LABEL, CHANNEL_OPTIONS);
    this.channel.addEventListener("open", () => this.#channelChanged());
    this.channel.addEventListener("close", () => this.#channelChanged());
    this.channel.binaryType = "arraybuffer";
    this.files = new FileSender(this.channel);
    this.channel.addEventListener("message", ({ data }) => {
      if (data instanceof ArrayBuffer) return this.#incoming.chunk(data);
      const message = decodeMessage(data);
      if (message?.earlier) {
        if (this.#earlierLeft <= 0) return;
        this.#earlierLeft -= 1;
      } else if (SHOWN_TYPES.has(message?.type) && !this.#shown.take()) return this.#flooded();
      if (message?.type === "video-wanted") this.#setVideoWanted(message.wanted);
      else if (message?.type === "file-start") this.#incoming.start(message);
      else if (message?.type === "file-end") this.#incoming.end(message);
      else if (message) this.dispatchEvent(new CustomEvent(message.type, { detail: message }));
    });
    this.channel.addEventListener("close", () => this.#incoming.abort());
    this.pc.addEventListener("connectionstatechange", () => this.#connectionChanged());
    // A sender has no encodings to cap until a negotiation has made them.
    this.pc.addEventListener("signalingstatechange", () => {
      if (this.pc.signalingState === "stable") this.#applyVideoParameters();
    });
  }

  /** ICE servers for what this connection gathers from now on (an ICE restart):
   * fresh TURN credentials replace ones about to expire. */
  setIceServers(iceServers) {
    if (this.pc.signalingState === "closed") return;
    try {
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
    } catch (error) {
      console.warn("peercall: could not renew the ICE servers", error);
    }
  }

  /** At most `bitsPerSecond` of video to this person (null: no cap). See bandwidth.js. */
  setVideoBitrateCap(bitsPerSecond) {
    this.#videoBitrateCap = bitsPerSecond;
    return this.#applyVideoParameters();
  }

  /** They asked us to stop sending them video (`wanted` false), or to send it again. */
  #setVideoWanted(wanted) {
    this.#theyWantVideo = wanted;
    this.#applyVideoParameters();
  }

  /** Our video to them: capped at #videoBitrateCap, and not sent at all while they
   * do not want it (an inactive encoding: no renegotiation, the sound goes on).
   * One change at a time, each made from what is wanted when it starts: with two
   * under way at once, Chromium may refuse the later one (InvalidStateError, seen
   * on a loaded machine after three quick presses), and what was pressed last
   * would be lost. */
  #applyVideoParameters() {
    return this.#videoParametersChanges.run(() => this.#setVideoParameters());
  }

  async #setVideoParameters() {
    const sender = this.#transceiverOf("video")?.sender;
    if (!sender || this.pc.signalingState === "closed") return;
    try {
      const parameters = sender.getParameters();
      const [encoding] = parameters.encodings ?? [];
      const cap = this.#videoBitrateCap ?? undefined;
      const active = this.#theyWantVideo;
      if (!encoding || (encoding.maxBitrate === cap && encoding.active === active)) return;
      if (cap === undefined) delete encoding.maxBitrate;
      else encoding.maxBitrate = cap;
      encoding.active = active;
      await sender.setParameters(parameters);
    } catch (error) {
      // A negotiation under way: applied again once it is over (signalingstatechange).
      console.warn("peercall: could not set how our video is sent", error);
    }
  }

  /** Asks them to stop sending us video (false: a poor or metered connection), or
   * to send it again. */
  sendVideoWanted(wanted) {
    if (this.canSendText) this.channel.send(encodeVideoWanted(wanted));
  }

  /**
   * A path that fails (a network change: Wi-Fi to mobile data) gets new candidates
   * with an ICE restart; so does one disconnected for a few seconds, rather than
   * waiting the half minute until the browser calls it failed. Should both sides
   * restart at once, perfect negotiation resolves the crossing offers.
   */
  #connectionChanged() {
    const state = this.pc.connectionState;
    clearTimeout(this.#restartTimer);
    if (state === "failed" || state === "disconnected") {
      // Both sides see the path break at about the same time. The impolite side
      // restarts first; the polite one only if that did not happen, so the two
      // rarely offer at once (glare works, but Chromium can freeze the picture
      // after the rollback it takes).
      const wait = (state === "failed" ? 0 : DISCONNECTED_RESTART_MS) + (this.polite ? 4000 : 0);
      this.#restartTimer = setTimeout(() => {
        if (["failed", "disconnected"].includes(this.pc.connectionState)) this.pc.restartIce();
      }, wait);
    }
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  /** The polite side yields when both offer at once; one per pair, either will do. */
  get polite() {
    return this.remoteId !== null && this.localId > this.remoteId;
  }

  /**
   * What we send, by kind ({ audio, video }, either may be null). Every peer
   * connection has one audio and one video transceiver, both sendrecv even with
   * no track yet, so turning the camera on, switching it or sharing the screen
   * later is a replaceTrack, never a renegotiation. The offerer creates them; the
   * answerer takes those of the offer (#sendOnOfferedTransceivers).
   */
  addLocalMedia(outgoing, { asOfferer }) {
    this.#outgoing = { ...outgoing };
    if (!asOfferer) return;
    for (const kind of ["audio", "video"]) {
      this.pc.addTransceiver(outgoing[kind] ?? kind, { direction: "sendrecv" });
    }
  }

  /** Sends `track` (or nothing, if null) as our `kind`; no renegotiation. */
  async replaceTrack(kind, track) {
    this.#outgoing[kind] = track;
    const transceiver = this.#transceiverOf(kind);
    if (transceiver) await transceiver.sender.replaceTrack(track);
  }

  /**
   * How loud their sound is now, 0 to 1: the audio level (RFC 6464) of the latest
   * RTP packet, read from the receiver at no cost (no getStats); 0 when nothing came
   * in the last second.
   */
  get remoteAudioLevel() {
    const receiver = this.#transceiverOf("audio")?.receiver;
    const [latest] = receiver?.getSynchronizationSources() ?? [];
    const age = performance.timeOrigin + performance.now() - (latest?.timestamp ?? 0);
    return latest && age < FRESH_LEVEL_MS ? (latest.audioLevel ?? 0) : 0;
  }

  #transceiverOf(kind) {
    return this.pc.getTransceivers().find((t) => t.receiver.track.kind === kind && !t.stopped);
  }

  /** Sends on the transceivers of an offer we answer. addTrack takes the offered
   * transceiver of the track's kind (never used to send yet) and is synchronous,
   * where replaceTrack would wait its turn in the connection's queue of operations
   * before the answer could be made. */
  #sendOnOfferedTransceivers() {
    for (const kind of ["audio", "video"]) {
      const transceiver = this.#transceiverOf(kind);
      if (!transceiver || transceiver.direction === "sendrecv") continue;
      const track = this.#outgoing[kind] ?? null;
      if (track && !transceiver.sender.track && !transceiver.currentDirection) {
        this.pc.addTrack(track);
      } else if (transceiver.sender.track !== track) {
        // A transceiver that has sent before: queued ahead of the answer, in order.
        transceiver.sender.replaceTrack(track).catch((error) => {
          console.error("peercall: could not send our", kind, error);
        });
      }
      transceiver.direction = "sendrecv";
    }
  }

  /** Tells the other side whether we send sound and picture (shown on their page). */
  sendMediaState(state) {
    if (this.canSendText) this.channel.send(encodeMediaState(state));
  }

  /** Tells the other side whether our hand is raised (shown on our tile there). */
  sendHand(raised) {
    if (this.canSendText) this.channel.send(encodeHand(raised));
  }

  get canSendText() {
    return this.channel.readyState === "open";
  }

  /** Sends a chat message (newChatMessage); false if the channel is not open. */
  sendChat(message) {
    if (!this.canSendText) return false;
    this.channel.send(encodeChat(message));
    return true;
  }

  /** Sends one of our messages from before this channel opened (the other side
   * shows it once, however often it comes). */
  sendEarlierChat(message) {
    if (this.canSendText) this.channel.send(encodeEarlierChat(message));
  }

  #fileEvent(detail) {
    this.dispatchEvent(new CustomEvent("incomingfile", { detail }));
  }

  /** Sends a file; `onProgress(bytesSent)` as it goes. Rejects if the channel is not open. */
  sendFile(file, onProgress) {
    if (!this.canSendText) return Promise.reject(new Error("Nobody is connected."));
    return this.files.send(file, onProgress);
  }

  #channelChanged() {
    this.dispatchEvent(new CustomEvent("channel", { detail: this.channel.readyState }));
  }

  /** Handles one signal from the remote side, strictly in arrival order. */
  receive(message) {
    return this.#inOrder(message.type, () => this.#handle(message));
  }

  /**
   * Before we have joined: applies the open offer `sdp` of the member `remoteId`
   * without its candidates, and makes and applies our answer, so that the slow part
   * (the browser setting up its transports, our candidates gathered) is done before
   * Join is pressed. Without their candidates nothing is sent to them yet: no ICE
   * check reaches somebody who does not know us. `answerForJoin` then goes with
   * the join; once we are in, `commitAnswer` gives ICE their candidates and
   * `release` sends the rest of ours.
   */
  prepareAnswer(sdp) {
    return this.#inOrder("prepared offer", async () => {
      const withoutCandidates = takeCandidates(sdp);
      this.#theirCandidates = withoutCandidates.candidates;
      await this.pc.setRemoteDescription({ type: "offer", sdp: withoutCandidates.sdp });
      this.#sendOnOfferedTransceivers();
      this.#holdingCandidates = this.#keepingCandidates = true;
      await this.pc.setLocalDescription();
      // Our answer bundles their media on one transport: their candidates for the
      // others would be checked for nothing, and each costs the page a call when
      // `joined` comes (~1 ms here). An offer made without max-bundle (aiortc's, a
      // browser's with the default policy) names its addresses once per media section.
      const bundled = bundledSection(this.pc.localDescription.sdp);
      if (bundled !== null) this.#theirCandidates = candidatesOf(this.#theirCandidates, bundled);
      this.#answerPrepared = true;
    });
  }

  /**
   * Our prepared answer, with the candidates found so far; null until made. Those
   * with a name to resolve (mDNS, xxxx.local: a page without camera permission) are
   * left out and follow it as `candidate` messages once we are in (`release`): some
   * peers (aiortc) wait up to a second over such names in an SDP, not over trickled
   * ones, and learn our address from our ICE checks meanwhile.
   */
  answerForJoin() {
    if (!this.#answerPrepared) return null;
    const lines = this.pc.localDescription.sdp.split("\r\n");
    const named = lines.filter((line) => line.startsWith("a=candidate:") && isMdnsCandidate(line));
    const kept = named.length ? lines.filter((l) => !named.includes(l) && l !== END_LINE) : lines;
    const carried = kept.filter((line) => line.startsWith("a=candidate:") || line === END_LINE);
    this.#inAnswer = new Set(carried.map((line) => line.slice(2)));
    return kept.join("\r\n");
  }

  /** We are in and the member has our answer: ICE gets their candidates and starts.
   * At once (the offer they go with was applied before the answer was made): in a
   * step of the inbox they waited for the page's work on `joined` (the tiles, the
   * status), which held ICE back by 18-37 ms. Later signals wait for them. */
  commitAnswer() {
    const adding = Promise.all(this.#theirCandidates.splice(0).map((c) => this.#addCandidate(c)));
    adding.catch(() => {}); // a failure is reported by the inbox step below
    return this.#inOrder("their candidates", () => adding);
  }

  /** We are in the call: our candidates, held back until now, go out. */
  release() {
    this.#holdingCandidates = this.#keepingCandidates = false;
    for (const candidate of this.#keptCandidates.splice(0)) {
      if (!this.#inAnswer.has(candidate.candidate)) this.#signal({ type: "candidate", candidate });
    }
    if (this.#heldEnd && !this.#inAnswer.has(END_LINE.slice(2))) {
      this.#signal({ type: "end-of-candidates" });
    }
  }

  /** Runs `step` after every step before it (signals are applied in order). */
  #inOrder(what, step) {
    return this.#inbox.run(step).catch((error) => {
      console.error("peercall: signal failed", what, error);
      this.dispatchEvent(new CustomEvent("failure", { detail: error }));
    });
  }

  /** A chat message or file over the budget was dropped: tell the page, now and then. */
  #flooded() {
    const now = performance.now();
    if (now - this.#floodNoticeAt < FLOOD_NOTICE_MS) return;
    this.#floodNoticeAt = now;
    this.dispatchEvent(new Event("flooding"));
  }

  close() {
    clearTimeout(this.#restartTimer);
    this.pc.close();
    this.dispatchEvent(new CustomEvent("state", { detail: "closed" }));
  }

  #signal(message) {
    this.send({ ...message, to: this.remoteId ?? "next", session: this.session });
  }

  async #offer() {
    // An open offer (nobody named yet) waits for whoever joins next: it has time to
    // gather its candidates first and carry them in its SDP.
    const open = this.remoteId === null;
    try {
      this.#makingOffer = true;
      this.#holdingCandidates = open;
      this.#heldEnd = false;
      await this.pc.setLocalDescription();
      if (open) await this.#gathered(OPEN_OFFER_GATHERING_MS);
      this.#holdingCandidates = false;
      if (this.pc.signalingState === "closed") return; // closed while it waited
      this.#signal({ type: "offer", sdp: this.pc.localDescription.sdp });
      // Candidates found later are sent on their own, as in any offer.
      if (this.#heldEnd) this.#signal({ type: "end-of-candidates" });
    } catch (error) {
      console.error("peercall: could not make an offer", error);
    } finally {
      this.#holdingCandidates = false;
      this.#makingOffer = false;
    }
  }

  /** Resolves when ICE gathering is complete, or after `ms` (whatever came by then). */
  #gathered(ms) {
    return new Promise((resolve) => {
      const pc = this.pc;
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener("icegatheringstatechange", check);
        resolve();
      };
      const check = () => {
        if (pc.iceGatheringState === "complete" || pc.signalingState === "closed") done();
      };
      const timer = setTimeout(done, ms);
      pc.addEventListener("icegatheringstatechange", check);
      check();
    });
  }

  async #handle(message) {
    switch (message.type) {
      case "offer":
      case "answer":
        return this.#handleDescription({ type: message.type, sdp: message.sdp });
      case "candidate":
        return this.#handleCandidate(message.candidate);
      case "end-of-candidates":
        return this.#handleCandidate(null);
    }
  }

  async #handleDescription(description) {
    const collision =
      description.type === "offer" && (this.#makingOffer || this.pc.signalingState !== "stable");
    this.#ignoreOffer = !this.polite && collision;
    if (this.#ignoreOffer) return;
    // On the polite side this rolls our own offer back implicitly.
    await this.pc.setRemoteDescription(description);
    const queued = this.#pendingCandidates.splice(0);
    for (const candidate of queued) await this.#addCandidate(candidate);
    if (description.type === "offer") {
      this.#sendOnOfferedTransceivers();
      // Sent as soon as it is made, while it is being applied: the offerer can apply
      // it meanwhile, and the offerer applying the answer is what lets ICE finish
      // (measured: the first picture comes ~15-25 ms sooner).
      const answer = await this.pc.createAnswer();
      const applying = this.pc.setLocalDescription(answer);
      this.#signal({ type: "answer", sdp: answer.sdp });
      await applying;
    }
  }

  async #handleCandidate(candidate) {
    if (!this.pc.remoteDescription) {
      this.#pendingCandidates.push(candidate);
      return;
    }
    await this.#addCandidate(candidate);
  }

  async #addCandidate(candidate) {
    try {
      // null means end-of-candidates; an empty candidate string tells the browser so.
      await this.pc.addIceCandidate(candidate ?? { candidate: "" });
    } catch (error) {
      if (!this.#ignoreOffer && candidate !== null) throw error;
    }
  }
}
