// How fast we may send video to each person. In a group call every person sends
// their camera once per other person (a full mesh: no server mixes anything), so
// one uplink carries it all. Left to itself, each connection would try for the
// ~2.5 Mbit/s a single call gets and together they would swamp a home uplink or
// a phone on mobile data: packets lost, everybody's picture frozen. Splitting the
// budget keeps every stream smooth; the browser lowers the resolution to fit.

// What a modest uplink sustains (a single call's usual top rate, too).
export const UPLINK_BUDGET_BPS = 2_500_000;
// Below this the picture is not worth sending; the floor for big calls.
export const MIN_VIDEO_BPS = 150_000;

/** The maxBitrate for each video sender when we send to `remoteCount` people;
 * null (no cap: the browser decides) for a call of two. */
export function videoBitrateCap(remoteCount) {
  if (remoteCount <= 1) return null;
  return Math.max(MIN_VIDEO_BPS, Math.round(UPLINK_BUDGET_BPS / remoteCount));
}
