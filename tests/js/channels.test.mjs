// Data channels adopted from the CHANNELS table, with fake RTCDataChannels (no browser).
import { test } from "node:test";
import assert from "node:assert/strict";

import { DataChannels } from "../../webui/channels.js";
import { CHANNELS, ProtocolError } from "../../webui/protocol.js";

class FakeChannel extends EventTarget {
  /** @param {string} label */
  constructor(label, readyState = "connecting") {
    super();
    this.label = label;
    this.readyState = readyState;
    this.bufferedAmount = 0;
    /** @type {string[]} */
    this.sent = [];
    this.closeCalls = 0;
  }
  /** @param {string} data */
  send(data) {
    this.sent.push(data);
  }
  close() {
    this.closeCalls++;
    this.readyState = "closed";
  }
  open() {
    this.readyState = "open";
    this.dispatchEvent(new Event("open"));
  }
  /** @param {unknown} data */
  deliver(data) {
    this.dispatchEvent(Object.assign(new Event("message"), { data }));
  }
}

function setup() {
  /** @type {{line: string, level?: string}[]} */
  const logs = [];
  /** @type {[string, any][]} */
  const got = [];
  /** @type {[string, string][]} */
  const changes = [];
  const channels = new DataChannels({
    log: (line, level) => logs.push({ line, level }),
    onmessage: (label, msg) => got.push([label, msg]),
    onchange: (label, state) => changes.push([label, state]),
  });
  return { channels, logs, got, changes };
}

test("every label of the table is adopted, opened and kept by label", () => {
  const { channels, changes } = setup();
  for (const spec of CHANNELS) {
    const ch = new FakeChannel(spec.label);
    channels.adopt(ch);
    ch.open();
    assert.equal(channels.channel(spec.label), ch);
    assert.equal(channels.isOpen(spec.label), true);
  }
  assert.deepEqual(changes, CHANNELS.map((c) => [c.label, "open"]));
  assert.equal(channels.unknown, 0);
});

test("a channel already open when adopted reports its state at once", () => {
  const { channels, changes } = setup();
  channels.adopt(new FakeChannel("chat", "open"));
  assert.deepEqual(changes, [["chat", "open"]]);
});

test("text frames are parsed with the row's registry and handed on with the label", () => {
  const { channels, got } = setup();
  const chat = new FakeChannel("chat", "open");
  const control = new FakeChannel("control", "open");
  channels.adopt(chat);
  channels.adopt(control);
  chat.deliver('{"type":"chat","text":"<b>hi</b> \\u202eevil"}');
  control.deliver('{"type":"capabilities","supported":["view","teleport"]}');
  assert.deepEqual(got, [
    ["chat", { type: "chat", text: "<b>hi</b> \u202eevil" }],
    ["control", { type: "capabilities", supported: ["view", "teleport"] }],
  ]);
});

test("a type the peer may not send on that channel is dropped with a log line", () => {
  const { channels, got, logs } = setup();
  const control = new FakeChannel("control", "open");
  const input = new FakeChannel("input", "open");
  channels.adopt(control);
  channels.adopt(input);
  control.deliver('{"type":"consent_request","capability":"view"}');
  input.deliver('{"type":"release_all"}');
  assert.deepEqual(got, []);
  assert.match(logs.at(-2)?.line ?? "", /consent_request may not come from the peer on the control channel/);
  assert.match(logs.at(-1)?.line ?? "", /release_all may not come from the peer on the input channel/);
});

test("malformed frames and binary frames are dropped and logged, never thrown", () => {
  const { channels, got, logs } = setup();
  const chat = new FakeChannel("chat", "open");
  channels.adopt(chat);
  chat.deliver("not json");
  chat.deliver('{"type":"consent_state","granted":[]}');
  chat.deliver('{"type":"chat","text":""}');
  chat.deliver(new ArrayBuffer(4));
  chat.deliver(JSON.stringify({ type: "chat", text: "x".repeat(70_000) }));
  assert.deepEqual(got, []);
  assert.deepEqual(logs.map((l) => l.level), ["error", "error", "error", "error", "error"]);
  assert.match(logs[0].line, /bad chat message \(bad_json\)/);
  assert.match(logs[1].line, /\(unknown_type\)/);
  assert.match(logs[3].line, /binary frame on the chat channel: dropped/);
  assert.match(logs[4].line, /\(too_large\)/);
});

test("an unknown label is closed at once, counted and logged", () => {
  const { channels, logs } = setup();
  const odd = new FakeChannel("teleport", "open");
  channels.adopt(odd);
  channels.adopt(new FakeChannel("x".repeat(200)));
  assert.equal(odd.closeCalls, 1);
  assert.equal(channels.unknown, 2);
  assert.equal(channels.channel("teleport"), null);
  assert.match(logs[0].line, /data channel "teleport" is not part of the protocol: closed/);
  odd.deliver('{"type":"chat","text":"hi"}'); // nothing listens
});

test("a binary channel delivers ArrayBuffers to onbinary; a Blob or a binary frame elsewhere is dropped", () => {
  const logs = [];
  const frames = [];
  const channels = new DataChannels({
    log: (line, level) => logs.push({ line, level }), onmessage: () => {}, onbinary: (label, data) => frames.push([label, data]),
  });
  const files = new FakeChannel("files", "open");
  channels.adopt(files);
  assert.equal(files.binaryType, "arraybuffer", "set when adopted (Firefox defaults to blob)");
  const chat = new FakeChannel("chat", "open");
  channels.adopt(chat);
  assert.equal(chat.binaryType, undefined);
  const buffer = new ArrayBuffer(20);
  files.deliver(buffer);
  files.deliver(new Blob(["x"]));
  chat.deliver(new ArrayBuffer(20));
  assert.deepEqual(frames, [["files", buffer]]);
  assert.equal(logs.filter((l) => l.level === "error").length, 2);
});

test("send checks the table: only from_operator types, only when open", () => {
  const { channels } = setup();
  const chat = new FakeChannel("chat");
  channels.adopt(chat);
  assert.equal(channels.send("chat", { type: "chat", text: "hello" }), false, "not open yet");
  chat.open();
  assert.equal(channels.send("chat", { type: "chat", text: "hello" }), true);
  assert.deepEqual(chat.sent, ['{"type":"chat","text":"hello"}']);
  assert.throws(() => channels.send("chat", { type: "chat", text: "" }), ProtocolError);
  assert.throws(() => channels.send("control", { type: "capabilities", supported: [] }), { code: "unexpected_message" });
  assert.throws(() => channels.send("video", { type: "chat", text: "x" }), TypeError);
  assert.equal(channels.send("control", { type: "release", capability: "control" }), false, "no control channel");
});

test("after close nothing more is delivered and late channels are closed", () => {
  const { channels, got } = setup();
  const chat = new FakeChannel("chat", "open");
  channels.adopt(chat);
  channels.close();
  assert.equal(chat.closeCalls, 1);
  chat.deliver('{"type":"chat","text":"late"}');
  assert.deepEqual(got, []);
  const late = new FakeChannel("control", "open");
  channels.adopt(late);
  assert.equal(late.closeCalls, 1);
  assert.equal(channels.unknown, 0, "a known label closed late is not counted as unknown");
});
