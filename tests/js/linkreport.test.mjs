// The console's measure of the picture for the peer's rate control (webui/linkreport.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { QueueMeter, WINDOW_MS, makeReport, videoCounts } from "../../webui/linkreport.js";
import { validate } from "../../webui/protocol.js";

test("frames on time measure no queue, frames that waited measure how long", () => {
  const meter = new QueueMeter();
  // 30 fps, each frame arriving 40 ms after capture (offset unknown to the page: 5000 ms)
  for (let i = 0; i < 30; i++) meter.frame(5040 + i * 33.3, i * 3000);
  assert.ok(Math.abs(/** @type {number} */ (meter.take())) < 0.5);
  // then a queue builds: each frame 20 ms later than the one before
  for (let i = 30; i < 40; i++) meter.frame(5040 + i * 33.3 + (i - 29) * 20, i * 3000);
  assert.ok(Math.abs(/** @type {number} */ (meter.take()) - 110) < 0.5); // mean of 20..200
  assert.equal(meter.take(), null); // nothing since
});

test("the RTP timestamp wrapping at 2^32 is no jump in delay", () => {
  const meter = new QueueMeter();
  const start = 2 ** 32 - 3000 * 5;
  for (let i = 0; i < 10; i++) meter.frame(1000 + i * 33.333, (start + i * 3000) % 2 ** 32);
  assert.ok(/** @type {number} */ (meter.take()) < 0.1);
});

test("the lowest delay is forgotten after the window (clocks drift)", () => {
  const meter = new QueueMeter();
  meter.frame(0, 0); // one early frame, 100 ms better than everything after it
  for (let i = 1; i < 400; i++) meter.frame(100 + i * 33.3, i * 3000);
  meter.take();
  const t = 100 + 400 * 33.3;
  assert.ok(t > WINDOW_MS);
  meter.frame(t, 400 * 3000);
  assert.ok(/** @type {number} */ (meter.take()) < 0.1);
});

test("a report from two getStats samples passes the wire's own check", () => {
  const entries = (/** @type {number} */ at, /** @type {number} */ received, /** @type {number} */ lost, /** @type {number} */ bytes, /** @type {number} */ frames) => [
    { id: "a", type: "inbound-rtp", kind: "audio", packetsReceived: 999, packetsLost: 99, bytesReceived: 1, timestamp: at },
    { id: "v", type: "inbound-rtp", kind: "video", packetsReceived: received, packetsLost: lost, bytesReceived: bytes, framesDecoded: frames, timestamp: at },
  ];
  const before = videoCounts(entries(1000, 100, 0, 10000, 10));
  const after = videoCounts(entries(2000, 190, 10, 260000, 40));
  assert.ok(before && after);
  const report = makeReport(before, after, 35.5);
  assert.deepEqual(report, { type: "view_report", queue_ms: 35.5, loss: 0.1, kbps: 2000, fps: 30 });
  assert.equal(validate(report, "control").type, "view_report");
  assert.equal(makeReport(after, after, 1), null); // no time between: no report
  assert.equal(videoCounts([{ id: "a", type: "inbound-rtp", kind: "audio" }]), null);
});
