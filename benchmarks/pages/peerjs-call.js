// PeerJS the way its documentation uses it: the callee registers an id and answers
// every call with its camera; the caller (the one who "joins") registers, calls the
// callee's id with its own camera, and shows the stream it gets back.

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
const answered = new Set();

window.prepare = async () => {
  stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
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

/** Milliseconds from "join" (a new Peer) to the first frame of the callee shown. */
window.runOnce = (calleeId) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const arrived = firstFrame(video, started);
    const peer = new window.peerjs.Peer(options);
    peer.on("error", (error) => reject(new Error(String(error.type ?? error))));
    peer.on("open", () => {
      const call = peer.call(calleeId, stream);
      call.on("stream", (remote) => {
        if (video.srcObject !== remote) video.srcObject = remote;
      });
      arrived.then((elapsed) => {
        call.close();
        peer.destroy();
        video.srcObject = null;
        resolve(elapsed);
      });
    });
  });
