// The transfers' numbers without the DOM: bytes, fraction, speed, time left, outcomes.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Transfers, formatBytes, formatDuration, speedOf, stats } from "../../webui/transfers.js";

const FILES = [{ path: "a.bin", size: 1000 }, { path: "b.bin", size: 3000 }, { path: "empty", size: 0, folder: true }];

test("a transfer offered, accepted and moving: bytes, fraction, speed and time left", () => {
  const list = new Transfers();
  const tr = list.add({ key: "out:7:1", transfer: 7, direction: "to_customer", name: "stuff", files: FILES, now: 0 });
  assert.equal(tr.state, "offering");
  assert.equal(tr.total, 4000);
  assert.equal(tr.files[2].state, "ok", "an empty folder has nothing to move");
  assert.equal(stats(tr, 0).speed, null);
  list.accept("out:7:1", { toFolder: "C:\\Users\\bob\\Downloads" }, 1000);
  assert.equal(tr.state, "active");
  assert.equal(tr.toFolder, "C:\\Users\\bob\\Downloads");
  list.progress("out:7:1", 0, 500, 1500);
  list.progress("out:7:1", 0, 1000, 2000);
  list.progress("out:7:1", 1, 1000, 3000);
  const s = stats(tr, 3000);
  assert.equal(s.bytes, 2000);
  assert.equal(s.fraction, 0.5);
  assert.equal(s.speed, 1000, "2000 bytes in the 2 seconds since the answer");
  assert.equal(s.eta, 2, "2000 bytes left at 1000 B/s");
  assert.equal(s.pending, 2);
  assert.equal(tr.files[0].state, "moving");
});

test("speed: none measurable at first, zero after a long stall, over the last five seconds only", () => {
  assert.equal(speedOf([{ at: 0, bytes: 0 }], 0), null);
  assert.equal(speedOf([{ at: 0, bytes: 0 }, { at: 200, bytes: 100 }], 200), null, "under half a second");
  assert.equal(speedOf([{ at: 0, bytes: 0 }, { at: 1000, bytes: 100 }], 9000), 0, "nothing moved for 8 s");
  const samples = [{ at: 0, bytes: 0 }, { at: 10_000, bytes: 1_000_000 }, { at: 12_000, bytes: 1_000_000 + 4000 }];
  assert.equal(speedOf(samples, 12_000), 2000, "the first fast burst is outside the window");
});

test("every file with an outcome ends the transfer: done when all ok or skipped, else failed", () => {
  const list = new Transfers();
  const tr = list.add({ key: "in:1:1", transfer: 1, direction: "from_customer", name: "x", files: FILES, now: 0 });
  list.accept("in:1:1", { skip: [1], reasons: new Map([[1, "dot_dot"]]) }, 0);
  assert.equal(tr.total, 1000, "a skipped file's bytes do not count");
  assert.equal(tr.files[1].reason, "dot_dot");
  list.fileDone("in:1:1", 0, { ok: true, sha256: "a".repeat(64) }, 500);
  assert.equal(tr.state, "done");
  assert.equal(stats(tr, 500).fraction, 1);
  assert.deepEqual([stats(tr, 500).ok, stats(tr, 500).skipped], [1, 1]);

  const two = list.add({ key: "in:2:2", transfer: 2, direction: "from_customer", name: "y", files: FILES.slice(0, 2), now: 0 });
  list.accept("in:2:2", {}, 0);
  list.fileDone("in:2:2", 0, { ok: false, reason: "hash_mismatch" }, 1);
  assert.equal(two.state, "active");
  list.fileDone("in:2:2", 1, { ok: true }, 2);
  assert.equal(two.state, "failed");
  assert.equal(two.files[0].reason, "hash_mismatch");
  list.fileDone("in:2:2", 0, { ok: true }, 3); // an outcome is final
  assert.equal(two.files[0].state, "failed");
});

test("a cancel ends the files still open, and only those", () => {
  const list = new Transfers();
  const tr = list.add({ key: "k", transfer: 3, direction: "to_customer", name: "x", files: FILES.slice(0, 2), now: 0 });
  list.accept("k", {}, 0);
  list.fileDone("k", 0, { ok: true }, 10);
  list.progress("k", 1, 100, 20);
  const open = list.end("k", "cancelled", "cancelled", 30);
  assert.deepEqual(open.map((f) => f.path), ["b.bin"]);
  assert.deepEqual(tr.files.map((f) => f.state), ["ok", "cancelled"]);
  assert.equal(tr.state, "cancelled");
  assert.deepEqual(list.end("k", "failed", "closed", 40), [], "over already");
  assert.equal(stats(tr, 40).speed, null);
  assert.equal(list.list()[0], tr);
  assert.equal(list.remove("k"), true);
});

test("sizes and times for people", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KB");
  assert.equal(formatBytes(12 * 1024 * 1024), "12 MB");
  assert.equal(formatBytes(3.25 * 1024 ** 3), "3.3 GB");
  assert.equal(formatDuration(4.2), "5 s");
  assert.equal(formatDuration(125), "2 min 05 s");
  assert.equal(formatDuration(3720), "1 h 02 min");
});
