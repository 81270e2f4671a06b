// The operator's connection (webui/rtc.js) against a fake RTCPeerConnection: one certificate for
// every connection of a session, offers that wait for it, and a held connection that sends
// nothing.
import { test } from "node:test";
import assert from "node:assert/strict";

import { PeerLink, sessionCertificate } from "../../webui/rtc.js";
import { sdpFingerprint, verificationCode } from "../../webui/protocol.js";

const OFFER = "v=0\r\na=fingerprint:sha-256 72:60:A8:4F\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
const ANSWER = "v=0\r\na=fingerprint:sha-256 01:7F:E9:58\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";

/** Records what the connection was made with and what was done to it. */
class FakePeerConnection extends EventTarget {
  /** @type {FakePeerConnection[]} */
  static made = [];
  /** @type {any[]} */
  static algorithms = [];
  static fail = false;

  /** @param {any} algorithm */
  static async generateCertificate(algorithm) {
    FakePeerConnection.algorithms.push(algorithm);
    if (FakePeerConnection.fail) throw new Error("no such algorithm");
    return { certificate: FakePeerConnection.algorithms.length };
  }

  /** @param {any} config */
  constructor(config) {
    super();
    this.config = config;
    this.remoteDescription = null;
    this.localDescription = null;
    this.signalingState = "stable";
    this.connectionState = "new";
    this.closed = false;
    /** @type {any[]} */
    this.candidates = [];
    FakePeerConnection.made.push(this);
  }
  async setRemoteDescription(description) {
    this.remoteDescription = description;
  }
  async createAnswer() {
    return { type: "answer", sdp: ANSWER };
  }
  async setLocalDescription(description) {
    this.localDescription = description;
  }
  getTransceivers() {
    return [];
  }
  async addIceCandidate(candidate) {
    this.candidates.push(candidate);
  }
  async getStats() {
    return new Map();
  }
  close() {
    this.closed = true;
  }
}

function handlers() {
  const sent = [];
  const codes = [];
  const logs = [];
  return {
    sent, codes, logs,
    handlers: {
      send: (msg) => sent.push(msg),
      onlog: (line, level = "info") => logs.push({ line, level }),
      ontrack: () => {},
      onmessage: () => {},
      onstate: () => {},
      onquality: () => {},
      onverification: (code) => codes.push(code),
    },
  };
}

function withFake(fn) {
  return async () => {
    const saved = globalThis.RTCPeerConnection;
    globalThis.RTCPeerConnection = /** @type {any} */ (FakePeerConnection);
    FakePeerConnection.made = [];
    FakePeerConnection.algorithms = [];
    FakePeerConnection.fail = false;
    try {
      await fn();
    } finally {
      globalThis.RTCPeerConnection = saved;
    }
  };
}

test("every connection of a session is made with the session's one ECDSA P-256 certificate", withFake(async () => {
  const h = handlers();
  const certificate = sessionCertificate(h.handlers.onlog);
  const first = new PeerLink([{ urls: ["stun:stun.example.com:3478"] }], h.handlers, certificate);
  await first.acceptOffer(OFFER);
  const second = new PeerLink([{ urls: ["turn:turn.example.com:3478"], username: "u", credential: "c" }], h.handlers, certificate);
  await second.acceptOffer(OFFER);
  try {
    assert.deepEqual(FakePeerConnection.algorithms, [{ name: "ECDSA", namedCurve: "P-256" }], "made once");
    const [a, b] = FakePeerConnection.made;
    assert.equal(a.config.certificates.length, 1);
    assert.equal(a.config.certificates[0], b.config.certificates[0], "the same certificate");
    assert.deepEqual(b.config.iceServers, [{ urls: ["turn:turn.example.com:3478"], username: "u", credential: "c" }]);
    // each answer gives the code, the same for both (the fake's fingerprints do not change)
    const code = verificationCode(sdpFingerprint(ANSWER), sdpFingerprint(OFFER));
    assert.deepEqual(h.codes, [code, code]);
    assert.deepEqual(h.sent.filter((m) => m.type === "answer").length, 2);
  } finally {
    first.close();
    second.close();
  }
}));

test("no certificate to be had: the connection is made without one, and the log says why", withFake(async () => {
  FakePeerConnection.fail = true;
  const h = handlers();
  const link = new PeerLink([], h.handlers, sessionCertificate(h.handlers.onlog));
  await link.acceptOffer(OFFER);
  try {
    assert.equal(FakePeerConnection.made[0].config.certificates, undefined);
    assert.ok(h.logs.some((l) => l.level === "error" && l.line.includes("no such algorithm")));
  } finally {
    link.close();
  }
}));

test("an offer and candidates that come before the certificate wait for it, in order", withFake(async () => {
  const h = handlers();
  /** @type {(cert: any) => void} */
  let give = () => {};
  const link = new PeerLink([], h.handlers, new Promise((resolve) => { give = resolve; }));
  const answered = link.acceptOffer(OFFER);
  await link.addCandidate({ candidate: "candidate:1 1 udp 1 10.0.0.1 9 typ host", sdp_mid: "0", sdp_mline_index: 0 });
  assert.equal(FakePeerConnection.made.length, 0, "no connection before the certificate");
  give({ certificate: "late" });
  await answered;
  try {
    const pc = FakePeerConnection.made[0];
    assert.deepEqual(pc.config.certificates, [{ certificate: "late" }]);
    assert.equal(pc.remoteDescription.sdp, OFFER);
    assert.equal(pc.candidates.length, 1, "the early candidate was added after the offer");
  } finally {
    link.close();
  }
}));

test("a held connection sends nothing, on any channel, until released", withFake(async () => {
  const h = handlers();
  const link = new PeerLink([], h.handlers);
  const control = Object.assign(new EventTarget(), {
    label: "control", readyState: "open", bufferedAmount: 0, sent: [], send(data) { this.sent.push(data); }, close() {},
  });
  link.channels.adopt(control);
  try {
    assert.equal(link.isOpen("control"), true);
    assert.equal(link.sendControl({ type: "consent_request", capability: "control" }), true);
    link.hold();
    assert.equal(link.isOpen("control"), false);
    assert.equal(link.sendControl({ type: "consent_request", capability: "control" }), false);
    assert.equal(link.send("control", { type: "consent_request", capability: "view" }), false);
    assert.equal(control.sent.length, 1);
    link.release();
    assert.equal(link.sendControl({ type: "consent_request", capability: "control" }), true);
    assert.equal(control.sent.length, 2);
  } finally {
    link.close();
  }
}));

test("a connection closed before its certificate came is never made", withFake(async () => {
  const h = handlers();
  let give = () => {};
  const link = new PeerLink([], h.handlers, new Promise((resolve) => { give = resolve; }));
  link.close();
  give(null);
  await link.ready;
  assert.equal(FakePeerConnection.made.length, 0);
}));
