// Random ids for what this page makes up (a peer connection's session, a chat
// message): `byteCount` random bytes as URL-safe base64, unguessable and short.
// crypto.getRandomValues, unlike crypto.randomUUID, works on plain-http pages too.

export function randomId(byteCount) {
  const bytes = crypto.getRandomValues(new Uint8Array(byteCount));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_");
}
