// The binary chunk frame: golden bytes shared with the peer's tests, bounds, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";

import { BadFrame, FilesError } from "../../webui/files/errors.js";
import {
  FRAME_TOKENS, HEADER_SIZE, MAX_FRAME, MAX_OFFSET, MIN_CHUNK, chunkSize, decodeFrame, encodeFrame,
} from "../../webui/files/frames.js";

const hex = (/** @type {Uint8Array} */ bytes) => Buffer.from(bytes).toString("hex");
const unhex = (/** @type {string} */ text) => new Uint8Array(Buffer.from(text, "hex"));

/** @param {() => unknown} fn @param {string} token */
function throwsToken(fn, token) {
  assert.throws(fn, (err) => err instanceof BadFrame && err instanceof FilesError && err.token === token && err.code === token);
}

// The same vectors are asserted by the peer's tests (peer/files/frames.py): keep them in step.
const GOLDEN = [
  { transfer: 1, index: 2, offset: 3, payload: "616263", frame: "00000001000000020000000000000003616263" },
  { transfer: 4294967295, index: 0, offset: 2 ** 40, payload: "00", frame: "ffffffff00000000000001000000000000" },
  { transfer: 0, index: 4294967295, offset: 2 ** 53, payload: "ff", frame: "00000000ffffffff0020000000000000ff" },
];

test("golden frames encode to the bytes the peer expects, and decode back", () => {
  assert.equal(hex(encodeFrame(1, 2, 3, new TextEncoder().encode("abc"))), "00000001000000020000000000000003616263");
  assert.equal(hex(encodeFrame(4294967295, 0, 2 ** 40, new Uint8Array([0]))), "ffffffff000000000000010000000000" + "00");
  for (const g of GOLDEN) {
    assert.equal(hex(encodeFrame(g.transfer, g.index, g.offset, unhex(g.payload))), g.frame);
    const frame = decodeFrame(unhex(g.frame).buffer);
    assert.deepEqual(
      { transfer: frame.transfer, index: frame.index, offset: frame.offset, data: hex(frame.data) },
      { transfer: g.transfer, index: g.index, offset: g.offset, data: g.payload },
    );
  }
});

test("decode takes an ArrayBuffer or any view, and gives the payload as a view without copying", () => {
  const bytes = encodeFrame(7, 8, 9, new Uint8Array([1, 2, 3, 4]));
  const padded = new Uint8Array(bytes.length + 10);
  padded.set(bytes, 5);
  const inside = padded.subarray(5, 5 + bytes.length);
  for (const input of [bytes, bytes.buffer, inside, new DataView(padded.buffer, 5, bytes.length), Buffer.from(bytes)]) {
    const frame = decodeFrame(input);
    assert.equal(frame.transfer, 7);
    assert.equal(frame.index, 8);
    assert.equal(frame.offset, 9);
    assert.deepEqual([...frame.data], [1, 2, 3, 4]);
  }
  const view = decodeFrame(inside).data;
  assert.equal(view.buffer, padded.buffer, "no copy");
  assert.equal(view.byteOffset, 5 + HEADER_SIZE);
});

test("every offset up to 2**53 goes through exactly", () => {
  for (const offset of [0, 1, 0xffffffff, 0x100000000, 0x1fffffffffffff, 2 ** 53, 123456789012345]) {
    assert.equal(decodeFrame(encodeFrame(0, 0, offset, new Uint8Array(1))).offset, offset);
  }
});

test("bad frames are refused with a token", () => {
  throwsToken(() => decodeFrame(new Uint8Array(0)), "short_frame");
  throwsToken(() => decodeFrame(new Uint8Array(15)), "short_frame");
  throwsToken(() => decodeFrame(new Uint8Array(16)), "empty_chunk");
  throwsToken(() => decodeFrame(new Uint8Array(MAX_FRAME + 1)), "frame_too_large");
  assert.doesNotThrow(() => decodeFrame(new Uint8Array(MAX_FRAME)));
  throwsToken(() => decodeFrame(unhex("00000000000000000020000000000001ff")), "offset_too_large");
  throwsToken(() => decodeFrame(unhex("00000000000000000020000100000000ff")), "offset_too_large");
  throwsToken(() => decodeFrame(unhex("000000000000000080000000000000ffff")), "offset_too_large");
  assert.equal(decodeFrame(unhex("00000000000000000020000000000000ff").buffer).offset, MAX_OFFSET);
  // what a channel left on binaryType "blob", or a text message, would hand over
  throwsToken(() => decodeFrame("abc"), "not_binary");
  throwsToken(() => decodeFrame(new Blob([new Uint8Array(20)])), "not_binary");
  throwsToken(() => decodeFrame(null), "not_binary");
  throwsToken(() => decodeFrame([0, 0, 0, 1]), "not_binary");
  assert.deepEqual(FRAME_TOKENS, ["short_frame", "empty_chunk", "frame_too_large", "not_binary", "offset_too_large"]);
});

test("encoding refuses what our own code should never ask for", () => {
  const one = new Uint8Array(1);
  assert.throws(() => encodeFrame(-1, 0, 0, one), RangeError);
  assert.throws(() => encodeFrame(2 ** 32, 0, 0, one), RangeError);
  assert.throws(() => encodeFrame(0, 1.5, 0, one), RangeError);
  assert.throws(() => encodeFrame(0, 0, -1, one), RangeError);
  assert.throws(() => encodeFrame(0, 0, 2 ** 53 + 2, one), RangeError);
  assert.throws(() => encodeFrame(0, 0, 0.5, one), RangeError);
  assert.throws(() => encodeFrame(0, 0, 0, new Uint8Array(0)), RangeError);
  assert.throws(() => encodeFrame(0, 0, 0, new Uint8Array(MAX_FRAME - HEADER_SIZE + 1)), RangeError);
  assert.throws(() => encodeFrame(0, 0, 0, /** @type {any} */ ([1])), TypeError);
  assert.equal(encodeFrame(0, 0, 0, new Uint8Array(MAX_FRAME - HEADER_SIZE)).length, MAX_FRAME);
});

test("chunk size: the channel's message limit, at most 64 KiB, less the header, at least 1 KiB", () => {
  assert.equal(chunkSize(), 65520);
  assert.equal(chunkSize(0), 65520);
  assert.equal(chunkSize(null), 65520);
  assert.equal(chunkSize(NaN), 65520);
  assert.equal(chunkSize(Infinity), 65520, "Firefox reports Infinity for no limit");
  assert.equal(chunkSize(262144), 65520, "Chrome's 256 KiB is more than a frame takes");
  assert.equal(chunkSize(65536), 65520, "aiortc's limit");
  assert.equal(chunkSize(16384), 16368);
  assert.equal(chunkSize(1040), MIN_CHUNK);
  assert.equal(chunkSize(100), MIN_CHUNK);
  assert.equal(chunkSize(-5), MIN_CHUNK);
  assert.equal(chunkSize(16384.9), 16368);
});
