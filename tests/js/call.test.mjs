// The voice-only call: how it sounds from the connection's statistics (webui/stats.js), in words
// (webui/callview.js), "Ask to see the screen", and the duration's clock (webui/format.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { callQualityWords, initial, seeScreen } from "../../webui/callview.js";
import { formatElapsed } from "../../webui/format.js";
import { render, setLanguage } from "../../webui/i18n.js";
import { CALL_LIMITS, callQuality, computeQuality } from "../../webui/stats.js";

/**
 * A report like Chrome's for a call: `n` seconds in, audio both ways.
 * @param {number} n
 * @param {{received?: number, lost?: number, jitter?: number, outLoss?: number, outJitter?: number, rtt?: number}} audio
 */
function callReport(n, { received = n * 50, lost = 0, jitter = 0.004, outLoss = 0, outJitter = 0.003, rtt = 0.04 } = {}) {
  const ts = 1_000_000 + n * 1000;
  return [
    { id: "IA", type: "inbound-rtp", kind: "audio", timestamp: ts, bytesReceived: n * 4000, packetsReceived: received, packetsLost: lost, jitter },
    { id: "RA", type: "remote-inbound-rtp", kind: "audio", timestamp: ts, roundTripTime: 0.05, fractionLost: outLoss, jitter: outJitter },
    { id: "T", type: "transport", timestamp: ts, selectedCandidatePairId: "CP" },
    { id: "CP", type: "candidate-pair", timestamp: ts, state: "succeeded", nominated: true, currentRoundTripTime: rtt, localCandidateId: "L", remoteCandidateId: "R" },
    { id: "L", type: "local-candidate", candidateType: "host" },
    { id: "R", type: "remote-candidate", candidateType: "srflx" },
  ];
}

test("audio loss is counted over the last interval, the worse direction wins; jitter in ms", () => {
  const first = computeQuality(callReport(10, { received: 500, lost: 0 }), null);
  assert.deepEqual(first.audio, { lossPct: 0, jitterMs: 4 });
  // the next second: 45 packets arrived, 5 were lost -> 10 %
  const next = computeQuality(callReport(11, { received: 545, lost: 5 }), first.sample);
  assert.deepEqual(next.audio, { lossPct: 10, jitterMs: 4 });
  // the customer's side lost 20 % of the operator's voice: that counts
  const out = computeQuality(callReport(12, { received: 595, lost: 5, outLoss: 0.2, outJitter: 0.07 }), next.sample);
  assert.deepEqual(out.audio, { lossPct: 20, jitterMs: 70 });
  assert.equal(out.rttMs, 40);
});

test("without a candidate pair's round trip, the audio's own is used; no audio, no audio figures", () => {
  const report = callReport(5).filter((e) => e.type !== "candidate-pair" && e.type !== "transport");
  assert.equal(computeQuality(report, null).rttMs, 50);
  assert.equal(computeQuality([], null).audio, null);
});

test("the verdict: good within the fair limits, poor beyond the poor ones", () => {
  const q = (rttMs, lossPct, jitterMs) => callQuality(/** @type {any} */ ({ rttMs, audio: { lossPct, jitterMs } })).level;
  assert.equal(q(40, 0, 4), "good");
  assert.equal(q(CALL_LIMITS.fair.rttMs, CALL_LIMITS.fair.lossPct, CALL_LIMITS.fair.jitterMs), "good");
  assert.equal(q(300, 0, 4), "fair");
  assert.equal(q(40, 3, 4), "fair");
  assert.equal(q(40, 0, 45), "fair");
  assert.equal(q(600, 0, 4), "poor");
  assert.equal(q(40, 10, 4), "poor");
  assert.equal(q(40, 0, 80), "poor");
  assert.equal(callQuality(null).level, null);
  assert.deepEqual(callQuality(computeQuality([], null)), { level: null, rttMs: null, lossPct: null, jitterMs: null });
  // what is known is judged
  assert.equal(callQuality(/** @type {any} */ ({ rttMs: 700, audio: null })).level, "poor");
});

test("#call-quality in words, from a real sample", () => {
  const first = computeQuality(callReport(10, { received: 500 }), null);
  const good = computeQuality(callReport(11, { received: 550 }), first.sample);
  assert.equal(render(callQualityWords(callQuality(good))), "Call quality: good (round trip 40 ms, 0% lost, jitter 4 ms)");
  const poor = computeQuality(callReport(11, { received: 540, lost: 10 }), first.sample);
  assert.equal(render(callQualityWords(callQuality(poor))),
    "Call quality: poor, expect gaps and delay; the chat may help (round trip 40 ms, 20% lost, jitter 4 ms)");
  assert.equal(render(callQualityWords(callQuality(null))), "Call quality: measuring…");
  assert.equal(render(callQualityWords({ level: "fair", rttMs: 300, lossPct: null, jitterMs: null })),
    "Call quality: fair, words may break up now and then (round trip 300 ms, –% lost, jitter – ms)");
  setLanguage("ja");
  try {
    assert.equal(render(callQualityWords(callQuality(good))), "通話品質: 良好（往復 40 ms、損失 0%、ジッター 4 ms）");
  } finally {
    setLanguage("en");
  }
});

test("Ask to see the screen: offered, waiting, refused, taken back; gone once the picture is there", () => {
  const now = { offered: true, open: true, visible: false };
  const said = (s) => ({ ...s, note: s.note && render(s.note) });
  assert.deepEqual(said(seeScreen("off", now)), { button: "offered", note: null, alert: false });
  assert.deepEqual(said(seeScreen("asked", now)), { button: "waiting", note: "Asked the customer to show their screen…", alert: false });
  assert.deepEqual(said(seeScreen("denied", now)), { button: "offered", note: "The customer said no to showing their screen.", alert: true });
  assert.deepEqual(said(seeScreen("revoked", now)), { button: "offered", note: "The customer stopped showing their screen.", alert: true });
  assert.deepEqual(said(seeScreen("granted", now)), { button: "hidden", note: "The customer agreed: their screen is on its way…", alert: false });
  assert.deepEqual(seeScreen("granted", { ...now, visible: true }), { button: "hidden", note: null, alert: false });
  assert.equal(seeScreen("off", { ...now, open: false }).button, "hidden", "nothing can be asked before the channel opens");
  assert.equal(seeScreen("off", { ...now, offered: false }).button, "hidden", "a peer that cannot show its screen in a call");
});

test("the duration ticks as mm:ss; the badge shows the customer's initial", () => {
  assert.equal(formatElapsed(0), "00:00");
  assert.equal(formatElapsed(59.9), "00:59");
  assert.equal(formatElapsed(61), "01:01");
  assert.equal(formatElapsed(3725), "62:05");
  assert.equal(formatElapsed(-3), "00:00");
  assert.equal(formatElapsed(Number.NaN), "00:00");
  assert.equal(initial("bob"), "B");
  assert.equal(initial("  émile"), "É");
  assert.equal(initial("山田"), "山");
  assert.equal(initial(""), "?");
});
