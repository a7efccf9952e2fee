// The floor: two RTCPeerConnections in one page hand each other the offer, the
// answer and every candidate directly, with no server and no network round trip.
// What is left is what the browser itself needs to set up a call.

import { firstFrame } from "./first-frame.js";

const video = document.getElementById("remote");
let stream = null;

window.prepare = async () => {
  stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
};

/** Milliseconds from the start of set-up to the first frame shown by the answerer.
 * With `dataChannel`, the session has the shape of peercall's: audio, video and a
 * negotiated data channel (chat, files). */
window.runOnce = async (dataChannel = false) => {
  const started = performance.now();
  const caller = new RTCPeerConnection({ iceServers: [] });
  const callee = new RTCPeerConnection({ iceServers: [] });
  if (dataChannel) {
    caller.createDataChannel("peercall", { negotiated: true, id: 0 });
    callee.createDataChannel("peercall", { negotiated: true, id: 0 });
  }
  const arrived = firstFrame(video, started);
  callee.ontrack = ({ streams }) => {
    if (video.srcObject !== streams[0]) video.srcObject = streams[0];
  };
  handOver(caller, callee);
  handOver(callee, caller);
  for (const track of stream.getTracks()) caller.addTrack(track, stream);
  for (const track of stream.getTracks()) callee.addTrack(track, stream);
  await caller.setLocalDescription();
  await callee.setRemoteDescription(caller.localDescription);
  await callee.setLocalDescription();
  await caller.setRemoteDescription(callee.localDescription);
  const elapsed = await arrived;
  caller.close();
  callee.close();
  video.srcObject = null;
  return elapsed;
};

/** `from`'s candidates go straight to `to` (held until it has a remote description). */
function handOver(from, to) {
  const held = [];
  from.onicecandidate = ({ candidate }) => {
    if (!candidate) return;
    if (to.remoteDescription) to.addIceCandidate(candidate);
    else held.push(candidate);
  };
  to.addEventListener("signalingstatechange", () => {
    if (to.remoteDescription) for (const candidate of held.splice(0)) to.addIceCandidate(candidate);
  });
}
