// The chat panel: a log of messages and a box to write one. Messages are shown
// as text (textContent), never parsed as HTML, whoever wrote them.

import { MAX_TEXT_LENGTH } from "./datachannel.js";

const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export class ChatPanel extends EventTarget {
  constructor({ section, log, form, input, sendButton }) {
    super();
    Object.assign(this, { section, log, form, input, sendButton });
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
  }

  /** Call after a message was sent: clears the box and shows it as ours. */
  sent(text) {
    this.input.value = "";
    this.add({ author: "You", text, sentAt: new Date(), mine: true });
  }

  add({ author, text, sentAt, mine = false }) {
    const item = document.createElement("li");
    item.className = mine ? "mine" : "theirs";
    const meta = document.createElement("span");
    meta.className = "meta";
    const time = document.createElement("time");
    time.dateTime = sentAt.toISOString();
    time.textContent = TIME_FORMAT.format(sentAt);
    meta.append(`${author} · `, time);
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.append(meta, body);
    this.log.append(item);
    item.scrollIntoView({ block: "nearest" });
  }

  clear() {
    this.log.replaceChildren();
    this.input.value = "";
  }
}
