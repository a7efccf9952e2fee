// The chat panel: a log of messages and a box to write one. Messages are shown
// as text (textContent), never parsed as HTML, whoever wrote them; web addresses in
// them as links (chat-links.js). The log keeps the last MAX_LOG_ITEMS lines of the
// current call only: a received file is held in memory for its download link, and
// the link goes with its line.

import { withLinks } from "./chat-links.js";
import { MAX_TEXT_LENGTH } from "./datachannel.js";

// Lines the log keeps; older ones go, with their files. Even at the flood limit
// (peer.js), an hour's chat is thousands of lines, each an element of the page.
export const MAX_LOG_ITEMS = 500;
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export class ChatPanel extends EventTarget {
  #transfers = new Map();

  /** `log`: the list of lines; `scroller`: the region that scrolls them. */
  constructor({ section, log, scroller, form, input, sendButton, fileButton, fileInput }) {
    super();
    Object.assign(this, {
      section, log, scroller, form, input, sendButton, fileButton, fileInput,
    });
    this.fileButton.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      for (const file of this.fileInput.files) {
        this.dispatchEvent(new CustomEvent("sendfile", { detail: { file } }));
      }
      this.fileInput.value = "";
    });
    this.input.maxLength = MAX_TEXT_LENGTH;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.dispatchEvent(new CustomEvent("send", { detail: { text } }));
    });
    this.setReady(false);
  }

  show(visible) {
    this.section.hidden = !visible;
  }

  /** Whether there is someone to send to (an open data channel). */
  setReady(ready) {
    this.sendButton.disabled = !ready;
    this.fileButton.disabled = !ready;
  }

  /** Call after a message was sent: clears the box and shows it as ours. */
  sent(text) {
    this.input.value = "";
    this.add({ author: "You", text, sentAt: new Date(), mine: true });
  }

  /** A message; `earlier`: one said before we came (or before this page was
   * loaded), put among the lines by its time rather than at the end. */
  add({ author, text, sentAt, mine = false, earlier = false }) {
    const body = document.createElement("span");
    body.className = "text";
    body.replaceChildren(...withLinks(text));
    this.#append({ author, sentAt, mine, earlier }, body);
  }

  /** A line about the call itself ("Ann joined"), not anybody's message. */
  notice(text) {
    const item = document.createElement("li");
    item.className = "notice";
    item.textContent = text;
    this.#addLine(item, Date.now());
  }

  /** Shows a file on its way: `mine` for one we send. Returns its id for the updates. */
  addTransfer({ id, name, size, mine, author = mine ? "You" : "Them" }) {
    const label = document.createElement("span");
    label.className = "text";
    label.textContent = `${name} (${formatSize(size)})`;
    const progress = document.createElement("progress");
    progress.max = Math.max(size, 1);
    progress.value = 0;
    progress.setAttribute("aria-label", `${mine ? "Sending" : "Receiving"} ${name}`);
    const outcome = document.createElement("span");
    outcome.className = "outcome";
    this.#append({ author, sentAt: new Date(), mine }, label, progress, outcome);
    this.#transfers.set(id, { name, progress, outcome, mine });
    return id;
  }

  updateTransfer(id, bytes) {
    const transfer = this.#transfers.get(id);
    if (transfer) transfer.progress.value = bytes;
  }

  /** Done: a download link for a file we received (`blob`), "Sent" for ours. */
  finishTransfer(id, blob = null) {
    const transfer = this.#transfers.get(id);
    if (!transfer) return;
    this.#transfers.delete(id);
    transfer.progress.value = transfer.progress.max;
    if (!transfer.outcome.isConnected) return; // its line left the log meanwhile
    if (!blob) {
      transfer.outcome.textContent = "Sent";
      return;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = transfer.name;
    link.textContent = `Download ${transfer.name}`;
    transfer.outcome.replaceChildren(link);
  }

  failTransfer(id, reason) {
    const transfer = this.#transfers.get(id);
    if (!transfer) return;
    this.#transfers.delete(id);
    transfer.outcome.textContent = `Not ${transfer.mine ? "sent" : "received"}: ${reason}`;
  }

  #append({ author, sentAt, mine, earlier = false }, ...content) {
    const item = document.createElement("li");
    item.className = mine ? "mine" : "theirs";
    const meta = document.createElement("span");
    meta.className = "meta";
    const time = document.createElement("time");
    time.dateTime = sentAt.toISOString();
    time.textContent = TIME_FORMAT.format(sentAt);
    meta.append(`${author} · `, time);
    item.append(meta, ...content);
    this.#addLine(item, sentAt.getTime(), earlier);
  }

  /**
   * Whether the end of the log, where the newest line goes, is on the screen and
   * not under anything (a phone's call bar sits over the bottom of the page).
   */
  get endInSight() {
    if (this.section.hidden) return false;
    const box = this.scroller.getBoundingClientRect();
    const y = Math.min(box.bottom, window.innerHeight) - 2;
    if (box.width === 0 || y < Math.max(box.top, 0)) return false;
    return this.section.contains(document.elementFromPoint(box.left + box.width / 2, y));
  }

  /** Adds a line, and follows it if the log was at its end. The page follows too
   * only if the person was reading the chat: on a phone the chat is below the
   * picture, and a message must not take the picture away from whoever watches it. */
  #addLine(item, at, inTimeOrder = false) {
    const { scroller } = this;
    const atEnd = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 8;
    const reading = atEnd && this.endInSight;
    item.dataset.at = String(at); // milliseconds since the epoch
    const later = inTimeOrder
      ? [...this.log.children].find((line) => Number(line.dataset.at) > at)
      : undefined;
    this.log.insertBefore(item, later ?? null);
    while (this.log.childElementCount > MAX_LOG_ITEMS) this.#remove(this.log.firstElementChild);
    if (atEnd) scroller.scrollTop = scroller.scrollHeight;
    if (reading) item.scrollIntoView({ block: "nearest" });
  }

  /** Takes a line out of the log, letting go of the file its link holds, if any. */
  #remove(item) {
    for (const link of item.querySelectorAll("a[download]")) URL.revokeObjectURL(link.href);
    item.remove();
  }

  /** Empties the log and the box: the call is over for this page. Received files
   * are let go (their links stop working), so nothing of the call stays in memory. */
  clear() {
    for (const item of [...this.log.children]) this.#remove(item);
    this.#transfers.clear();
    this.input.value = "";
  }
}
