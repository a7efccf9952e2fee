// A call from this page's side: joins through the signaling channel, keeps one
// PeerLink per remote member (a full mesh: one peer connection per pair), and
// reports one overall state.
//
// While the call has room, we keep an "open offer" (a PeerLink addressed to
// "next"): the server hands it to whoever joins next, who can answer at once.
// Better still, someone about to join can `prepare`: look at the open offers and
// answer them before pressing Join, and join with the answers.

import { videoBitrateCap } from "./bandwidth.js";
import { ChatMemory } from "./chat-memory.js";
import { newChatMessage } from "./datachannel.js";
import { PeerLink } from "./peer.js";

export const CallState = Object.freeze({
  WAITING: "waiting",
  CONNECTING: "connecting",
  CONNECTED: "connected",
  RECONNECTING: "reconnecting",
  PEER_LEFT: "peer-left",
  LEFT: "left",
  SERVER_LOST: "server-lost",
});

const SIGNAL_TYPES = ["offer", "answer", "candidate", "end-of-candidates"];
// After every connection is up, before we prepare one for whoever comes next.
const OPEN_OFFER_DELAY_MS = 1000;
// The answers a join carries stay well under the server's message limit (64 KiB
// by default); the open offers left out are answered after joining, as usual.
const MAX_PREPARED_ANSWER_CHARS = 40000;
// When ICE servers are renewed: at this share of their credentials' life.
const ICE_RENEWAL_AT = 0.8;

/** Runs `work` once the tasks already waiting (messages received) have run. */
function afterPendingWork(work) {
  if (globalThis.scheduler?.postTask) scheduler.postTask(work, { priority: "background" });
  else setTimeout(work);
}

export class CallSession extends EventTarget {
  #links = new Map();
  #openLink = null;
  #subscriptions = null;
  #stateBeforeLoss = null;
  #passcode = "";
  #name = "";
  #names = new Map(); // peer id -> display name, for everybody else in the call
  #openOfferTimer = null;
  #prepared = new Map(); // peer id -> PeerLink answering their open offer, before we join
  #heldBack = new Map(); // prepared PeerLink -> what it told before it was the call's
  #joining = false;
  #iceRenewalTimer = null;
  #chat = new ChatMemory(); // our messages, sent again to whoever comes

  /** `localMedia`: a LocalMedia, whose outgoing tracks every peer connection sends. */
  constructor({ signaling, localMedia }) {
    super();
    this.signaling = signaling;
    this.localMedia = localMedia;
    this.peerId = null;
    this.iceServers = [];
    this.state = null;
    this.handRaised = false;
    this.incomingVideo = true; // false: we asked everybody not to send us video
  }

  /**
   * Before joining `callId`: answers the open offer of everybody there (without
   * sending anything but a `look`), so that `join` can carry the answers and the
   * set-up is under way as soon as the person presses Join. Best effort: what is
   * not ready by then is done the usual way once joined.
   */
  async prepare(callId, { passcode = "" } = {}) {
    await this.signaling.connect();
    const looked = await this.signaling.look(callId, { passcode });
    if (this.#joining) return; // too late: the offers come after `joined` instead
    this.iceServers = looked.ice_servers; // until `joined` gives ours
    this.iceTransportPolicy = looked.ice_transport_policy ?? "all";
    const answering = looked.offers.map(({ from: peerId, session, sdp }) => {
      const link = this.#newLink(peerId, session);
      this.#prepared.set(peerId, link);
      this.#heldBack.set(link, []);
      return link.prepareAnswer(sdp);
    });
    await Promise.all(answering);
  }

  /** Joins `callId` as `name`; rejects with a SignalingError (code: call-not-found,
   * call-full…). */
  async join(callId, { passcode = "", name = "" } = {}) {
    this.#joining = true;
    await this.signaling.connect();
    this.#subscribe();
    let joined;
    try {
      const answers = this.#answersToSend();
      joined = await this.signaling.join(callId, { passcode, name, answers });
    } catch (error) {
      this.#unsubscribe();
      this.#closePrepared();
      this.#joining = false;
      throw error;
    }
    this.callId = callId;
    this.#passcode = passcode; // to join again if our place is lost
    this.#name = name;
    this.peerId = joined.peer_id;
    this.capacity = joined.capacity;
    this.#useIceServers(joined);
    this.iceTransportPolicy = joined.ice_transport_policy ?? "all";
    const adopted = this.#adoptPrepared(joined.answered ?? []);
    // The people already here offer to us; their offers follow `joined` (those we
    // answered ahead are under way already).
    this.#setState(joined.peers.length === 0 ? CallState.WAITING : CallState.CONNECTING);
    for (const { peer_id: peerId, name: theirName } of joined.peers) {
      this.#names.set(peerId, theirName);
      this.#dispatch("peerjoined", { peerId, name: theirName, wasThere: true });
    }
    // An answer made ahead can be connected already: on a busy device the member's
    // checks, DTLS and the data channel can be through before `joined` is handled
    // here. What the link told meanwhile (their microphone and camera, chat, a
    // file) was held back until we know their name; its state, its stream and its
    // open channel found nobody to show them.
    for (const link of adopted) {
      this.#showRemoteStream(link);
      for (const [as, detail] of this.#heldBack.get(link) ?? []) this.#tell(link, as, detail);
    }
    this.#heldBack.clear();
    if (adopted.length > 0) {
      this.#updateState();
      this.dispatchEvent(new Event("chatchange"));
    }
    this.#capBitrates();
    this.#keepOpenOffer();
    return joined;
  }

  /** The prepared answers `join` carries: those made, within the size limit; the
   * other prepared links are let go. */
  #answersToSend() {
    const answers = [];
    let size = 0;
    for (const [peerId, link] of this.#prepared) {
      const sdp = link.answerForJoin();
      if (sdp && size + sdp.length <= MAX_PREPARED_ANSWER_CHARS) {
        size += sdp.length;
        answers.push({ to: peerId, session: link.session, sdp });
      } else {
        link.close();
        this.#prepared.delete(peerId);
      }
    }
    return answers;
  }

  /** The prepared links whose answer the server passed on (`answered`) are ours
   * now; the others are let go (their open offer, if any, follows `joined`). */
  #adoptPrepared(answered) {
    const adopted = [];
    for (const [peerId, link] of this.#prepared) {
      if (!answered.includes(peerId)) {
        link.close();
        continue;
      }
      // The member has our answer now (sent together with our `joined`): ICE may
      // reach it. Not before: it could reach somebody who has not heard of us yet.
      link.localId = this.peerId;
      link.release(); // ours first: sending is quick, giving ICE theirs is not
      link.commitAnswer();
      this.#links.set(peerId, link);
      adopted.push(link);
    }
    this.#prepared.clear();
    return adopted;
  }

  #closePrepared() {
    for (const link of this.#prepared.values()) link.close();
    this.#prepared.clear();
    this.#heldBack.clear();
  }

  /** Hangs up: tells the server, closes every peer connection. */
  leave() {
    this.signaling.leave();
    this.#closeAll();
    this.#unsubscribe();
    this.#setState(CallState.LEFT);
  }

  /** Sends `track` (null: nothing) as our `kind` to everybody. */
  async replaceTrack(kind, track) {
    await Promise.all(this.#allLinks().map((link) => link.replaceTrack(kind, track)));
    this.sendMediaState();
  }

  /** Raises our hand, or lowers it: everybody's page shows it on our tile. */
  setHandRaised(raised) {
    this.handRaised = raised;
    for (const link of this.#links.values()) link.sendHand(raised);
  }

  /** Asks everybody (and whoever comes) to stop sending us video (`wanted` false:
   * a poor or metered connection keeps the sound), or to send it again. */
  setIncomingVideo(wanted) {
    this.incomingVideo = wanted;
    for (const link of this.#links.values()) link.sendVideoWanted(wanted);
  }

  /** Tells everybody whether we send sound and picture. */
  sendMediaState() {
    for (const link of this.#links.values()) link.sendMediaState(this.#mediaState());
  }

  #mediaState() {
    const { audio, video } = this.localMedia.outgoing;
    return {
      audio: Boolean(audio) && !this.localMedia.muted,
      video: Boolean(video),
      screen: Boolean(video) && this.localMedia.sharingScreen,
    };
  }

  #allLinks() {
    return [...this.#links.values(), ...this.#prepared.values(), this.#openLink].filter(Boolean);
  }

  /** Sends a chat message to everybody with an open channel; returns how many got it.
   * It is sent again to whoever's channel opens later (chat-memory.js). */
  sendText(text) {
    const message = newChatMessage(text);
    const reached = [...this.#links.values()].filter((link) => link.sendChat(message)).length;
    if (reached > 0) this.#chat.rememberSent(message);
    return reached;
  }

  /** Sends a file to everybody connected, side by side; `onProgress(bytes)` reports
   * the slowest of them. Resolves when all have it; rejects if any could not get it. */
  async sendFile(file, onProgress) {
    const links = [...this.#links.values()].filter((candidate) => candidate.canSendText);
    if (links.length === 0) throw new Error("Nobody is connected to receive the file.");
    const sent = links.map(() => 0);
    const transfers = links.map((link, index) =>
      link.sendFile(file, (bytes) => {
        sent[index] = bytes;
        onProgress(Math.min(...sent));
      }),
    );
    await Promise.all(transfers);
  }

  /** The display name of `peerId` ("" if they gave none). */
  nameOf(peerId) {
    return this.#names.get(peerId) ?? "";
  }

  /** Whether a chat message would reach anybody now. */
  get canSendText() {
    return [...this.#links.values()].some((link) => link.canSendText);
  }

  /** Each person's peer connection: peer id -> RTCPeerConnection. */
  peerConnections() {
    return new Map([...this.#links].map(([peerId, link]) => [peerId, link.pc]));
  }

  /** How loud each person's sound is now: peer id -> 0 to 1. */
  audioLevels() {
    return new Map([...this.#links].map(([peerId, link]) => [peerId, link.remoteAudioLevel]));
  }

  linkTo(peerId) {
    return this.#links.get(peerId);
  }

  #subscribe() {
    this.#subscriptions = new AbortController();
    const options = { signal: this.#subscriptions.signal };
    const on = (type, handler) =>
      this.signaling.addEventListener(type, (event) => handler(event.detail), options);
    on("peer-joined", (message) => this.#onPeerJoined(message));
    on("peer-left", (message) => this.#onPeerLeft(message));
    for (const type of SIGNAL_TYPES) on(type, (message) => this.#onSignal(message));
    on("close", () => this.#setState(CallState.SERVER_LOST));
    // The signaling channel reconnects and resumes by itself; media goes on meanwhile.
    on("connectionlost", () => {
      if (this.state !== CallState.SERVER_LOST) this.#stateBeforeLoss = this.state;
      this.#setState(CallState.SERVER_LOST);
    });
    on("resumed", (resumed) => {
      if (resumed.ice_servers) this.#useIceServers(resumed);
      this.#setState(this.#stateBeforeLoss ?? CallState.CONNECTING);
      this.#updateState();
    });
    on("ice-servers", (message) => this.#useIceServers(message));
    on("resumefailed", () => this.#rejoin());
  }

  /** Our place in the call is gone (away too long): join again as someone new. */
  async #rejoin() {
    for (const peerId of this.#names.keys()) this.#dispatch("peerleft", { peerId, quietly: true });
    this.#closeAll();
    this.#unsubscribe();
    try {
      await this.join(this.callId, { passcode: this.#passcode, name: this.#name });
    } catch (error) {
      console.error("peercall: could not join again", error);
      this.#setState(CallState.SERVER_LOST);
    }
  }

  #unsubscribe() {
    this.#subscriptions?.abort();
    this.#subscriptions = null;
  }

  #newLink(remoteId, session) {
    const link = new PeerLink({
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
      localId: this.peerId,
      remoteId,
      session,
      send: (message) => this.signaling.send(message),
    });
    // Not before the link is one of the call's (a prepared one: once we joined).
    link.addEventListener("remotestream", () => {
      if (this.#links.get(link.remoteId) === link) this.#showRemoteStream(link);
    });
    link.addEventListener("state", () => {
      const state = link.pc.connectionState;
      // A broken media path often means the network changed under us: make sure
      // the signaling socket survived it too, or the ICE restart cannot get through.
      if (state === "disconnected" || state === "failed") this.signaling.probe();
      this.#updateState();
      if (state === "connected") this.#keepOpenOffer();
    });
    const forward = (type, as) =>
      link.addEventListener(type, (event) => {
        const held = this.#heldBack.get(link);
        if (held) held.push([as, event.detail]);
        else this.#tell(link, as, event.detail);
      });
    forward("chat", "message");
    forward("media-state", "remotemediastate");
    forward("hand", "remotehand");
    forward("incomingfile", "incomingfile");
    forward("relayerror", "relayerror");
    forward("flooding", "flooding");
    link.addEventListener("channel", (event) => {
      if (event.detail === "open") {
        // Said on every new channel, lowered too: a hand lowered while the
        // connection with someone was being replaced would stay up on their page.
        // So is whether we want their video.
        link.sendMediaState(this.#mediaState());
        link.sendHand(this.handRaised);
        link.sendVideoWanted(this.incomingVideo);
        for (const message of this.#chat.sent) link.sendEarlierChat(message);
      }
      this.dispatchEvent(new Event("chatchange"));
    });
    link.addLocalMedia(this.localMedia.outgoing, { asOfferer: session === undefined });
    return link;
  }

  /**
   * An open offer while somebody can still join; none in a full call. Made at once
   * when we are alone; otherwise a moment after every connection is up, because
   * making one takes the main thread that a set-up in progress needs.
   */
  #keepOpenOffer() {
    const room = this.#names.size + 1 < this.capacity;
    clearTimeout(this.#openOfferTimer);
    if (room && !this.#openLink) {
      const links = [...this.#links.values()];
      const settled =
        links.length === this.#names.size &&
        links.every((link) => link.pc.connectionState === "connected");
      if (this.#names.size === 0) this.#openLink = this.#newLink(null);
      else if (settled)
        this.#openOfferTimer = setTimeout(() => this.#makeOpenOffer(), OPEN_OFFER_DELAY_MS);
    }
    if (!room && this.#openLink) {
      // Should someone leave and another join before our next open offer reaches
      // the server, they get this closed one: `open_offer_session` then names a
      // session we do not have, and we offer to them directly (docs/protocol.md).
      this.#openLink.close();
      this.#openLink = null;
    }
  }

  #makeOpenOffer() {
    const room = this.#names.size + 1 < this.capacity;
    if (room && !this.#openLink && this.#subscriptions) this.#openLink = this.#newLink(null);
  }

  /** Shares our uplink between everybody we send video to (bandwidth.js). */
  #capBitrates() {
    const cap = videoBitrateCap(this.#links.size);
    for (const link of this.#links.values()) link.setVideoBitrateCap(cap);
  }

  #onPeerJoined({ peer_id: peerId, name, open_offer_session: session }) {
    this.#names.set(peerId, name);
    // The page's part (a tile, a line in the chat, the status) waits for the next
    // task: a newcomer who answered our open offer ahead sent the answer right
    // behind this message, and ICE waits for us to apply it.
    afterPendingWork(() => {
      if (!this.#names.has(peerId)) return; // gone already
      this.#dispatch("peerjoined", { peerId, name });
      if (this.state !== CallState.CONNECTED) this.#setState(CallState.CONNECTING);
    });
    const open = this.#openLink;
    if (open && session && open.session === session) {
      // They took our open offer: that peer connection is theirs now.
      open.remoteId = peerId;
      this.#openLink = null;
      this.#links.set(peerId, open);
    } else {
      // They got no offer of ours (or an old one): offer to them directly.
      this.#links.get(peerId)?.close();
      this.#links.set(peerId, this.#newLink(peerId));
    }
    this.#keepOpenOffer();
    this.#capBitrates();
  }

  #onPeerLeft({ peer_id: peerId }) {
    this.#links.get(peerId)?.close();
    this.#links.delete(peerId);
    this.#chat.forget(peerId);
    this.dispatchEvent(new Event("chatchange"));
    this.#dispatch("peerleft", { peerId, name: this.nameOf(peerId) });
    this.#names.delete(peerId);
    // Nobody left at all (a newcomer may know of people whose offers are on their way).
    if (this.#names.size === 0) this.#setState(CallState.PEER_LEFT);
    else this.#updateState();
    this.#keepOpenOffer();
    this.#capBitrates();
  }

  #onSignal(message) {
    let link = this.#links.get(message.from);
    if (message.type === "offer" && link?.session !== message.session) {
      // A new peer connection from their side replaces whatever we had with them.
      link?.close();
      link = this.#newLink(message.from, message.session);
      this.#links.set(message.from, link);
      this.#capBitrates();
      this.#keepOpenOffer();
    }
    if (!link || link.session !== message.session) {
      console.debug("peercall: dropping a signal of an old session", message.type);
      return;
    }
    link.receive(message);
  }

  /**
   * ICE servers for every peer connection from now on (`joined`, `resumed`, or the
   * answer to `renew-ice-servers`), renewed before their TURN credentials expire:
   * coturn keeps a relay made in time but refuses new ones, so without this nobody
   * who came an hour later could reach us through it.
   */
  #useIceServers({ ice_servers: iceServers, ice_servers_expire_in: expireIn }) {
    this.iceServers = iceServers;
    for (const link of this.#allLinks()) link.setIceServers(iceServers);
    clearTimeout(this.#iceRenewalTimer);
    if (!expireIn) return;
    // Well before they expire; if the socket is down then, `resumed` brings new ones.
    const renewal = () => this.signaling.send({ type: "renew-ice-servers" });
    this.#iceRenewalTimer = setTimeout(renewal, expireIn * ICE_RENEWAL_AT * 1000);
  }

  #closeAll() {
    clearTimeout(this.#iceRenewalTimer);
    clearTimeout(this.#openOfferTimer);
    this.#closePrepared();
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    this.#names.clear();
    this.#openLink?.close();
    this.#openLink = null;
  }

  #updateState() {
    const states = [...this.#links.values()].map((link) => link.pc.connectionState);
    if (states.length === 0) return;
    if (states.includes("connected")) this.#setState(CallState.CONNECTED);
    else if (states.some((s) => s === "disconnected" || s === "failed"))
      this.#setState(CallState.RECONNECTING);
    else this.#setState(CallState.CONNECTING);
  }

  /** Passes on what `link`'s person told (`detail`) as an event `as`, with who. */
  #tell(link, as, detail) {
    const peerId = link.remoteId;
    if (as === "message" && !this.#chat.firstTime(peerId, detail.id)) return; // shown already
    // `peerName`: the detail may have a `name` of its own (a file's).
    this.#dispatch(as, { ...detail, peerId, peerName: this.nameOf(peerId) });
  }

  #showRemoteStream(link) {
    const { remoteId: peerId, remoteStream: stream } = link;
    if (stream.getTracks().length === 0) return;
    this.#dispatch("remotestream", { peerId, name: this.nameOf(peerId), stream });
  }

  #dispatch(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }
}
