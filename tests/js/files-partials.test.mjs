// The store of files from the customer cut off half-way (webui/files/partials.js), in memory as
// node has no IndexedDB: the key of "the same file offered again", appends only at the end, the
// bound on all bytes (least recently written dropped first) and on age, a backend that fails,
// and the proofs an answer carries (SHA-256 and CRC-32 of the kept prefix).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { crc32 } from "../../webui/files/crc32.js";
import {
  MAX_PARTIAL_AGE_MS, MAX_PARTIAL_BYTES, MAX_PROOFS, PartialStore, capFor, evictions, memoryBackend, memoryPartials,
  openPartials, partialId, proofsFor, provePartial,
} from "../../webui/files/partials.js";

const sha = (/** @type {Uint8Array} */ data) => createHash("sha256").update(data).digest("hex");
const DAY = 24 * 3600 * 1000;
const blob = (/** @type {number} */ n, fill = 1) => new Blob([new Uint8Array(n).fill(fill)]);
const key = (/** @type {string} */ path, size = 100, fromFolder = "C:\\Users\\bob") => ({ fromFolder, path, size });
/** The bytes of a Blob. */
const bytesOf = async (/** @type {Blob} */ b) => new Uint8Array(await b.arrayBuffer());

/** A memory store whose clock moves only when a test moves it. */
function store(options = {}) {
  const clock = { now: 1_000_000 };
  const partials = memoryPartials({ now: () => clock.now, ...options });
  return { partials, clock };
}

test("a partial file is known by the offer's from_folder, the entry's path and its size", async () => {
  const ids = new Set([
    partialId(key("a.bin")), partialId(key("a.bin", 101)), partialId(key("A.bin")), partialId(key("a.bin", 100, "D:\\")),
    partialId({ fromFolder: "x", path: "y\",\"z", size: 1 }), partialId({ fromFolder: "x\",\"y", path: "z", size: 1 }),
  ]);
  assert.equal(ids.size, 6, "no two of them alike, quotes in names neither");
  const { partials } = store();
  assert.equal(await partials.append(key("a.bin"), 0, blob(10, 7)), true);
  assert.equal(await partials.find(key("a.bin", 101)), null, "another size: another file");
  assert.equal(await partials.find(key("a.bin", 100, "D:\\")), null, "another folder: another file");
  const found = await partials.find(key("a.bin"));
  assert.equal(found?.length, 10);
  assert.deepEqual(await bytesOf(/** @type {Blob} */ (found?.blob)), new Uint8Array(10).fill(7));
});

test("bytes are kept only in order, from where the kept ones end, within the file's size", async () => {
  const { partials } = store();
  const k = key("a.bin", 25);
  assert.equal(await partials.append(k, 5, blob(5)), false, "a file not kept starts at 0");
  assert.equal(await partials.append(k, 0, new Blob([new Uint8Array([1, 2, 3])])), true);
  assert.equal(await partials.append(k, 0, blob(3)), false, "not again from 0");
  assert.equal(await partials.append(k, 4, blob(3)), false, "a gap");
  assert.equal(await partials.append(k, 3, new Blob([new Uint8Array([4, 5])])), true);
  assert.equal(await partials.append(k, 5, blob(21)), false, "past the file's size");
  assert.equal(await partials.append(k, 5, new Blob([])), true, "nothing: nothing to do");
  const found = await partials.find(k);
  assert.deepEqual(await bytesOf(/** @type {Blob} */ (found?.blob)), new Uint8Array([1, 2, 3, 4, 5]));
  assert.deepEqual((await partials.list()).map((m) => [m.path, m.length, m.chunks]), [["a.bin", 5, 2]]);
  await partials.drop(k);
  assert.equal(await partials.find(k), null);
  assert.deepEqual(await partials.list(), []);
  await partials.drop(k); // nothing kept: nothing happens
});

test("the bound on all bytes: the least recently written partial goes first; a file alone over it is kept up to it", async () => {
  const { partials, clock } = store({ maxBytes: 100 });
  assert.equal(await partials.maxBytes(), 100);
  assert.equal(await partials.append(key("a"), 0, blob(40)), true);
  clock.now += 10;
  assert.equal(await partials.append(key("b"), 0, blob(30)), true);
  clock.now += 10;
  assert.equal(await partials.append(key("a"), 40, blob(10)), true, "a is written again: b is now the oldest");
  clock.now += 10;
  assert.equal(await partials.append(key("c", 200), 0, blob(30)), true, "110 > 100: b goes");
  assert.deepEqual((await partials.list()).map((m) => [m.path, m.length]), [["a", 50], ["c", 30]]);
  clock.now += 10;
  assert.equal(await partials.append(key("c", 200), 30, blob(60)), true, "140 > 100: a goes");
  assert.deepEqual((await partials.list()).map((m) => [m.path, m.length]), [["c", 90]]);
  clock.now += 10;
  assert.equal(await partials.append(key("c", 200), 90, blob(20)), false, "c alone would pass the bound");
  assert.equal((await partials.find(key("c", 200)))?.length, 90, "what it has stays");
  const total = (await partials.list()).reduce((s, m) => s + m.length, 0);
  assert.ok(total <= 100);
});

test("a partial not written for seven days is dropped, when the store opens and when it is looked at", async () => {
  const { partials, clock } = store();
  await partials.append(key("old"), 0, blob(10));
  clock.now += 2 * DAY;
  await partials.append(key("new"), 0, blob(10));
  clock.now += MAX_PARTIAL_AGE_MS - 1 * DAY; // "old" is 8 days old, "new" 6
  assert.equal(await partials.find(key("old")), null);
  assert.equal((await partials.find(key("new")))?.length, 10);
  assert.deepEqual((await partials.list()).map((m) => m.path), ["new"]);

  // a backend holding old ones (a page opened after a week): they go at once
  const backend = memoryBackend();
  const meta = { id: partialId(key("stale")), ...key("stale"), length: 3, chunks: 1, created: 0, updated: 0 };
  await backend.write(meta, { seq: 0, blob: blob(3) });
  await backend.write({ ...meta, id: partialId(key("fresh")), path: "fresh", updated: 8 * DAY }, { seq: 0, blob: blob(3) });
  const reopened = new PartialStore(backend, { now: () => 8 * DAY });
  assert.deepEqual((await reopened.list()).map((m) => m.path), ["fresh"]);
  assert.deepEqual((await backend.load()).map((m) => m.path), ["fresh"], "gone from the backend too");
  assert.equal((await new PartialStore(backend, { now: () => 8 * DAY }).find(key("fresh")))?.length, 3, "kept across stores (a reload)");
});

test("evictions and capFor, the pure decisions", () => {
  const m = (/** @type {string} */ id, length, updated) => ({ id, fromFolder: "", path: id, size: 1000, length, chunks: 1, created: 0, updated });
  const metas = [m("a", 30, 5), m("b", 30, 1), m("c", 30, 3), m("old", 5, -100)];
  const base = { now: 10, maxBytes: 100, maxAge: 50 };
  assert.deepEqual(evictions(metas, base), { drop: ["old"], fits: true });
  assert.deepEqual(evictions(metas, { ...base, keep: "a", adding: 20 }), { drop: ["old", "b"], fits: true });
  assert.deepEqual(evictions(metas, { ...base, keep: "a", adding: 50 }), { drop: ["old", "b", "c"], fits: true });
  assert.deepEqual(evictions(metas, { ...base, keep: "a", adding: 71 }), { drop: ["old"], fits: false }, "alone too big: nothing else goes");
  assert.deepEqual(evictions(metas, { ...base, keep: "new", adding: 100 }), { drop: ["old", "b", "c", "a"], fits: true });
  assert.deepEqual(evictions([m("k", 10, -100)], { ...base, keep: "k", adding: 1 }), { drop: [], fits: true }, "the one written now is not old");

  assert.equal(capFor(undefined), MAX_PARTIAL_BYTES);
  assert.equal(capFor({ quota: 0 }), MAX_PARTIAL_BYTES, "a browser that says nothing useful");
  assert.equal(capFor({ quota: 1000, usage: 10 }), 500);
  assert.equal(capFor({ quota: 100 * 1024 ** 3 }), MAX_PARTIAL_BYTES);
});

test("a backend that fails: the store goes on in memory, or says false and changes nothing", async () => {
  const broken = new PartialStore(Promise.reject(new Error("private window")));
  assert.equal(await broken.kind(), "memory");
  assert.equal(await broken.append(key("a"), 0, blob(5)), true);
  assert.equal((await broken.find(key("a")))?.length, 5);

  const backend = memoryBackend();
  let fail = false;
  const flaky = { ...backend, write: async (/** @type {any} */ meta, /** @type {any} */ chunk) => {
    if (fail) throw new DOMException("full", "QuotaExceededError");
    return backend.write(meta, chunk);
  } };
  const partials = new PartialStore(flaky);
  assert.equal(await partials.append(key("a"), 0, blob(5)), true);
  fail = true;
  assert.equal(await partials.append(key("a"), 5, blob(5)), false);
  fail = false;
  assert.equal((await partials.find(key("a")))?.length, 5, "as it was");
  assert.equal(await partials.append(key("a"), 5, blob(5)), true, "and on from there");

  // what was written is not what is read back: of no use, dropped
  const lying = new PartialStore({ ...memoryBackend(), chunks: async () => [blob(2)] });
  await lying.append(key("x"), 0, blob(5));
  assert.equal(await lying.find(key("x")), null);
  assert.deepEqual(await lying.list(), []);
});

test("openPartials: memory without IndexedDB, bounded by half the storage estimate", async () => {
  const partials = openPartials({ indexedDB: undefined, storage: { estimate: async () => ({ quota: 4000, usage: 0 }) } });
  assert.equal(await partials.kind(), "memory");
  assert.equal(await partials.maxBytes(), 2000);
  const failing = openPartials({
    indexedDB: /** @type {any} */ ({ open: () => { throw new Error("SecurityError"); } }),
    storage: { estimate: () => Promise.reject(new Error("no")) },
  });
  assert.equal(await failing.kind(), "memory");
  assert.equal(await failing.maxBytes(), MAX_PARTIAL_BYTES);
});

test("provePartial: the SHA-256 and CRC-32 of the kept bytes, read block by block; proofsFor an offer", async () => {
  const data = new Uint8Array(10_000).map((_, i) => (i * 31) % 256);
  const parts = new Blob([data.subarray(0, 3000), new Blob([data.subarray(3000)])]);
  const { hash, crc } = await provePartial(parts, { readSize: 777 });
  assert.equal(hash.length, data.length);
  assert.equal(hash.copy().hex(), sha(data));
  assert.equal(crc.value, crc32(data));

  const { partials } = store();
  const from = "/home/bob";
  const entries = [{ path: "a", size: 20_000 }, { path: "empty", size: 0 }, { path: "b", size: 50 }, { path: "c", size: 10_000 }];
  await partials.append({ fromFolder: from, path: "a", size: 20_000 }, 0, parts);
  await partials.append({ fromFolder: from, path: "c", size: 10_000 }, 0, new Blob([data.subarray(0, 10)]));
  const proofs = await proofsFor(partials, from, entries, [0, 1, 2, 3]);
  assert.deepEqual([...(proofs ?? new Map())].map(([i, p]) => [i, p.length, p.hash.copy().hex()]), [
    [0, 10_000, sha(data)], [3, 10, sha(data.subarray(0, 10))],
  ]);
  assert.equal(await proofsFor(partials, from, entries, [0, 3], () => false), null, "the transfer ended meanwhile");
  assert.equal((await proofsFor(partials, "/elsewhere", entries, [0, 3]))?.size, 0);

  const many = Array.from({ length: MAX_PROOFS + 5 }, (_, i) => ({ path: `f${i}`, size: 10 }));
  for (const e of many) await partials.append({ fromFolder: from, ...e }, 0, blob(1));
  assert.equal((await proofsFor(partials, from, many, many.map((_, i) => i)))?.size, MAX_PROOFS, "what one answer may carry");
});
