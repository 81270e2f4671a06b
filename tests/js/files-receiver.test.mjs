// One incoming file, as the peer's tests/test_files_incoming.py checks its own: order, bounds,
// a failure that sticks, the hash at the end, resume from a proven prefix, the resume decision.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { Crc32, crc32 } from "../../webui/files/crc32.js";
import { TransferError } from "../../webui/files/errors.js";
import { Incoming, TRANSFER_TOKENS } from "../../webui/files/receiver.js";
import { EMPTY_SHA256, isSha256Hex, proofOf, resumeOffset, sameDigest } from "../../webui/files/resume.js";
import { Sha256 } from "../../webui/sha256.js";

const enc = new TextEncoder();
const b = (/** @type {string} */ text) => enc.encode(text);
const sha = (/** @type {Uint8Array | string} */ data) => createHash("sha256").update(data).digest("hex");

/** @param {() => unknown} fn @param {string} token */
function throwsToken(fn, token) {
  assert.throws(fn, (err) => err instanceof TransferError && err.token === token && err.code === token);
}

/** A seeded generator (mulberry32). */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cut `data` at random places: [[offset, piece], ...] in order. */
function splits(data, next) {
  const out = [];
  for (let at = 0; at < data.length; ) {
    const n = Math.min(data.length - at, Math.floor(next() * 300));
    out.push([at, data.subarray(at, at + n)]);
    at += n;
  }
  return out;
}

test("a file in three chunks; progress on the way", () => {
  const file = new Incoming(9);
  assert.equal(file.fraction, 0);
  assert.equal(file.chunk(0, b("abc")), 3);
  assert.equal(file.received, 3);
  assert.equal(file.remaining, 6);
  assert.equal(file.fraction, 3 / 9);
  file.chunk(3, b("def"));
  file.chunk(6, b("ghi"));
  assert.equal(file.complete, true);
  assert.equal(file.finished, false);
  assert.deepEqual(file.finish(sha("abcdefghi")), { ok: true, token: null, sha256: sha("abcdefghi") });
  assert.equal(file.finished, true);
  assert.equal(file.failed, null);
});

test("an empty file; the claimed hash in any case", () => {
  const empty = new Incoming(0);
  assert.equal(empty.fraction, 1);
  assert.equal(empty.chunk(0, new Uint8Array(0)), 0);
  assert.deepEqual(empty.finish(EMPTY_SHA256), { ok: true, token: null, sha256: EMPTY_SHA256 });
  const upper = new Incoming(3);
  upper.chunk(0, b("abc"));
  assert.equal(upper.finish(sha("abc").toUpperCase()).ok, true);
});

test("out of order, past the end, after the end (the peer's cases); a failure sticks", () => {
  let file = new Incoming(6);
  file.chunk(0, b("ab"));
  throwsToken(() => file.chunk(4, b("ef")), "out_of_order"); // a gap
  throwsToken(() => file.chunk(2, b("cd")), "out_of_order"); // failed: nothing more is taken
  assert.equal(file.failed, "out_of_order");
  assert.deepEqual(file.finish(sha("abcdef")), { ok: false, token: "out_of_order", sha256: sha("ab") });

  file = new Incoming(4);
  file.chunk(0, b("abc"));
  throwsToken(() => file.chunk(2, b("cd")), "out_of_order"); // an overlap
  file = new Incoming(4);
  throwsToken(() => file.chunk(0, b("abcde")), "past_end");
  file = new Incoming(4);
  file.chunk(0, b("abc"));
  throwsToken(() => file.chunk(0, b("abc")), "out_of_order"); // a repeat

  file = new Incoming(2);
  file.chunk(0, b("ab"));
  assert.equal(file.finish(sha("ab")).ok, true);
  throwsToken(() => file.chunk(2, b("c")), "finished");
  throwsToken(() => file.finish(sha("ab")), "finished");
});

test("short and hash mismatch (the peer's cases)", () => {
  let file = new Incoming(5);
  file.chunk(0, b("abc"));
  assert.deepEqual(file.finish(sha("abc")), { ok: false, token: "short", sha256: sha("abc") });
  assert.equal(file.finished, true);
  file = new Incoming(3);
  file.chunk(0, b("abc"));
  assert.deepEqual(file.finish(sha("abd")), { ok: false, token: "hash_mismatch", sha256: sha("abc") });
  file = new Incoming(3);
  file.chunk(0, b("abc"));
  assert.equal(file.finish("not a hash").token, "hash_mismatch");
  file = new Incoming(0);
  assert.equal(file.finish(/** @type {any} */ (null)).token, "hash_mismatch");
  assert.deepEqual([...TRANSFER_TOKENS].sort(), ["bad_start", "finished", "hash_mismatch", "out_of_order", "past_end", "short"]);
});

test("random sequences of chunks follow the model (seeded)", () => {
  const next = random(11);
  for (let round = 0; round < 500; round++) {
    const size = Math.floor(next() * 200);
    const file = new Incoming(size);
    let expected = 0;
    /** @type {string | null} */
    let failed = null;
    const taken = [];
    const count = Math.floor(next() * 12);
    for (let i = 0; i < count; i++) {
      // mostly the right offset, sometimes anywhere
      const offset = next() < 0.7 ? expected : Math.floor(next() * 260);
      const data = new Uint8Array(Math.floor(next() * 60)).map(() => Math.floor(next() * 256));
      /** @type {string | null} */
      let want = failed;
      if (failed === null && offset !== expected) want = "out_of_order";
      else if (failed === null && offset + data.length > size) want = "past_end";
      if (want === null) {
        assert.equal(file.chunk(offset, data), data.length);
        expected += data.length;
        taken.push(data);
      } else {
        throwsToken(() => file.chunk(offset, data), want);
        failed = want;
      }
    }
    const all = Buffer.concat(taken);
    const right = next() < 0.5;
    const verdict = file.finish(right ? sha(all) : sha(Buffer.concat([all, b("!")])));
    assert.equal(verdict.sha256, sha(all));
    assert.equal(verdict.ok, failed === null && expected === size && right);
    if (failed !== null) assert.equal(verdict.token, failed);
  }
});

test("a sender lying about the size never gets ok", () => {
  const next = random(5);
  for (let round = 0; round < 300; round++) {
    const payload = new Uint8Array(Math.floor(next() * 2000)).map(() => Math.floor(next() * 256));
    const lie = Math.floor(next() * 600) - 300 || 1;
    const declared = Math.max(0, payload.length + lie);
    if (declared === payload.length) continue;
    const file = new Incoming(declared);
    try {
      for (const [offset, piece] of splits(payload, next)) file.chunk(offset, piece);
    } catch (err) {
      assert.ok(err instanceof TransferError && err.token === "past_end" && payload.length > declared);
    }
    const verdict = file.finish(sha(payload));
    assert.equal(verdict.ok, false);
    assert.equal(verdict.token, payload.length > declared ? "past_end" : "short");
  }
});

test("our own misuse is a RangeError, not a token", () => {
  for (const args of [[-1], [5, 6], [5, -1], [2 ** 53 + 2], [1.5]]) {
    assert.throws(() => new Incoming(.../** @type {[number, number?]} */ (args)), RangeError, String(args));
  }
  const file = new Incoming(10, 4);
  assert.equal(file.seeded, false);
  assert.throws(() => file.chunk(4, b("x")), /seed/);
  file.seed(b("abc"));
  assert.throws(() => file.seed(b("de")), RangeError, "more than the start");
  assert.throws(() => file.finish(EMPTY_SHA256), RangeError);
});

test("resume from a proven prefix: from the hash state, or seeded from the kept bytes", () => {
  const next = random(99);
  for (let round = 0; round < 200; round++) {
    const payload = new Uint8Array(Math.floor(next() * 3000)).map(() => Math.floor(next() * 256));
    const start = Math.floor(next() * (payload.length + 1));
    const block = 1 + Math.floor(next() * 700);
    const prefix = payload.subarray(0, start);
    // the receiver hashes its partial file block by block and sends the proof
    const hasher = new Sha256();
    for (let i = 0; i < prefix.length; i += block) hasher.update(prefix.subarray(i, i + block));
    const proof = proofOf(hasher);
    assert.deepEqual(proof, { length: start, sha256: sha(prefix) });
    // the sender hashes the same length of its source and decides
    const offset = resumeOffset(proof, payload.length, sha(payload.subarray(0, proof.length)));
    assert.equal(offset, start === 0 ? 0 : start);
    // the receiver goes on from its hash state, or seeds a fresh assembler from the disk
    const resumed = Incoming.resuming(payload.length, hasher, offset);
    const seeded = new Incoming(payload.length, start);
    for (let i = 0; i < prefix.length; i += block) seeded.seed(prefix.subarray(i, i + block));
    for (const file of [resumed, seeded]) {
      assert.deepEqual([file.received, file.remaining], [start, payload.length - start]);
      for (const [at, piece] of splits(payload.subarray(start), next)) file.chunk(start + at, piece);
      assert.equal(file.finish(sha(payload)).ok, true);
    }
    assert.equal(hasher.length, start, "resuming copied the hash state");
  }
});

test("resuming from an offset not proven is bad_start", () => {
  const hasher = new Sha256().update(b("abcd"));
  assert.equal(Incoming.resuming(10, hasher, 0).received, 0, "the sender starts over");
  for (const start of [3, 5, 11]) throwsToken(() => Incoming.resuming(10, hasher, start), "bad_start");
  throwsToken(() => Incoming.resuming(3, hasher, 4), "bad_start");
});

test("the resume decision (the peer's cases)", () => {
  /** @type {Array<[string, string, number]>} */
  const cases = [["", "hello", 0], ["hel", "hello", 3], ["hello", "hello", 5], ["hex", "hello", 0], ["hello!", "hello", 0]];
  for (const [partial, source, offset] of cases) {
    const sourcePrefix = partial.length <= source.length ? sha(source.slice(0, partial.length)) : null;
    assert.equal(resumeOffset({ length: partial.length, sha256: sha(partial) }, source.length, sourcePrefix), offset, partial);
  }
  // a malformed proof starts over
  assert.equal(resumeOffset({ length: 3, sha256: "XYZ" }, 10, sha("abc")), 0);
  assert.equal(resumeOffset({ length: 3, sha256: sha("abc").toUpperCase() }, 10, sha("abc")), 0, "the wire carries lower case");
  assert.equal(resumeOffset({ length: -1, sha256: sha("") }, 10, sha("")), 0);
  assert.equal(resumeOffset({ length: 1.5, sha256: sha("") }, 10, sha("")), 0);
  assert.equal(resumeOffset(null, 10, null), 0);
  assert.ok(isSha256Hex(sha("x")) && !isSha256Hex(sha("x").toUpperCase()) && !isSha256Hex(42));
  assert.ok(sameDigest(sha("x"), sha("x").toUpperCase()) && !sameDigest(sha("x"), sha("y")));
});

test("the CRC-32 for the zip, when asked for, covers the kept bytes too", () => {
  const data = b("The quick brown fox jumps over the lazy dog");
  const file = new Incoming(data.length, 10, { crc32: true });
  file.seed(data.subarray(0, 10));
  file.chunk(10, data.subarray(10, 30));
  assert.equal(file.crc32, null, "only once complete");
  file.chunk(30, data.subarray(30));
  assert.equal(file.crc32, 0x414fa339);
  // resuming from a hash state: the CRC of the prefix comes along
  const hasher = new Sha256().update(data.subarray(0, 10));
  const crc = new Crc32().update(data.subarray(0, 10));
  const resumed = Incoming.resuming(data.length, hasher, 10, { crc32: crc });
  resumed.chunk(10, data.subarray(10));
  assert.equal(resumed.crc32, crc32(data));
  assert.equal(crc.value, crc32(data.subarray(0, 10)), "copied, not changed");
  assert.equal(new Incoming(5).crc32, null);
});
