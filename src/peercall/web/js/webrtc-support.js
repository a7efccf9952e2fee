// Whether this browser can make calls at all. WebRTC can be missing (an old in-app
// browser) or turned off (Firefox's media.peerconnection.enabled, some privacy
// extensions): the page then says so at once, rather than hanging at "Connecting".

/** True where the page can make peer connections. */
export function canMakeCalls() {
  return typeof globalThis.RTCPeerConnection === "function";
}
