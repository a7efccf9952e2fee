// While the page is out of sight (another tab in front, the window minimised), what
// happens in the call shows in the tab's title: how many messages came, and who
// joined last ("(2) Ann joined · peercall"). Someone waiting in another tab for the
// person they invited sees them arrive. All of it goes as soon as the page is seen.
// A title is text: names and messages are never markup here.

export class TitleNews {
  #doc;
  #base;
  #messages = 0;
  #joined = null; // the name of whoever joined last while out of sight

  constructor(doc = document) {
    this.#doc = doc;
    this.#base = doc.title;
    doc.addEventListener("visibilitychange", () => {
      if (!this.#outOfSight) this.clear();
    });
  }

  /** A chat message came. */
  message() {
    if (!this.#outOfSight) return;
    this.#messages += 1;
    this.#show();
  }

  /** `name` (as shown) joined the call. */
  joined(name) {
    if (!this.#outOfSight) return;
    this.#joined = name;
    this.#show();
  }

  clear() {
    this.#messages = 0;
    this.#joined = null;
    this.#doc.title = this.#base;
  }

  get #outOfSight() {
    return this.#doc.visibilityState === "hidden";
  }

  #show() {
    const count = this.#messages ? `(${this.#messages}) ` : "";
    const joined = this.#joined === null ? "" : `${this.#joined} joined · `;
    this.#doc.title = `${count}${joined}${this.#base}`;
  }
}
