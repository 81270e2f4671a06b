// @ts-check
/**
 * What the console measures of the customer's picture, sent back to the peer as `view_report`
 * about once a second while the screen is shown: the peer's rate control
 * (`peer/rate_control.py`) cuts its rate when the picture queues up or packets are lost, and
 * grows it while both stay low. The receiver's estimate alone (REMB) follows a link slowly and
 * knows nothing of the delay the operator sees.
 *
 * The queue: for every presented frame, `requestVideoFrameCallback` gives the time its last
 * packet arrived and its RTP timestamp (the peer stamps the moment of capture). Arrival minus
 * capture, in this page's clock, is the one-way delay plus an unknown clock offset; above the
 * lowest value of the last `WINDOW_MS` it is the time the frame spent queued and on the wire.
 * Without that metadata (a browser that does not give it) no report is sent and the peer
 * follows the receiver's estimate alone.
 *
 * `QueueMeter` and `videoLoss` are pure; `LinkReporter` is the thin part with the video element,
 * the timer and `getStats()`.
 */

/** Lowest delay is taken over this many milliseconds (clock drift stays out of it). */
export const WINDOW_MS = 10000;
/** A report every this many milliseconds. */
export const REPORT_MS = 1000;
const RTP_VIDEO_CLOCK_KHZ = 90;

export class QueueMeter {
  constructor() {
    /** @type {Array<[number, number]>} [arrival ms, delay ms], delays rising: the window's minimum first */
    this.lows = [];
    /** @type {number[]} delays above the lowest, since the last take() */
    this.excess = [];
    /** @type {number | null} */
    this.lastRtp = null;
    this.rtpTicks = 0;
  }

  /**
   * One presented frame.
   * @param {number} arrivalMs when its last packet arrived (page clock)
   * @param {number} rtpTimestamp its RTP timestamp (90 kHz, wraps at 2^32)
   */
  frame(arrivalMs, rtpTimestamp) {
    if (this.lastRtp !== null) {
      let step = rtpTimestamp - this.lastRtp;
      if (step < -(2 ** 31)) step += 2 ** 32;
      else if (step > 2 ** 31) step -= 2 ** 32;
      this.rtpTicks += step;
    }
    this.lastRtp = rtpTimestamp;
    const delay = arrivalMs - this.rtpTicks / RTP_VIDEO_CLOCK_KHZ;
    while (this.lows.length && this.lows[this.lows.length - 1][1] >= delay) this.lows.pop();
    this.lows.push([arrivalMs, delay]);
    while (this.lows[0][0] < arrivalMs - WINDOW_MS) this.lows.shift();
    this.excess.push(delay - this.lows[0][1]);
  }

  /** @returns {number | null} the mean queue (ms) of the frames since the last call, null if none came */
  take() {
    const excess = this.excess;
    this.excess = [];
    if (!excess.length) return null;
    return excess.reduce((a, b) => a + b, 0) / excess.length;
  }
}

/**
 * @typedef {{id: string, type: string, [key: string]: any}} StatsEntry
 * @typedef {{received: number, lost: number, bytes: number, frames: number, at: number}} VideoCounts
 */

/**
 * The screen's inbound video counters out of a getStats() report.
 * @param {StatsEntry[]} entries
 * @returns {VideoCounts | null}
 */
export function videoCounts(entries) {
  const inbound = entries.find((e) => e.type === "inbound-rtp" && (e.kind ?? e.mediaType) === "video");
  if (!inbound) return null;
  return {
    received: inbound.packetsReceived ?? 0,
    lost: Math.max(0, inbound.packetsLost ?? 0),
    bytes: inbound.bytesReceived ?? 0,
    frames: inbound.framesDecoded ?? 0,
    at: inbound.timestamp ?? 0,
  };
}

/**
 * The `view_report` for the interval between two samples, or null when it cannot be made.
 * @param {VideoCounts} before
 * @param {VideoCounts} after
 * @param {number} queueMs
 */
export function makeReport(before, after, queueMs) {
  const seconds = (after.at - before.at) / 1000;
  if (!(seconds > 0)) return null;
  const received = Math.max(0, after.received - before.received);
  const lost = Math.max(0, after.lost - before.lost);
  const clamp = (/** @type {number} */ v, /** @type {number} */ hi) => Math.min(Math.max(v, 0), hi);
  return {
    type: "view_report",
    queue_ms: clamp(queueMs, 60000),
    loss: received + lost > 0 ? clamp(lost / (received + lost), 1) : 0,
    kbps: clamp(((after.bytes - before.bytes) * 8) / 1000 / seconds, 1000000),
    fps: clamp((after.frames - before.frames) / seconds, 1000),
  };
}

/** Measures the picture in `video` and sends a report every `REPORT_MS` while `active()`. */
export class LinkReporter {
  /**
   * @param {HTMLVideoElement} video
   * @param {{
   *   active: () => boolean,
   *   stats: () => Promise<StatsEntry[] | null>,
   *   send: (msg: {type: string, [field: string]: any}) => boolean,
   * }} hooks
   */
  constructor(video, hooks) {
    this.video = video;
    this.hooks = hooks;
    this.meter = new QueueMeter();
    /** @type {VideoCounts | null} */
    this.last = null;
    this.timer = null;
    this.watching = false;
    this.sent = 0;
  }

  start() {
    if (this.timer) return;
    this.timer = setInterval(() => void this.#tick(), REPORT_MS);
    this.#watch();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.meter = new QueueMeter();
    this.last = null;
  }

  #watch() {
    const video = /** @type {any} */ (this.video);
    if (this.watching || typeof video.requestVideoFrameCallback !== "function") return;
    this.watching = true;
    const onFrame = (/** @type {number} */ _now, /** @type {any} */ meta) => {
      if (!this.timer) {
        this.watching = false;
        return;
      }
      if (typeof meta?.receiveTime === "number" && typeof meta?.rtpTimestamp === "number") {
        this.meter.frame(meta.receiveTime, meta.rtpTimestamp);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  async #tick() {
    if (!this.hooks.active()) {
      this.last = null;
      this.meter.take();
      return;
    }
    this.#watch();
    const entries = await this.hooks.stats().catch(() => null);
    const now = entries ? videoCounts(entries) : null;
    const queue = this.meter.take();
    const before = this.last;
    this.last = now;
    if (!now || !before || queue === null) return; // nothing measured: the peer follows its estimate
    const report = makeReport(before, now, queue);
    if (report && this.hooks.send(report)) this.sent += 1;
  }
}
