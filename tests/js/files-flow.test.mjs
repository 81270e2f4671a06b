// The sender's window and frame size and the receiver's acknowledgements (webui/files/flow.js),
// as the peer's tests/test_files_flow.py checks its own: run against a simulated link (a
// bottleneck of a given rate with a FIFO queue, a propagation delay each way) the transfer uses
// the link, the queue it builds stays near QUEUE_TARGET, frames shrink on thin links, and a
// receiver that never acknowledges does not stall it. Then the same events as the Python core
// was given, with the numbers it gave: the two ports cannot drift apart silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import * as flow from "../../webui/files/flow.js";
import { HEADER_SIZE } from "../../webui/files/frames.js";

const MAX_FRAME = 64 * 1024;

/**
 * The events of the link, earliest first (ties in the order they were pushed), as the Python
 * test's heapq of (at, serial, kind, value).
 */
class Events {
  /** @type {Array<{at: number, serial: number, kind: string, value: number}>} */
  #heap = [];
  #serial = 0;

  get size() {
    return this.#heap.length;
  }

  /** @param {number} at @param {string} kind @param {number} value */
  push(at, kind, value) {
    const heap = this.#heap;
    heap.push({ at, serial: ++this.#serial, kind, value });
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  pop() {
    const heap = this.#heap;
    const top = heap[0];
    const last = /** @type {typeof top} */ (heap.pop());
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let least = i;
        if (l < heap.length && before(heap[l], heap[least])) least = l;
        if (r < heap.length && before(heap[r], heap[least])) least = r;
        if (least === i) break;
        [heap[i], heap[least]] = [heap[least], heap[i]];
        i = least;
      }
    }
    return top;
  }
}

/** @param {{at: number, serial: number}} a @param {{at: number, serial: number}} b */
const before = (a, b) => a.at < b.at || (a.at === b.at && a.serial < b.serial);

/**
 * Send for `seconds` over a link of `rate` bytes/s; every frame waits in the bottleneck's FIFO
 * queue, then `oneWay` seconds; acknowledgements come back after `oneWay` seconds (they are
 * small: no queue). The Python test's `simulate`, event for event.
 * @param {number} rate
 * @param {number} oneWay
 * @param {number} seconds
 * @param {{ack?: boolean, maxFrame?: number}} [options]
 */
function simulate(rate, oneWay, seconds, { ack = true, maxFrame = MAX_FRAME } = {}) {
  const window = new flow.Window(0.0, { maxFrame });
  const acker = new flow.Acker(0.0);
  const events = new Events();
  let linkFree = 0.0;
  let now = 0.0;
  const result = { delivered: 0, seconds, queueDelays: /** @type {number[]} */ ([]), frames: /** @type {number[]} */ ([]),
    acks: /** @type {number[]} */ ([]), window };

  const sendWhatFits = () => {
    while (window.room(now) > 0) {
      const size = window.frame();
      window.onSent(size, now);
      result.frames.push(size);
      const start = Math.max(now, linkFree);
      result.queueDelays.push(start - now);
      linkFree = start + (size + HEADER_SIZE) / rate;
      events.push(linkFree + oneWay, "arrive", size);
    }
  };
  /** @param {number | null} count */
  const answer = (count) => {
    if (count === null || !ack) return false;
    result.acks.push(count);
    events.push(now + oneWay, "ack", count);
    return true;
  };

  events.push(0.0, "tick", 0);
  while (events.size > 0) {
    const event = events.pop();
    now = event.at;
    if (now > seconds) break;
    if (event.kind === "arrive") {
      result.delivered += event.value;
      if (!answer(acker.add(event.value, now)) && acker.due !== null) events.push(acker.due, "flush", 0);
    } else if (event.kind === "flush") {
      if (!answer(acker.flush(now)) && acker.due !== null && acker.due > now) events.push(acker.due, "flush", 0);
    } else if (event.kind === "ack") {
      window.onAck(event.value, now);
    } else if (event.kind === "tick") {
      events.push(now + 0.01, "tick", 0); // the sender also looks now and then (a timer)
    }
    sendWhatFits();
  }
  return result;
}

/** @template T @param {T[]} values */
const steady = (values) => values.slice(Math.floor(values.length / 2));

const sum = (/** @type {number[]} */ values) => values.reduce((a, b) => a + b, 0);

test("the constants are the peer's, under the same names", () => {
  const python = readFileSync(new URL("../../peer/files/flow.py", import.meta.url), "utf8");
  const found = [...python.matchAll(/^([A-Z_]+) = ([\d.* ]+)$/gm)];
  const names = Object.keys(flow).filter((name) => /^[A-Z_]+$/.test(name)).sort();
  assert.deepEqual(found.map(([, name]) => name).sort(), names, "the same constants on both sides");
  for (const [, name, expression] of found) {
    const value = expression.split("*").reduce((product, factor) => product * Number(factor), 1);
    assert.equal(/** @type {any} */ (flow)[name], value, name);
  }
});

for (const [name, rate, oneWay] of [
  ["512kbit-40ms", 512_000 / 8, 0.02],
  ["2mbit-40ms", 2_000_000 / 8, 0.02],
  ["20mbit-40ms", 20_000_000 / 8, 0.02],
  ["40MBps-1ms", 40e6, 0.0005],
]) {
  test(`the transfer fills the link and keeps its queue short: ${name}`, () => {
    const result = simulate(rate, oneWay, Math.min(20.0, 4e7 / rate));
    const share = result.delivered / result.seconds / rate;
    assert.ok(share >= 0.85 / (1 + HEADER_SIZE / flow.MIN_FRAME), `${(share * 100).toFixed(1)}% of the link`);
    const delays = steady(result.queueDelays).sort((a, b) => a - b);
    const p95 = delays[Math.floor(delays.length * 0.95)];
    // at most the target and a frame or two of the link's time
    const frameTime = Math.max(flow.FRAME_TIME, (flow.MIN_FRAME + HEADER_SIZE) / rate);
    assert.ok(p95 <= flow.QUEUE_TARGET + flow.ACK_EVERY + 2 * frameTime, `p95 queue ${p95}`);
  });
}

test("frames are small on a thin link and large on a fast one", () => {
  const thin = steady(simulate(512_000 / 8, 0.02, 10.0).frames);
  const fast = steady(simulate(40e6, 0.0005, 1.0).frames);
  assert.ok(Math.max(...thin) <= 2048, "a click waits at most ~30 ms behind one at 512 kbit/s");
  assert.ok(Math.min(...fast) >= 32 * 1024);
});

test("a receiver that never acknowledges is not waited for forever", () => {
  const window = new flow.Window(0.0, { maxFrame: MAX_FRAME });
  let sent = 0;
  while (window.room(0.0) > 0) {
    const n = window.frame();
    window.onSent(n, 0.0);
    sent += n;
  }
  assert.ok(sent <= flow.START_WINDOW + MAX_FRAME);
  assert.equal(window.room(flow.SILENT_AFTER - 0.1), 0);
  assert.ok(window.room(flow.SILENT_AFTER + 0.1) > 0 && window.unacked);
  assert.equal(window.room(flow.SILENT_AFTER + 0.1), flow.MAX_WINDOW, "only the channel's buffer paces it now");
});

test("the acker acknowledges often enough and not for every frame", () => {
  const acker = new flow.Acker(0.0);
  const acks = Array.from({ length: 1000 }, (_, i) => acker.add(1200, i * 0.001)); // 1.2 MB/s for a second
  const sent = /** @type {number[]} */ (acks.filter((a) => a !== null));
  assert.equal(acks[0], 1200, "the first bytes at once");
  assert.ok(sent.length >= 90 && sent.length <= 110, `${sent.length} acks`); // then every 10 ms
  assert.deepEqual(sent, [...sent].sort((a, b) => a - b));
  assert.ok(sent[sent.length - 1] <= 1_200_000);
  assert.equal(acker.add(0, 1.0, { last: true }), 1_200_000, "the end of a file is acknowledged at once");
  assert.equal(acker.add(0, 1.001, { last: true }), null, "nothing new: nothing to say");
  assert.equal(acker.due, null);
  assert.equal(acker.add(100, 1.002), null);
  assert.ok(Math.abs(/** @type {number} */ (acker.due) - 1.01) < 1e-9, `due ${acker.due}`);
  assert.equal(acker.flush(1.005), null);
  assert.equal(acker.flush(1.01), 1_200_100);
  // ACK_BYTES at once, however soon
  assert.equal(acker.add(flow.ACK_BYTES, 1.0101), 1_200_100 + flow.ACK_BYTES);
});

test("acknowledgements out of reason change nothing; our own mistakes are RangeErrors", () => {
  const window = new flow.Window(0.0, { maxFrame: MAX_FRAME });
  window.onSent(10_000, 0.0);
  window.onAck(50_000, 0.05); // more than was sent: counted as what was sent
  assert.equal(window.acked, 10_000);
  assert.equal(window.inFlight, 0);
  window.onAck(5_000, 0.06); // going backwards: ignored
  assert.equal(window.acked, 10_000);
  window.onAck(Number.NaN, 0.07);
  assert.equal(window.acked, 10_000);
  assert.throws(() => window.onSent(-1, 0.1), RangeError);
  assert.throws(() => new flow.Acker(0.0).add(-5, 0.0), RangeError);
  assert.throws(() => new flow.Window(0.0, { maxFrame: flow.MIN_FRAME - 1 }), /frame size 1023/);
});

// ------------------------------------------------------------------ the same numbers as Python

// Computed once with the peer's core (`.venv/bin/python`, peer/files/flow.py) for the events
// below: `scripted()` and `simulate()` there are these functions, line for line. Floats are
// compared exactly: both sides do the same IEEE double arithmetic in the same order.
// [window, rate, baseRtt, queueing, frame, room(now), inFlight, acked] after each ack
const SCRIPTED = [
  [7168, 0.0, 0.025900000000000034, 0.0, 1024, 7168, 0, 3072],
  [8898, 0.0, 0.025900000000000034, 0.003300000000001191, 1024, 7898, 1000, 5144],
  [12847, 177572.2543352546, 0.025900000000000034, 0.000600000000000378, 1024, 12847, 0, 9216],
  [14515, 182358.64297253222, 0.025900000000000034, 0.0038999999999997925, 1024, 13515, 1000, 11288],
  [18343, 213630.04172460872, 0.025900000000000034, 0.001200000000000756, 1024, 18343, 0, 15360],
  [19949, 287199.99999998574, 0.025900000000000034, 0.0045000000000001705, 2048, 18949, 1000, 17432],
  [26450, 388639.9999999807, 0.025900000000000034, 0.001800000000001134, 3072, 26450, 0, 24576],
  [32571, 471519.99999997654, 0.025900000000000034, 0.0051000000000005485, 3072, 31571, 1000, 32792],
  [41561, 634399.9999999685, 0.025900000000000034, 0.0023999999999997357, 4096, 41561, 0, 43008],
  [49632, 778719.9999999612, 0.025900000000000034, 0.0057000000000009265, 6144, 48632, 1000, 54296],
  [66149, 1125919.999999944, 0.025900000000000034, 0.0030000000000001137, 8192, 66149, 0, 73728],
  [82299, 1454559.9999999276, 0.025900000000000034, 0.0063000000000013046, 11264, 81299, 1000, 97304],
  [110828, 1986079.9999999013, 0.025900000000000034, 0.0036000000000004917, 15360, 110828, 0, 132096],
  [140355, 2683359.9999998664, 0.025900000000000034, 0.006899999999999906, 20480, 139355, 1000, 177176],
  [189683, 3706399.9999998156, 0.025900000000000034, 0.00420000000000087, 28672, 189683, 0, 239616],
  [242818, 5018079.99999975, 0.025900000000000034, 0.007500000000000284, 39936, 241818, 1000, 324632],
  [334632, 6962719.999999654, 0.025900000000000034, 0.004800000000001248, 55296, 334632, 0, 445440],
  [432740, 9564639.999999525, 0.025900000000000034, 0.008100000000000662, 65520, 431740, 1000, 610328],
  [576959, 12614239.999999372, 0.025900000000000034, 0.005399999999999849, 65520, 576959, 0, 807888],
  [687451, 15276639.99999924, 0.025900000000000034, 0.00870000000000104, 65520, 686451, 1000, 1003448],
  [687201, 15276639.99999924, 0.025900000000000034, 0.9748000000000001, 65520, 687201, 0, 1004448],
];

/**
 * Sixty frames 3 ms apart, every third one followed by an ack 25 ms or so later (every other
 * one a little short of what was sent), then an ack of more than was sent a second on.
 */
function scripted() {
  const w = new flow.Window(10.0, { maxFrame: 65520 });
  const out = [];
  /** @param {number} now */
  const snap = (now) => out.push([w.window, w.rate, w.baseRtt, w.queueing, w.frame(), w.room(now), w.inFlight, w.acked]);
  let t = 10.0;
  for (let i = 0; i < 60; i++) {
    t += 0.003;
    w.onSent(w.frame(), t);
    if (i % 3 === 2) {
      t += 0.0007;
      w.onAck(w.sent - (i % 2) * 1000, t + 0.025 + 0.0001 * i);
      snap(t + 0.025 + 0.0001 * i);
    }
  }
  w.onAck(10 ** 12, t + 1.0); // more than was sent
  snap(t + 1.0);
  return out;
}

test("the window gives the numbers the peer's core gives for the same events", () => {
  assert.deepEqual(scripted(), SCRIPTED);
});

test("the simulated links end where the peer's core ends them", () => {
  /** @param {ReturnType<typeof simulate>} r */
  const summary = (r) => ({
    delivered: r.delivered, frames: r.frames.length, frameSum: sum(r.frames), lastFrame: r.frames.at(-1),
    acks: r.acks.length, lastAck: r.acks.at(-1), delaySum: sum(r.queueDelays), window: r.window.window,
    rate: r.window.rate, baseRtt: r.window.baseRtt, queueing: r.window.queueing, sent: r.window.sent, acked: r.window.acked,
  });
  assert.deepEqual(summary(simulate(512_000 / 8, 0.02, 3.0)), {
    delivered: 187392, frames: 188, frameSum: 192512, lastFrame: 1024, acks: 183, lastAck: 187392,
    delaySum: 6.111249999999988, window: 5984, rate: 63015.3846153851, baseRtt: 0.05625000000000001,
    queueing: 0.041249999999999246, sent: 192512, acked: 186368,
  });
  assert.deepEqual(summary(simulate(40e6, 0.0005, 0.2, { maxFrame: 65520 })), {
    delivered: 4798448, frames: 176, frameSum: 5846768, lastFrame: 65520, acks: 23, lastAck: 4798448,
    delaySum: 1.3972528000000088, window: 1026313, rate: 39990234.3749998, baseRtt: 0.001026,
    queueing: 0.023550000000000182, sent: 5846768, acked: 4798448,
  });
});

test("while voice is on a transfer keeps little on its way, and grows again after", () => {
  const win = new flow.Window(0, { maxFrame: 64 * 1024 });
  for (let i = 0; i < 400; i++) { // a fast, empty link: the window grows far past the voice cap
    win.onSent(64 * 1024, i * 0.001);
    win.onAck(win.sent, i * 0.001 + 0.0005);
  }
  assert.ok(win.room(1) > flow.VOICE_WINDOW);
  flow.voiceOn(true);
  try {
    assert.equal(win.room(1), flow.VOICE_WINDOW);
    win.onSent(4096, 3);
    assert.equal(win.room(3), flow.VOICE_WINDOW - 4096);
    // the link's queue grows (and its fast rate is two seconds old): the window comes
    // down from the cap at once, not from the megabytes it grew to while the cap held it
    // (minutes of acks at a voice's pace)
    win.onAck(win.sent, 3.2);
    assert.equal(win.window, flow.VOICE_WINDOW);
    win.onSent(8192, 3.2);
    win.onAck(win.sent, 3.4);
    assert.ok(win.window < flow.VOICE_WINDOW);
  } finally {
    flow.voiceOn(false);
  }
  for (let i = 0; i < 20; i++) { // the call is over: an empty link lets it grow again
    win.onSent(win.room(4 + i * 0.001), 4 + i * 0.001);
    win.onAck(win.sent, 4 + i * 0.001 + 0.0005);
  }
  assert.ok(win.room(5) > 8 * flow.VOICE_WINDOW);
});
