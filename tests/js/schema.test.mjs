// The console's protocol tables against Python's (tests/data/schema.json, written by
// `python -m wire.schema`): one document built from each side must be the same.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  CAPABILITIES,
  CHANNELS,
  CHANNEL_BY_LABEL,
  capabilitiesOf,
  parse,
  schema,
  serialize,
} from "../../webui/protocol.js";
import { describeGranted, nameOf, stateLogLine, ConsentTracker } from "../../webui/consent.js";

const python = JSON.parse(readFileSync(new URL("../data/schema.json", import.meta.url), "utf8"));

test("schema() from the JS tables is exactly wire.schema.schema()", () => {
  assert.deepStrictEqual(schema(), python);
});

test("each part of the schema matches on its own (a readable diff when one drifts)", () => {
  const mine = /** @type {Record<string, unknown>} */ (schema());
  assert.deepStrictEqual(Object.keys(mine).sort(), Object.keys(python).sort());
  for (const key of Object.keys(python)) assert.deepStrictEqual(mine[key], python[key], key);
});

test("the comparison notices a changed table", () => {
  const changed = structuredClone(python);
  changed.capabilities[0].operator_name = "screen peeking";
  assert.notDeepStrictEqual(schema(), changed);
  const extra = structuredClone(python);
  extra.channels.push({ ...extra.channels[0], label: "files" });
  assert.notDeepStrictEqual(schema(), extra);
  const pattern = structuredClone(python);
  delete pattern.registries[1].messages.consent_request.capability.spec.pattern;
  assert.notDeepStrictEqual(schema(), pattern);
});

test("CAPABILITIES and capabilitiesOf come from the table", () => {
  assert.deepEqual([...CAPABILITIES], python.capabilities.map((/** @type {any} */ c) => c.name));
  assert.deepEqual(capabilitiesOf("call"), ["view", "clipboard", "files", "voice", "camera", "show_screen", "show_camera", "chat"]);
  assert.deepEqual(capabilitiesOf("screen"), ["view", "control", "clipboard", "files", "voice", "annotate", "camera", "show_screen", "show_camera", "chat"]);
  assert.deepEqual(CHANNELS.map((c) => c.label), ["control", "input", "chat", "files", "annotate"]);
  assert.equal(CHANNEL_BY_LABEL.get("chat")?.registry.name, "chat");
});

test("an unknown capability token parses on every message that carries one", () => {
  assert.deepEqual(parse('{"type":"consent_state","granted":["view","chat","teleport"]}', "control").granted,
    ["view", "chat", "teleport"]);
  assert.deepEqual(parse('{"type":"consent_reply","capability":"teleport","allowed":true}', "control"),
    { type: "consent_reply", capability: "teleport", allowed: true });
  assert.deepEqual(parse('{"type":"capabilities","supported":["view","teleport"]}', "control").supported,
    ["view", "teleport"]);
  assert.equal(serialize({ type: "consent_request", capability: "teleport" }, "control"),
    '{"type":"consent_request","capability":"teleport"}');
});

test("a capability that is not a token is still refused", () => {
  for (const bad of ["Teleport", "tele port", "", "x".repeat(41), "9lives"]) {
    assert.throws(() => parse(JSON.stringify({ type: "consent_reply", capability: bad, allowed: true }), "control"),
      { code: "bad_message" }, bad);
  }
  const many = Array.from({ length: 33 }, (_, i) => `c${i}`);
  assert.throws(() => parse(JSON.stringify({ type: "capabilities", supported: many }), "control"), { code: "bad_message" });
});

test("an unknown capability is shown by its name", () => {
  assert.equal(nameOf("teleport"), "teleport");
  assert.equal(nameOf("view"), "screen viewing");
  assert.equal(describeGranted(["view", "chat", "teleport"]), "screen viewing, chat, teleport");
  const consent = new ConsentTracker();
  const granted = ["view", "chat", "teleport"];
  assert.equal(stateLogLine(granted, consent.state(granted)),
    "consent: the customer allows screen viewing, chat, teleport (+view, chat, teleport)");
});

test("chat messages parse on the chat channel only", () => {
  assert.deepEqual(parse('{"type":"chat","text":"hi"}', "chat"), { type: "chat", text: "hi" });
  assert.deepEqual(parse('{"type":"error","code":"too_long","message":"m"}', "chat"),
    { type: "error", code: "too_long", message: "m" });
  assert.throws(() => parse('{"type":"chat","text":"hi"}', "control"), { code: "unknown_type" });
  assert.throws(() => parse('{"type":"chat","text":""}', "chat"), { code: "bad_message" });
});
