// Cameras, microphones and speakers: listing them, opening them with fallbacks, and
// telling the person in plain words what did not work.

const DENIED = "Camera and microphone access was denied. You can still join and see and hear the other person; allow access in the browser's site settings to be seen and heard.";
const IN_USE = "Your camera and microphone are being used by another application. You can still see and hear the other person.";
const CAMERA_IN_USE = "Your camera is being used by another application: the other person will hear you but not see you.";
const MICROPHONE_IN_USE = "Your microphone is being used by another application: the other person will see you but not hear you.";
const INSECURE = "This page is not secure (no HTTPS), so the browser gives it no camera or microphone. You can still see and hear the other person.";
const NONE = "No camera or microphone was found. You can still see and hear the other person.";
const NO_CAMERA = "No camera was found: the other person will hear you but not see you.";
const NO_MICROPHONE = "No microphone was found: the other person will see you but not hear you.";
const CAMERA_DENIED = "Camera access was denied: the other person will hear you but not see you. Allow it in the browser's site settings to be seen.";
const MICROPHONE_DENIED = "Microphone access was denied: the other person will see you but not hear you. Allow it in the browser's site settings to be heard.";

/** The getUserMedia constraint for one device: that one exactly, or any (no id). */
export function deviceConstraint(deviceId) {
  return deviceId ? { deviceId: { exact: deviceId } } : true;
}

/** Whether getUserMedia failed because access was refused (not for want of a device). */
export function accessDenied(error) {
  return error.name === "NotAllowedError" || error.name === "SecurityError";
}

/**
 * Opens the chosen camera and microphone, or whichever of them works.
 * Resolves with { stream (possibly null), notice (text to show, or null), denied (the
 * kinds, "video" and "audio", whose access was refused) }.
 */
export async function openLocalMedia({ cameraId, microphoneId } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, notice: INSECURE, denied: [] };
  const video = deviceConstraint(cameraId);
  const audio = deviceConstraint(microphoneId);
  // Both; else one alone, the other missing or held by another application (a camera
  // in another app's call still leaves the microphone to this one).
  const attempts = [
    { constraints: { video, audio }, without: null },
    { constraints: { audio }, without: "video" },
    { constraints: { video }, without: "audio" },
  ];
  let firstError = null;
  for (const { constraints, without } of attempts) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      return { stream, notice: without && unavailable(without, firstError), denied: [] };
    } catch (error) {
      firstError ??= error;
      if (accessDenied(error)) return openWhatIsAllowed({ video, audio });
    }
  }
  console.warn("peercall: no local media", firstError);
  const inUse = firstError?.name === "NotReadableError";
  return { stream: null, notice: inUse ? IN_USE : NONE, denied: [] };
}

/** Why `kind` ("video", "audio") was not opened, from the error that asking for both
 * together met: held by another application, else not there. */
function unavailable(kind, error) {
  if (error?.name === "NotReadableError") {
    return kind === "video" ? CAMERA_IN_USE : MICROPHONE_IN_USE;
  }
  return kind === "video" ? NO_CAMERA : NO_MICROPHONE;
}

/**
 * After a refusal: one of the two may be allowed on its own (a person who let the page
 * use the camera and blocked the microphone is seen, not heard). Only a kind the
 * browser says is granted is asked for again, so that a refusal or a prompt closed is
 * never followed by another prompt.
 */
async function openWhatIsAllowed({ video, audio }) {
  const [camera, microphone] = await Promise.all([granted("camera"), granted("microphone")]);
  const alone =
    camera && !microphone
      ? { constraints: { video }, notice: MICROPHONE_DENIED, denied: ["audio"] }
      : microphone && !camera
        ? { constraints: { audio }, notice: CAMERA_DENIED, denied: ["video"] }
        : null;
  if (alone) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(alone.constraints);
      return { stream, notice: alone.notice, denied: alone.denied };
    } catch (error) {
      console.warn("peercall: cannot open what is allowed", error);
    }
  }
  return { stream: null, notice: DENIED, denied: ["video", "audio"] };
}

/** Whether the browser says the page may use `name` ("camera", "microphone") without
 * asking; false where it cannot say (no Permissions API, or not for that name). */
async function granted(name) {
  try {
    return (await navigator.permissions.query({ name })).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Cameras, microphones and speakers (sound outputs: only where the page can choose
 * one, see canChooseSpeaker); labels are empty until the page has had permission.
 */
export async function listDevices() {
  if (!navigator.mediaDevices?.enumerateDevices) {
    return { cameras: [], microphones: [], speakers: [] };
  }
  const devices = await navigator.mediaDevices.enumerateDevices();
  const named = (kind, fallback) =>
    devices
      .filter((d) => d.kind === kind && d.deviceId)
      .map((d, i) => ({ id: d.deviceId, label: d.label || `${fallback} ${i + 1}` }));
  return {
    cameras: named("videoinput", "Camera"),
    microphones: named("audioinput", "Microphone"),
    speakers: canChooseSpeaker() ? named("audiooutput", "Speaker") : [],
  };
}

/** Whether the page can send the call's sound to a speaker of its choice (setSinkId:
 * Chrome and Edge on a computer, Firefox; not Safari, where the system chooses). */
export function canChooseSpeaker() {
  return typeof HTMLMediaElement.prototype.setSinkId === "function";
}
