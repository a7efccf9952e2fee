// The browser's own controls for a call (the Media Session API). Chrome puts a
// microphone, a camera and a hang-up button in the picture-in-picture window and in
// its media controls while a page is in a call, so someone who popped a picture out
// and went to another app can mute, turn the camera off or hang up from there; and
// it asks the page for a picture to pop out by itself ("enterpictureinpicture") when
// the person switches away from the call's tab. The browser is told whether the
// microphone and camera are on, to draw its buttons right.

export class BrowserCallControls {
  #handlers;
  #session = navigator.mediaSession ?? null;

  /** @param {Record<string, () => void>} handlers  what each Media Session action does */
  constructor(handlers) {
    this.#handlers = handlers;
  }

  /** In a call: the browser's buttons work. */
  start() {
    for (const [action, handler] of Object.entries(this.#handlers)) this.#handle(action, handler);
  }

  /** Out of the call: the browser shows no call buttons. */
  stop() {
    for (const action of Object.keys(this.#handlers)) this.#handle(action, null);
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
