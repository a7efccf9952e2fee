"""Proofs about what a page shows, read from the page itself."""

import time

from playwright.sync_api import Locator

# Counts frames actually presented by the compositor for a <video> over a window, or
# until there are more than `moreThan`; requestVideoFrameCallback only fires for
# frames that were decoded and shown.
COUNT_PRESENTED_FRAMES = """
(video, [windowMs, moreThan]) => new Promise((resolve) => {
  let count = 0;
  const started = performance.now();
  const onFrame = (now, metadata) => {
    count += 1;
    if (performance.now() - started < windowMs && count <= moreThan) {
      video.requestVideoFrameCallback(onFrame);
    } else resolve({ count, width: metadata.width, height: metadata.height });
  };
  video.requestVideoFrameCallback(onFrame);
  const fallback = () => resolve({ count, width: video.videoWidth, height: video.videoHeight });
  setTimeout(fallback, windowMs + 3000);
})
"""


def presented_frames(video: Locator, more_than: int, window_ms: int = 2000) -> dict[str, int]:
    """Frames `video` presents in `window_ms`, counted until there are more than
    `more_than` (which is all a test asks), with the size of the last one."""
    return video.evaluate(COUNT_PRESENTED_FRAMES, [window_ms, more_than])


def frames_in_one_of(video: Locator, windows: int, more_than: int = 10) -> dict[str, int]:
    """`presented_frames` over up to `windows` windows, until one has more than
    `more_than`: after a network event or a new connection the picture may take a
    moment (a new key frame). The last window's count."""
    for _ in range(windows):
        frames = presented_frames(video, more_than)
        if frames["count"] > more_than:
            break
    return frames


# The loudest moment (RMS, 0..1) of the audio a <video> receives, over a window, or
# the first moment louder than `enough` (null: the whole window).
# Chromium's fake microphone beeps regularly, so heard audio is well above zero.
LOUDEST_AUDIO = """
async (video, [windowMs, enough]) => {
  const context = new AudioContext();
  await context.resume();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(video.srcObject).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let loudest = 0;
  const until = performance.now() + windowMs;
  while (performance.now() < until && !(enough !== null && loudest > enough)) {
    analyser.getFloatTimeDomainData(samples);
    const rms = Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
    loudest = Math.max(loudest, rms);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await context.close();
  return loudest;
}
"""

# Louder than this is sound heard: the fake beeps peak at 0.15-0.25 once decoded,
# and silence (a muted or stopped track) stays below 0.001.
HEARD = 0.01


def loudest_audio(video: Locator, window_ms: int = 2500) -> float:
    return video.evaluate(LOUDEST_AUDIO, [window_ms, None])


def sound_heard(video: Locator, within_ms: int = 8000) -> float:
    """How loud what `video` receives gets, listening until it is louder than HEARD
    or `within_ms` has passed. The wait is long because a fake source's first beep
    may come seconds after it starts (Chromium's fake screen sound: 0.7-2.1 s here,
    more on a loaded machine)."""
    return video.evaluate(LOUDEST_AUDIO, [within_ms, HEARD])


def video_track_label(video: Locator) -> str:
    return video.evaluate("(v) => v.srcObject?.getVideoTracks()[0]?.label ?? ''")


# The average colour of what `video` shows now, drawn small into a canvas: [r, g, b].
PICTURE_COLOUR = """
(video) => {
  const canvas = new OffscreenCanvas(32, 18);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  const sums = [0, 0, 0];
  for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sums[c] += data[i + c];
  return sums.map((sum) => Math.round(sum / (data.length / 4)));
}
"""


def shows_colour(video: Locator, wanted: tuple[int, int, int], within_s: float = 10) -> None:
    """Waits until `video` shows, on average, the colour `wanted` (each of red, green
    and blue within 25: the picture is coded with losses); fails with the last seen."""
    deadline = time.monotonic() + within_s
    while True:
        seen = video.evaluate(PICTURE_COLOUR)
        if all(abs(a - b) <= 25 for a, b in zip(seen, wanted, strict=True)):
            return
        assert time.monotonic() < deadline, f"shows {seen}, never {wanted}"
        time.sleep(0.2)
