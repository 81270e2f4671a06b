// The console's capability panels: one registry, checked against the protocol tables; every
// message the peer may send is routed to exactly one handler; a capability the peer did not
// announce is never offered to its panel.
import { test } from "node:test";
import assert from "node:assert/strict";

import { CONSENT_RECEIVES } from "../../webui/consentview.js";
import { PANELS } from "../../webui/features.js";
import { Panels, definePanel, routeTable } from "../../webui/panels.js";
import { CAPABILITY_TABLE, CHANNELS, parse } from "../../webui/protocol.js";
import { INITIAL, reduce } from "../../webui/session.js";

const PAIRED = /** @type {const} */ ({ type: "paired", mode: "screen", user: "bob", host: "pc1", operator: "alice" });
const FACTS = { mode: "screen", operator: "alice", user: "bob", host: "pc1", startedAt: new Date(0) };

/** A panel that records what the registry did to it. */
function recorder(calls, name, { withStart = false, withEnd = false } = {}) {
  const panel = {
    update: (now) => calls.push([name, "update", now.offered, now.mode]),
    reset: () => calls.push([name, "reset"]),
    receive: (label, msg) => calls.push([name, "receive", label, msg.type]),
  };
  if (withStart) panel.start = (facts) => calls.push([name, "start", facts.user]);
  if (withEnd) panel.end = () => calls.push([name, "end"]);
  return panel;
}

function fakePanels() {
  const calls = [];
  const specs = [
    definePanel({ capability: "view", receives: { control: ["view_state"] }, create: () => recorder(calls, "view") }),
    definePanel({ capability: "control", create: () => recorder(calls, "control") }),
    definePanel({
      capability: "chat", receives: { chat: ["chat", "error"] },
      create: () => recorder(calls, "chat", { withStart: true, withEnd: true }),
    }),
  ];
  const hooks = { log: () => {}, link: () => null, send: () => false, isOpen: () => false, consent: null };
  return { calls, panels: new Panels(specs, hooks) };
}

test("the console has one panel per capability of the table, in table order", () => {
  assert.deepEqual(PANELS.map((p) => p.capability), CAPABILITY_TABLE.map((c) => c.name));
  for (const spec of PANELS) assert.equal(typeof spec.create, "function");
});

test("every message the peer may send on a channel has exactly one handler in the console", () => {
  const routes = routeTable(PANELS);
  const consent = Object.entries(CONSENT_RECEIVES).flatMap(([label, types]) => types.map((t) => `${label} ${t}`));
  for (const key of consent) assert.equal(routes.has(key), false, `${key} is claimed by consent and a panel`);
  const handled = [...routes.keys(), ...consent].sort();
  const sent = CHANNELS.flatMap((c) => c.from_peer.map((t) => `${c.label} ${t}`)).sort();
  assert.deepEqual(handled, sent);
  assert.equal(routes.get("control view_state"), "view");
  assert.equal(routes.get("control clipboard"), "clipboard");
  assert.equal(routes.get("chat chat"), "chat");
  assert.equal(routes.get("chat error"), "chat");
  assert.equal(routes.get("control voice_state"), "voice");
});

test("a panel is checked against the protocol tables, and the error names the bad value", () => {
  const create = () => ({ update() {}, reset() {} });
  assert.throws(() => definePanel({ capability: "teleport", create }), /"teleport": not a capability/);
  assert.throws(() => definePanel({ capability: "view", receives: { video: ["frame"] }, create }),
    /panel view: no data channel is labelled "video"/);
  assert.throws(() => definePanel({ capability: "view", receives: { control: ["select_monitor"] }, create }),
    /panel view: "select_monitor" does not come from the peer on the control channel/);
  const spec = definePanel({ capability: "clipboard", receives: { control: ["clipboard"] }, create });
  assert.ok(Object.isFrozen(spec) && Object.isFrozen(spec.receives.control));
});

test("two panels may not claim the same capability or the same message", () => {
  const create = () => ({ update() {}, reset() {} });
  const hooks = /** @type {any} */ ({ isOpen: () => false });
  const a = definePanel({ capability: "view", receives: { control: ["view_state"] }, create });
  const b = definePanel({ capability: "clipboard", receives: { control: ["view_state"] }, create });
  assert.throws(() => new Panels([a, b], hooks), /control message view_state: claimed by both view and clipboard/);
  assert.throws(() => new Panels([a, a], hooks), /two panels for view/);
});

test("messages go to the panel that handles their type on that channel, and nowhere else", () => {
  const { calls, panels } = fakePanels();
  calls.length = 0;
  const viewState = parse(JSON.stringify({
    type: "view_state", monitors: [{ index: 0, x: 0, y: 0, width: 800, height: 600, primary: true }],
    monitor: 0, width: 800, height: 600,
  }), "control");
  assert.equal(panels.route("control", viewState), true);
  assert.equal(panels.route("chat", { type: "chat", text: "hi" }), true);
  assert.equal(panels.route("chat", { type: "error", code: "too_long", message: "x" }), true);
  // consent's messages and a type on the wrong channel belong to no panel
  assert.equal(panels.route("control", { type: "consent_state", granted: [] }), false);
  assert.equal(panels.route("control", { type: "chat", text: "hi" }), false);
  assert.equal(panels.route("control", { type: "clipboard", text: "x" }), false); // no clipboard panel here
  assert.deepEqual(calls, [
    ["view", "receive", "control", "view_state"],
    ["chat", "receive", "chat", "chat"],
    ["chat", "receive", "chat", "error"],
  ]);
});

test("start, end and reset reach every panel; start and end default to reset", () => {
  const { calls, panels } = fakePanels();
  assert.deepEqual(calls, []); // creating a panel does nothing to it
  panels.start(FACTS);
  assert.deepEqual(calls.splice(0), [["view", "reset"], ["control", "reset"], ["chat", "start", "bob"]]);
  panels.end();
  assert.deepEqual(calls.splice(0), [["view", "reset"], ["control", "reset"], ["chat", "end"]]);
  panels.reset();
  assert.deepEqual(calls.splice(0), [["view", "reset"], ["control", "reset"], ["chat", "reset"]]);
});

test("a panel is offered its capability only while live and only if the peer announced it", () => {
  const { calls, panels } = fakePanels();
  let s = reduce(INITIAL, PAIRED);
  panels.start(FACTS);
  calls.length = 0;
  panels.update(s); // nothing announced yet
  assert.deepEqual(calls.splice(0), [
    ["view", "update", false, "screen"], ["control", "update", false, "screen"], ["chat", "update", false, "screen"],
  ]);
  s = reduce(s, { type: "capabilities", supported: ["view", "chat"] });
  panels.update(s);
  assert.deepEqual(calls.splice(0), [
    ["view", "update", true, "screen"], ["control", "update", false, "screen"], ["chat", "update", true, "screen"],
  ]);
  // an older peer without `capabilities`: the table's list for the mode, once consent is known
  // (screen viewing exists in a call, on request; remote control does not)
  const old = reduce(reduce(INITIAL, { ...PAIRED, mode: "call" }), { type: "consent_state", granted: [] });
  panels.update(old);
  assert.deepEqual(calls.splice(0), [
    ["view", "update", true, "call"], ["control", "update", false, "call"], ["chat", "update", true, "call"],
  ]);
  // the session is over (the link may still report a closing channel): nothing is offered
  panels.end();
  calls.length = 0;
  panels.update(s);
  assert.deepEqual(calls.splice(0), [
    ["view", "update", false, null], ["control", "update", false, null], ["chat", "update", false, null],
  ]);
});

test("a fresh connection: only panels that forget something are told; none is reset or ended", () => {
  const calls = [];
  const specs = [
    definePanel({ capability: "view", create: () => ({ ...recorder(calls, "view"), relink: () => calls.push(["view", "relink"]) }) }),
    definePanel({ capability: "chat", create: () => recorder(calls, "chat", { withStart: true, withEnd: true }) }),
  ];
  const panels = new Panels(specs, { log: () => {}, link: () => null, send: () => false, isOpen: () => false, consent: null });
  panels.start(FACTS);
  calls.length = 0;
  panels.relink();
  assert.deepEqual(calls, [["view", "relink"]]);
  assert.equal(panels.live, true);
});
