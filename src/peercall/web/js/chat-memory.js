// What the chat remembers in a call: our own last messages, sent again on every
// channel that opens (to someone who joined late, or whose page was reloaded), and
// the ids of each person's messages already shown, so that a message that comes
// again is shown once. Only our own messages are sent again: one passed on for
// somebody else could not be told from one made up in their name.

// Our messages sent again to whoever comes; receivers take as many (peer.js).
const KEPT_MESSAGES = 50;
// Ids kept per person: well past the KEPT_MESSAGES they may send again.
const KEPT_IDS = 500;

export class ChatMemory {
  #ours = [];
  #shown = new Map(); // peer id -> ids of their messages shown, oldest first

  /** Our message (datachannel.js newChatMessage), sent to somebody. */
  rememberSent(message) {
    this.#ours.push(message);
    if (this.#ours.length > KEPT_MESSAGES) this.#ours.shift();
  }

  /** Our last messages, oldest first. */
  get sent() {
    return [...this.#ours];
  }

  /** Whether message `id` of `peerId` is shown for the first time (noted if so). A
   * message without an id (from a client older than ids) always is. */
  firstTime(peerId, id) {
    if (id === null) return true;
    let shown = this.#shown.get(peerId);
    if (!shown) this.#shown.set(peerId, (shown = new Set()));
    if (shown.has(id)) return false;
    shown.add(id);
    if (shown.size > KEPT_IDS) shown.delete(shown.values().next().value);
    return true;
  }

  /** `peerId` left the call: nothing of theirs comes again. */
  forget(peerId) {
    this.#shown.delete(peerId);
  }
}
