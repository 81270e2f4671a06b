// The file transfer panel's protocol, both ways, with fake hooks and a fake channel (no DOM):
// an offer from the customer is accepted, its chunks assembled and checked, unsafe names
// refused; the operator's files are offered (split when large), sent in frames and logged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { encodeFrame, decodeFrame } from "../../webui/files/frames.js";
import { checkRecord } from "../../webui/files/log.js";
import { FilesPanel, OFFER_BYTES, offerMessages, refusedEntries } from "../../webui/filespanel.js";
import { MAX_FILES_BYTES, parse, serialize } from "../../webui/protocol.js";

const FACTS = { mode: "screen", operator: "alice", user: "bob", host: "pc1", startedAt: new Date(0), sessionId: "s1" };
const sha = (/** @type {Uint8Array} */ bytes) => createHash("sha256").update(bytes).digest("hex");
const bytes = (/** @type {string} */ text) => new TextEncoder().encode(text);

function setup({ allowed = true } = {}) {
  /** @type {any[]} */
  const sent = [];
  /** @type {any[]} */
  const records = [];
  /** @type {Uint8Array[]} */
  const frames = [];
  const channel = {
    bufferedAmount: 0, bufferedAmountLowThreshold: 0, readyState: "open",
    send: (/** @type {Uint8Array} */ data) => frames.push(data),
  };
  let now = 1000;
  const files = new FilesPanel({
    // what goes out must pass the FILES registry, as DataChannels.send checks it
    send: (msg) => (sent.push(parse(serialize(msg, "files"), "files")), true),
    channel: () => channel,
    maxMessageSize: () => 262144,
    allowed: () => allowed,
    log: () => {},
    record: (r) => records.push(checkRecord(r)),
    changed: () => {},
    now: () => (now += 10),
  });
  files.start(FACTS);
  return { files, sent, records, frames, channel };
}

/** A message from the customer, through the registry as it would arrive. */
const from = (/** @type {any} */ msg) => parse(JSON.stringify(msg), "files");

function offer(files, transfer, entries) {
  const total = entries.reduce((s, e) => s + e.size, 0);
  files.receive(from({ type: "file_offer", transfer, name: "stuff", from_folder: "C:\\Users\\bob\\Desktop",
    count: entries.length, total, entries, more: false }));
}

test("an offer from the customer is accepted at once; the chunks are assembled and verified", async () => {
  const { files, sent, records } = setup({ allowed: false }); // the customer chose to send: no consent needed here
  const a = bytes("hello, operator");
  offer(files, 42, [{ path: "notes/a.txt", size: a.length }, { path: "notes/empty.txt", size: 0 }, { path: "notes/sub", size: 0, folder: true }]);
  assert.deepEqual(sent.shift(), { type: "file_answer", transfer: 42, accept: true, skip: [], resume: [] });
  files.receive(from({ type: "file_start", transfer: 42, index: 0, offset: 0 }));
  files.receiveBinary(encodeFrame(42, 0, 0, a.subarray(0, 5)).buffer);
  files.receiveBinary(encodeFrame(42, 0, 5, a.subarray(5)).buffer);
  files.receive(from({ type: "file_end", transfer: 42, index: 0, sha256: sha(a) }));
  files.receive(from({ type: "file_start", transfer: 42, index: 1, offset: 0 }));
  files.receive(from({ type: "file_end", transfer: 42, index: 1, sha256: sha(new Uint8Array()) }));
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
  const { files, sent } = setup();
  offer(files, 8, [{ path: "a.txt", size: 3 }]);
  sent.length = 0;
  files.receive(from({ type: "file_start", transfer: 8, index: 0, offset: 0 }));
  files.receiveBinary(encodeFrame(8, 0, 0, bytes("abcd")).buffer);
  files.receiveBinary(encodeFrame(8, 0, 4, bytes("e")).buffer); // ignored: the file has failed
  files.receive(from({ type: "file_end", transfer: 8, index: 0, sha256: "0".repeat(64) }));
  assert.deepEqual(sent, [{ type: "file_result", transfer: 8, index: 0, ok: false, reason: "past_end" }]);
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
