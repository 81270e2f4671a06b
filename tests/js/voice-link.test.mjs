// The contract between the connection (webui/rtc.js) and the voice panel: before every answer
// each audio transceiver gets its direction and the microphone (`PeerLink.localAudio`); a
// microphone found later goes on the transceivers that send already (`refreshLocalAudio`), and
// a fresh connection after a drop asks the same hook again. Also the registry's audio port.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Panels, definePanel } from "../../webui/panels.js";
import { PeerLink, audioAnswerPlan, audioSenders } from "../../webui/rtc.js";

const OFFER = "v=0\r\na=fingerprint:sha-256 72:60:A8:4F\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
const ANSWER = "v=0\r\na=fingerprint:sha-256 01:7F:E9:58\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

/** A transceiver that records what is done to it, into `journal`. */
function transceiver(kind, mid, journal, { currentDirection = null, stopped = false } = {}) {
  let direction = "recvonly";
  const tr = {
    mid,
    stopped,
    currentDirection,
    receiver: { track: { kind } },
    sender: {
      track: null,
      async replaceTrack(track) {
        journal.push(["replaceTrack", mid, track?.id ?? null]);
        this.track = track;
      },
    },
    get direction() {
      return direction;
    },
    set direction(value) {
      journal.push(["direction", mid, value]);
      direction = value;
    },
  };
  return tr;
}

/** An RTCPeerConnection whose offers bring the transceivers given. */
function fakePeerConnectionClass(journal, transceivers) {
  return class extends EventTarget {
    constructor() {
      super();
      this.remoteDescription = null;
      this.localDescription = null;
    }
    async setRemoteDescription(d) {
      journal.push(["setRemoteDescription"]);
      this.remoteDescription = d;
    }
    async createAnswer() {
      journal.push(["createAnswer"]);
      return { type: "answer", sdp: ANSWER };
    }
    async setLocalDescription(d) {
      this.localDescription = d;
      // the answer is in: each transceiver now sends what its direction said
      for (const tr of transceivers) tr.currentDirection ??= tr.direction;
    }
    getTransceivers() {
      return transceivers;
    }
    async addIceCandidate() {}
    async getStats() {
      return new Map();
    }
    close() {}
  };
}

function handlers(sent = []) {
  return {
    send: (m) => sent.push(m), onlog: () => {}, ontrack: () => {}, onmessage: () => {}, onstate: () => {},
    onquality: () => {}, onverification: () => {},
  };
}

/** Run `fn` with a fake RTCPeerConnection in place. */
async function withPeerConnection(cls, fn) {
  const saved = globalThis.RTCPeerConnection;
  globalThis.RTCPeerConnection = cls;
  try {
    await fn();
  } finally {
    globalThis.RTCPeerConnection = saved;
  }
}

const MIC = { id: "mic-1", kind: "audio" };

test("the answer's direction: sendrecv while voice is wanted or allowed, with or without a microphone", () => {
  const journal = [];
  const audio = transceiver("audio", "1", journal);
  const video = transceiver("video", "0", journal);
  const gone = transceiver("audio", "2", journal, { stopped: true });
  const plan = (local) => audioAnswerPlan([video, audio, gone], local).map((s) => [s.transceiver.mid, s.direction, s.track]);
  assert.deepEqual(plan({ send: true, track: MIC }), [["1", "sendrecv", MIC]]);
  // listen-only: still sendrecv, or the peer never makes its receiving track for a later microphone
  assert.deepEqual(plan({ send: true, track: null }), [["1", "sendrecv", null]]);
  assert.deepEqual(plan({ send: false, track: MIC }), [["1", "recvonly", null]], "hung up: nothing sent");
  assert.deepEqual(journal, [], "planning touches nothing");
});

test("before createAnswer: the microphone on the sender and the direction, video left alone", async () => {
  const journal = [];
  const audio = transceiver("audio", "1", journal);
  const video = transceiver("video", "0", journal);
  await withPeerConnection(fakePeerConnectionClass(journal, [video, audio]), async () => {
    const sent = [];
    const link = new PeerLink([], handlers(sent));
    link.localAudio = () => ({ send: true, track: MIC });
    await link.acceptOffer(OFFER);
    link.close();
    assert.deepEqual(journal, [
      ["setRemoteDescription"], ["direction", "1", "sendrecv"], ["replaceTrack", "1", "mic-1"], ["createAnswer"],
    ]);
    assert.equal(sent.filter((m) => m.type === "answer").length, 1);
  });
});

test("without a hook the browser's own answer stands", async () => {
  const journal = [];
  await withPeerConnection(fakePeerConnectionClass(journal, [transceiver("audio", "1", journal)]), async () => {
    const link = new PeerLink([], handlers());
    await link.acceptOffer(OFFER);
    link.close();
    assert.deepEqual(journal, [["setRemoteDescription"], ["createAnswer"]]);
  });
});

test("a microphone found after the transceiver exists goes on it without a new offer", async () => {
  const journal = [];
  const audio = transceiver("audio", "1", journal);
  /** @type {any} */
  let mic = null;
  await withPeerConnection(fakePeerConnectionClass(journal, [audio]), async () => {
    const sent = [];
    const link = new PeerLink([], handlers(sent));
    link.localAudio = () => ({ send: true, track: mic }); // voice allowed beforehand: no microphone yet
    await link.acceptOffer(OFFER);
    assert.equal(audio.currentDirection, "sendrecv");
    journal.length = 0;
    mic = MIC; // Start voice: the browser gave the microphone
    assert.equal(await link.refreshLocalAudio(), 1);
    assert.deepEqual(journal, [["replaceTrack", "1", "mic-1"]]);
    assert.equal(await link.refreshLocalAudio(), 1);
    assert.deepEqual(journal, [["replaceTrack", "1", "mic-1"]], "the same track is not put on again");
    mic = null; // hung up
    await link.refreshLocalAudio();
    assert.deepEqual(journal.at(-1), ["replaceTrack", "1", null]);
    assert.equal(sent.filter((m) => m.type === "answer").length, 1, "no renegotiation");
    link.close();
  });
});

test("only transceivers that send now get the microphone between offers", () => {
  const journal = [];
  const sending = transceiver("audio", "1", journal, { currentDirection: "sendrecv" });
  const receiving = transceiver("audio", "2", journal, { currentDirection: "recvonly" });
  const unanswered = transceiver("audio", "3", journal);
  const video = transceiver("video", "0", journal, { currentDirection: "sendrecv" });
  const senders = audioSenders([sending, receiving, unanswered, video], { send: true, track: MIC });
  assert.deepEqual(senders.map((s) => [s.transceiver.mid, s.track]), [["1", MIC]]);
});

test("a fresh connection after a drop asks the same hook: the microphone is attached again", async () => {
  const journal = [];
  const local = () => ({ send: true, track: MIC });
  for (const mid of ["1", "2"]) {
    const audio = transceiver("audio", mid, journal);
    await withPeerConnection(fakePeerConnectionClass(journal, [audio]), async () => {
      const link = new PeerLink([], handlers());
      link.localAudio = local;
      await link.acceptOffer(OFFER);
      link.close();
    });
  }
  assert.deepEqual(journal.filter((j) => j[0] === "replaceTrack"), [["replaceTrack", "1", "mic-1"], ["replaceTrack", "2", "mic-1"]]);
});

test("the registry gives the audio port of the capability whose tracks carry audio", () => {
  const port = { local: () => ({ send: true, track: null }), remote: () => {}, stopped: () => {} };
  const hooks = { log: () => {}, link: () => null, send: () => false, isOpen: () => false, consent: /** @type {any} */ (null) };
  const withVoice = new Panels([
    // a port on a capability without audio tracks is not the audio port
    definePanel({ capability: "view", create: () => ({ update() {}, reset() {}, audio: { ...port, local: () => ({ send: false, track: null }) } }) }),
    definePanel({ capability: "voice", receives: { control: ["voice_state"] }, create: () => ({ update() {}, reset() {}, audio: port }) }),
  ], hooks);
  assert.equal(withVoice.audio(), port);
  const without = new Panels([definePanel({ capability: "chat", create: () => ({ update() {}, reset() {} }) })], hooks);
  assert.equal(without.audio(), null);
});
