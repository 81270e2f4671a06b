// The console's view of consent: what the customer allows, and how each capability got there.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ConsentTracker, changeText, controlStateText, stateLogLine } from "../../webui/consent.js";

test("nothing is known, or allowed, before the first consent_state", () => {
  const consent = new ConsentTracker();
  assert.equal(consent.granted, null);
  assert.equal(consent.status("control"), "unknown");
  assert.equal(consent.allows("view"), false);
  consent.ask("control");
  assert.equal(consent.status("control"), "asked");
});

test("a request granted: asked, then granted by consent_state (the authority)", () => {
  const consent = new ConsentTracker();
  consent.state(["view"]);
  assert.equal(consent.status("control"), "off");
  consent.ask("control");
  assert.equal(consent.status("control"), "asked");
  assert.equal(consent.reply({ capability: "control", allowed: true }), null);
  assert.equal(consent.allows("control"), false, "a reply alone grants nothing");
  const update = consent.state(["view", "control"]);
  assert.deepEqual(update, { first: false, added: ["control"], removed: [], changes: [{ capability: "control", change: "granted" }] });
  assert.equal(consent.allows("control"), true);
  assert.equal(consent.status("control"), "granted");
});

test("a request denied stays denied when the unchanged consent_state follows", () => {
  const consent = new ConsentTracker();
  consent.state(["view"]);
  consent.ask("control");
  assert.deepEqual(consent.reply({ capability: "control", allowed: false }), { capability: "control", change: "denied" });
  assert.deepEqual(consent.state(["view"]).changes, []);
  assert.equal(consent.status("control"), "denied");
  consent.ask("control");
  assert.equal(consent.status("control"), "asked", "asking again");
});

test("the customer takes control back: revoked", () => {
  const consent = new ConsentTracker();
  consent.state(["view", "control"]);
  const update = consent.state(["view"]);
  assert.deepEqual(update.changes, [{ capability: "control", change: "revoked" }]);
  assert.equal(consent.status("control"), "revoked");
  assert.equal(consent.allows("control"), false);
});

test("the operator hands control back: not allowed at once, released when the state comes", () => {
  const consent = new ConsentTracker();
  consent.state(["view", "control"]);
  consent.release("control");
  assert.equal(consent.allows("control"), false, "stop using it before the peer answers");
  assert.equal(consent.status("control"), "released");
  assert.deepEqual(consent.state(["view"]).changes, [{ capability: "control", change: "released" }]);
  assert.equal(consent.status("control"), "released");
  assert.equal(consent.releasing.size, 0);
  // a later revoke of something else is still the customer's doing
  consent.state(["view", "control"]);
  assert.equal(consent.allows("control"), true);
  assert.deepEqual(consent.state([]).changes.map((c) => c.change), ["revoked", "revoked"]);
});

test("asking for what is granted changes nothing", () => {
  const consent = new ConsentTracker();
  consent.state(["control"]);
  consent.ask("control");
  assert.equal(consent.status("control"), "granted");
});

test("reset forgets the session", () => {
  const consent = new ConsentTracker();
  consent.state(["view", "control"]);
  consent.release("control");
  consent.reset();
  assert.equal(consent.granted, null);
  assert.equal(consent.status("control"), "unknown");
  assert.equal(consent.releasing.size, 0);
});

test("log lines: the first state and every change, never a repeat", () => {
  const consent = new ConsentTracker();
  let granted = ["view"];
  assert.equal(stateLogLine(granted, consent.state(granted)), "consent: the customer allows screen viewing (+view)");
  assert.equal(stateLogLine(granted, consent.state(granted)), null);
  granted = ["view", "clipboard"];
  assert.equal(stateLogLine(granted, consent.state(granted)), "consent: the customer allows screen viewing, clipboard (+clipboard)");
  granted = [];
  assert.equal(stateLogLine(granted, consent.state(granted)), "consent: the customer allows nothing (-view, clipboard)");
});

test("words for #control-state and for changes", () => {
  assert.equal(controlStateText("granted"), "You have control");
  assert.equal(controlStateText("denied"), "Control denied by the customer");
  assert.equal(controlStateText("revoked"), "The customer took back control");
  for (const status of ["unknown", "off", "asked", "released"]) assert.ok(controlStateText(status).length > 0);
  assert.equal(changeText({ capability: "control", change: "revoked" }), "the customer took back remote control");
  assert.equal(changeText({ capability: "clipboard", change: "released" }), "you handed back clipboard");
});
