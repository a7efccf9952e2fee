// Cameras, microphones and speakers: listing them, opening them with fallbacks, and
// telling the person in plain words what did not work.

const DENIED = "Camera and microphone access was denied. You can still join and see and hear the other person; allow access in the browser's site settings to be seen and heard.";
const IN_USE = "Your camera or microphone is being used by another application.";
const INSECURE = "This page is not secure (no HTTPS), so the browser gives it no camera or microphone. You can still see and hear the other person.";
const NONE = "No camera or microphone was found. You can still see and hear the other person.";
const NO_CAMERA = "No camera was found: the other person will hear you but not see you.";
const NO_MICROPHONE = "No microphone was found: the other person will see you but not hear you.";

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
 * Resolves with { stream (possibly null), notice (text to show, or null) }.
 */
export async function openLocalMedia({ cameraId, microphoneId } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, notice: INSECURE };
  const video = deviceConstraint(cameraId);
  const audio = deviceConstraint(microphoneId);
  const attempts = [
    { constraints: { video, audio }, notice: null },
    { constraints: { audio }, notice: NO_CAMERA },
    { constraints: { video }, notice: NO_MICROPHONE },
  ];
  let firstError = null;
  for (const { constraints, notice } of attempts) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      return { stream, notice };
    } catch (error) {
      firstError ??= error;
      if (accessDenied(error)) {
        return { stream: null, notice: DENIED };
      }
      if (error.name === "NotReadableError") return { stream: null, notice: IN_USE };
    }
  }
  console.warn("peercall: no local media", firstError);
  return { stream: null, notice: NONE };
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
