// "New message" over the call, for a message that arrives while the chat is out of
// sight (below the picture on a phone, or scrolled away): without it, nobody sees
// it. Pressing it brings the chat into view, ready to answer. Screen readers hear
// the message from the chat's log already, so the toast is for the eyes only.

const SHOWN_MS = 5000;

export class ChatToast {
  #timer = null;

  /**
   * @param {HTMLButtonElement} button  the toast
   * @param {import("./chat.js").ChatPanel} chat  the chat panel
   */
  constructor({ button, chat }) {
    Object.assign(this, { button, chat });
    button.addEventListener("click", () => {
      this.hide();
      chat.section.scrollIntoView({ block: "end" });
      chat.input.focus({ preventScroll: true });
    });
  }

  /** Shows `author`'s message for a moment, unless the end of the chat is in sight.
   * Call before the message is added to the chat (which may bring it in sight). */
  show(author, text) {
    if (this.chat.section.hidden || this.chat.endInSight) return;
    this.button.textContent = `${author}: ${text}`;
    this.button.hidden = false;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.hide(), SHOWN_MS);
  }

  hide() {
    clearTimeout(this.#timer);
    this.button.hidden = true;
  }
}
