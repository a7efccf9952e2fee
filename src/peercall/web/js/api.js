// The HTTP API: creating a call and asking whether one can be joined.

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function request(method, path) {
  const response = await fetch(path, { method, headers: { accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error ?? { code: "http-" + response.status, message: response.statusText };
    throw new ApiError(error.code, error.message);
  }
  return body;
}

export function createCall() {
  return request("POST", "/api/calls");
}

export function getCall(callId) {
  return request("GET", `/api/calls/${encodeURIComponent(callId)}`);
}
