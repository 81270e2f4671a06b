// @ts-check
/**
 * Sending one file over a data channel, paced by the channel's own buffer (no DOM, no network:
 * the channel is anything shaped like an RTCDataChannel, so node tests it with a fake).
 *
 *   const sha256 = await sendFile({channel, transfer, index, size, start, read, signal, onprogress});
 *   const flow = new SendFlow(chunkSize(maxMessageSize));   // one per transfer, then for each file:
 *   const sha256 = await sendFile({..., flow});             // and flow.ack(received) on each file_ack
 *
 * Pacing: frames go while the channel holds under `HIGH_WATER` (1 MiB, aiortc's SCTP window);
 * above it the sender waits for `bufferedamountlow` (threshold `LOW_WATER`, 256 KiB). So at most
 * 1 MiB is ever queued in the channel, and the file is read 1 MiB ahead at most (`READ_SIZE`,
 * one block being sent and the next being read). A timer looks at `bufferedAmount` every `poll`
 * ms too, in case a browser misses the event.
 *
 * Flow control (optional): with `flow`, one `SendFlow` for the whole transfer (flow.js's
 * `Window` and what wakes a sender waiting on it), the sender also keeps the bytes on their way
 * to the receiver under the window, which follows the receiver's `file_ack`s, and cuts frames to
 * the window's size (1 KiB on a thin link, up to the channel's chunk on a fast one), so the
 * link's queue stays short and the operator's clicks on the `control` channel do not wait behind
 * the file. Before each frame it waits for room: woken by `flow.ack(received)` (a `file_ack`),
 * and every `flow.poll` ms so a receiver that never acknowledges is given up on after
 * `SILENT_AFTER`. The channel's buffer still bounds what waits in the sender.
 *
 * Integrity: the result is the SHA-256 of the whole file, bytes 0..size. When resuming
 * (`start` > 0) the hash goes on from `prefix` (the state `hashPrefix` gave for the resume
 * decision, resume.js), or else the first `start` bytes are read and hashed, not sent, before
 * the first frame; the receiver goes on from its own hash of the bytes it kept.
 *
 * Stopping: abort `signal` and the promise rejects at once with `TransferError` "cancelled",
 * even in the middle of a read or a wait. A channel that closes gives "closed"; a read that
 * returns fewer bytes than asked (the file shrank) "short_read"; `send` throwing for another
 * reason "send_failed". Nothing is sent after the promise settles.
 */

import { TransferError } from "./errors.js";
import { Window } from "./flow.js";
import { HEADER_SIZE, MAX_OFFSET, chunkSize, encodeFrame } from "./frames.js";
import { Sha256 } from "../sha256.js";

/** Above this many buffered bytes the sender waits. */
export const HIGH_WATER = 1024 * 1024;
/** The channel's `bufferedAmountLowThreshold`: the sender goes on once the buffer is down to it. */
export const LOW_WATER = 256 * 1024;
/** Bytes asked of `read` at once (then cut into frames). */
export const READ_SIZE = 1024 * 1024;
/** Milliseconds between looks at `bufferedAmount` while waiting, in case the event never comes. */
export const POLL_MS = 500;

/** Milliseconds between looks at the window while waiting for a `file_ack` (the silent receiver's fallback). */
export const ACK_POLL_MS = 50;

/** Every token `sendFile` rejects with (as `TransferError.token`). */
export const SEND_TOKENS = Object.freeze(["cancelled", "closed", "short_read", "send_failed"]);

/**
 * @typedef {{
 *   bufferedAmount: number,
 *   bufferedAmountLowThreshold: number,
 *   maxMessageSize?: number,
 *   readyState?: string,
 *   send: (data: Uint8Array) => void,
 *   onbufferedamountlow?: ((event: any) => any) | null,
 *   addEventListener?: (type: string, listener: (event: any) => void) => void,
 *   removeEventListener?: (type: string, listener: (event: any) => void) => void,
 * }} ChannelLike
 * @typedef {(offset: number, length: number) => Promise<Uint8Array | ArrayBuffer>} ReadFn
 * @typedef {{sent: number, size: number}} SendProgress
 * @typedef {{
 *   channel: ChannelLike,
 *   transfer: number,
 *   index: number,
 *   size: number,
 *   start?: number,
 *   read: ReadFn,
 *   signal?: AbortSignal,
 *   onprogress?: (progress: SendProgress) => void,
 *   maxMessageSize?: number,
 *   highWater?: number,
 *   lowWater?: number,
 *   readSize?: number,
 *   poll?: number,
 *   prefix?: Sha256,
 *   flow?: SendFlow,
 * }} SendOptions
 */

/** The clock of the flow control: seconds, steady (not the wall clock). */
export const seconds = () => performance.now() / 1000;

/**
 * One outgoing transfer's flow control: flow.js's `Window` (shared by the files of the transfer,
 * made when it starts sending), fed the receiver's `file_ack`s, and the wake-up of a `sendFile`
 * waiting on it.
 *
 *   const flow = new SendFlow(chunkSize(maxMessageSize));
 *   sendFile({..., flow});        // each file of the transfer
 *   flow.ack(msg.received);       // on each file_ack for the transfer
 */
export class SendFlow {
  /** @type {Set<() => void>} */
  #waiters = new Set();

  /**
   * @param {number} maxFrame the channel's payload bytes per frame (frames.js `chunkSize`)
   * @param {{clock?: () => number, poll?: number}} [options] clock: seconds (tests give their
   *   own); poll: ms between looks while waiting
   */
  constructor(maxFrame, { clock = seconds, poll = ACK_POLL_MS } = {}) {
    this.clock = clock;
    this.poll = poll;
    this.window = new Window(clock(), { maxFrame });
  }

  /**
   * The receiver has `received` bytes of the transfer (`file_ack`): the window moves on and a
   * waiting sender looks again.
   * @param {number} received
   */
  ack(received) {
    this.window.onAck(received, this.clock());
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * Payload bytes of the next frame: the window's frame size, at most `limit` (what is left of
   * the block, or the chunk), or 0 while there is no room for it. A frame goes when nothing is
   * in flight whatever the window says, so the sender cannot wait for an ack that never comes.
   * @param {number} limit
   */
  next(limit) {
    const size = Math.min(this.window.frame(), limit);
    const room = this.window.room(this.clock());
    return room >= size || this.window.inFlight === 0 ? size : 0;
  }

  /** @param {number} n payload bytes handed to the channel */
  sent(n) {
    this.window.onSent(n, this.clock());
  }

  /**
   * Call `wake` on the next ack; returns what stops listening.
   * @param {() => void} wake
   */
  listen(wake) {
    this.#waiters.add(wake);
    return () => void this.#waiters.delete(wake);
  }
}

/**
 * Send bytes `start..size` of one file as frames on `channel`; resolve with the SHA-256 (hex) of
 * the whole file once the last frame is handed to the channel (delivery is the receiver's word).
 *
 * `maxMessageSize` (else `channel.maxMessageSize`; give `pc.sctp.maxMessageSize`) sets the frame
 * size; `prefix` is the hash of bytes 0..start (copied, not changed); `flow` paces the frames by
 * the receiver's acknowledgements (see above); `highWater`, `lowWater`, `readSize` and `poll` are
 * there for tests.
 * @param {SendOptions} options
 * @returns {Promise<string>}
 */
export async function sendFile(options) {
  const { channel, transfer, index, size, start = 0, read, signal, onprogress, flow } = options;
  const highWater = options.highWater ?? HIGH_WATER;
  const lowWater = options.lowWater ?? LOW_WATER;
  const poll = options.poll ?? POLL_MS;
  const chunk = chunkSize(options.maxMessageSize ?? channel.maxMessageSize);
  const readSize = Math.max(chunk, Math.floor((options.readSize ?? READ_SIZE) / chunk) * chunk);
  for (const value of [transfer, index]) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`transfer ${transfer}, index ${index}: not u32`);
  }
  if (!Number.isInteger(size) || size < 0 || size > MAX_OFFSET) throw new RangeError(`bad file size ${size}`);
  if (!Number.isInteger(start) || start < 0 || start > size) throw new RangeError(`bad start ${start} for size ${size}`);
  if (!(lowWater >= 0 && highWater >= lowWater + chunk + HEADER_SIZE)) {
    throw new RangeError(`highWater ${highWater} must exceed lowWater ${lowWater} by a frame`);
  }

  if (options.prefix && options.prefix.length !== start) {
    throw new RangeError(`a prefix hash of ${options.prefix.length} bytes to start at ${start}`);
  }

  throwIfCancelled(signal);
  channel.bufferedAmountLowThreshold = lowWater;
  // resuming: the hash of what the receiver already has, given or read now (not sent)
  const hash = options.prefix ? options.prefix.copy() : await hashPrefix({ read, length: start, signal, readSize });

  /** @param {number} offset */
  const readBlock = (offset) => readExactly(read, offset, Math.min(readSize, size - offset));
  let next = start < size ? readBlock(start) : null;
  let offset = start;
  while (next) {
    const block = await abortable(next, signal);
    const end = offset + block.length;
    next = end < size ? readBlock(end) : null; // the next block is read while this one goes
    for (let at = 0; at < block.length; ) {
      const limit = Math.min(chunk, block.length - at);
      const piece = block.subarray(at, at + (flow ? await room(flow, limit, channel, signal) : limit));
      const frame = encodeFrame(transfer, index, offset + at, piece);
      while (channel.bufferedAmount + frame.length > highWater) await drained(channel, signal, poll);
      throwIfCancelled(signal);
      throwIfClosed(channel);
      hash.update(piece);
      sendFrame(channel, frame);
      flow?.sent(piece.length);
      at += piece.length;
      onprogress?.({ sent: offset + at, size });
    }
    offset = end;
  }
  return hash.hex();
}

/**
 * Hand one frame to the channel: "closed" if it closed under us, else "send_failed".
 * @param {ChannelLike} channel
 * @param {Uint8Array} frame
 */
function sendFrame(channel, frame) {
  try {
    channel.send(frame);
  } catch (err) {
    throwIfClosed(channel);
    throw Object.assign(new TransferError("send_failed", String(/** @type {any} */ (err)?.message ?? err)), {
      cause: err,
    });
  }
}

/**
 * The SHA-256 state of a source's first `length` bytes, read a block at a time: for the resume
 * decision (resume.js `resumeOffset(proof, size, hashPrefix(...).copy().hex())`), then given to
 * `sendFile` as `prefix` so the source is read once. Rejects "cancelled" on abort, "short_read"
 * if the source is shorter.
 * @param {{read: ReadFn, length: number, signal?: AbortSignal, readSize?: number}} options
 * @returns {Promise<Sha256>}
 */
export async function hashPrefix({ read, length, signal, readSize = READ_SIZE }) {
  const hash = new Sha256();
  for (let offset = 0; offset < length; ) {
    throwIfCancelled(signal);
    const block = await abortable(readExactly(read, offset, Math.min(readSize, length - offset)), signal);
    hash.update(block);
    offset += block.length;
  }
  throwIfCancelled(signal);
  return hash;
}

/**
 * A `read` for `sendFile` over a Blob or File (`file.slice(...).arrayBuffer()`).
 * @param {{slice: (start: number, end: number) => {arrayBuffer: () => Promise<ArrayBuffer>}}} blob
 * @returns {ReadFn}
 */
export function blobReader(blob) {
  return async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
}

/**
 * `read(offset, length)`, checked to give exactly `length` bytes. The promise is marked handled:
 * a block read ahead and dropped (the transfer was cancelled) does not report a rejection.
 * @param {ReadFn} read
 * @param {number} offset
 * @param {number} length
 * @returns {Promise<Uint8Array>}
 */
function readExactly(read, offset, length) {
  const promise = Promise.resolve()
    .then(() => read(offset, length))
    .then((data) => {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      if (!(bytes instanceof Uint8Array)) throw new TypeError("read must give a Uint8Array or an ArrayBuffer");
      if (bytes.length < length) {
        throw new TransferError("short_read", `read ${bytes.length} of ${length} bytes at ${offset}: the file shrank`);
      }
      return bytes.length > length ? bytes.subarray(0, length) : bytes;
    });
  promise.catch(() => {});
  return promise;
}

/** @param {AbortSignal | undefined} signal */
function cancelled(signal) {
  return Object.assign(new TransferError("cancelled", "the transfer was cancelled"), { cause: signal?.reason });
}

/** @param {AbortSignal | undefined} signal */
function throwIfCancelled(signal) {
  if (signal?.aborted) throw cancelled(signal);
}

/** @param {ChannelLike} channel */
function isClosed(channel) {
  return channel.readyState === "closing" || channel.readyState === "closed";
}

/** @param {ChannelLike} channel */
function throwIfClosed(channel) {
  if (isClosed(channel)) throw new TransferError("closed", `the data channel is ${channel.readyState}`);
}

/**
 * `promise`, or a "cancelled" rejection as soon as `signal` aborts (the promise is left to settle
 * on its own).
 * @template T
 * @param {Promise<T>} promise
 * @param {AbortSignal | undefined} signal
 * @returns {Promise<T>}
 */
function abortable(promise, signal) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(cancelled(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/**
 * The payload size of the next frame once the window has room for it (at most `limit`): looks
 * again on each ack and every `flow.poll` ms. Rejects "cancelled" on abort and "closed" when the
 * channel closes, at once.
 * @param {SendFlow} flow
 * @param {number} limit
 * @param {ChannelLike} channel
 * @param {AbortSignal | undefined} signal
 * @returns {Promise<number>}
 */
async function room(flow, limit, channel, signal) {
  for (;;) {
    throwIfCancelled(signal);
    throwIfClosed(channel);
    const size = flow.next(limit);
    if (size > 0) return size;
    await acked(flow, channel, signal);
  }
}

/**
 * Resolve on the next ack of `flow`, or after `flow.poll` ms; reject "cancelled" on abort and
 * "closed" when the channel closes (its `close` event where it has events).
 * @param {SendFlow} flow
 * @param {ChannelLike} channel
 * @param {AbortSignal | undefined} signal
 * @returns {Promise<void>}
 */
function acked(flow, channel, signal) {
  return new Promise((resolve, reject) => {
    /** @param {Error} [err] */
    const settle = (err) => {
      clearTimeout(timer);
      stopListening();
      signal?.removeEventListener("abort", onAbort);
      channel.removeEventListener?.("close", onClose);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => settle(cancelled(signal));
    const onClose = () => settle(new TransferError("closed", "the data channel closed"));
    const stopListening = flow.listen(() => settle());
    const timer = setTimeout(() => settle(), flow.poll);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (typeof channel.addEventListener === "function") channel.addEventListener("close", onClose);
  });
}

/**
 * Resolve when the channel's buffer is down to its low threshold: on `bufferedamountlow`, or
 * when a look every `poll` ms finds it so. Rejects "cancelled" on abort and "closed" when the
 * channel closes. Listens with `addEventListener` where the channel has it (RTCDataChannel),
 * else through `onbufferedamountlow`, calling the handler that was there and putting it back.
 * @param {ChannelLike} channel
 * @param {AbortSignal | undefined} signal
 * @param {number} poll
 * @returns {Promise<void>}
 */
function drained(channel, signal, poll) {
  return new Promise((resolve, reject) => {
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    /** @type {((event: any) => any) | null | undefined} */
    let previous;
    /** @type {((event: any) => void) | undefined} */
    let handler;
    const listens = typeof channel.addEventListener === "function";

    /** @param {Error} [err] */
    const settle = (err) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (listens) {
        channel.removeEventListener?.("bufferedamountlow", onLow);
        channel.removeEventListener?.("close", onClose);
      } else if (channel.onbufferedamountlow === handler) {
        channel.onbufferedamountlow = previous ?? null;
      }
      if (err) reject(err);
      else resolve();
    };
    const onLow = () => settle();
    const onAbort = () => settle(cancelled(signal));
    const onClose = () => settle(new TransferError("closed", "the data channel closed"));
    const look = () => {
      if (isClosed(channel)) onClose();
      else if (channel.bufferedAmount <= channel.bufferedAmountLowThreshold) onLow();
      else timer = setTimeout(look, poll);
    };

    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (listens) {
      channel.addEventListener?.("bufferedamountlow", onLow);
      channel.addEventListener?.("close", onClose);
    } else {
      previous = channel.onbufferedamountlow;
      handler = (event) => {
        previous?.call(channel, event);
        onLow();
      };
      channel.onbufferedamountlow = handler;
    }
    look();
  });
}
