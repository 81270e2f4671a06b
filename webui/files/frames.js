// @ts-check
/**
 * The binary chunk frame on the files data channel, the same bytes as the peer's
 * `peer/files/frames.py`:
 *
 *     offset  size  field
 *          0     4  transfer  u32 big-endian   which transfer (chosen by its sender)
 *          4     4  index     u32 big-endian   which file of that transfer, from 0
 *          8     8  offset    u64 big-endian   where in the file the payload starts
 *         16     n  payload   1 <= n <= MAX_FRAME - 16 bytes of the file
 *
 * A whole frame is at most `MAX_FRAME` (64 KiB) and never empty of data. Offsets are JS Numbers,
 * exact up to 2**53 (8 PiB); a frame claiming more is refused rather than read inexactly.
 *
 *   encodeFrame(transfer, index, offset, payload) -> Uint8Array   (copies the payload once)
 *   decodeFrame(buffer) -> {transfer, index, offset, data}        (data is a view, no copy)
 *   chunkSize(maxMessageSize) -> payload bytes per frame
 *
 * The data channel must deliver ArrayBuffers: set `channel.binaryType = "arraybuffer"` (Firefox
 * defaults to "blob", which `decodeFrame` refuses as "not_binary").
 */

import { BadFrame } from "./errors.js";

/** Bytes of the header before the payload. */
export const HEADER_SIZE = 16;
/** The largest frame, header included: the SCTP message size every browser and aiortc accept. */
export const MAX_FRAME = 65536;
/** The smallest payload `chunkSize` gives, whatever the channel claims. */
export const MIN_CHUNK = 1024;
/** The largest offset a frame may carry: past it a Number is no longer exact. */
export const MAX_OFFSET = 2 ** 53;

/**
 * Every token `decodeFrame` throws (as `BadFrame.token`): the first three are frames.py's
 * FRAME_CODES; "not_binary" (a text or Blob message) and "offset_too_large" (past 2**53, which
 * a Number cannot hold exactly) exist only here.
 */
export const FRAME_TOKENS = Object.freeze(["short_frame", "empty_chunk", "frame_too_large", "not_binary", "offset_too_large"]);

/**
 * @param {number} value
 * @param {string} what
 */
function checkU32(value, what) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} must be an integer in 0..2**32-1, not ${value}`);
  }
}

/**
 * One frame: the 16-byte header, then a copy of `payload`.
 * @param {number} transfer u32
 * @param {number} index u32
 * @param {number} offset 0..2**53
 * @param {Uint8Array} payload 1..MAX_FRAME-16 bytes
 * @returns {Uint8Array}
 */
export function encodeFrame(transfer, index, offset, payload) {
  checkU32(transfer, "transfer");
  checkU32(index, "index");
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) {
    throw new RangeError(`offset must be an integer in 0..2**53, not ${offset}`);
  }
  if (!(payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
  if (payload.length === 0) throw new RangeError("a frame carries at least one byte");
  if (payload.length > MAX_FRAME - HEADER_SIZE) {
    throw new RangeError(`payload of ${payload.length} bytes; a frame carries at most ${MAX_FRAME - HEADER_SIZE}`);
  }
  const frame = new Uint8Array(HEADER_SIZE + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, transfer);
  view.setUint32(4, index);
  view.setUint32(8, Math.floor(offset / 0x100000000));
  view.setUint32(12, offset % 0x100000000);
  frame.set(payload, HEADER_SIZE);
  return frame;
}

/**
 * Read a frame as it came off the channel. `data` is a view into `buffer`, not a copy: copy it
 * (or hand it to a Blob) before the buffer is reused.
 * @param {ArrayBuffer | ArrayBufferView | unknown} buffer
 * @returns {{transfer: number, index: number, offset: number, data: Uint8Array}}
 * @throws {BadFrame} short_frame, empty_chunk, frame_too_large, not_binary, offset_too_large
 */
export function decodeFrame(buffer) {
  /** @type {Uint8Array} */
  let bytes;
  if (buffer instanceof ArrayBuffer) bytes = new Uint8Array(buffer);
  else if (ArrayBuffer.isView(buffer)) bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  else throw new BadFrame("not_binary", `a frame is binary, not ${describe(buffer)}`);
  if (bytes.length < HEADER_SIZE) {
    throw new BadFrame("short_frame", `${bytes.length} bytes; the header alone is ${HEADER_SIZE}`);
  }
  if (bytes.length === HEADER_SIZE) throw new BadFrame("empty_chunk", "a frame with a header and no data");
  if (bytes.length > MAX_FRAME) throw new BadFrame("frame_too_large", `${bytes.length} bytes; a frame is at most ${MAX_FRAME}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const high = view.getUint32(8);
  const low = view.getUint32(12);
  if (high > 0x200000 || (high === 0x200000 && low > 0)) {
    throw new BadFrame("offset_too_large", `offset 0x${high.toString(16)}${low.toString(16).padStart(8, "0")} is past 2**53`);
  }
  return {
    transfer: view.getUint32(0),
    index: view.getUint32(4),
    offset: high * 0x100000000 + low,
    data: bytes.subarray(HEADER_SIZE),
  };
}

/** @param {unknown} value */
function describe(value) {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value;
}

/**
 * Payload bytes per frame on a channel whose messages may be `maxMessageSize` bytes
 * (`pc.sctp.maxMessageSize`; 0, missing or not a number means "unknown", taken as 64 KiB):
 * `min(maxMessageSize, MAX_FRAME) - HEADER_SIZE`, and never under `MIN_CHUNK`.
 * @param {number | null | undefined} [maxMessageSize]
 */
export function chunkSize(maxMessageSize) {
  const limit = Math.min(maxMessageSize || MAX_FRAME, MAX_FRAME);
  return Math.max(Math.floor(limit) - HEADER_SIZE, MIN_CHUNK);
}
