// The console's view of consent: what the customer allows, and how each capability got there.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ConsentTracker, changeText, consentPanelState, controlStateText, stateLogLine } from "../../webui/consent.js";
import { setLanguage } from "../../webui/i18n.js";

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

// ------------------------------------------------------------------ screen viewing, asked at the start (issue 9)

const OPEN = { offered: true, open: true };

test("paired in a screen session: screen viewing is being asked before anything is known", () => {
  const consent = new ConsentTracker();
  consent.start("screen");
  assert.equal(consent.status("view"), "asked");
  assert.equal(consent.status("control"), "unknown");
  assert.deepEqual(consentPanelState(consent, OPEN), {
    allows: "Waiting for the customer…",
    view: { text: "Screen viewing: waiting for the customer's answer…", alert: false },
    request: "waiting",
  });
  const call = new ConsentTracker();
  call.start("call");
  assert.equal(call.status("view"), "unknown", "a call asks nothing at the start");
});

test("the first consent_state while the customer's question is open is not a denial", () => {
  // what the peer sends: capabilities, then consent_state without view (the question is open)
  const consent = new ConsentTracker();
  consent.start("screen");
  consent.supports(["view", "control", "clipboard", "chat"]);
  consent.state(["chat"]);
  assert.equal(consent.status("view"), "asked");
  assert.deepEqual(consentPanelState(consent, OPEN), {
    allows: "Chat",
    view: { text: "Screen viewing: waiting for the customer's answer…", alert: false },
    request: "waiting",
  });
  consent.state([]);
  assert.equal(consentPanelState(consent, OPEN).allows, "Nothing yet", "not a flat “Nothing” while asked");
});

test("then allowed: no waiting line, no request button", () => {
  const consent = new ConsentTracker();
  consent.start("screen");
  consent.state(["chat"]);
  consent.reply({ capability: "view", allowed: true });
  assert.equal(consent.status("view"), "asked", "a reply alone grants nothing");
  consent.state(["view", "chat"]);
  assert.equal(consent.status("view"), "granted");
  assert.deepEqual(consentPanelState(consent, OPEN), { allows: "Screen viewing, chat", view: null, request: "hidden" });
});

test("then denied by the customer: said as such, and asking again is offered", () => {
  const consent = new ConsentTracker();
  consent.start("screen");
  consent.state(["chat"]);
  consent.reply({ capability: "view", allowed: false });
  consent.state(["chat"]);
  assert.equal(consent.status("view"), "denied");
  assert.deepEqual(consentPanelState(consent, OPEN), {
    allows: "Chat",
    view: { text: "The customer denied screen viewing", alert: true },
    request: "offered",
  });
  consent.ask("view");
  assert.deepEqual(consentPanelState(consent, OPEN).request, "waiting", "one question at a time");
  assert.equal(consentPanelState(consent, OPEN).view?.alert, false);
});

test("then taken back by the customer: revoked, not denied", () => {
  const consent = new ConsentTracker();
  consent.start("screen");
  consent.state(["view", "chat"]);
  consent.state(["chat"]);
  assert.equal(consent.status("view"), "revoked");
  assert.deepEqual(consentPanelState(consent, OPEN).view, { text: "The customer took back screen viewing", alert: true });
  assert.equal(consentPanelState(consent, OPEN).request, "offered");
});

test("pre-granted (--allow view): allowed from the first consent_state, never asked", () => {
  const consent = new ConsentTracker();
  consent.start("screen");
  consent.state(["view", "chat"]);
  assert.deepEqual(consentPanelState(consent, OPEN), { allows: "Screen viewing, chat", view: null, request: "hidden" });
});

test("no button while the control channel is closed or the session does not offer viewing", () => {
  const consent = new ConsentTracker();
  consent.start("screen");
  consent.state(["chat"]);
  consent.reply({ capability: "view", allowed: false });
  assert.equal(consentPanelState(consent, { offered: true, open: false }).request, "hidden");
  assert.deepEqual(consentPanelState(consent, { offered: false, open: true }), { allows: "Chat", view: null, request: "hidden" });
  // a peer that does not carry screen viewing asks nothing about it
  const other = new ConsentTracker();
  other.start("screen");
  other.supports(["clipboard", "chat"]);
  other.state(["chat"]);
  assert.equal(other.status("view"), "off");
  assert.equal(consentPanelState(other, OPEN).allows, "Chat");
});

test("the panel's words in Japanese", () => {
  const consent = new ConsentTracker();
  consent.start("screen");
  consent.state([]);
  try {
    setLanguage("ja");
    assert.deepEqual(consentPanelState(consent, OPEN), {
      allows: "まだありません",
      view: { text: "画面の表示: お客様の応答を待っています…", alert: false },
      request: "waiting",
    });
  } finally {
    setLanguage("en");
  }
});
