// The browser's own controls for a call (the Media Session API): Chrome puts a
// microphone, a camera and a hang-up button in the picture-in-picture window and in
// its media controls while a page is in a call, so someone who popped a picture out
// and went to another app can mute, turn the camera off or hang up from there.
// Each presses the page's own button, as the keys M and V do, and the browser is
// told whether the microphone and camera are on, to draw its buttons right.

import { pressIfShown } from "./shortcuts.js";

export class BrowserCallControls {
  #buttons;
  #session = navigator.mediaSession ?? null;

  /** @param {{togglemicrophone: HTMLButtonElement, togglecamera: HTMLButtonElement,
   *   hangup: HTMLButtonElement}} buttons  the page's buttons, by Media Session action */
  constructor(buttons) {
    this.#buttons = buttons;
  }

  /** In a call: the browser's buttons press ours. */
  start() {
    for (const [action, button] of Object.entries(this.#buttons)) {
      this.#handle(action, () => pressIfShown(button));
    }
  }

  /** Out of the call: the browser shows no call buttons. */
  stop() {
    for (const action of Object.keys(this.#buttons)) this.#handle(action, null);
  }

  /** @param {{muted: boolean, cameraOff: boolean}} media */
  show({ muted, cameraOff }) {
    this.#session?.setMicrophoneActive?.(!muted);
    this.#session?.setCameraActive?.(!cameraOff);
  }

  #handle(action, handler) {
    try {
      this.#session?.setActionHandler(action, handler);
    } catch {
      // A browser that does not know the action: it has no button for it either.
    }
  }
}
