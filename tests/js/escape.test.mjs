// "Esc three times" to take the keyboard back: the gate that keeps those Escapes from the
// customer, on a clock the test moves by hand.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ESCAPE_PRESSES, ESCAPE_WINDOW_MS, EscapeGate } from "../../webui/escape.js";

test("a window of well under a second, three presses", () => {
  assert.equal(ESCAPE_PRESSES, 3);
  assert.ok(ESCAPE_WINDOW_MS >= 600 && ESCAPE_WINDOW_MS <= 800, String(ESCAPE_WINDOW_MS));
  assert.throws(() => new EscapeGate(0), /window/);
  assert.throws(() => new EscapeGate(700, 1), /2 presses/);
});

test("three quick Escapes release the keyboard and none of them is sent", () => {
  const gate = new EscapeGate(700);
  assert.deepEqual(gate.escape("esc1", 1000), { send: [], release: false });
  assert.equal(gate.deadline, 1700);
  assert.deepEqual(gate.due(1699), [], "still within the window");
  assert.deepEqual(gate.escape("esc2", 1600), { send: [], release: false });
  assert.equal(gate.deadline, 2300, "a second Escape starts the window again");
  assert.deepEqual(gate.due(2000), [], "past the first window, within the second");
  assert.deepEqual(gate.escape("esc3", 2200), { send: [], release: true });
  assert.equal(gate.holding, false);
  assert.equal(gate.deadline, null);
  assert.deepEqual(gate.due(99999), [], "nothing left to send, ever");
});

test("a single Escape still reaches the customer, once the window has passed", () => {
  const gate = new EscapeGate(700);
  gate.escape("esc", 0);
  assert.equal(gate.holding, true);
  assert.deepEqual(gate.due(699), []);
  assert.deepEqual(gate.due(700), ["esc"]);
  assert.equal(gate.holding, false);
  assert.deepEqual(gate.due(800), [], "sent once");
});

test("two Escapes, then a pause: both go out, in order", () => {
  const gate = new EscapeGate(700);
  gate.escape("first", 0);
  gate.escape("second", 500);
  assert.deepEqual(gate.due(1199), []);
  assert.deepEqual(gate.due(1200), ["first", "second"]);
});

test("an Escape after the window (its timer late) sends the old ones first and counts afresh", () => {
  const gate = new EscapeGate(700);
  gate.escape("a", 0);
  gate.escape("b", 600);
  assert.deepEqual(gate.escape("c", 1400), { send: ["a", "b"], release: false }, "too slow: a and b were not a release");
  assert.deepEqual(gate.escape("d", 1500), { send: [], release: false });
  assert.deepEqual(gate.escape("e", 1600), { send: [], release: true });
});

test("another key flushes the held Escapes first; dropping sends nothing", () => {
  const gate = new EscapeGate(700);
  gate.escape("esc", 0);
  assert.deepEqual(gate.flush(), ["esc"]);
  assert.equal(gate.deadline, null);
  assert.deepEqual(gate.flush(), []);
  gate.escape("esc", 10);
  gate.escape("esc", 20);
  gate.drop();
  assert.deepEqual(gate.due(10_000), []);
  // counting starts again after a flush: two more Escapes are not the third
  gate.escape("x", 100);
  gate.flush();
  gate.escape("y", 200);
  assert.deepEqual(gate.escape("z", 300), { send: [], release: false });
});
