// The file transfer panel's protocol, both ways, with fake hooks and a fake channel (no DOM):
// an offer from the customer is accepted, its chunks assembled and checked, unsafe names
// refused; the operator's files are offered (split when large), sent in frames and logged; the
// console acknowledges what the customer sends (file_ack) and paces what it sends by the
// customer's acks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { crc32 } from "../../webui/files/crc32.js";
import { ACK_EVERY, MIN_FRAME, START_WINDOW } from "../../webui/files/flow.js";
import { HEADER_SIZE, encodeFrame, decodeFrame } from "../../webui/files/frames.js";
import { checkRecord } from "../../webui/files/log.js";
import { PartialStore, memoryBackend, memoryPartials } from "../../webui/files/partials.js";
import { FilesPanel, OFFER_BYTES, offerMessages, refusedEntries } from "../../webui/filespanel.js";
import { setLanguage } from "../../webui/i18n.js";
import { MAX_FILES_BYTES, parse, serialize } from "../../webui/protocol.js";

const FACTS = { mode: "screen", operator: "alice", user: "bob", host: "pc1", startedAt: new Date(0), sessionId: "s1" };
const sha = (/** @type {Uint8Array} */ bytes) => createHash("sha256").update(bytes).digest("hex");
const bytes = (/** @type {string} */ text) => new TextEncoder().encode(text);

/**
 * A panel with fake hooks: the messages it sends (file_ack apart, in `acks`), its log records,
 * the frames on its channel; `clock` (seconds, for the flow control) moves only when a test
 * moves it (`later`).
 */
function setup({ allowed = true, failingAcks = false, partials = /** @type {any} */ (null) } = {}) {
  /** @type {any[]} */
  const sent = [];
  /** @type {any[]} */
  const acks = [];
  /** @type {any[]} */
  const records = [];
  /** @type {Uint8Array[]} */
  const frames = [];
  /** @type {string[]} */
  const logged = [];
  const channel = {
    bufferedAmount: 0, bufferedAmountLowThreshold: 0, readyState: "open",
    send: (/** @type {Uint8Array} */ data) => frames.push(data),
  };
  let now = 1000;
  let clock = 50;
  const files = new FilesPanel({
    // what goes out must pass the FILES registry, as DataChannels.send checks it
    send: (msg) => {
      const wire = parse(serialize(msg, "files"), "files");
      if (wire.type !== "file_ack") sent.push(wire);
      else if (failingAcks) throw new Error("InvalidStateError: the channel is closing");
      else acks.push(wire);
      return true;
    },
    channel: () => channel,
    maxMessageSize: () => 262144,
    allowed: () => allowed,
    log: (line) => logged.push(line),
    record: (r) => records.push(checkRecord(r)),
    changed: () => {},
    now: () => (now += 10),
    clock: () => clock,
    partials,
  });
  files.start(FACTS);
  const later = (/** @type {number} */ seconds) => void (clock += seconds);
  return { files, sent, acks, records, frames, channel, later, logged };
}

/** A message from the customer, through the registry as it would arrive. */
const from = (/** @type {any} */ msg) => parse(JSON.stringify(msg), "files");

function offer(files, transfer, entries) {
  const total = entries.reduce((s, e) => s + e.size, 0);
  files.receive(from({ type: "file_offer", transfer, name: "stuff", from_folder: "C:\\Users\\bob\\Desktop",
    count: entries.length, total, entries, more: false }));
}

test("an offer from the customer is accepted at once; the chunks are assembled and verified", async () => {
  const { files, sent, acks, records } = setup({ allowed: false }); // the customer chose to send: no consent needed here
  const a = bytes("hello, operator");
  offer(files, 42, [{ path: "notes/a.txt", size: a.length }, { path: "notes/empty.txt", size: 0 }, { path: "notes/sub", size: 0, folder: true }]);
  assert.deepEqual(sent.shift(), { type: "file_answer", transfer: 42, accept: true, skip: [], resume: [] });
  files.receive(from({ type: "file_start", transfer: 42, index: 0, offset: 0 }));
  files.receiveBinary(encodeFrame(42, 0, 0, a.subarray(0, 5)).buffer);
  files.receiveBinary(encodeFrame(42, 0, 5, a.subarray(5)).buffer);
  files.receive(from({ type: "file_end", transfer: 42, index: 0, sha256: sha(a) }));
  files.receive(from({ type: "file_start", transfer: 42, index: 1, offset: 0 }));
  files.receive(from({ type: "file_end", transfer: 42, index: 1, sha256: sha(new Uint8Array()) }));
  assert.deepEqual(acks, [
    { type: "file_ack", transfer: 42, received: 5 }, // the first bytes at once
    { type: "file_ack", transfer: 42, received: a.length }, // the rest at the file's end
  ]);
  assert.deepEqual(sent, [
    { type: "file_result", transfer: 42, index: 0, ok: true },
    { type: "file_result", transfer: 42, index: 1, ok: true },
  ]);
  const [tr] = files.transfers.list();
  assert.equal(tr.state, "done");
  assert.equal(tr.direction, "from_customer");
  const got = files.received(tr.key);
  assert.equal(await got.get(0)?.blob.text(), "hello, operator");
  assert.equal(got.get(1)?.blob.size, 0);
  assert.equal(typeof got.get(0)?.crc32, "number", "kept for the zip");
  assert.equal(records.length, 2, "one log record per file, none for the empty folder");
  assert.deepEqual({ ...records[0], started_at: 0, ended_at: 0 }, {
    id: "s1-in42-0", direction: "from_customer", session_id: "s1", operator_machine: "this browser",
    customer_machine: "bob@pc1", from_folder: "C:\\Users\\bob\\Desktop", to_folder: "", name: "notes/a.txt",
    size: a.length, sha256: sha(a), started_at: 0, ended_at: 0, result: "ok",
  });
});

test("a file whose SHA-256 does not match is refused, logged, and not offered for saving", () => {
  const { files, sent, records } = setup();
  const a = bytes("abc");
  offer(files, 7, [{ path: "a.txt", size: 3 }]);
  sent.length = 0;
  files.receive(from({ type: "file_start", transfer: 7, index: 0, offset: 0 }));
  files.receiveBinary(encodeFrame(7, 0, 0, a).buffer);
  files.receive(from({ type: "file_end", transfer: 7, index: 0, sha256: "0".repeat(64) }));
  assert.deepEqual(sent, [{ type: "file_result", transfer: 7, index: 0, ok: false, reason: "hash_mismatch" }]);
  const [tr] = files.transfers.list();
  assert.equal(tr.state, "failed");
  assert.equal(tr.files[0].reason, "hash_mismatch");
  assert.equal(files.received(tr.key).size, 0);
  assert.equal(records[0].result, "failed");
  assert.equal(records[0].error, "hash_mismatch");
});

test("chunks out of order or past the end fail the file once, with the receiver's token", () => {
  const { files, sent, acks } = setup();
  offer(files, 8, [{ path: "a.txt", size: 3 }]);
  sent.length = 0;
  files.receive(from({ type: "file_start", transfer: 8, index: 0, offset: 0 }));
  files.receiveBinary(encodeFrame(8, 0, 0, bytes("abcd")).buffer);
  files.receiveBinary(encodeFrame(8, 0, 4, bytes("e")).buffer); // ignored: the file has failed
  files.receive(from({ type: "file_end", transfer: 8, index: 0, sha256: "0".repeat(64) }));
  assert.deepEqual(sent, [{ type: "file_result", transfer: 8, index: 0, ok: false, reason: "past_end" }]);
  // what came while the transfer lived is acknowledged; with its only file failed it is over
  assert.deepEqual(acks.map((m) => m.received), [4]);
});

test("unsafe names from the customer are skipped with a file_result giving the token", () => {
  const { files, sent, records } = setup();
  offer(files, 9, [
    { path: "../x", size: 1 }, { path: "ok.txt", size: 1 }, { path: "/etc/passwd", size: 1 },
    { path: "Report.PDF", size: 1 }, { path: "report.pdf", size: 1 }, { path: "CON.txt", size: 1 },
  ]);
  assert.deepEqual(sent.shift(), { type: "file_answer", transfer: 9, accept: true, skip: [0, 2, 4, 5], resume: [] });
  assert.deepEqual(sent.map((m) => [m.type, m.index, m.ok, m.reason]), [
    ["file_result", 0, false, "dot_dot"], ["file_result", 2, false, "absolute"],
    ["file_result", 4, false, "duplicate"], ["file_result", 5, false, "reserved"],
  ]);
  assert.deepEqual(records.map((r) => [r.name, r.result, r.error]), [
    ["../x", "skipped", "dot_dot"], ["/etc/passwd", "skipped", "absolute"],
    ["report.pdf", "skipped", "duplicate"], ["CON.txt", "skipped", "reserved"],
  ]);
  // a chunk for a skipped file is not taken
  sent.length = 0;
  files.receive(from({ type: "file_start", transfer: 9, index: 0, offset: 0 }));
  assert.deepEqual(sent, [], "already answered for that file");
  assert.deepEqual(refusedEntries([{ path: "a", size: 1 }, { path: "a/b", size: 1 }]), new Map([[0, "not_a_folder"]]));
});

test("cancel: the operator stops a transfer from the customer; the customer stops one", () => {
  const { files, sent, records } = setup();
  offer(files, 10, [{ path: "big.bin", size: 100 }]);
  files.receive(from({ type: "file_start", transfer: 10, index: 0, offset: 0 }));
  files.receiveBinary(encodeFrame(10, 0, 0, new Uint8Array(50)).buffer);
  sent.length = 0;
  const [tr] = files.transfers.list();
  assert.equal(tr.files[0].done, 50);
  files.cancel(tr.key);
  assert.deepEqual(sent, [{ type: "file_cancel", transfer: 10, reason: "cancelled" }]);
  assert.equal(tr.state, "cancelled");
  assert.deepEqual(records.map((r) => r.result), ["cancelled"]);
  files.receiveBinary(encodeFrame(10, 0, 50, new Uint8Array(50)).buffer); // late chunks: ignored
  assert.equal(tr.files[0].done, 50);

  offer(files, 11, [{ path: "c.bin", size: 5 }]);
  files.receive(from({ type: "file_cancel", transfer: 11, reason: "cancelled" }));
  assert.equal(files.transfers.list()[0].state, "cancelled");
  assert.equal(files.incoming.size, 0);
});

test("an offer too large for the browser, or not adding up, is declined", () => {
  const { files, sent } = setup();
  offer(files, 12, [{ path: "huge.iso", size: 3 * 1024 ** 3 }]);
  assert.deepEqual(sent.pop(), { type: "file_answer", transfer: 12, accept: false, skip: [], resume: [], reason: "too_large" });
  files.receive(from({ type: "file_offer", transfer: 13, name: "x", from_folder: "", count: 2, total: 1, entries: [{ path: "a", size: 1 }], more: false }));
  assert.equal(sent.pop().reason, "bad_offer");
});

test("an offer in several messages is put together before it is answered", () => {
  const { files, sent } = setup();
  const base = { type: "file_offer", transfer: 14, name: "x", from_folder: "", count: 2, total: 2 };
  files.receive(from({ ...base, entries: [{ path: "a", size: 1 }], more: true }));
  assert.deepEqual(sent, []);
  files.receive(from({ ...base, entries: [{ path: "b", size: 1 }], more: false }));
  assert.equal(sent[0].accept, true);
  assert.equal(files.transfers.list()[0].files.length, 2);
});

test("the operator's offer is split over several messages when it has many entries", () => {
  const entries = Array.from({ length: 3000 }, (_, i) => ({ path: `folder/sub-${i}/${"n".repeat(40)}-${i}.txt`, size: i }));
  const messages = offerMessages({ transfer: 5, name: "folder", from_folder: "", entries });
  assert.ok(messages.length >= 3, `${messages.length} messages`);
  for (const [i, m] of messages.entries()) {
    const wire = serialize(m, "files"); // each one passes the registry
    assert.ok(new TextEncoder().encode(wire).length <= OFFER_BYTES && OFFER_BYTES < MAX_FILES_BYTES);
    assert.equal(m.more, i < messages.length - 1);
    assert.equal(m.count, 3000);
    assert.equal(m.total, (2999 * 3000) / 2);
  }
  assert.deepEqual(messages.flatMap((m) => m.entries), entries);
  assert.equal(offerMessages({ transfer: 5, name: "a", from_folder: "", entries: [{ path: "a", size: 1 }] }).length, 1);
});

test("sending files to the customer: offer, answer, start, frames, end, results, log", async () => {
  const { files, sent, records, frames } = setup();
  const a = new Uint8Array(3000).map((_, i) => i % 251);
  const result = files.send([{ path: "a.bin", file: new Blob([a]) }, { path: "zero.txt", file: new Blob([]) }], { name: "a.bin" });
  assert.ok("key" in result);
  const offerMsg = sent.shift();
  assert.equal(offerMsg.type, "file_offer");
  assert.deepEqual(offerMsg.entries, [{ path: "a.bin", size: 3000 }, { path: "zero.txt", size: 0 }]);
  const transfer = offerMsg.transfer;
  assert.ok(transfer >= 1 && transfer <= 0xffffffff);
  files.receive(from({ type: "file_answer", transfer, accept: true, to_folder: "C:\\Users\\bob\\Downloads", skip: [], resume: [] }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(sent.map((m) => [m.type, m.index]), [["file_start", 0], ["file_end", 0], ["file_start", 1], ["file_end", 1]]);
  assert.equal(sent[1].sha256, sha(a));
  assert.equal(sent[3].sha256, sha(new Uint8Array()));
  const joined = Buffer.concat(frames.map((f) => decodeFrame(f).data));
  assert.deepEqual(new Uint8Array(joined), a);
  const tr = files.transfers.get(result.key);
  assert.equal(tr?.state, "active", "until the customer's results");
  files.receive(from({ type: "file_result", transfer, index: 0, ok: true, saved_as: "a.bin" }));
  files.receive(from({ type: "file_result", transfer, index: 1, ok: false, reason: "exists" }));
  assert.equal(tr?.state, "failed");
  assert.deepEqual(records.map((r) => [r.direction, r.name, r.to_folder, r.result, r.error]), [
    ["to_customer", "a.bin", "C:\\Users\\bob\\Downloads", "ok", undefined],
    ["to_customer", "zero.txt", "C:\\Users\\bob\\Downloads", "failed", "exists"],
  ]);
  assert.equal(records[0].sha256, sha(a));
});

test("sending: not while the customer does not allow it; declined; cancelled mid-way", async () => {
  const denied = setup({ allowed: false });
  assert.deepEqual(denied.files.send([{ path: "a", file: new Blob(["x"]) }], { name: "a" }), { problem: "not_allowed" });

  const { files, sent, records, channel } = setup();
  let r = files.send([{ path: "a", file: new Blob(["x"]) }], { name: "a" });
  files.receive(from({ type: "file_answer", transfer: sent[0].transfer, accept: false, skip: [], resume: [], reason: "declined" }));
  assert.equal(files.transfers.get(/** @type {any} */ (r).key)?.state, "declined");
  assert.deepEqual(records.map((x) => x.result), ["declined"]);

  sent.length = 0;
  channel.bufferedAmount = 10 * 1024 * 1024; // the channel is full: the sender waits
  r = files.send([{ path: "big", file: new Blob([new Uint8Array(100_000)]) }], { name: "big" });
  const transfer = sent[0].transfer;
  files.receive(from({ type: "file_answer", transfer, accept: true, skip: [], resume: [] }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  files.cancel(/** @type {any} */ (r).key);
  assert.deepEqual(sent.at(-1), { type: "file_cancel", transfer, reason: "cancelled" });
  assert.equal(files.transfers.get(/** @type {any} */ (r).key)?.state, "cancelled");
  assert.equal(records.at(-1).result, "cancelled");
  assert.equal(files.outgoing.size, 0);
});

// ------------------------------------------------------------------ flow control (file_ack)

const pause = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("the console acknowledges what the customer sends: growing counts, every byte at each file's end", async () => {
  const { files, sent, acks, later } = setup();
  const a = new Uint8Array(100_000).map((_, i) => i % 253);
  const b = new Uint8Array(3000).map((_, i) => i % 7);
  offer(files, 20, [{ path: "a.bin", size: a.length }, { path: "b.bin", size: b.length }]);
  assert.equal(sent[0].type, "file_answer");
  assert.deepEqual(acks, [], "nothing to acknowledge yet");
  files.receive(from({ type: "file_start", transfer: 20, index: 0, offset: 0 }));
  for (let at = 0; at < a.length; at += 1000) {
    files.receiveBinary(encodeFrame(20, 0, at, a.subarray(at, at + 1000)).buffer);
    later(0.001); // a frame a millisecond: 1 MB/s
  }
  const counts = acks.map((m) => m.received);
  assert.equal(counts[0], 1000, "the first bytes at once");
  assert.ok(counts.length >= 9 && counts.length <= 11, `${counts.length} acks for 100 frames in 100 ms`);
  assert.ok(counts.every((n, i) => i === 0 || n > counts[i - 1]), "growing");
  files.receive(from({ type: "file_end", transfer: 20, index: 0, sha256: sha(a) }));
  assert.equal(acks.at(-1).received, a.length, "the file's end: all of it");
  // the second file counts on from the first: the transfer's bytes
  files.receive(from({ type: "file_start", transfer: 20, index: 1, offset: 0 }));
  files.receiveBinary(encodeFrame(20, 1, 0, b.subarray(0, 1000)).buffer);
  assert.equal(acks.at(-1).received, a.length, "held back: the last ack went under ACK_EVERY ago");
  later(ACK_EVERY);
  files.receiveBinary(encodeFrame(20, 1, 1000, b.subarray(1000, 2000)).buffer);
  assert.equal(acks.at(-1).received, a.length + 2000);
  files.receiveBinary(encodeFrame(20, 1, 2000, b.subarray(2000)).buffer);
  files.receive(from({ type: "file_end", transfer: 20, index: 1, sha256: sha(b) }));
  assert.equal(acks.at(-1).received, a.length + b.length);
  assert.ok(acks.every((m) => m.type === "file_ack" && m.transfer === 20));
  assert.equal(files.transfers.list()[0].state, "done");
});

test("a count held back goes by itself when it is due; the timer stops when the transfer ends", async () => {
  const { files, acks, later } = setup();
  offer(files, 21, [{ path: "a.bin", size: 10_000 }]);
  files.receive(from({ type: "file_start", transfer: 21, index: 0, offset: 0 }));
  files.receiveBinary(encodeFrame(21, 0, 0, new Uint8Array(1000)).buffer);
  later(0.002);
  files.receiveBinary(encodeFrame(21, 0, 1000, new Uint8Array(500)).buffer);
  assert.deepEqual(acks.map((m) => m.received), [1000], "the second one waits for ACK_EVERY");
  later(ACK_EVERY);
  for (let i = 0; i < 100 && acks.length < 2; i++) await pause(5);
  assert.deepEqual(acks.map((m) => m.received), [1000, 1500], "sent by the timer, with nothing more arriving");
  // held back again, then the operator cancels: the timer goes with the transfer
  later(0.001);
  files.receiveBinary(encodeFrame(21, 0, 1500, new Uint8Array(500)).buffer);
  files.cancel(files.transfers.list()[0].key);
  later(1);
  await pause(3 + ACK_EVERY * 1000);
  assert.deepEqual(acks.map((m) => m.received), [1000, 1500]);
  files.receiveBinary(encodeFrame(21, 0, 2000, new Uint8Array(500)).buffer); // late: no transfer, no ack
  assert.equal(acks.length, 2);
});

test("a failed file's late chunks are acknowledged too: the sender counts every byte it sent", () => {
  const { files, sent, acks, later } = setup();
  offer(files, 23, [{ path: "a.bin", size: 10 }, { path: "b.bin", size: 3 }]);
  files.receive(from({ type: "file_start", transfer: 23, index: 0, offset: 0 }));
  files.receiveBinary(encodeFrame(23, 0, 4, new Uint8Array(6)).buffer); // a gap: the file fails
  assert.equal(sent.at(-1).reason, "out_of_order");
  later(ACK_EVERY);
  files.receiveBinary(encodeFrame(23, 0, 0, new Uint8Array(4)).buffer); // sent before it heard
  files.receive(from({ type: "file_end", transfer: 23, index: 0, sha256: "0".repeat(64) }));
  assert.deepEqual(acks.map((m) => m.received), [6, 10]);
  files.receive(from({ type: "file_start", transfer: 23, index: 1, offset: 0 }));
  files.receiveBinary(encodeFrame(23, 1, 0, bytes("xyz")).buffer);
  files.receive(from({ type: "file_end", transfer: 23, index: 1, sha256: sha(bytes("xyz")) }));
  assert.deepEqual(acks.map((m) => m.received), [6, 10, 13]);
  assert.equal(files.transfers.list()[0].files[1].state, "ok");
});

test("an ack that cannot be sent is dropped, never thrown out of the frame handler", () => {
  const { files, sent } = setup({ failingAcks: true });
  const a = bytes("abcdef");
  offer(files, 22, [{ path: "a.txt", size: a.length }]);
  files.receive(from({ type: "file_start", transfer: 22, index: 0, offset: 0 }));
  files.receiveBinary(encodeFrame(22, 0, 0, a).buffer);
  files.receive(from({ type: "file_end", transfer: 22, index: 0, sha256: sha(a) }));
  assert.deepEqual(sent.at(-1), { type: "file_result", transfer: 22, index: 0, ok: true });
});

test("sending to the customer: a start window, then on as the customer's file_acks come", async () => {
  const { files, sent, frames, later } = setup();
  const a = new Uint8Array(50_000).map((_, i) => (i * 7) % 256);
  const result = files.send([{ path: "a.bin", file: new Blob([a]) }], { name: "a.bin" });
  const transfer = sent[0].transfer;
  files.receive(from({ type: "file_answer", transfer, accept: true, skip: [], resume: [] }));
  await pause(30);
  const payload = () => frames.reduce((n, f) => n + f.length - HEADER_SIZE, 0);
  assert.equal(payload(), START_WINDOW, "no more before the customer's first ack");
  assert.ok(frames.every((f) => f.length === MIN_FRAME + HEADER_SIZE));
  files.receive(from({ type: "file_ack", transfer: 999, received: START_WINDOW })); // not ours: nothing moves
  await pause(10);
  assert.equal(payload(), START_WINDOW);
  for (let i = 0; i < 400 && !sent.some((m) => m.type === "file_end"); i++) {
    later(0.003);
    files.receive(from({ type: "file_ack", transfer, received: payload() }));
    await pause(1);
  }
  const end = sent.find((m) => m.type === "file_end");
  assert.equal(end?.sha256, sha(a));
  assert.deepEqual(new Uint8Array(Buffer.concat(frames.map((f) => decodeFrame(f).data))), a);
  assert.equal(files.transfers.get(/** @type {any} */ (result).key)?.state, "active", "until the customer's result");
  files.receive(from({ type: "file_ack", transfer, received: a.length })); // after the last frame: harmless
  files.receive(from({ type: "file_result", transfer, index: 0, ok: true }));
  assert.equal(files.transfers.get(/** @type {any} */ (result).key)?.state, "done");
});

// ------------------------------------------------------------------ resuming a file cut off half-way

/** Wait (a few ms at a time) until the panel has answered the customer's offer. */
async function answerOf(/** @type {any[]} */ sent) {
  for (let i = 0; i < 500; i++) {
    const answer = sent.find((m) => m.type === "file_answer");
    if (answer) return answer;
    await pause(2);
  }
  throw new Error("no file_answer");
}

/** Send `data` from `at` on as frames of `size` bytes. */
function chunks(files, transfer, index, data, at, end, size = 32 * 1024) {
  for (let o = at; o < end; o += size) files.receiveBinary(encodeFrame(transfer, index, o, data.subarray(o, Math.min(o + size, end))).buffer);
}

/** The stored prefix of a partial file, as bytes. */
async function kept(partials, k) {
  const found = await partials.find(k);
  return found ? new Uint8Array(await found.blob.arrayBuffer()) : null;
}

test("a file cut off half-way is kept with the batches; offered again in a new session it goes on from there", async () => {
  setLanguage("en");
  const partials = memoryPartials();
  const size = 10 * 1024 * 1024;
  const data = new Uint8Array(size).map((_, i) => (i * 2654435761) >>> 24);
  const half = 9 * 1024 * 1024;
  const entry = { path: "big/disk.img", size };
  const k = { fromFolder: "C:\\Users\\bob\\Desktop", path: entry.path, size };

  const first = setup({ partials });
  offer(first.files, 30, [entry]);
  assert.deepEqual(await answerOf(first.sent), { type: "file_answer", transfer: 30, accept: true, skip: [], resume: [] });
  first.files.receive(from({ type: "file_start", transfer: 30, index: 0, offset: 0 }));
  chunks(first.files, 30, 0, data, 0, half);
  assert.deepEqual((await partials.list()).map((m) => m.length), [8 * 1024 * 1024], "kept as the 8 MB batches go into Blobs");
  first.files.stop("closed"); // the channel closed: the rest of the batch is kept too
  assert.deepEqual(await kept(partials, k), data.subarray(0, half));
  assert.equal(first.files.transfers.list()[0].state, "failed");

  const second = setup({ partials }); // a new session, the same page
  offer(second.files, 31, [entry]);
  const answer = await answerOf(second.sent);
  assert.deepEqual(answer.resume, [{ index: 0, length: half, sha256: sha(data.subarray(0, half)) }]);
  assert.ok(second.logged.some((l) => l === "files: 1 of these file(s) partly here already from an earlier try: the customer's side is asked to go on from there"));
  second.sent.length = 0;
  second.files.receive(from({ type: "file_start", transfer: 31, index: 0, offset: half }));
  const [tr] = second.files.transfers.list();
  assert.equal(tr.files[0].done, half, "the part already here counts as there");
  assert.ok(tr.samples.every((s) => s.bytes === half), "but not as speed");
  assert.equal(second.files.resumedBytes(tr.key, 0), half);
  assert.ok(second.logged.includes('files: "big/disk.img" resumed after 9.0 MB already here'), second.logged.join("\n"));
  chunks(second.files, 31, 0, data, half, size);
  second.files.receive(from({ type: "file_end", transfer: 31, index: 0, sha256: sha(data) }));
  assert.deepEqual(second.sent, [{ type: "file_result", transfer: 31, index: 0, ok: true }], "the SHA-256 of the whole file matched");
  assert.equal(second.acks.at(-1).received, size - half, "acknowledged: what came this time");
  assert.equal(tr.state, "done");
  const got = second.files.received(tr.key).get(0);
  assert.deepEqual(new Uint8Array(await /** @type {Blob} */ (got?.blob).arrayBuffer()), data, "byte for byte");
  assert.equal(got?.crc32, crc32(data), "the CRC-32 for a .zip covers the whole file too");
  assert.equal(second.records.at(-1).sha256, sha(data));
  assert.deepEqual(await partials.list(), [], "complete and verified: the partial file goes");
});

test("after a reload: a changed file starts over and replaces the partial; then it resumes from the new one", async () => {
  setLanguage("en");
  const backend = memoryBackend(); // what IndexedDB keeps across a reload
  const a = new Uint8Array(1000).map((_, i) => i % 256);
  const b = new Uint8Array(1000).map((_, i) => (i * 7 + 3) % 256);
  const entry = { path: "report.pdf", size: 1000 };
  const k = { fromFolder: "C:\\Users\\bob\\Desktop", path: entry.path, size: 1000 };

  let partials = new PartialStore(backend);
  const { files, sent } = setup({ partials });
  offer(files, 40, [entry]);
  await answerOf(sent);
  files.receive(from({ type: "file_start", transfer: 40, index: 0, offset: 0 }));
  chunks(files, 40, 0, a, 0, 400, 100);
  files.receive(from({ type: "file_cancel", transfer: 40, reason: "stopped_by_customer" })); // the customer stopped it
  assert.deepEqual(await kept(partials, k), a.subarray(0, 400));

  partials = new PartialStore(backend); // the page was reloaded
  const again = setup({ partials });
  offer(again.files, 41, [entry]);
  assert.deepEqual((await answerOf(again.sent)).resume, [{ index: 0, length: 400, sha256: sha(a.subarray(0, 400)) }]);
  again.files.receive(from({ type: "file_start", transfer: 41, index: 0, offset: 0 })); // the customer's file changed
  assert.ok(again.logged.includes("files: \"report.pdf\" changed on the customer's computer since the part already here: starting over"));
  chunks(again.files, 41, 0, b, 0, 300, 100);
  again.files.stop("closed");
  assert.deepEqual(await kept(partials, k), b.subarray(0, 300), "replaced by the new file's first bytes");
  assert.equal(again.files.resumedBytes(again.files.transfers.list()[0].key, 0), 0);

  again.files.start(FACTS); // a new session in the same panel
  again.sent.length = 0;
  offer(again.files, 42, [entry]);
  assert.deepEqual((await answerOf(again.sent)).resume, [{ index: 0, length: 300, sha256: sha(b.subarray(0, 300)) }]);
  again.files.receive(from({ type: "file_start", transfer: 42, index: 0, offset: 300 }));
  chunks(again.files, 42, 0, b, 300, 1000, 100);
  again.files.receive(from({ type: "file_end", transfer: 42, index: 0, sha256: sha(b) }));
  assert.deepEqual(again.sent.at(-1), { type: "file_result", transfer: 42, index: 0, ok: true });
  const [tr] = again.files.transfers.list();
  assert.deepEqual(new Uint8Array(await /** @type {Blob} */ (again.files.received(tr.key).get(0)?.blob).arrayBuffer()), b);
  assert.deepEqual(await partials.list(), []);
});

test("a file_start at an offset the console did not prove is refused, and the partial stays", async () => {
  const partials = memoryPartials();
  const a = new Uint8Array(500).map((_, i) => i % 199);
  const from_folder = "C:\\Users\\bob\\Desktop";
  await partials.append({ fromFolder: from_folder, path: "a.bin", size: 500 }, 0, new Blob([a.subarray(0, 200)]));
  const { files, sent } = setup({ partials });
  offer(files, 50, [{ path: "a.bin", size: 500 }, { path: "b.bin", size: 500 }, { path: "c.bin", size: 500 }]);
  assert.deepEqual((await answerOf(sent)).resume, [{ index: 0, length: 200, sha256: sha(a.subarray(0, 200)) }]);
  sent.length = 0;
  files.receive(from({ type: "file_start", transfer: 50, index: 0, offset: 199 })); // not what was proved
  files.receive(from({ type: "file_start", transfer: 50, index: 1, offset: 100 })); // nothing proved for it
  files.receive(from({ type: "file_start", transfer: 50, index: 2, offset: 0 }));
  chunks(files, 50, 0, a, 0, 10, 10); // a chunk of the refused file: not taken
  assert.deepEqual(sent, [
    { type: "file_result", transfer: 50, index: 0, ok: false, reason: "bad_start" },
    { type: "file_result", transfer: 50, index: 1, ok: false, reason: "bad_start" },
  ]);
  assert.equal(files.transfers.list()[0].files[0].done, 0);
  assert.deepEqual(await kept(partials, { fromFolder: from_folder, path: "a.bin", size: 500 }), a.subarray(0, 200));
});

test("what happens to a partial file: kept when cut or cancelled, gone when the file ends well or badly", async () => {
  const partials = memoryPartials();
  const k = (/** @type {string} */ path) => ({ fromFolder: "C:\\Users\\bob\\Desktop", path, size: 100 });
  const data = new Uint8Array(100).fill(9);
  const half = new Blob([data.subarray(0, 50)]);
  for (const path of ["bad.bin", "gap.bin", "short.bin"]) await partials.append(k(path), 0, half);
  const { files, sent } = setup({ partials });
  offer(files, 60, ["bad.bin", "gap.bin", "short.bin", "cut.bin"].map((path) => ({ path, size: 100 })));
  assert.deepEqual((await answerOf(sent)).resume.map((/** @type {any} */ r) => [r.index, r.length]), [[0, 50], [1, 50], [2, 50]]);
  files.receive(from({ type: "file_start", transfer: 60, index: 0, offset: 50 }));
  chunks(files, 60, 0, data, 50, 100, 25);
  files.receive(from({ type: "file_end", transfer: 60, index: 0, sha256: "0".repeat(64) })); // the whole file's check fails
  files.receive(from({ type: "file_start", transfer: 60, index: 1, offset: 50 }));
  files.receiveBinary(encodeFrame(60, 1, 70, data.subarray(70)).buffer); // a gap: the sender broke it
  files.receive(from({ type: "file_start", transfer: 60, index: 2, offset: 50 }));
  files.receive(from({ type: "file_start", transfer: 60, index: 3, offset: 0 })); // before short.bin's end
  chunks(files, 60, 3, data, 0, 60, 30);
  files.cancel(files.transfers.list()[0].key); // the operator stops it: a cut, kept
  assert.deepEqual(sent.slice(1).map((m) => [m.type, m.index, m.reason]), [
    ["file_result", 0, "hash_mismatch"], ["file_result", 1, "out_of_order"], ["file_result", 2, "short"],
    ["file_cancel", undefined, "cancelled"],
  ]);
  assert.deepEqual((await partials.list()).map((m) => [m.path, m.length]), [["cut.bin", 60]]);
  assert.equal(await kept(partials, k("bad.bin")), null);

  // the transfer ends while its partial files are looked at: no answer goes
  sent.length = 0;
  offer(files, 61, [{ path: "cut.bin", size: 100 }]);
  files.receive(from({ type: "file_cancel", transfer: 61, reason: "cancelled" }));
  await pause(20);
  assert.deepEqual(sent, []);
  assert.equal(files.incoming.size, 0);
});
