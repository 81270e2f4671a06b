// @ts-check
/**
 * Connection quality from `RTCPeerConnection.getStats()`: frames per second, kbit/s received,
 * round-trip time and whether media flows directly or through the TURN relay; for voice, the
 * packets lost and the jitter of the audio both ways, and a verdict on them (`callQuality`).
 *
 * Pure: takes the stats entries and the previous sample, returns figures and the next sample.
 */

/**
 * @typedef {{timestamp: number, bytes: number, frames: number, audioReceived?: number, audioLost?: number}} Sample
 *   audioReceived, audioLost: the customer's audio packets so far (for the loss over the last interval)
 * @typedef {{lossPct: number | null, jitterMs: number | null}} AudioQuality
 *   lossPct: audio packets lost, in per cent, the worse of both directions (the customer's voice
 *   to the console since the last sample; the operator's voice to the customer as their side reports
 *   it); jitterMs: the worse jitter of both directions
 * @typedef {{
 *   fps: number | null,
 *   kbps: number | null,
 *   rttMs: number | null,
 *   route: "direct" | "relay" | null,
 *   localType: string | null,
 *   remoteType: string | null,
 *   width: number | null,
 *   height: number | null,
 *   audio: AudioQuality | null,
 *   sample: Sample | null,
 * }} Quality
 *   audio: null while no audio flows either way
 * @typedef {{id: string, type: string, [key: string]: any}} StatsEntry
 */

/**
 * The candidate pair in use: the transport's selected pair, else a nominated succeeded one.
 * @param {StatsEntry[]} entries
 * @returns {StatsEntry | null}
 */
export function selectedPair(entries) {
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (const e of entries) {
    if (e.type === "transport" && e.selectedCandidatePairId) {
      const pair = byId.get(e.selectedCandidatePairId);
      if (pair) return pair;
    }
  }
  return (
    entries.find((e) => e.type === "candidate-pair" && e.selected) ??
    entries.find((e) => e.type === "candidate-pair" && e.nominated && e.state === "succeeded") ??
    null
  );
}

/**
 * @param {Iterable<StatsEntry> | Map<string, StatsEntry>} report an RTCStatsReport or its values
 * @param {Sample | null} previous what the last call returned as `sample`
 * @returns {Quality}
 */
export function computeQuality(report, previous) {
  const entries = report instanceof Map ? [...report.values()] : [...report];
  const byId = new Map(entries.map((e) => [e.id, e]));
  const inbound = entries.filter((e) => e.type === "inbound-rtp");
  const video = inbound.find((e) => (e.kind ?? e.mediaType) === "video") ?? null;

  let timestamp = 0;
  let bytes = 0;
  for (const e of inbound) {
    bytes += e.bytesReceived ?? 0;
    timestamp = Math.max(timestamp, e.timestamp ?? 0);
  }
  const frames = video?.framesDecoded ?? 0;
  const pair = selectedPair(entries);
  if (!timestamp && pair) timestamp = pair.timestamp ?? 0;

  const audioIn = inbound.find((e) => (e.kind ?? e.mediaType) === "audio") ?? null;
  const audioOut = entries.find((e) => e.type === "remote-inbound-rtp" && (e.kind ?? e.mediaType) === "audio") ?? null;

  /** @type {Sample | null} */
  const sample = timestamp ? { timestamp, bytes, frames } : null;
  if (sample && audioIn) {
    sample.audioReceived = audioIn.packetsReceived ?? 0;
    sample.audioLost = Math.max(0, audioIn.packetsLost ?? 0);
  }
  const dt = sample && previous ? (sample.timestamp - previous.timestamp) / 1000 : 0;

  let kbps = null;
  let fps = null;
  if (sample && previous && dt > 0) {
    kbps = Math.max(0, ((sample.bytes - previous.bytes) * 8) / 1000 / dt);
    if (video) fps = Math.max(0, (sample.frames - previous.frames) / dt);
  }
  if (video && typeof video.framesPerSecond === "number") fps = video.framesPerSecond;

  const local = pair ? byId.get(pair.localCandidateId) : undefined;
  const remote = pair ? byId.get(pair.remoteCandidateId) : undefined;
  const localType = local?.candidateType ?? null;
  const remoteType = remote?.candidateType ?? null;
  /** @type {Quality["route"]} */
  let route = null;
  if (localType || remoteType) route = localType === "relay" || remoteType === "relay" ? "relay" : "direct";

  let rtt = pair?.currentRoundTripTime;
  if (typeof rtt !== "number") rtt = audioOut?.roundTripTime;
  return {
    fps: fps === null ? null : Math.round(fps),
    kbps: kbps === null ? null : Math.round(kbps),
    rttMs: typeof rtt === "number" ? Math.round(rtt * 1000) : null,
    route,
    localType,
    remoteType,
    width: video?.frameWidth ?? null,
    height: video?.frameHeight ?? null,
    audio: audioIn || audioOut ? audioQuality(audioIn, audioOut, sample, previous) : null,
    sample,
  };
}

/**
 * Loss and jitter of the audio both ways.
 * @param {StatsEntry | null} audioIn the customer's voice as received here (`inbound-rtp`)
 * @param {StatsEntry | null} audioOut the operator's voice as the customer's side received it (`remote-inbound-rtp`)
 * @param {Sample | null} sample
 * @param {Sample | null} previous
 * @returns {AudioQuality}
 */
function audioQuality(audioIn, audioOut, sample, previous) {
  /** @type {number[]} */
  const losses = [];
  if (audioIn && sample?.audioReceived !== undefined && sample.audioLost !== undefined) {
    const since = previous?.audioReceived !== undefined && previous.audioLost !== undefined ? previous : null;
    const lost = sample.audioLost - (since?.audioLost ?? 0);
    const received = sample.audioReceived - (since?.audioReceived ?? 0);
    if (lost >= 0 && received >= 0 && lost + received > 0) losses.push((100 * lost) / (lost + received));
  }
  if (typeof audioOut?.fractionLost === "number") losses.push(100 * Math.max(0, audioOut.fractionLost));
  const jitters = [audioIn?.jitter, audioOut?.jitter].filter((j) => typeof j === "number").map((j) => 1000 * j);
  return {
    lossPct: losses.length ? Math.round(10 * Math.max(...losses)) / 10 : null,
    jitterMs: jitters.length ? Math.round(Math.max(...jitters)) : null,
  };
}

/**
 * @typedef {"good" | "fair" | "poor"} CallLevel
 * @typedef {{level: CallLevel | null, rttMs: number | null, lossPct: number | null, jitterMs: number | null}} CallQuality
 *   level: null until something is measured
 */

/** Beyond these a call sounds worse: round trip (ms), loss (%), jitter (ms), for "fair" then "poor". */
export const CALL_LIMITS = Object.freeze({
  fair: Object.freeze({ rttMs: 250, lossPct: 2, jitterMs: 30 }),
  poor: Object.freeze({ rttMs: 500, lossPct: 6, jitterMs: 60 }),
});

/**
 * How a voice call sounds, from one quality sample: "good" while the round trip, the loss and
 * the jitter are all within `CALL_LIMITS.fair`; "poor" once any passes `CALL_LIMITS.poor`.
 * @param {Quality | null} q
 * @returns {CallQuality}
 */
export function callQuality(q) {
  const rttMs = q?.rttMs ?? null;
  const lossPct = q?.audio?.lossPct ?? null;
  const jitterMs = q?.audio?.jitterMs ?? null;
  if (rttMs === null && lossPct === null && jitterMs === null) return { level: null, rttMs, lossPct, jitterMs };
  /** @param {{rttMs: number, lossPct: number, jitterMs: number}} limit */
  const beyond = (limit) => (rttMs ?? 0) > limit.rttMs || (lossPct ?? 0) > limit.lossPct || (jitterMs ?? 0) > limit.jitterMs;
  /** @type {CallLevel} */
  const level = beyond(CALL_LIMITS.poor) ? "poor" : beyond(CALL_LIMITS.fair) ? "fair" : "good";
  return { level, rttMs, lossPct, jitterMs };
}

/**
 * One line for the quality strip.
 * @param {Quality} q
 */
export function qualityText(q) {
  const dash = "–";
  return [
    `${q.fps ?? dash} fps`,
    `${q.kbps ?? dash} kbit/s`,
    `RTT ${q.rttMs ?? dash} ms`,
    q.route ?? dash,
  ].join(" · ");
}
