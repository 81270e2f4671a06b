// The console's drawing core (webui/annotate.js): what the operator's pointer becomes on the
// wire, checked by the protocol's own parser, and what the console draws at once.
import { test } from "node:test";
import assert from "node:assert/strict";

import { FADE_MS, LASER_MS, MAX_STROKES, SEND_EVERY_MS, Sketch } from "../../webui/annotate.js";
import { MAX_STROKE_POINTS_PER_MESSAGE, parse, serialize } from "../../webui/protocol.js";

/** Every message goes through the wire both ways, as the peer will read it. */
const wire = (/** @type {any[]} */ msgs) => msgs.map((m) => parse(serialize(m, "annotate"), "annotate"));
const pen = (tool = "pen", fade = false) => new Sketch({ tool, color: "#e5322d", width: 6, fade });

test("a shape is its two corners, sent as the pointer drags and once more when let go", () => {
  const s = pen("ellipse");
  const first = wire(s.begin({ x: 0.2, y: 0.3 }, 0));
  assert.deepEqual(first, [{ type: "stroke", id: 1, tool: "ellipse", color: "#e5322d", width: 6, fade: false,
    points: [0.2, 0.3, 0.2, 0.3], done: false }]);
  assert.deepEqual(s.move({ x: 0.5, y: 0.5 }, 10), []); // within SEND_EVERY_MS: held back
  const moved = wire(s.move({ x: 0.6, y: 0.7 }, SEND_EVERY_MS));
  assert.deepEqual(moved[0].points, [0.2, 0.3, 0.6, 0.7]);
  const last = wire(s.end({ x: 0.8, y: 0.9 }, 100));
  assert.deepEqual(last.map((m) => [m.points, m.done]), [[[0.2, 0.3, 0.8, 0.9], true]]);
  const [shape] = s.shapes(1001, 501, 100);
  assert.equal(shape.kind, "ellipse");
  assert.deepEqual(shape.points, [{ x: 200, y: 150 }, { x: 800, y: 450 }]);
  assert.ok(Math.abs(shape.width - 3) < 0.01); // 6 thousandths of 501 px
});

test("a free line sends the points since its last message, in pieces the wire allows", () => {
  const s = pen();
  const sent = [...s.begin({ x: 0, y: 0 }, 0)];
  for (let i = 1; i <= 600; i++) sent.push(...s.move({ x: i / 700, y: 0.5 }, 0)); // no time passes
  sent.push(...s.end(null, 1));
  const msgs = wire(sent);
  const points = msgs.flatMap((m) => m.points);
  assert.equal(points.length / 2, 601);
  assert.ok(msgs.every((m) => m.points.length <= 2 * MAX_STROKE_POINTS_PER_MESSAGE));
  assert.deepEqual(msgs.map((m) => m.done), [false, false, false, true]);
  // points closer than MIN_STEP add nothing
  const t = pen();
  t.begin({ x: 0.5, y: 0.5 }, 0);
  assert.deepEqual(t.move({ x: 0.5002, y: 0.5 }, 100), []);
});

test("undo takes the operator's newest stroke away; clear everything; the customer's clear too", () => {
  const s = pen("rect");
  for (const id of [1, 2, 3]) {
    s.begin({ x: 0.1 * id, y: 0.1 }, id * 100);
    s.end({ x: 0.1 * id + 0.05, y: 0.2 }, id * 100 + 50);
  }
  assert.deepEqual(wire(s.undo()), [{ type: "stroke_undo", id: 3 }]);
  assert.deepEqual([...s.strokes.keys()], ["o1", "o2"]);
  assert.deepEqual(wire(s.clear()), [{ type: "strokes_clear" }]);
  assert.ok(s.empty);
  assert.deepEqual(s.undo(), []);
  s.begin({ x: 0.5, y: 0.5 }, 1000);
  s.cleared();
  assert.ok(s.empty && s.drawing === null);
});

test("fading strokes and the laser go by themselves; at most MAX_STROKES are kept", () => {
  const s = pen("arrow", true);
  s.begin({ x: 0.1, y: 0.1 }, 0);
  s.end({ x: 0.5, y: 0.5 }, 0);
  assert.equal(s.shapes(100, 100, FADE_MS - 500)[0].alpha, 0.5);
  assert.ok(s.animating);
  assert.equal(s.tick(FADE_MS), true);
  assert.ok(s.empty);

  s.pen.tool = "laser";
  assert.deepEqual(wire(s.move({ x: 0.3, y: 0.3 }, 0)), [{ type: "laser", x: 0.3, y: 0.3, shown: true }]);
  assert.deepEqual(s.move({ x: 0.31, y: 0.3 }, 5), []); // at most one every SEND_EVERY_MS
  assert.equal(s.shapes(100, 100, 5).at(-1)?.kind, "dot");
  assert.deepEqual(wire(s.laserOff()), [{ type: "laser", x: 0.31, y: 0.3, shown: false }]);
  s.move({ x: 0.4, y: 0.4 }, 100);
  assert.equal(s.tick(100 + LASER_MS), true);

  const many = pen("rect");
  for (let i = 0; i < MAX_STROKES + 5; i++) {
    many.begin({ x: 0.1, y: 0.1 }, i);
    many.end({ x: 0.2, y: 0.2 }, i);
  }
  assert.equal(many.strokes.size, MAX_STROKES);
  assert.equal([...many.strokes.keys()][0], "o6");
});

test("the customer's own strokes are drawn too, marked as theirs, and only they undo them", () => {
  const s = pen("rect");
  s.begin({ x: 0.1, y: 0.1 }, 0);
  s.end({ x: 0.2, y: 0.2 }, 0);
  const theirs = { type: "stroke", id: 1, tool: "pen", color: "#1a73e8", width: 6, fade: false, done: false };
  assert.ok(s.theirs({ ...theirs, points: [0.5, 0.5, 0.6, 0.6] }, 0));
  assert.ok(s.theirs({ ...theirs, points: [0.7, 0.7], done: true }, 0));
  assert.equal(s.theirs({ ...theirs, points: [0.8, 0.8] }, 0), false); // it ended
  const shapes = s.shapes(101, 101, 0);
  assert.deepEqual(shapes.map((x) => [x.kind, x.by]), [["rect", "operator"], ["line", "customer"]]);
  assert.equal(shapes[1].points.length, 3);
  assert.deepEqual(wire(s.undo()), [{ type: "stroke_undo", id: 1 }]); // the operator's own id 1
  assert.deepEqual([...s.strokes.keys()], ["c1"]);
  assert.ok(s.theirs({ type: "stroke_undo", id: 1 }, 0));
  assert.ok(s.empty);
});
