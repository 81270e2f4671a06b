import { test } from "node:test";
import assert from "node:assert/strict";

import { computeQuality, qualityText, selectedPair } from "../../webui/stats.js";

/** A report like Chrome's, with `n` seconds of 30 fps video at 1 Mbit/s. */
function report(n, { localType = "host", remoteType = "host", withSelectedId = true } = {}) {
  const t = 1_000_000 + n * 1000;
  return new Map(
    [
      { id: "IT1", type: "inbound-rtp", kind: "video", timestamp: t, bytesReceived: n * 125_000, framesDecoded: n * 30, frameWidth: 1280, frameHeight: 720 },
      { id: "IT2", type: "inbound-rtp", kind: "audio", timestamp: t, bytesReceived: 0 },
      { id: "T1", type: "transport", timestamp: t, ...(withSelectedId ? { selectedCandidatePairId: "CP1" } : {}) },
      { id: "CP0", type: "candidate-pair", timestamp: t, state: "failed", localCandidateId: "L0", remoteCandidateId: "R0" },
      { id: "CP1", type: "candidate-pair", timestamp: t, state: "succeeded", nominated: true, currentRoundTripTime: 0.0234, localCandidateId: "L1", remoteCandidateId: "R1" },
      { id: "L0", type: "local-candidate", candidateType: "relay" },
      { id: "R0", type: "remote-candidate", candidateType: "relay" },
      { id: "L1", type: "local-candidate", candidateType: localType },
      { id: "R1", type: "remote-candidate", candidateType: remoteType },
    ].map((e) => [e.id, e]),
  );
}

test("first sample has RTT and route but no rates yet", () => {
  const q = computeQuality(report(1), null);
  assert.equal(q.fps, null);
  assert.equal(q.kbps, null);
  assert.equal(q.rttMs, 23);
  assert.equal(q.route, "direct");
  assert.deepEqual([q.width, q.height], [1280, 720]);
});

test("rates come from the difference between two samples", () => {
  const first = computeQuality(report(1), null);
  const q = computeQuality(report(3), first.sample);
  assert.equal(q.fps, 30);
  assert.equal(q.kbps, 1000);
  assert.equal(qualityText(q), "30 fps · 1000 kbit/s · RTT 23 ms · direct");
});

test("a relay candidate on either end means relay", () => {
  assert.equal(computeQuality(report(1, { localType: "relay" }), null).route, "relay");
  assert.equal(computeQuality(report(1, { remoteType: "relay" }), null).route, "relay");
  assert.equal(computeQuality(report(1, { localType: "srflx", remoteType: "prflx" }), null).route, "direct");
});

test("without selectedCandidatePairId the nominated succeeded pair is used", () => {
  assert.equal(selectedPair([...report(1, { withSelectedId: false }).values()])?.id, "CP1");
});

test("an empty report gives dashes", () => {
  const q = computeQuality([], null);
  assert.equal(qualityText(q), "– fps · – kbit/s · RTT – ms · –");
});
