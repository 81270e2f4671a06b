// The console's remote-control input: letterbox math, wheel notches, and the event wiring
// on a stand-in video element (no browser needed).
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  CTRL_HOLD_MS,
  ESCAPE_WINDOW_MS,
  attachInput,
  keyMessage,
  videoPointToFraction,
  wheelSteps,
} from "../../webui/input.js";
import { validate } from "../../webui/protocol.js";

const close = (actual, expected) => {
  assert.ok(actual !== null, "expected a point, got null");
  assert.ok(Math.abs(actual.x - expected.x) < 1e-9 && Math.abs(actual.y - expected.y) < 1e-9,
    `${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
};

// ------------------------------------------------------------------ letterbox math

test("a picture that fills the element maps corner to corner", () => {
  const rect = { left: 10, top: 20, width: 640, height: 360 };
  close(videoPointToFraction(10, 20, rect, 1280, 720), { x: 0, y: 0 });
  close(videoPointToFraction(650, 380, rect, 1280, 720), { x: 1, y: 1 });
  close(videoPointToFraction(330, 200, rect, 1280, 720), { x: 0.5, y: 0.5 });
});

test("a wide element shows bars left and right (pillarbox)", () => {
  // 4:3 picture in a 1000x500 element: shown 667x500, bars of 166.7 px on each side
  const rect = { left: 0, top: 0, width: 1000, height: 500 };
  assert.equal(videoPointToFraction(100, 250, rect, 1024, 768), null);
  assert.equal(videoPointToFraction(900, 250, rect, 1024, 768), null);
  close(videoPointToFraction(500, 250, rect, 1024, 768), { x: 0.5, y: 0.5 });
  close(videoPointToFraction(500 - 1000 / 3, 0, rect, 1024, 768), { x: 0, y: 0 });
  close(videoPointToFraction(500 + 1000 / 3, 500, rect, 1024, 768), { x: 1, y: 1 });
});

test("a tall element shows bars above and below (letterbox), portrait pictures too", () => {
  const rect = { left: 0, top: 100, width: 400, height: 600 };
  // 16:9 picture: shown 400x225, bars of 187.5 px above and below
  assert.equal(videoPointToFraction(200, 150, rect, 1920, 1080), null);
  assert.equal(videoPointToFraction(200, 650, rect, 1920, 1080), null);
  close(videoPointToFraction(200, 400, rect, 1920, 1080), { x: 0.5, y: 0.5 });
  close(videoPointToFraction(0, 100 + 187.5, rect, 1920, 1080), { x: 0, y: 0 });
  // a portrait (rotated) monitor in a landscape element: bars left and right
  const wide = { left: 0, top: 0, width: 1600, height: 900 };
  close(videoPointToFraction(800, 0, wide, 1080, 1920), { x: 0.5, y: 0 });
  assert.equal(videoPointToFraction(100, 450, wide, 1080, 1920), null);
  close(videoPointToFraction(800 + 253.125, 900, wide, 1080, 1920), { x: 1, y: 1 });
});

test("clamping pulls outside points to the nearest edge (drags)", () => {
  const rect = { left: 0, top: 0, width: 1000, height: 500 };
  close(videoPointToFraction(-50, 1000, rect, 1000, 500, true), { x: 0, y: 1 });
  close(videoPointToFraction(2000, -3, rect, 1000, 500, true), { x: 1, y: 0 });
});

test("no picture yet, or nonsense, gives null", () => {
  const rect = { left: 0, top: 0, width: 100, height: 100 };
  assert.equal(videoPointToFraction(50, 50, rect, 0, 0), null);
  assert.equal(videoPointToFraction(50, 50, { ...rect, width: 0 }, 100, 100), null);
  assert.equal(videoPointToFraction(NaN, 50, rect, 100, 100), null);
});

// ------------------------------------------------------------------ wheel

test("pixel deltas accumulate into notches, keeping the rest", () => {
  const w = wheelSteps();
  assert.deepEqual(w.add(0, 40), { dx: 0, dy: 0 });
  assert.deepEqual(w.add(0, 40), { dx: 0, dy: 0 });
  assert.deepEqual(w.add(0, 40), { dx: 0, dy: 1 }); // 120 px: one notch, 20 left
  assert.deepEqual(w.add(0, 80), { dx: 0, dy: 1 });
  assert.deepEqual(w.add(-250, 0), { dx: -2, dy: 0 });
  assert.deepEqual(w.add(-50, 0), { dx: -1, dy: 0 }); // -50 left over + -50
});

test("line and page modes", () => {
  const w = wheelSteps();
  assert.deepEqual(w.add(0, 3, 1), { dx: 0, dy: 1 });
  assert.deepEqual(w.add(0, -6, 1), { dx: 0, dy: -2 });
  assert.deepEqual(w.add(0, 1, 2), { dx: 0, dy: 10 });
});

test("reversing direction drops the rest; huge deltas are bounded", () => {
  const w = wheelSteps();
  w.add(0, 90);
  assert.deepEqual(w.add(0, -30), { dx: 0, dy: 0 }); // not 60
  assert.deepEqual(w.add(0, -70), { dx: 0, dy: -1 });
  assert.deepEqual(w.add(1e9, -1e9), { dx: 50, dy: -50 });
  assert.deepEqual(w.add(0, 0), { dx: 0, dy: 0 }); // and nothing owed afterwards
});

// ------------------------------------------------------------------ key messages

test("key messages are valid protocol messages", () => {
  for (const [code, key] of [["KeyA", "a"], ["Digit2", "@"], ["Quote", "Ä"], ["", "€"], ["F12", "F12"]]) {
    const msg = keyMessage({ code, key }, true);
    assert.deepEqual(msg, { type: "key", code, key, down: true });
    validate(msg, "input");
  }
  assert.equal(keyMessage({ code: "KeyA", key: "a", isComposing: true }, true), null);
  assert.equal(keyMessage({ code: "KeyA", key: "" }, true), null);
  assert.deepEqual(keyMessage({ code: "Weird-Code", key: "x" }, false), { type: "key", code: "", key: "x", down: false });
});

// ------------------------------------------------------------------ the wiring

class FakeEvent extends Event {
  constructor(type, fields = {}) {
    super(type, { cancelable: true });
    for (const [name, value] of Object.entries(fields)) {
      Object.defineProperty(this, name, { value, enumerable: true });
    }
  }
}

function fakePage({ clock } = {}) {
  const doc = new EventTarget();
  doc.visibilityState = "visible";
  doc.activeElement = null;
  const video = new EventTarget();
  Object.assign(video, {
    ownerDocument: doc,
    tabIndex: -1,
    videoWidth: 1000,
    videoHeight: 500,
    captured: new Set(),
    getBoundingClientRect: () => ({ left: 0, top: 0, width: 1000, height: 1000 }), // bars above and below
    focus() { doc.activeElement = video; video.dispatchEvent(new FakeEvent("focus")); },
    blur() { if (doc.activeElement === video) { doc.activeElement = null; video.dispatchEvent(new FakeEvent("blur")); } },
    setPointerCapture(id) { video.captured.add(id); },
    hasPointerCapture(id) { return video.captured.has(id); },
    releasePointerCapture(id) { video.captured.delete(id); },
  });
  const frames = [];
  globalThis.requestAnimationFrame = (f) => frames.push(f);
  globalThis.cancelAnimationFrame = () => frames.splice(0);
  const sent = [];
  const activity = [];
  const input = attachInput(video, (m) => { validate(m, "input"); sent.push(m); }, {
    onActiveChange: (a) => activity.push(a),
    clock,
  });
  const runFrame = () => frames.splice(0).forEach((f) => f());
  const key = (type, code, keyValue, extra = {}) => {
    const e = new FakeEvent(type, { code, key: keyValue, timeStamp: 0, ...extra });
    video.dispatchEvent(e);
    return e;
  };
  return { doc, video, input, sent, activity, runFrame, key };
}

test("nothing is sent until enabled, and the video becomes focusable", () => {
  const { video, sent, key } = fakePage();
  assert.equal(video.tabIndex, 0);
  video.dispatchEvent(new FakeEvent("pointermove", { clientX: 500, clientY: 500 }));
  key("keydown", "KeyA", "a");
  assert.deepEqual(sent, []);
});

test("moves are coalesced to one per frame and bars are ignored", () => {
  const { video, input, sent, runFrame } = fakePage();
  input.enable();
  for (const y of [300, 400, 500]) video.dispatchEvent(new FakeEvent("pointermove", { clientX: 500, clientY: y }));
  video.dispatchEvent(new FakeEvent("pointermove", { clientX: 500, clientY: 100 })); // bar
  runFrame();
  assert.deepEqual(sent, [{ type: "pointer_move", x: 0.5, y: 0.5 }]);
});

test("a drag: press focuses and captures, the release outside is clamped", () => {
  const { video, doc, input, sent, activity } = fakePage();
  input.enable();
  const down = new FakeEvent("pointerdown", { button: 0, pointerId: 7, clientX: 250, clientY: 500 });
  video.dispatchEvent(down);
  assert.ok(down.defaultPrevented);
  assert.equal(doc.activeElement, video);
  assert.deepEqual(activity, [true]);
  assert.ok(video.captured.has(7));
  video.dispatchEvent(new FakeEvent("pointerup", { button: 0, pointerId: 7, clientX: 2000, clientY: 900 }));
  assert.deepEqual(sent, [
    { type: "pointer_button", button: "left", down: true, x: 0.25, y: 0.5 },
    { type: "pointer_button", button: "left", down: false, x: 1, y: 1 },
  ]);
  assert.ok(!video.captured.has(7));
});

test("a press in the bars is not sent, nor its release; the context menu is prevented", () => {
  const { video, input, sent } = fakePage();
  input.enable();
  video.dispatchEvent(new FakeEvent("pointerdown", { button: 2, pointerId: 1, clientX: 500, clientY: 10 }));
  video.dispatchEvent(new FakeEvent("pointerup", { button: 2, pointerId: 1, clientX: 500, clientY: 500 }));
  const menu = new FakeEvent("contextmenu");
  video.dispatchEvent(menu);
  assert.ok(menu.defaultPrevented);
  assert.deepEqual(sent, []);
});

test("wheel events become notches at the pointer", () => {
  const { video, input, sent } = fakePage();
  input.enable();
  const e = new FakeEvent("wheel", { clientX: 500, clientY: 500, deltaX: 0, deltaY: 100, deltaMode: 0 });
  video.dispatchEvent(e);
  assert.ok(e.defaultPrevented);
  assert.deepEqual(sent, [{ type: "wheel", x: 0.5, y: 0.5, dx: 0, dy: 1 }]);
});

test("keys go to the customer, not to the browser", () => {
  const { video, input, sent, key } = fakePage();
  input.enable();
  video.focus();
  const e = key("keydown", "ShiftLeft", "Shift");
  key("keydown", "KeyA", "A");
  key("keyup", "KeyA", "a");
  key("keyup", "ShiftLeft", "Shift");
  key("keyup", "KeyB", "b"); // never went down here: not sent
  assert.ok(e.defaultPrevented);
  assert.deepEqual(sent, [
    { type: "key", code: "ShiftLeft", key: "Shift", down: true },
    { type: "key", code: "KeyA", key: "A", down: true },
    { type: "key", code: "KeyA", key: "a", down: false },
    { type: "key", code: "ShiftLeft", key: "Shift", down: false },
  ]);
});

test("Ctrl+C: ControlLeft is sent before the next key", () => {
  const { video, input, sent, key } = fakePage();
  input.enable();
  video.focus();
  key("keydown", "ControlLeft", "Control");
  assert.deepEqual(sent, []); // held back a moment: AltGr's phantom?
  key("keydown", "KeyC", "c");
  key("keyup", "KeyC", "c");
  key("keyup", "ControlLeft", "Control");
  assert.deepEqual(sent.map((m) => [m.code, m.down]), [
    ["ControlLeft", true], ["KeyC", true], ["KeyC", false], ["ControlLeft", false],
  ]);
});

test("a lone ControlLeft is sent after the hold time", async () => {
  const { video, input, sent, key } = fakePage();
  input.enable();
  video.focus();
  key("keydown", "ControlLeft", "Control");
  await new Promise((r) => setTimeout(r, CTRL_HOLD_MS + 20));
  assert.deepEqual(sent, [{ type: "key", code: "ControlLeft", key: "Control", down: true }]);
  input.detach();
});

test("AltGr on Windows: the phantom ControlLeft is never sent", () => {
  const { video, input, sent, key } = fakePage();
  input.enable();
  video.focus();
  key("keydown", "ControlLeft", "Control");
  key("keydown", "AltRight", "AltGraph");
  key("keydown", "KeyQ", "@");
  key("keyup", "KeyQ", "@");
  key("keyup", "ControlLeft", "Control");
  key("keyup", "AltRight", "AltGraph");
  assert.deepEqual(sent.map((m) => [m.code, m.key, m.down]), [
    ["AltRight", "AltGraph", true], ["KeyQ", "@", true], ["KeyQ", "@", false], ["AltRight", "AltGraph", false],
  ]);
});

test("leaving the video or hiding the tab releases everything", () => {
  const { video, doc, input, sent, activity, key } = fakePage();
  input.enable();
  video.focus();
  key("keydown", "AltLeft", "Alt");
  video.blur();
  assert.deepEqual(sent.at(-1), { type: "release_all" });
  assert.deepEqual(activity, [true, false]);
  video.focus();
  doc.visibilityState = "hidden";
  doc.dispatchEvent(new FakeEvent("visibilitychange"));
  assert.deepEqual(sent.at(-1), { type: "release_all" });
  input.disable();
  assert.deepEqual(sent.at(-1), { type: "release_all" });
  assert.deepEqual(activity, [true, false, true, false]);
});

/** A clock and timers the test moves by hand. */
function fakeClock() {
  let now = 0;
  let next = 1;
  const timers = new Map();
  return {
    now: () => now,
    setTimeout(f, ms) { timers.set(next, { at: now + ms, f }); return next++; },
    clearTimeout(id) { timers.delete(id); },
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at <= now && timers.delete(id)) timer.f();
      }
    },
    get pending() { return timers.size; },
  };
}

/** @param {ReturnType<typeof fakePage>} page */
const pressEscape = ({ key }) => {
  key("keydown", "Escape", "Escape");
  key("keyup", "Escape", "Escape");
};
const keys = (sent) => sent.filter((m) => m.type === "key").map((m) => `${m.code}${m.down ? "↓" : "↑"}`);

test("Escape three times quickly gives the keyboard back, and the customer gets none of them", () => {
  const clock = fakeClock();
  const page = fakePage({ clock });
  page.input.enable();
  page.video.focus();
  pressEscape(page);
  clock.advance(400);
  pressEscape(page);
  clock.advance(650); // within the window of the second: it started again
  assert.equal(page.doc.activeElement, page.video);
  pressEscape(page);
  assert.equal(page.doc.activeElement, null, "released");
  assert.deepEqual(page.activity, [true, false]);
  assert.deepEqual(page.sent, [{ type: "release_all" }], "no Escape went to the customer");
  clock.advance(5000);
  assert.deepEqual(page.sent, [{ type: "release_all" }], "not later either");
  assert.equal(clock.pending, 0);
});

test("a single Escape still reaches the customer, a moment later, as a press and a release", () => {
  const clock = fakeClock();
  const page = fakePage({ clock });
  page.input.enable();
  page.video.focus();
  const down = page.key("keydown", "Escape", "Escape");
  assert.ok(down.defaultPrevented, "the browser does not act on it either");
  page.key("keyup", "Escape", "Escape");
  clock.advance(ESCAPE_WINDOW_MS - 1);
  assert.deepEqual(page.sent, []);
  clock.advance(1);
  assert.deepEqual(page.sent, [
    { type: "key", code: "Escape", key: "Escape", down: true },
    { type: "key", code: "Escape", key: "Escape", down: false },
  ]);
  assert.equal(page.doc.activeElement, page.video, "the keyboard stays with the customer");
});

test("Escapes too slow to be a release: each one is sent, none releases", () => {
  const clock = fakeClock();
  const page = fakePage({ clock });
  page.input.enable();
  page.video.focus();
  for (let i = 0; i < 3; i++) {
    pressEscape(page);
    clock.advance(ESCAPE_WINDOW_MS + 100);
  }
  assert.equal(page.doc.activeElement, page.video);
  assert.deepEqual(keys(page.sent), ["Escape↓", "Escape↑", "Escape↓", "Escape↑", "Escape↓", "Escape↑"]);
});

test("another key while an Escape is held sends the Escape first", () => {
  const clock = fakeClock();
  const page = fakePage({ clock });
  page.input.enable();
  page.video.focus();
  pressEscape(page);
  page.key("keydown", "KeyQ", "q");
  page.key("keyup", "KeyQ", "q");
  assert.deepEqual(keys(page.sent), ["Escape↓", "Escape↑", "KeyQ↓", "KeyQ↑"]);
  clock.advance(ESCAPE_WINDOW_MS * 2);
  assert.equal(keys(page.sent).length, 4, "sent once");
  // and a click too: two held Escapes go out before the button
  pressEscape(page);
  clock.advance(100);
  pressEscape(page);
  page.video.dispatchEvent(new FakeEvent("pointerdown", { button: 0, pointerId: 1, clientX: 500, clientY: 500 }));
  assert.deepEqual(page.sent.slice(4).map((m) => m.type === "key" ? `${m.code}${m.down ? "↓" : "↑"}` : m.type),
    ["Escape↓", "Escape↑", "Escape↓", "Escape↑", "pointer_button"]);
});

test("Ctrl+Esc keeps its order: the Escape goes out before Ctrl is let go", () => {
  const clock = fakeClock();
  const page = fakePage({ clock });
  page.input.enable();
  page.video.focus();
  page.key("keydown", "ControlLeft", "Control");
  page.key("keydown", "Escape", "Escape");
  page.key("keyup", "Escape", "Escape");
  page.key("keyup", "ControlLeft", "Control");
  assert.deepEqual(keys(page.sent), ["ControlLeft↓", "Escape↓", "Escape↑", "ControlLeft↑"]);
});

test("Esc held down: its repeats are one press; leaving the picture drops held Escapes", () => {
  const clock = fakeClock();
  const page = fakePage({ clock });
  page.input.enable();
  page.video.focus();
  page.key("keydown", "Escape", "Escape");
  page.key("keydown", "Escape", "Escape", { repeat: true });
  page.key("keydown", "Escape", "Escape", { repeat: true });
  page.key("keyup", "Escape", "Escape");
  clock.advance(100);
  pressEscape(page);
  page.video.blur(); // clicked elsewhere: the keyboard is the browser's, the Escapes go nowhere
  clock.advance(ESCAPE_WINDOW_MS * 2);
  assert.deepEqual(page.sent, [{ type: "release_all" }]);
});

test("the release-keyboard button and detach", () => {
  const { video, doc, input, sent, key } = fakePage();
  input.enable();
  video.focus();
  assert.equal(input.active, true);
  input.releaseKeyboard();
  assert.equal(doc.activeElement, null);
  assert.equal(input.active, false);
  input.detach();
  const count = sent.length;
  video.focus();
  key("keydown", "KeyA", "a");
  assert.equal(sent.length, count);
});
