// Sending a file over a fake data channel that drains slowly: pacing, integrity, resume, and
// stopping at once on cancel or close; with a flow, paced by the receiver's file_acks too. No
// WebRTC: the channel is a small object of our own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { TransferError } from "../../webui/files/errors.js";
import { HEADER_SIZE, chunkSize, decodeFrame } from "../../webui/files/frames.js";
import { Incoming } from "../../webui/files/receiver.js";
import { proofOf, resumeOffset } from "../../webui/files/resume.js";
import { Acker, MIN_FRAME, SILENT_AFTER, START_WINDOW } from "../../webui/files/flow.js";
import { HIGH_WATER, LOW_WATER, SEND_TOKENS, SendFlow, blobReader, hashPrefix, sendFile } from "../../webui/files/sender.js";

const sha = (/** @type {Uint8Array} */ data) => createHash("sha256").update(data).digest("hex");

/** Bytes that differ from place to place (so a misplaced chunk shows). */
function fileOf(size, seed = 1) {
  const data = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    data[i] = x >>> 24;
  }
  return data;
}

/** `read` over bytes in memory, recording the calls and how many are in flight at once. */
function memoryReader(data, { delay = 0 } = {}) {
  const calls = /** @type {Array<[number, number]>} */ ([]);
  const state = { inFlight: 0, maxInFlight: 0, calls };
  /** @type {import("../../webui/files/sender.js").ReadFn} */
  const read = async (offset, length) => {
    calls.push([offset, length]);
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    state.inFlight--;
    return data.slice(offset, offset + length);
  };
  return { read, state };
}

/**
 * A data channel as the sender sees one: `send` queues bytes, a timer drains `rate` bytes per
 * tick, and `bufferedamountlow` fires when the buffer falls to the threshold (through
 * `onbufferedamountlow`, or as an event when `events` is set).
 */
class FakeChannel extends EventTarget {
  constructor({ rate = 128 * 1024, maxMessageSize = 65536, events = false, fires = true } = {}) {
    super();
    this.rate = rate;
    this.maxMessageSize = maxMessageSize;
    this.events = events;
    this.fires = fires;
    this.bufferedAmount = 0;
    this.bufferedAmountLowThreshold = 0;
    this.readyState = "open";
    /** @type {((event: any) => any) | null} */
    this.onbufferedamountlow = null;
    /** @type {Uint8Array[]} */
    this.frames = [];
    this.peak = 0;
    this.lows = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    if (!events) {
      // the object-with-properties shape: no addEventListener for the sender to find
      Object.defineProperty(this, "addEventListener", { value: undefined });
    }
  }

  /** @param {Uint8Array} frame */
  send(frame) {
    if (this.readyState !== "open") throw new Error("InvalidStateError: not open");
    this.frames.push(frame.slice());
    this.bufferedAmount += frame.length;
    this.peak = Math.max(this.peak, this.bufferedAmount);
    this.timer ??= setTimeout(() => this.tick(), 1);
  }

  tick() {
    this.timer = null;
    const before = this.bufferedAmount;
    this.bufferedAmount = Math.max(0, before - this.rate);
    if (this.fires && before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold) {
      this.lows++;
      if (this.events) this.dispatchEvent(new Event("bufferedamountlow"));
      else this.onbufferedamountlow?.({ type: "bufferedamountlow" });
    }
    if (this.bufferedAmount > 0 && this.rate > 0) this.timer = setTimeout(() => this.tick(), 1);
  }

  close() {
    this.readyState = "closed";
    if (this.timer) clearTimeout(this.timer);
    if (this.events) this.dispatchEvent(new Event("close"));
  }
}

/** @param {Promise<unknown>} promise @param {string} token */
async function rejectsToken(promise, token) {
  await assert.rejects(promise, (err) => err instanceof TransferError && err.token === token);
}

/** What a receiver makes of the frames: the bytes, checked in order by `Incoming`. */
function receive(frames, size, start = 0, prefix = new Uint8Array(0)) {
  const incoming = new Incoming(size, start);
  incoming.seed(prefix);
  const out = new Uint8Array(size);
  out.set(prefix);
  for (const bytes of frames) {
    const frame = decodeFrame(bytes);
    incoming.chunk(frame.offset, frame.data);
    out.set(frame.data, frame.offset);
  }
  return { incoming, out };
}

test("a file goes in order, paced under the high-water mark, and its SHA-256 comes back", async () => {
  const data = fileOf(3 * 1024 * 1024 + 123);
  const channel = new FakeChannel();
  const { read, state } = memoryReader(data);
  /** @type {number[]} */
  const progress = [];
  const digest = await sendFile({
    channel, transfer: 9, index: 4, size: data.length, read, onprogress: (p) => progress.push(p.sent),
  });
  assert.equal(digest, sha(data));
  assert.equal(channel.bufferedAmountLowThreshold, LOW_WATER);
  assert.ok(channel.peak <= HIGH_WATER, `peak ${channel.peak} over the high-water mark`);
  assert.ok(channel.lows > 0, "it had to wait for the buffer to drain");
  assert.ok(channel.frames.every((f) => f.length <= 65536 && f.length > HEADER_SIZE));
  const { incoming, out } = receive(channel.frames, data.length);
  assert.deepEqual(incoming.finish(digest), { ok: true, token: null, sha256: sha(data) });
  assert.deepEqual(out, data);
  for (const bytes of channel.frames) {
    const f = decodeFrame(bytes);
    assert.equal(f.transfer, 9);
    assert.equal(f.index, 4);
  }
  assert.equal(progress.at(-1), data.length);
  assert.ok(progress.every((p, i) => i === 0 || p > progress[i - 1]));
  assert.ok(state.maxInFlight <= 1, "one read at a time");
  const block = Math.floor((1024 * 1024) / 65520) * 65520; // whole frames per read
  assert.deepEqual(state.calls.map(([o]) => o), [0, block, 2 * block, 3 * block]);
});

test("frames fit the channel's message size; events through addEventListener", async () => {
  const data = fileOf(300_000, 2);
  const channel = new FakeChannel({ events: true, maxMessageSize: 16384, rate: 32 * 1024 });
  const digest = await sendFile({ channel, transfer: 1, index: 0, size: data.length, read: memoryReader(data).read });
  assert.equal(digest, sha(data));
  assert.ok(channel.frames.every((f) => f.length <= 16384));
  assert.equal(channel.frames[0].length, 16384);
  assert.equal(channel.frames.length, Math.ceil(data.length / chunkSize(16384)));
  // an explicit maxMessageSize (pc.sctp.maxMessageSize) wins over the channel's
  const other = new FakeChannel({ events: true });
  await sendFile({ channel: other, transfer: 1, index: 0, size: 5000, read: memoryReader(data).read, maxMessageSize: 2048 });
  assert.deepEqual(other.frames.map((f) => f.length), [2048, 2048, 5000 - 2 * 2032 + HEADER_SIZE]);
});

test("a small high-water mark still never queues past it", async () => {
  const data = fileOf(200_000, 3);
  const channel = new FakeChannel({ rate: 3000 });
  const digest = await sendFile({
    channel, transfer: 1, index: 0, size: data.length, read: memoryReader(data).read,
    maxMessageSize: 2048, highWater: 8192, lowWater: 1024, readSize: 10_000,
  });
  assert.equal(digest, sha(data));
  assert.ok(channel.peak <= 8192, `peak ${channel.peak}`);
  assert.ok(channel.lows > 10);
});

test("resuming sends from `start` and hashes the whole file, as the receiver's seed does", async () => {
  const data = fileOf(2_500_000, 4);
  const start = 1_000_003;
  const channel = new FakeChannel({ rate: 1 << 20 });
  const { read, state } = memoryReader(data);
  const digest = await sendFile({ channel, transfer: 2, index: 1, size: data.length, start, read });
  assert.equal(digest, sha(data));
  assert.equal(decodeFrame(channel.frames[0]).offset, start);
  assert.equal(channel.frames.reduce((n, f) => n + f.length - HEADER_SIZE, 0), data.length - start);
  assert.equal(state.calls[0][0], 0, "the kept prefix is read for the hash");
  const { incoming, out } = receive(channel.frames, data.length, start, data.subarray(0, start));
  assert.equal(incoming.finish(digest).ok, true);
  assert.deepEqual(out, data);
});

test("resume as the peer does: proof, decision, then the source's prefix hash goes on (read once)", async () => {
  const data = fileOf(3_000_000, 5);
  const kept = 2_000_001;
  // the receiver's proof of what it kept
  const receiver = new Incoming(data.length);
  receiver.chunk(0, data.subarray(0, kept));
  const { Sha256 } = await import("../../webui/sha256.js");
  const held = new Sha256().update(data.subarray(0, kept));
  const proof = proofOf(held);
  // the sender hashes as much of its source, decides, and goes on from that hash
  const { read, state } = memoryReader(data);
  const prefix = await hashPrefix({ read, length: proof.length });
  const start = resumeOffset(proof, data.length, prefix.copy().hex());
  assert.equal(start, kept);
  const reads = state.calls.length;
  const channel = new FakeChannel({ rate: 1 << 20 });
  const digest = await sendFile({ channel, transfer: 5, index: 0, size: data.length, start, read, prefix });
  assert.equal(digest, sha(data));
  assert.equal(state.calls[reads][0], start, "no second read of the prefix");
  assert.equal(prefix.length, kept, "the given hash is copied, not changed");
  const resumed = Incoming.resuming(data.length, held, start);
  for (const bytes of channel.frames) {
    const frame = decodeFrame(bytes);
    resumed.chunk(frame.offset, frame.data);
  }
  assert.equal(resumed.finish(digest).ok, true);
  await assert.rejects(sendFile({ channel, transfer: 5, index: 0, size: data.length, start: 5, read, prefix }), RangeError);
  await assert.rejects(hashPrefix({ read, length: 10, signal: AbortSignal.abort() }), (err) => err instanceof TransferError && err.token === "cancelled");
  await assert.rejects(hashPrefix({ read, length: data.length + 1 }), (err) => err instanceof TransferError && err.token === "short_read");
});

test("an empty file, or a resume with nothing left, sends no frame and gives the whole file's hash", async () => {
  const channel = new FakeChannel();
  assert.equal(
    await sendFile({ channel, transfer: 1, index: 0, size: 0, read: memoryReader(new Uint8Array(0)).read }),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  const data = fileOf(5000);
  assert.equal(await sendFile({ channel, transfer: 1, index: 0, size: 5000, start: 5000, read: memoryReader(data).read }), sha(data));
  assert.equal(channel.frames.length, 0);
});

test("cancel while waiting for the buffer: rejects at once, nothing more is sent", async () => {
  const data = fileOf(4 * 1024 * 1024);
  const channel = new FakeChannel({ rate: 0 }); // never drains
  const controller = new AbortController();
  const sending = sendFile({ channel, transfer: 1, index: 0, size: data.length, read: memoryReader(data).read, signal: controller.signal });
  while (channel.bufferedAmount + 65536 <= HIGH_WATER) await new Promise((r) => setTimeout(r, 1));
  const sent = channel.frames.length;
  const t0 = performance.now();
  controller.abort();
  await rejectsToken(sending, "cancelled");
  assert.ok(performance.now() - t0 < 1000, "at once, not when the buffer drains (it never does)");
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(channel.frames.length, sent);
  assert.equal(channel.onbufferedamountlow, null, "the handler is taken back");
});

test("cancel in the middle of a slow read: rejects at once", async () => {
  const channel = new FakeChannel();
  const controller = new AbortController();
  const read = () => new Promise(() => {}); // a read that never ends
  const sending = sendFile({ channel, transfer: 1, index: 0, size: 10, read: /** @type {any} */ (read), signal: controller.signal });
  setTimeout(() => controller.abort(new Error("operator cancelled")), 5);
  await assert.rejects(sending, (err) => err instanceof TransferError && err.token === "cancelled" && /** @type {any} */ (err).cause.message === "operator cancelled");
  assert.equal(channel.frames.length, 0);
});

test("cancel while reading the prefix of a resume, and before anything starts", async () => {
  const data = fileOf(3_000_000);
  const controller = new AbortController();
  const slow = memoryReader(data, { delay: 50 });
  const sending = sendFile({ channel: new FakeChannel(), transfer: 1, index: 0, size: data.length, start: 2_900_000, read: slow.read, signal: controller.signal });
  setTimeout(() => controller.abort(), 10);
  await rejectsToken(sending, "cancelled");
  const channel = new FakeChannel();
  await rejectsToken(
    sendFile({ channel, transfer: 1, index: 0, size: 10, read: memoryReader(data).read, signal: AbortSignal.abort() }),
    "cancelled",
  );
  assert.equal(channel.frames.length, 0);
});

test("a channel that closes: while waiting, or before the next frame", async () => {
  const data = fileOf(4 * 1024 * 1024);
  for (const events of [true, false]) {
    const channel = new FakeChannel({ rate: 0, events });
    const sending = sendFile({ channel, transfer: 1, index: 0, size: data.length, read: memoryReader(data).read, poll: 5 });
    while (channel.bufferedAmount + 65536 <= HIGH_WATER) await new Promise((r) => setTimeout(r, 1));
    channel.close();
    await rejectsToken(sending, "closed");
  }
  const channel = new FakeChannel();
  channel.readyState = "closing";
  await rejectsToken(sendFile({ channel, transfer: 1, index: 0, size: 10, read: memoryReader(data).read }), "closed");
});

test("a file that shrank while being sent, and a send that fails", async () => {
  const data = fileOf(200_000);
  const shrunk = async (/** @type {number} */ offset, /** @type {number} */ length) => data.slice(offset, Math.min(offset + length, 150_000));
  await rejectsToken(sendFile({ channel: new FakeChannel(), transfer: 1, index: 0, size: data.length, read: shrunk, readSize: 65520 }), "short_read");
  const channel = new FakeChannel();
  channel.send = () => {
    throw new Error("OperationError: too big");
  };
  await rejectsToken(sendFile({ channel, transfer: 1, index: 0, size: 10, read: memoryReader(data).read }), "send_failed");
  assert.deepEqual([...SEND_TOKENS].sort(), ["cancelled", "closed", "send_failed", "short_read"]);
});

test("a read error is the caller's own error, not a token", async () => {
  const failing = async () => {
    throw new Error("NotReadableError");
  };
  await assert.rejects(sendFile({ channel: new FakeChannel(), transfer: 1, index: 0, size: 10, read: failing }), /NotReadableError/);
});

test("a browser that misses bufferedamountlow: the timer looks again", async () => {
  const data = fileOf(2 * 1024 * 1024);
  const channel = new FakeChannel({ fires: false, rate: 1 << 20 });
  const digest = await sendFile({ channel, transfer: 1, index: 0, size: data.length, read: memoryReader(data).read, poll: 2 });
  assert.equal(digest, sha(data));
  assert.equal(channel.lows, 0);
});

test("the page's own onbufferedamountlow handler still runs, and is put back", async () => {
  const data = fileOf(3 * 1024 * 1024);
  const channel = new FakeChannel();
  let calls = 0;
  const mine = () => void calls++;
  channel.onbufferedamountlow = mine;
  await sendFile({ channel, transfer: 1, index: 0, size: data.length, read: memoryReader(data).read });
  assert.ok(calls > 0);
  assert.equal(channel.onbufferedamountlow, mine);
});

test("blobReader reads a File or Blob by slices", async () => {
  const data = fileOf(100_000, 8);
  const blob = new Blob([data.subarray(0, 40_000), data.subarray(40_000)]);
  const channel = new FakeChannel();
  assert.equal(await sendFile({ channel, transfer: 3, index: 0, size: blob.size, read: blobReader(blob) }), sha(data));
  assert.deepEqual(receive(channel.frames, data.length).out, data);
});

test("our own mistakes are plain errors", async () => {
  const read = memoryReader(new Uint8Array(10)).read;
  const channel = new FakeChannel();
  await assert.rejects(sendFile({ channel, transfer: 1, index: 0, size: -1, read }), RangeError);
  await assert.rejects(sendFile({ channel, transfer: 1, index: 0, size: 10, start: 11, read }), RangeError);
  await assert.rejects(sendFile({ channel, transfer: 1, index: 0, size: 10, read, highWater: 1000, lowWater: 900 }), RangeError);
  await assert.rejects(sendFile({ channel, transfer: -1, index: 0, size: 10, read }), RangeError);
});

// ------------------------------------------------------------------ paced by file_ack (flow.js)

const pause = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const payload = (/** @type {Uint8Array[]} */ frames) => frames.reduce((n, f) => n + f.length - HEADER_SIZE, 0);

/**
 * The receiver at the far end of `channel`, as the console's is (filespanel.js): each frame
 * arrives a millisecond after it is sent, is counted by an `Acker`, and the file_ack it asks for
 * comes back to `flow` a millisecond later (held back while `hold` is set); a held-back count
 * goes when the acker's `due` time comes.
 * @param {FakeChannel} channel
 * @param {SendFlow} flow
 */
function acknowledging(channel, flow) {
  const far = { acker: new Acker(flow.clock()), hold: true, held: /** @type {number[]} */ ([]), acks: /** @type {number[]} */ ([]) };
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** @param {number | null} count */
  const answer = (count) => {
    if (count === null) return;
    far.acks.push(count);
    if (far.hold) far.held.push(count);
    else setTimeout(() => flow.ack(count), 1);
  };
  const arm = () => {
    const due = far.acker.due;
    if (due === null || timer) return;
    timer = setTimeout(() => {
      timer = null;
      answer(far.acker.flush(flow.clock()));
      arm();
    }, Math.max(0, Math.ceil((due - flow.clock()) * 1000)));
  };
  const send = channel.send.bind(channel);
  channel.send = (frame) => {
    send(frame);
    const n = frame.length - HEADER_SIZE;
    setTimeout(() => {
      answer(far.acker.add(n, flow.clock()));
      arm();
    }, 1);
  };
  /** Let the acks through from now on (the held ones first). */
  const release = () => {
    far.hold = false;
    for (const count of far.held.splice(0)) flow.ack(count);
  };
  return { far, release };
}

test("with a flow: a start window before the first ack, then on with the acks; two files, one window", async () => {
  const channel = new FakeChannel({ rate: 1 << 20 });
  const flow = new SendFlow(chunkSize(65536), { poll: 5 });
  const { far, release } = acknowledging(channel, flow);
  const first = fileOf(300_000, 11);
  const second = fileOf(70_001, 12);
  const sending = sendFile({ channel, transfer: 4, index: 0, size: first.length, read: memoryReader(first).read, flow });
  await pause(40);
  assert.equal(payload(channel.frames), START_WINDOW, "the start window, and not a byte more, before an ack");
  assert.ok(channel.frames.every((f) => f.length === MIN_FRAME + HEADER_SIZE), "small frames at first");
  assert.equal(far.acks[0], MIN_FRAME, "the first bytes are acknowledged at once");
  release();
  assert.equal(await sending, sha(first));
  const split = channel.frames.length;
  const digest = await sendFile({ channel, transfer: 4, index: 1, size: second.length, read: memoryReader(second).read, flow });
  assert.equal(digest, sha(second));
  assert.deepEqual(receive(channel.frames.slice(0, split), first.length).out, first);
  const { incoming, out } = receive(channel.frames.slice(split), second.length);
  assert.equal(incoming.finish(digest).ok, true);
  assert.deepEqual(out, second);
  assert.ok(channel.frames.every((f) => f.length <= 65536));
  assert.equal(flow.window.sent, first.length + second.length, "one window for the transfer's files");
  assert.ok(far.acks.every((n, i) => i === 0 || n > far.acks[i - 1]), "acks only grow");
  for (let i = 0; i < 200 && flow.window.acked < flow.window.sent; i++) await pause(5); // the last acks come back
  assert.equal(flow.window.acked, first.length + second.length);
  assert.equal(flow.window.unacked, false);
});

test("with a flow and a receiver that never acknowledges: after SILENT_AFTER only the buffer paces it", async () => {
  let now = 100;
  const channel = new FakeChannel({ rate: 1 << 20 });
  const flow = new SendFlow(chunkSize(65536), { clock: () => now, poll: 2 });
  const data = fileOf(100_000, 13);
  let done = false;
  const sending = sendFile({ channel, transfer: 5, index: 0, size: data.length, read: memoryReader(data).read, flow });
  void sending.then(() => (done = true));
  await pause(20);
  assert.equal(payload(channel.frames), START_WINDOW);
  now += SILENT_AFTER - 0.5;
  await pause(20);
  assert.equal(payload(channel.frames), START_WINDOW, "not yet");
  assert.equal(done, false);
  now += 1;
  const digest = await sending; // the next look (2 ms) finds the receiver silent
  assert.equal(digest, sha(data));
  assert.ok(flow.window.unacked);
  assert.deepEqual(receive(channel.frames, data.length).out, data);
});

test("with a flow: cancel or close while waiting for an ack rejects at once", async () => {
  const data = fileOf(50_000, 14);
  for (const how of ["abort", "close-event", "close-poll"]) {
    const channel = new FakeChannel({ events: how === "close-event" });
    // no ack ever comes, and the look for the silent receiver is far off unless `close-poll`
    const flow = new SendFlow(chunkSize(65536), { poll: how === "close-poll" ? 5 : 60_000 });
    const controller = new AbortController();
    const sending = sendFile({ channel, transfer: 6, index: 0, size: data.length, read: memoryReader(data).read, flow, signal: controller.signal });
    await pause(20);
    assert.equal(payload(channel.frames), START_WINDOW);
    const t0 = performance.now();
    if (how === "abort") controller.abort();
    else channel.close();
    await rejectsToken(sending, how === "abort" ? "cancelled" : "closed");
    assert.ok(performance.now() - t0 < 1000, `${how}: at once`);
    assert.equal(payload(channel.frames), START_WINDOW, `${how}: nothing more sent`);
  }
});

test("with a flow: an ack for more than was sent, or going backwards, is taken as the window takes it", async () => {
  const channel = new FakeChannel({ rate: 1 << 20 });
  const flow = new SendFlow(chunkSize(65536), { poll: 5 });
  const data = fileOf(20_000, 15);
  const sending = sendFile({ channel, transfer: 7, index: 0, size: data.length, read: memoryReader(data).read, flow });
  await pause(20);
  flow.ack(10 ** 9); // counted as what was sent
  assert.equal(flow.window.acked, START_WINDOW);
  flow.ack(5); // ignored
  assert.equal(flow.window.acked, START_WINDOW);
  for (let i = 0; i < 100 && flow.window.sent < data.length; i++) {
    await pause(5);
    flow.ack(flow.window.sent);
  }
  assert.equal(await sending, sha(data));
});
