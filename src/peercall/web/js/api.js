// The HTTP API: creating a call and asking whether one can be joined.

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function request(method, path, payload = undefined) {
  const headers = { accept: "application/json" };
  if (payload !== undefined) headers["content-type"] = "application/json";
  const init = { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) };
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error ?? { code: "http-" + response.status, message: response.statusText };
    throw new ApiError(error.code, error.message);
  }
  return body;
}

/** A new call; with a passcode, nobody joins without it. */
export function createCall({ passcode = "" } = {}) {
  return request("POST", "/api/calls", passcode ? { passcode } : undefined);
}

export function getCall(callId) {
  return request("GET", `/api/calls/${encodeURIComponent(callId)}`);
}
