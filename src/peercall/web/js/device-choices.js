// Which camera, microphone and speaker the person picked, remembered on this device:
// someone with a headset or an external camera should not pick them again for every
// call. Only ids the browser gave us are kept (localStorage, this origin only).

const STORAGE_KEY = "peercall.devices";
const KINDS = Object.freeze(["camera", "microphone", "speaker"]);
const MAX_ID_LENGTH = 256; // device ids are 64 hex digits in Chrome; more is not one

function validId(id) {
  return typeof id === "string" && id.length > 0 && id.length <= MAX_ID_LENGTH;
}

export class DeviceChoices {
  #choices = {};

  constructor() {
    try {
      const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}");
      for (const kind of KINDS) {
        if (validId(stored?.[kind])) this.#choices[kind] = stored[kind];
      }
    } catch {
      // Storage blocked (private mode) or its value unreadable: nothing remembered.
    }
  }

  /** The id last picked for `kind` ("camera", "microphone", "speaker"), or undefined. */
  get(kind) {
    return this.#choices[kind];
  }

  /** Remembers `id` for `kind`, here and for the next visit. An empty id forgets it. */
  remember(kind, id) {
    if (!KINDS.includes(kind)) throw new RangeError(`no device kind ${kind}`);
    if (validId(id)) this.#choices[kind] = id;
    else delete this.#choices[kind];
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(this.#choices));
    } catch {
      // Storage blocked or full: remembered for this page only.
    }
  }
}
