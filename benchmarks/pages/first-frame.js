// The moment a <video> shows its first frame, in ms after `since` (performance.now()).
export function firstFrame(video, since) {
  return new Promise((resolve) => {
    video.requestVideoFrameCallback(() => resolve(performance.now() - since));
  });
}
