// The console's session reducer: phase, what the peer supports, what the customer allows.
import { test } from "node:test";
import assert from "node:assert/strict";

import { render } from "../../webui/i18n.js";
import { INITIAL, allows, endedMsg, offers, picture, reduce, supportedNow, unknownCapabilities } from "../../webui/session.js";
import { cardPanels } from "../../webui/sessionview.js";

/** @param {import("../../webui/session.js").SessionEvent[]} events */
const run = (...events) => events.reduce(reduce, INITIAL);
const PAIRED = /** @type {const} */ ({ type: "paired", mode: "screen", user: "bob", host: "pc1", operator: "alice" });

test("a session goes offline -> idle -> creating -> waiting -> joined -> connecting -> connected -> ended", () => {
  const phases = [];
  let s = INITIAL;
  for (const event of /** @type {import("../../webui/session.js").SessionEvent[]} */ ([
    { type: "ready" },
    { type: "creating" },
    { type: "created", mode: "call" },
    { type: "join_request", user: "bob", host: "pc1" },
    { ...PAIRED, mode: "call" },
    { type: "connected" },
    { type: "ended", reason: "peer_ended" },
  ])) {
    s = reduce(s, event);
    phases.push(s.phase);
  }
  assert.deepEqual(phases, ["idle", "creating", "waiting", "joined", "connecting", "connected", "ended"]);
  assert.equal(s.mode, "call");
  assert.equal(s.reason, "peer_ended");
  assert.equal(s.user, "bob");
});

test("the reducer never changes the state it is given", () => {
  const s = run({ type: "ready" }, PAIRED);
  const copy = structuredClone(s);
  reduce(s, { type: "capabilities", supported: ["view"] });
  reduce(s, { type: "ended", reason: "x" });
  assert.deepEqual(s, copy);
});

test("capabilities and consent_state are kept while linked, forgotten when the session ends", () => {
  let s = run(PAIRED, { type: "capabilities", supported: ["view", "control", "clipboard", "chat"] },
    { type: "consent_state", granted: ["view", "chat"] });
  assert.deepEqual(s.supported, ["view", "control", "clipboard", "chat"]);
  assert.deepEqual(s.granted, ["view", "chat"]);
  assert.equal(allows(s, "view"), true);
  assert.equal(allows(s, "control"), false);
  s = reduce(s, { type: "ended", reason: "operator_ended" });
  assert.equal(s.supported, null);
  assert.equal(s.granted, null);
  assert.equal(allows(s, "view"), false);
  assert.equal(offers(s, "view"), false);
  // a late consent_state after the end changes nothing
  assert.equal(reduce(s, { type: "consent_state", granted: ["view"] }), s);
});

test("only what the peer announced is offered: a call has no remote control", () => {
  const call = run({ ...PAIRED, mode: "call" }, { type: "capabilities", supported: ["clipboard", "chat"] });
  assert.equal(offers(call, "control"), false);
  assert.equal(offers(call, "view"), false);
  assert.equal(offers(call, "clipboard"), true);
  assert.equal(offers(call, "chat"), true);
  const screen = run(PAIRED, { type: "capabilities", supported: ["view", "chat"] });
  assert.equal(offers(screen, "control"), false, "the peer did not announce control");
  assert.equal(offers(screen, "view"), true);
});

test("a capability the table puts in another mode is not offered even if announced", () => {
  const call = run({ ...PAIRED, mode: "call" }, { type: "capabilities", supported: ["control", "chat"] });
  assert.equal(offers(call, "control"), false);
});

test("nothing is offered before the peer says what it supports", () => {
  const s = run(PAIRED);
  assert.deepEqual(supportedNow(s), []);
  assert.equal(offers(s, "clipboard"), false);
});

test("an older peer without capabilities: the table's list for the mode once consent is known", () => {
  const s = run({ ...PAIRED, mode: "call" }, { type: "consent_state", granted: [] });
  assert.deepEqual(supportedNow(s), ["view", "clipboard", "files", "voice", "camera", "show_screen", "show_camera", "chat"]);
  assert.equal(offers(s, "clipboard"), true);
  assert.equal(offers(s, "control"), false);
});

test("an unknown capability is kept and listed, never offered", () => {
  const s = run(PAIRED, { type: "capabilities", supported: ["view", "teleport"] },
    { type: "consent_state", granted: ["view", "teleport"] });
  assert.deepEqual(unknownCapabilities(s), ["teleport"]);
  assert.equal(offers(s, "teleport"), false);
  assert.equal(allows(s, "teleport"), true);
});

test("a video track marks the picture shared; a new pairing starts clean", () => {
  let s = run(PAIRED, { type: "track", kind: "audio" });
  assert.equal(s.shared, false);
  s = reduce(s, { type: "track", kind: "video" });
  assert.equal(s.shared, true);
  s = reduce(s, { type: "consent_state", granted: ["view"] });
  s = reduce(s, { ...PAIRED, user: "carol" });
  assert.equal(s.shared, false);
  assert.equal(s.granted, null);
  assert.equal(s.user, "carol");
});

test("a failed connection goes back to connecting; a join_request only while waiting", () => {
  const s = run(PAIRED, { type: "connected" }, { type: "failed" });
  assert.equal(s.phase, "connecting");
  const idle = run({ type: "ready" });
  assert.equal(reduce(idle, { type: "join_request", user: "u", host: "h" }), idle);
});

test("the picture's video track ending takes it off the stage; a sound track's changes nothing", () => {
  const shared = run(PAIRED, { type: "track", kind: "video" });
  assert.equal(reduce(shared, { type: "track_ended", kind: "audio" }), shared);
  const gone = reduce(shared, { type: "track_ended", kind: "video" });
  assert.equal(gone.shared, false);
  assert.equal(gone.phase, "connecting");
  assert.equal(reduce(gone, { type: "track_ended", kind: "video" }), gone); // twice: the same state
  assert.equal(reduce(gone, { type: "track", kind: "video" }).shared, true); // renegotiated back
});

test("the stage shows the picture only in a screen session, with a video track, while view is allowed", () => {
  const shared = run(PAIRED, { type: "track", kind: "video" });
  assert.deepEqual(picture(INITIAL, false), { visible: false, words: "No picture" });
  assert.deepEqual(picture(run(PAIRED), true), { visible: false, words: "Waiting for the customer's screen…" });
  assert.deepEqual(picture(shared, true), { visible: false, words: "Waiting for the customer's screen…" });
  const allowed = reduce(shared, { type: "consent_state", granted: ["view"] });
  assert.equal(picture(allowed, true).visible, true);
  const denied = reduce(shared, { type: "consent_state", granted: ["chat"] });
  assert.deepEqual(picture(denied, true), { visible: false, words: "Screen viewing is not allowed" });
  assert.equal(picture(reduce(allowed, { type: "track_ended", kind: "video" }), true).visible, false);
  // after the end (no link) the blank stage just says so
  assert.deepEqual(picture(reduce(allowed, { type: "ended", reason: "peer_ended" }), false),
    { visible: false, words: "No picture" });
});

test("a voice call shows no picture until the customer shows their screen, then it does", () => {
  const call = run({ ...PAIRED, mode: "call" }, { type: "consent_state", granted: ["voice"] });
  assert.deepEqual(picture(call, true), { visible: false, words: "Voice call: no screen is shared" });
  // a video track alone (without the customer's yes) shows nothing
  const track = reduce(call, { type: "track", kind: "video" });
  assert.deepEqual(picture(track, true), { visible: false, words: "Voice call: no screen is shared" });
  // view granted but no track yet: still the call
  const granted = reduce(call, { type: "consent_state", granted: ["voice", "view"] });
  assert.deepEqual(picture(granted, true, "granted"), { visible: false, words: "Voice call: no screen is shared" });
  // both: "Ask to see the screen" was answered yes and the peer's new offer brought the picture
  const shown = reduce(granted, { type: "track", kind: "video" });
  assert.deepEqual(picture(shown, true, "granted"), { visible: true, words: "No picture" });
  // taken back: the call again
  const back = reduce(shown, { type: "consent_state", granted: ["voice"] });
  assert.deepEqual(picture(back, true, "revoked"), { visible: false, words: "Voice call: no screen is shared" });
  assert.equal(picture(reduce(shown, { type: "ended", reason: "peer_ended" }), false).words, "No picture");
});

test("the stage says why there is no picture: not answered yet, denied, taken back (issue 9)", () => {
  const shared = run(PAIRED, { type: "track", kind: "video" });
  // the peer's first consent_state while its question to the customer is still open
  const open = reduce(shared, { type: "consent_state", granted: ["chat"] });
  assert.deepEqual(picture(open, true, "asked"), { visible: false, words: "Waiting for the customer to allow screen viewing…" });
  assert.deepEqual(picture(run(PAIRED), true, "asked"), { visible: false, words: "Waiting for the customer to allow screen viewing…" });
  assert.equal(picture(open, true, "denied").words, "The customer denied screen viewing");
  assert.equal(picture(open, true, "revoked").words, "The customer took back screen viewing");
  const allowed = reduce(open, { type: "consent_state", granted: ["view", "chat"] });
  assert.equal(picture(allowed, true, "granted").visible, true);
  assert.deepEqual(picture(reduce(allowed, { type: "track_ended", kind: "video" }), true, "granted"),
    { visible: false, words: "Waiting for the customer's screen…" });
});

test("a session has started once paired; the start is kept when it ends, forgotten by a new one", () => {
  assert.equal(run({ type: "ready" }, { type: "created", mode: "screen" }).started, false);
  assert.equal(run({ type: "created", mode: "screen" }, { type: "join_request", user: "u", host: "h" }).started, false);
  const ended = run(PAIRED, { type: "ended", reason: "peer_ended" });
  assert.equal(ended.started, true);
  assert.equal(reduce(ended, { type: "created", mode: "screen" }).started, false);
});

test("a session that never started is not reported as ended (issue 9)", () => {
  const waiting = run({ type: "ready" }, { type: "created", mode: "screen" });
  const joined = reduce(waiting, { type: "join_request", user: "u", host: "h" });
  const words = (state, reason, why = "why") => render(endedMsg(state, reason, why));
  assert.equal(words(waiting, "cancelled"), "Cancelled");
  assert.equal(words(waiting, "expired"), "The code expired before anyone joined");
  assert.equal(words(joined, "rejected"), "You rejected the customer");
  assert.equal(words(joined, "peer_ended"), "The customer left before the session started");
  assert.equal(words(waiting, "operator_left", "the connection to the server was lost"),
    "Not started: the connection to the server was lost");
  for (const reason of ["cancelled", "expired", "rejected", "peer_ended", "operator_left", "server_shutdown"]) {
    assert.doesNotMatch(words(waiting, reason), /^Ended/, reason);
  }
  // one that started ended
  const live = run(PAIRED, { type: "connected" });
  assert.equal(words(live, "operator_ended", "the operator ended the session"), "Ended: the operator ended the session");
  assert.equal(words(live, "peer_left", "the customer's connection was lost"),
    "Ended: the customer's connection was lost. Customer disconnected.");
});

test("the code, its countdown and Cancel only while nobody has entered the code (issue 9)", () => {
  assert.deepEqual(cardPanels("waiting"), { start: false, history: false, code: true, joinRequest: false, end: false });
  assert.deepEqual(cardPanels("joined"), { start: false, history: false, code: false, joinRequest: true, end: false });
  for (const phase of ["connecting", "connected"]) {
    assert.deepEqual(cardPanels(phase), { start: false, history: false, code: false, joinRequest: false, end: true }, phase);
  }
  for (const phase of ["offline", "idle", "ended"]) assert.equal(cardPanels(phase).start, true, phase);
  assert.equal(cardPanels("creating").code, false);
});

test("the recent sessions show with the start panel, never beside a session under way", () => {
  for (const phase of ["offline", "idle", "ended"]) assert.equal(cardPanels(phase).history, true, phase);
  for (const phase of ["creating", "waiting", "joined", "connecting", "connected"]) {
    assert.equal(cardPanels(phase).history, false, phase);
  }
});

test("a drop: reconnecting keeps the session; a fresh connection forgets consent and picture, not what the peer supports", () => {
  const live = run(PAIRED, { type: "capabilities", supported: ["view", "control", "chat"] },
    { type: "consent_state", granted: ["view", "control"] }, { type: "track", kind: "video" }, { type: "connected" });
  const lost = reduce(live, { type: "interrupted" });
  assert.equal(lost.phase, "reconnecting");
  assert.deepEqual(lost.granted, ["view", "control"]);
  assert.equal(lost.shared, true);
  assert.equal(offers(lost, "control"), true, "the panels stay");
  const fresh = reduce(lost, { type: "relink" });
  assert.equal(fresh.phase, "reconnecting");
  assert.equal(reduce(live, { type: "relink" }).phase, "connected", "the phase is interrupted's to change");
  assert.equal(fresh.granted, null, "consent is the peer's to say again");
  assert.equal(fresh.shared, false, "the picture comes with the new connection");
  assert.equal(allows(fresh, "control"), false);
  assert.deepEqual(fresh.supported, ["view", "control", "chat"]);
  const back = reduce(reduce(fresh, { type: "consent_state", granted: ["view"] }), { type: "connected" });
  assert.equal(back.phase, "connected");
  assert.deepEqual(back.granted, ["view"]);
  // not before pairing, not after the end
  const waiting = run({ type: "ready" }, { type: "created", mode: "screen" });
  assert.equal(reduce(waiting, { type: "interrupted" }), waiting);
  const ended = reduce(live, { type: "ended", reason: "peer_left" });
  assert.equal(reduce(ended, { type: "relink" }), ended);
});

test("while reconnecting, End session stays and no new session can be started", () => {
  assert.deepEqual(cardPanels("reconnecting"), { start: false, history: false, code: false, joinRequest: false, end: true });
});
