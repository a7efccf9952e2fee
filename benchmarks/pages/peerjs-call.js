// PeerJS the way its documentation uses it: the callee registers an id and answers
// every call with its camera; the caller (the one who "joins") has registered ahead
// (as peercall's page has its socket open and its answer made before Join), calls
// the callee's id with its own camera, and shows the stream it gets back.

import { firstFrame } from "./first-frame.js";

const video = document.getElementById("remote");
const params = new URLSearchParams(location.search);
const options = {
  host: "127.0.0.1",
  port: Number(params.get("port")),
  path: "/",
  config: { iceServers: [] },
};
let stream = null;
let caller = null; // the joiner's Peer, registered before "join", as peercall's socket is
const answered = new Set();

/** Opens the camera; with `register`, also registers the joiner's Peer ahead. */
window.prepare = async (register = false) => {
  stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  if (!register) return;
  caller = await new Promise((resolve, reject) => {
    const peer = new window.peerjs.Peer(options);
    peer.on("open", () => resolve(peer));
    peer.on("error", (error) => reject(new Error(String(error.type ?? error))));
  });
};

/** Registers `id` and answers every call; resolves once registered. */
window.answerCalls = (id) =>
  new Promise((resolve, reject) => {
    const peer = new window.peerjs.Peer(id, options);
    peer.on("open", () => resolve(id));
    peer.on("error", (error) => reject(new Error(String(error.type ?? error))));
    peer.on("call", (call) => {
      answered.add(call);
      call.on("close", () => answered.delete(call));
      call.answer(stream);
    });
  });

/**
 * Hangs up every call answered so far. Called after each measurement: the caller
 * has left, but PeerJS notices that only when ICE fails (tens of seconds), and
 * until then the callee keeps encoding video for it, slowing every later run.
 */
window.hangUpAll = () => {
  for (const call of answered) call.close();
  answered.clear();
};

/** Milliseconds from "join" (calling, with the Peer registered by `prepare(true)`)
 * to the first frame of the callee shown. */
window.runOnce = (calleeId) =>
  new Promise((resolve) => {
    const started = performance.now();
    const arrived = firstFrame(video, started);
    const call = caller.call(calleeId, stream);
    call.on("stream", (remote) => {
      if (video.srcObject !== remote) video.srcObject = remote;
    });
    arrived.then((elapsed) => {
      call.close();
      caller.destroy();
      video.srcObject = null;
      resolve(elapsed);
    });
  });
