// @ts-check
/**
 * How much of a transfer may be on its way at once, and in what frame size: the port of the
 * peer's `peer/files/flow.py`, line for line (sans-IO: the caller passes the time in seconds,
 * `performance.now() / 1000`, and the receiver's `file_ack`s). `tests/js/files-flow.test.mjs`
 * checks it against numbers the Python core gave for the same events, so keep the two in step.
 *
 * A data channel's own flow control (`bufferedAmount`) only bounds what waits in the sender;
 * SCTP then fills whatever queue the slowest link on the way has. On a thin link that queue is
 * seconds long and everything else in the session -- the operator's clicks and keys on the
 * `control` channel, voice -- waits behind the file. So the receiver acknowledges what it has
 * (`file_ack`: bytes of the transfer received in this session; the first bytes after a pause
 * at once, then at most every `ACK_EVERY` seconds), and the sender keeps a window of bytes on
 * their way that aims at `QUEUE_TARGET` seconds of queueing on the link, as LEDBAT (RFC 6817)
 * does for background transfers:
 *
 * - every acknowledgement gives a round-trip sample (the age of the newest byte it covers);
 *   the smallest sample of the transfer is the link's base round trip, and a sample's excess
 *   over it is the time spent in queues;
 * - each acknowledged byte grows the window by `(QUEUE_TARGET - queueing) / QUEUE_TARGET`
 *   bytes (+1 at most: doubling per round trip on an empty link), and shrinks it once the queue
 *   passes the target, by at most `DECREASE_GAIN` bytes (a quarter of the window per round
 *   trip: gently, as the sample it reacts to is a round trip old).
 *
 * Frames are cut to about `FRAME_TIME` seconds of the link at the highest delivery rate seen
 * over the last `RATE_MEMORY` seconds (`MIN_FRAME` .. the channel's frame size): SCTP without
 * message interleaving sends a message's fragments back to back, so a 64 KiB frame would hold a
 * click on the same association back for a second at 512 kbit/s. The transfer starts with
 * `START_WINDOW` bytes of `MIN_FRAME` frames, so the first sample sees an empty queue.
 *
 * A receiver that never acknowledges (an older program): after `START_WINDOW` bytes and
 * `SILENT_AFTER` seconds without a `file_ack` the window stops applying (`unacked`) and only the
 * channel's buffer paces the transfer, as before acknowledgements existed.
 *
 *   const acker = new Acker(now);                    // the receiver, from its file_answer
 *   acker.add(n, now) -> count | null                // send file_ack {received: count}
 *   acker.due -> seconds | null; acker.flush(now)    // the timer for a held-back count
 *
 *   const win = new Window(now, {maxFrame});         // the sender, one per transfer
 *   win.room(now) >= win.frame() ? send, win.onSent(n, now) : wait for win.onAck(received, now)
 */

/** Seconds of data the sender lets wait at the link's bottleneck. */
export const QUEUE_TARGET = 0.02;
/** An acknowledged byte shrinks the window by at most this much (it grows it by at most 1). */
export const DECREASE_GAIN = 0.25;
/** The window starts at this many bytes ... */
export const START_WINDOW = 4 * 1024;
/** ... and never shrinks below this (nor below two frames). */
export const MIN_WINDOW = 2 * 1024;
/** Nor grows above this. */
export const MAX_WINDOW = 16 * 1024 * 1024;
/**
 * While voice is on, at most this many bytes of a transfer are on their way: the customer's
 * program handles files and voice on one event loop, and a file at full speed makes the
 * operator's voice reach their speakers late, in pieces (bench/voice.py: gaps 6-9 % of a
 * talk-spurt with a full window, 1-2.5 % with this one). A file still moves, slower: a frame
 * bigger than the room still goes when nothing is on its way (`SendFlow.next`).
 */
export const VOICE_WINDOW = 16 * 1024;
let voiceIsOn = false;

/**
 * Voice started or ended in the session (the files panel follows consent): every transfer's
 * window follows from its next frame on.
 * @param {boolean} on
 */
export function voiceOn(on) {
  voiceIsOn = on;
}
/** Seconds over which the highest delivery rate is remembered. */
export const RATE_MEMORY = 2.0;
/** A delivery rate is measured over at least this many seconds of acknowledgements. */
export const RATE_SPAN = 0.05;
/** A frame carries about this many seconds of the link. */
export const FRAME_TIME = 0.008;
/** Smallest frame payload, bytes. */
export const MIN_FRAME = 1024;
/** The receiver acknowledges at most this often (seconds) ... */
export const ACK_EVERY = 0.01;
/** ... and at the latest after this many bytes. */
export const ACK_BYTES = 256 * 1024;
/** Seconds without any acknowledgement, a full window out, before the window stops applying. */
export const SILENT_AFTER = 3.0;
/** Send marks kept for round-trip samples (older ones are merged). */
export const MAX_MARKS = 1024;

/**
 * @param {number} n
 * @returns {void}
 */
function checkCount(n) {
  if (!(n >= 0)) throw new RangeError(`negative byte count ${n}`);
}

/**
 * The receiver's side: when to send `file_ack` for one transfer.
 *
 * The first bytes after a quiet spell are acknowledged at once; then at most one ack per
 * `ACK_EVERY` seconds (or per `ACK_BYTES`): `add` says when to ack now, `due` says when a
 * held-back count must go even if nothing more arrives (the adapter's timer).
 */
export class Acker {
  #acked = 0;
  #at;

  /** @param {number} now seconds */
  constructor(now) {
    /** Payload bytes of the transfer received so far. */
    this.received = 0;
    this.#at = now - ACK_EVERY;
  }

  /**
   * `n` more payload bytes arrived; the count to acknowledge now, or null.
   * @param {number} n
   * @param {number} now seconds
   * @param {{last?: boolean}} [options] last: the end of a file (acknowledged at once)
   * @returns {number | null}
   */
  add(n, now, { last = false } = {}) {
    checkCount(n);
    this.received += n;
    if (last || this.received - this.#acked >= ACK_BYTES) return this.#ack(now);
    return this.flush(now);
  }

  /**
   * The count to acknowledge now that `ACK_EVERY` has passed, or null.
   * @param {number} now seconds
   * @returns {number | null}
   */
  flush(now) {
    if (now - this.#at >= ACK_EVERY - 1e-6) return this.#ack(now); // a timer set for `due` may fire a hair early
    return null;
  }

  /** When the bytes not yet acknowledged must be (seconds; null: there are none). */
  get due() {
    return this.received > this.#acked ? this.#at + ACK_EVERY : null;
  }

  /**
   * @param {number} now
   * @returns {number | null}
   */
  #ack(now) {
    if (this.received === this.#acked) return null;
    this.#acked = this.received;
    this.#at = now;
    return this.received;
  }
}

/** The sender's side for one transfer (one data channel direction). */
export class Window {
  #window = START_WINDOW;
  /** (bytes sent up to and including a frame, when it was sent), oldest first. @type {Array<[number, number]>} */
  #marks = [];
  /** (time, bytes/s) of the delivery rates measured. @type {Array<[number, number]>} */
  #rates = [];
  /** (time, bytes acknowledged) of the acknowledgements the rate is measured over. @type {Array<[number, number]>} */
  #acks = [];
  #quietSince;

  /**
   * @param {number} now seconds
   * @param {{maxFrame: number}} options maxFrame: the channel's payload bytes per frame (frames.js `chunkSize`)
   */
  constructor(now, { maxFrame }) {
    if (!(maxFrame >= MIN_FRAME)) throw new RangeError(`frame size ${maxFrame} below ${MIN_FRAME}`);
    this.maxFrame = maxFrame;
    this.sent = 0;
    this.acked = 0;
    this.unacked = false;
    /** @type {number | null} */
    this.baseRtt = null;
    this.queueing = 0.0;
    this.#quietSince = now;
  }

  // ------------------------------------------------------------------ the sender asks

  /** Highest delivery rate (bytes/s) over the last `RATE_MEMORY` seconds; 0 unknown. */
  get rate() {
    let best = 0.0;
    for (const [, r] of this.#rates) if (r > best) best = r;
    return best;
  }

  /** The window in whole bytes. */
  get window() {
    return Math.trunc(this.#window);
  }

  /** Bytes sent and not yet acknowledged. */
  get inFlight() {
    return this.sent - this.acked;
  }

  /**
   * Bytes that may be sent now (a very large number once `unacked`).
   * @param {number} now seconds
   */
  room(now) {
    if (!this.unacked && this.acked === 0 && this.inFlight >= START_WINDOW) {
      if (now - this.#quietSince >= SILENT_AFTER) this.unacked = true;
    }
    if (this.unacked) return MAX_WINDOW;
    const window = voiceIsOn ? Math.min(this.window, VOICE_WINDOW) : this.window;
    return Math.max(0, window - this.inFlight);
  }

  /** Payload bytes for the next frame. */
  frame() {
    const size = Math.floor(Math.trunc(this.rate * FRAME_TIME) / 1024) * 1024;
    return Math.max(MIN_FRAME, Math.min(this.maxFrame, size));
  }

  // ------------------------------------------------------------------ the sender tells

  /**
   * `n` payload bytes went onto the channel.
   * @param {number} n
   * @param {number} now seconds
   */
  onSent(n, now) {
    checkCount(n);
    if (this.inFlight === 0) this.#quietSince = now;
    if (this.#acks.length === 0) this.#acks.push([now, this.acked]); // the first rate is measured from here
    this.sent += n;
    const marks = this.#marks;
    if (marks.length >= MAX_MARKS) marks.shift(); // the ack that covers the next one gives the (longer) sample
    marks.push([this.sent, now]);
  }

  /**
   * The receiver has `received` bytes of this transfer (`file_ack`).
   * @param {number} received
   * @param {number} now seconds
   */
  onAck(received, now) {
    if (!(received > this.acked)) return;
    received = Math.min(received, this.sent);
    const newly = received - this.acked;
    /** @type {number | null} */
    let sample = null;
    while (this.#marks.length > 0 && this.#marks[0][0] <= received) {
      const [, at] = /** @type {[number, number]} */ (this.#marks.shift());
      sample = Math.max(now - at, 0.0);
    }
    if (sample !== null) this.#adjust(sample, newly);
    this.#measureRate(received, now);
    this.acked = received;
    this.#quietSince = now;
  }

  /**
   * Grow or shrink the window by one round-trip sample covering `newly` bytes.
   * @param {number} sample seconds
   * @param {number} newly
   */
  #adjust(sample, newly) {
    if (this.baseRtt === null || sample < this.baseRtt) this.baseRtt = sample;
    this.queueing = sample - this.baseRtt;
    const offTarget = Math.max(-1.0, Math.min(1.0, (QUEUE_TARGET - this.queueing) / QUEUE_TARGET));
    const gain = offTarget > 0 ? 1.0 : DECREASE_GAIN;
    const floor = Math.max(MIN_WINDOW, 2 * this.frame());
    const grown = this.#window + gain * offTarget * newly;
    const cap = voiceIsOn ? VOICE_WINDOW : MAX_WINDOW; // never grown where it cannot be used
    this.#window = Math.min(cap, Math.max(floor, grown));
  }

  /**
   * @param {number} received
   * @param {number} now
   */
  #measureRate(received, now) {
    const acks = this.#acks;
    const span = Math.max(RATE_SPAN, this.baseRtt || 0.0);
    /** @type {[number, number] | null} */
    let base = null;
    for (const [then, thenBytes] of acks) {
      if (now - then < span) break;
      base = [then, thenBytes];
    }
    if (base !== null && now > base[0]) this.#rates.push([now, (received - base[1]) / (now - base[0])]);
    acks.push([now, received]);
    while (acks.length > 2 && now - acks[1][0] >= span) acks.shift(); // keep the newest ack at least a span old, and what came after it
    while (this.#rates.length > 0 && now - this.#rates[0][0] > RATE_MEMORY) this.#rates.shift();
  }
}
