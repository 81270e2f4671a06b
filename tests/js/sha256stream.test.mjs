// The incremental SHA-256 and CRC-32 against node's own, on random data cut at random places.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";

import { Crc32, crc32 } from "../../webui/files/crc32.js";
import { Sha256, sha256Hex } from "../../webui/sha256.js";

const nodeSha = (/** @type {Uint8Array} */ data) => createHash("sha256").update(data).digest("hex");

/** A seeded generator (mulberry32): the same "random" data on every run. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @param {() => number} next @param {number} n */
const bytes = (next, n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));

test("FIPS 180-2 vectors", () => {
  assert.equal(new Sha256().hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(new Sha256().update(new TextEncoder().encode("abc")).hex(),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const a = new Sha256();
  const thousand = new Uint8Array(1000).fill(0x61);
  for (let i = 0; i < 1000; i++) a.update(thousand);
  assert.equal(a.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  assert.equal(a.length, 1_000_000);
});

test("random data cut at random places hashes as node:crypto hashes it whole", () => {
  const next = random(42);
  for (let round = 0; round < 60; round++) {
    const data = bytes(next, Math.floor(next() * 5000));
    const hash = new Sha256();
    for (let at = 0; at < data.length; ) {
      const step = Math.floor(next() * 300);
      hash.update(data.subarray(at, at + step));
      at += step;
    }
    assert.equal(hash.hex(), nodeSha(data), `round ${round}, ${data.length} bytes`);
    assert.equal(hash.length, data.length);
  }
});

test("every length around the padding boundaries, fed byte by byte and whole", () => {
  for (let n = 0; n <= 200; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    const byByte = new Sha256();
    for (let i = 0; i < n; i++) byByte.update(data.subarray(i, i + 1));
    assert.equal(byByte.hex(), nodeSha(data), `length ${n}`);
    assert.equal(new Sha256().update(data).hex(), sha256Hex(data));
  }
});

test("a large file in 64 KiB chunks, and one update larger than the rest", () => {
  const data = bytes(random(7), 3 * 65536 + 123);
  const hash = new Sha256();
  hash.update(data.subarray(0, 5));
  for (let at = 5; at < data.length; at += 65536) hash.update(data.subarray(at, at + 65536));
  assert.equal(hash.hex(), nodeSha(data));
  assert.equal(new Sha256().update(data).hex(), nodeSha(data));
});

test("a finished hash gives the same digest again and takes no more data", () => {
  const hash = new Sha256().update(new Uint8Array([1, 2, 3]));
  const first = hash.digest();
  first[0] ^= 0xff; // the caller's copy, not the hash's
  assert.equal(hash.hex(), nodeSha(new Uint8Array([1, 2, 3])));
  assert.throws(() => hash.update(new Uint8Array(1)), /finished/);
  assert.throws(() => new Sha256().update(/** @type {any} */ ("text")), TypeError);
});

test("a copy goes on alone: a digest of the prefix without finishing the hash", () => {
  const data = bytes(random(9), 1000);
  for (const cut of [0, 1, 63, 64, 65, 500, 1000]) {
    const hash = new Sha256().update(data.subarray(0, cut));
    const copy = hash.copy();
    assert.equal(copy.hex(), nodeSha(data.subarray(0, cut)));
    assert.equal(copy.length, cut);
    hash.update(data.subarray(cut));
    assert.equal(hash.hex(), nodeSha(data), `cut at ${cut}`);
  }
  const crc = new Crc32().update(data.subarray(0, 10));
  const other = crc.copy().update(data.subarray(10));
  assert.equal(crc.value, crc32(data.subarray(0, 10)));
  assert.equal(other.value, crc32(data));
});

test("CRC-32: the check value, known strings, and node's zlib on random pieces", () => {
  assert.equal(crc32("123456789"), 0xcbf43926);
  assert.equal(crc32(""), 0);
  assert.equal(crc32("a"), 0xe8b7be43);
  assert.equal(crc32("The quick brown fox jumps over the lazy dog"), 0x414fa339);
  assert.equal(crc32(new Uint8Array(32)), 0x190a55ad);
  assert.equal(crc32(new Uint8Array(32).fill(0xff)), 0xff6cab0b);
  const next = random(3);
  for (let round = 0; round < 40; round++) {
    const data = bytes(next, Math.floor(next() * 3000));
    const crc = new Crc32();
    for (let at = 0; at < data.length; ) {
      const step = Math.floor(next() * 50);
      crc.update(data.subarray(at, at + step));
      at += step;
    }
    assert.equal(crc.value, crc32(data));
    if (typeof zlib.crc32 === "function") assert.equal(crc32(data), zlib.crc32(data), `round ${round}`);
  }
});
