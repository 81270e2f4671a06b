// Remote control in the console, on stand-in elements: input goes out only while the customer
// allows control; handing back sends release_all before release; a revoke stops input at once.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ConsentTracker } from "../../webui/consent.js";
import { RemoteControl, requestControlButton } from "../../webui/control.js";
import { validate } from "../../webui/protocol.js";

class FakeEvent extends Event {
  constructor(type, fields = {}) {
    super(type, { cancelable: true });
    for (const [name, value] of Object.entries(fields)) Object.defineProperty(this, name, { value });
  }
}

function element() {
  const el = new EventTarget();
  const classes = new Set();
  Object.assign(el, {
    hidden: false,
    disabled: false,
    textContent: "",
    dataset: {},
    classList: { toggle: (name, on) => (on ? classes.add(name) : classes.delete(name)), contains: (n) => classes.has(n) },
    click() { el.dispatchEvent(new FakeEvent("click")); },
  });
  return el;
}

function fakeConsole() {
  const doc = new EventTarget();
  doc.visibilityState = "visible";
  doc.activeElement = null;
  const video = element();
  Object.assign(video, {
    ownerDocument: doc,
    tabIndex: 0,
    videoWidth: 1920,
    videoHeight: 1080,
    getBoundingClientRect: () => ({ left: 0, top: 0, width: 960, height: 540 }),
    focus() { doc.activeElement = video; video.dispatchEvent(new FakeEvent("focus")); },
    blur() { if (doc.activeElement === video) { doc.activeElement = null; video.dispatchEvent(new FakeEvent("blur")); } },
    setPointerCapture() {}, hasPointerCapture() { return false; }, releasePointerCapture() {},
  });
  globalThis.requestAnimationFrame = (f) => setTimeout(f, 0);
  globalThis.cancelAnimationFrame = (id) => clearTimeout(id);
  const el = {
    panel: element(), state: element(), hint: element(), requestButton: element(), handBackButton: element(),
    captureBar: element(), keyboardCapture: element(), releaseKeyboardButton: element(), specialKeys: element(), videoWrap: element(), video,
  };
  const consent = new ConsentTracker();
  const control = [];
  const input = [];
  const logs = [];
  let channelOpen = true;
  let inputOpen = true;
  const rc = new RemoteControl(el, {
    sendControl: (msg) => { validate(msg, "control"); if (!channelOpen) return false; control.push(msg); return true; },
    sendInput: (msg) => { validate(msg, "input"); if (!inputOpen) return false; input.push(msg); return true; },
    channelOpen: () => channelOpen,
    consent,
    log: (line) => logs.push(line),
  });
  const sent = () => [...control.map((m) => ["control", m.type]), ...input.map((m) => ["input", m.type])];
  return {
    el, rc, consent, control, input, logs, video, doc,
    setInputOpen: (open) => { inputOpen = open; },
    setChannelOpen: (open) => { channelOpen = open; },
    sent,
    click: (x, y) => {
      video.dispatchEvent(new FakeEvent("pointerdown", { button: 0, pointerId: 1, clientX: x, clientY: y }));
      video.dispatchEvent(new FakeEvent("pointerup", { button: 0, pointerId: 1, clientX: x, clientY: y }));
    },
    key: (code, key) => {
      video.dispatchEvent(new FakeEvent("keydown", { code, key, timeStamp: 0 }));
      video.dispatchEvent(new FakeEvent("keyup", { code, key, timeStamp: 0 }));
    },
  };
}

test("before the session is live nothing shows and nothing is sent", () => {
  const c = fakeConsole();
  assert.equal(c.el.panel.hidden, true);
  c.consent.state(["view", "control"]);
  c.rc.update();
  c.click(480, 270);
  assert.deepEqual(c.input, []);
});

test("Request control sends consent_request; a deny says so and nothing is sent", () => {
  const c = fakeConsole();
  c.rc.setLive(true);
  c.consent.state(["view"]);
  c.rc.update();
  assert.equal(c.el.requestButton.hidden, false);
  assert.equal(c.el.handBackButton.hidden, true);
  c.el.requestButton.click();
  assert.deepEqual(c.control, [{ type: "consent_request", capability: "control" }]);
  assert.equal(c.el.requestButton.disabled, true, "one question at a time");
  c.consent.reply({ capability: "control", allowed: false });
  c.consent.state(["view"]);
  c.rc.update();
  assert.equal(c.el.state.textContent, "Control denied by the customer");
  assert.equal(c.el.requestButton.hidden, false);
  assert.equal(c.el.requestButton.disabled, false);
  c.click(480, 270);
  c.key("KeyA", "a");
  assert.deepEqual(c.input, []);
});

test("granted: a click lands at the mapped point and typed keys go out on the input channel", () => {
  const c = fakeConsole();
  c.rc.setLive(true);
  c.consent.state(["view", "control"]);
  c.rc.update();
  assert.equal(c.el.state.textContent, "You have control");
  assert.equal(c.el.requestButton.hidden, true);
  assert.equal(c.el.handBackButton.hidden, false);
  assert.equal(c.el.hint.hidden, false, "says how to start");
  assert.equal(c.el.captureBar.hidden, true);
  c.click(240, 135);
  assert.equal(c.el.captureBar.hidden, false, "the click captured the keyboard");
  assert.equal(c.el.keyboardCapture.hidden, false);
  assert.equal(c.el.hint.hidden, true);
  assert.ok(c.el.videoWrap.classList.contains("capturing"));
  c.key("KeyA", "a");
  assert.deepEqual(c.input, [
    { type: "pointer_button", button: "left", down: true, x: 0.25, y: 0.25 },
    { type: "pointer_button", button: "left", down: false, x: 0.25, y: 0.25 },
    { type: "key", code: "KeyA", key: "a", down: true },
    { type: "key", code: "KeyA", key: "a", down: false },
  ]);
  c.el.releaseKeyboardButton.click();
  assert.equal(c.el.captureBar.hidden, true);
  assert.equal(c.input.at(-1).type, "release_all");
});

test("Hand back control: release_all while still allowed, then release; nothing after", () => {
  const c = fakeConsole();
  c.rc.setLive(true);
  c.consent.state(["view", "control"]);
  c.rc.update();
  c.click(480, 270);
  c.control.length = 0;
  c.input.length = 0;
  c.el.handBackButton.click();
  assert.deepEqual(c.input, [{ type: "release_all" }]);
  assert.deepEqual(c.control, [{ type: "release", capability: "control" }]);
  assert.equal(c.el.state.textContent, "You handed back control");
  assert.equal(c.el.handBackButton.hidden, true);
  c.key("KeyB", "b");
  c.click(10, 10);
  assert.deepEqual(c.input, [{ type: "release_all" }], "nothing more, even before the peer confirms");
  c.consent.state(["view"]);
  c.rc.update();
  assert.equal(c.el.state.textContent, "You handed back control");
  assert.equal(c.el.requestButton.hidden, false);
});

test("the customer takes control back: input stops at once and the operator is told", () => {
  const c = fakeConsole();
  c.rc.setLive(true);
  c.consent.state(["view", "control"]);
  c.rc.update();
  c.click(480, 270);
  c.input.length = 0;
  c.consent.state(["view"]);
  c.rc.update();
  assert.equal(c.el.state.textContent, "The customer took back control");
  assert.equal(c.el.captureBar.hidden, true);
  c.key("KeyC", "c");
  c.click(480, 270);
  assert.deepEqual(c.input, [], "not even release_all: control is no longer granted");
  assert.ok(!c.el.videoWrap.classList.contains("controlling"));
});

test("an input channel that is not open is said once, and nothing is queued", () => {
  const c = fakeConsole();
  c.setInputOpen(false);
  c.rc.setLive(true);
  c.consent.state(["control"]);
  c.rc.update();
  c.click(480, 270);
  c.key("KeyA", "a");
  assert.deepEqual(c.input, []);
  assert.equal(c.logs.filter((l) => l.includes("input channel is not open")).length, 1);
});

test("the session ends: control stops and the panel hides", () => {
  const c = fakeConsole();
  c.rc.setLive(true);
  c.consent.state(["control"]);
  c.rc.update();
  c.click(480, 270);
  c.consent.reset();
  c.rc.reset();
  assert.equal(c.el.panel.hidden, true);
  assert.equal(c.el.captureBar.hidden, true);
  c.key("KeyA", "a");
  assert.equal(c.input.filter((m) => m.type === "key").length, 0);
});

test("Request control is the primary action only while the customer lets the operator see the screen", () => {
  const open = { open: true, allowed: false };
  assert.deepEqual(requestControlButton("off", "granted", open), { hidden: false, disabled: false, primary: true });
  for (const view of ["asked", "denied", "revoked", "unknown"]) {
    assert.equal(requestControlButton("off", view, open).primary, false, view);
  }
  assert.equal(requestControlButton("asked", "granted", open).disabled, true);
  assert.equal(requestControlButton("granted", "granted", { open: true, allowed: true }).hidden, true);
  assert.equal(requestControlButton("off", "granted", { open: false, allowed: false }).hidden, true);
  assert.equal(requestControlButton("unknown", "asked", open).hidden, true);
});

test("screen viewing denied: Request control is offered, but not highlighted", () => {
  const c = fakeConsole();
  c.rc.setLive(true);
  c.consent.start("screen");
  c.consent.state(["chat"]);
  c.consent.reply({ capability: "view", allowed: false });
  c.rc.update();
  assert.equal(c.el.requestButton.hidden, false);
  assert.equal(c.el.requestButton.classList.contains("primary"), false);
  assert.equal(c.el.requestButton.classList.contains("secondary"), true);
  c.consent.ask("view");
  c.consent.state(["view", "chat"]);
  c.rc.update();
  assert.equal(c.el.requestButton.classList.contains("primary"), true, "the picture is there: control is the next step");
});
