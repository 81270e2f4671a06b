// @ts-check
/**
 * Connection quality from `RTCPeerConnection.getStats()`: frames per second, kbit/s received,
 * round-trip time and whether media flows directly or through the TURN relay.
 *
 * Pure: takes the stats entries and the previous sample, returns figures and the next sample.
 */

/**
 * @typedef {{timestamp: number, bytes: number, frames: number}} Sample
 * @typedef {{
 *   fps: number | null,
 *   kbps: number | null,
 *   rttMs: number | null,
 *   route: "direct" | "relay" | null,
 *   localType: string | null,
 *   remoteType: string | null,
 *   width: number | null,
 *   height: number | null,
 *   sample: Sample | null,
 * }} Quality
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

  /** @type {Sample | null} */
  const sample = timestamp ? { timestamp, bytes, frames } : null;
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

  const rtt = pair?.currentRoundTripTime;
  return {
    fps: fps === null ? null : Math.round(fps),
    kbps: kbps === null ? null : Math.round(kbps),
    rttMs: typeof rtt === "number" ? Math.round(rtt * 1000) : null,
    route,
    localType,
    remoteType,
    width: video?.frameWidth ?? null,
    height: video?.frameHeight ?? null,
    sample,
  };
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
