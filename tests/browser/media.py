"""Proofs about what a page shows, read from the page itself."""

from playwright.sync_api import Locator

# Counts frames actually presented by the compositor for a <video> over a window;
# requestVideoFrameCallback only fires for frames that were decoded and shown.
COUNT_PRESENTED_FRAMES = """
(video, windowMs) => new Promise((resolve) => {
  let count = 0;
  const started = performance.now();
  const onFrame = (now, metadata) => {
    count += 1;
    if (performance.now() - started < windowMs) video.requestVideoFrameCallback(onFrame);
    else resolve({ count, width: metadata.width, height: metadata.height });
  };
  video.requestVideoFrameCallback(onFrame);
  const fallback = () => resolve({ count, width: video.videoWidth, height: video.videoHeight });
  setTimeout(fallback, windowMs + 3000);
})
"""


def presented_frames(video: Locator, window_ms: int = 2000) -> dict[str, int]:
    return video.evaluate(COUNT_PRESENTED_FRAMES, window_ms)
