// Work a call needs that can be done before "Join" is pressed, so that pressing it
// starts the call at once: the browser's WebRTC engine started (its first peer
// connection costs tens of milliseconds) and a DTLS certificate made (each peer
// connection would otherwise generate its own key pair).

let certificate = null;
let warming = null;

/** Starts WebRTC and makes the certificate; safe to call more than once. */
export function warmUpWebRtc() {
  warming ??= (async () => {
    try {
      certificate = await RTCPeerConnection.generateCertificate({
        name: "ECDSA",
        namedCurve: "P-256",
      });
      new RTCPeerConnection({ certificates: [certificate] }).close();
    } catch (error) {
      console.debug("peercall: WebRTC warm-up skipped", error);
    }
  })();
  return warming;
}

/** For RTCConfiguration.certificates: the one made ahead, if any. */
export function preparedCertificates() {
  return certificate ? [certificate] : undefined;
}
