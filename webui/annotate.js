// @ts-check
/**
 * Drawing on the customer's screen, the console's side (no DOM: node tests it).
 *
 * `Sketch` turns the operator's pointer on the picture into `annotate` channel messages and
 * keeps the same strokes the customer's peer draws (`peer/annotate/board.py`), so the console
 * shows each stroke at once, before any video round trip:
 *
 *   const sketch = new Sketch({tool: "ellipse", color: "#e5322d", width: 4, fade: false});
 *   sketch.begin(point, now) / sketch.move(point, now) / sketch.end(point, now) -> messages
 *   sketch.undo() / sketch.clear() -> messages;  sketch.cleared() (the customer cleared)
 *   sketch.theirs(msg, now)  // a stroke the customer drew on their own screen (`stroke`,
 *                            // `stroke_undo` from the peer): drawn too, marked as theirs
 *   sketch.shapes(width, height, now) -> what to draw on a canvas of that size
 *
 * Points are fractions of the picture (`input.js`'s `videoPointToFraction`), widths thousandths
 * of its height. A free line sends the points gathered since its last message at most every
 * `SEND_EVERY_MS` (and `MAX_STROKE_POINTS_PER_MESSAGE` at a time); a shape sends its two corners;
 * the laser sends where it is, at most every `SEND_EVERY_MS`. Points closer than `MIN_STEP` to
 * the last one are not sent.
 */

import { MAX_STROKE_POINTS_PER_MESSAGE, MAX_STROKE_WIDTH } from "./protocol.js";

/** The tools of the toolbar: the wire's, and the laser pointer. */
export const TOOLS = Object.freeze(["pen", "highlighter", "rect", "ellipse", "arrow", "laser"]);
/** The colours offered (lower-case #rrggbb, as the wire wants). */
export const COLORS = Object.freeze(["#e5322d", "#ffd400", "#1f9d55", "#1a73e8", "#ffffff", "#000000"]);
/** Line widths offered, thousandths of the picture's height. */
export const WIDTHS = Object.freeze([3, 6, 12]);
/** Milliseconds between two messages of one moving stroke or laser. */
export const SEND_EVERY_MS = 30;
/** A move shorter than this (fraction of the picture) adds no point. */
export const MIN_STEP = 0.001;
/** Same as the peer: how long a fading stroke stays, and over how long it fades out. */
export const FADE_MS = 4000;
export const FADE_OUT_MS = 1000;
/** The laser dot goes out this long after its last move. */
export const LASER_MS = 2000;
/** How see-through the highlighter is drawn. */
export const HIGHLIGHTER_ALPHA = 0.5;
/** Most strokes kept (the peer keeps as many). */
export const MAX_STROKES = 100;

const FREE = new Set(["pen", "highlighter"]);

/**
 * @typedef {{x: number, y: number}} Point
 * @typedef {{tool: string, color: string, width: number, fade: boolean}} Pen
 * @typedef {{id: number, tool: string, color: string, width: number, fade: boolean,
 *   points: Point[], endedAt: number | null, unsent: Point[], sentAt: number, by: string}} Mark
 * @typedef {{kind: string, color: string, width: number, points: Point[], alpha: number, by: string}} Shape
 *   in canvas pixels; kind: "line" | "rect" | "ellipse" | "arrow" | "dot"; by: "operator" | "customer"
 * @typedef {{type: string, [field: string]: any}} Msg
 */

export class Sketch {
  /** @param {Pen} pen */
  constructor(pen) {
    /** @type {Pen} */
    this.pen = { ...pen };
    /** @type {Map<string, Mark>} strokes by who and id ("o1", "c1"), in the order they started */
    this.strokes = new Map();
    /** @type {number[]} ids of the operator's strokes, newest last (for undo) */
    this.mine = [];
    /** @type {Mark | null} */
    this.drawing = null;
    /** @type {{x: number, y: number, at: number, sentAt: number} | null} */
    this.laser = null;
    this.nextId = 1;
  }

  /**
   * The operator pressed on the picture.
   * @param {Point} p
   * @param {number} now ms
   * @returns {Msg[]}
   */
  begin(p, now) {
    const out = this.drawing ? this.end(p, now) : [];
    if (this.pen.tool === "laser") return [...out, ...this.#laser(p, now, true)];
    const width = Math.min(MAX_STROKE_WIDTH, Math.max(1, Math.round(this.pen.width)));
    /** @type {Mark} */
    const mark = { id: this.nextId++, tool: this.pen.tool, color: this.pen.color, width, fade: this.pen.fade,
      points: [p], endedAt: null, unsent: [p], sentAt: -Infinity, by: "operator" };
    if (!FREE.has(mark.tool)) mark.points = [p, p];
    this.#add(mark);
    this.drawing = mark;
    this.mine.push(mark.id);
    return [...out, ...this.#flush(mark, now, false)];
  }

  /**
   * The pointer moved (pressed, or the laser).
   * @param {Point} p
   * @param {number} now
   * @returns {Msg[]}
   */
  move(p, now) {
    if (this.pen.tool === "laser" && !this.drawing) return this.#laser(p, now, false);
    const mark = this.drawing;
    if (!mark) return [];
    if (FREE.has(mark.tool)) {
      const last = mark.points[mark.points.length - 1];
      if (Math.hypot(p.x - last.x, p.y - last.y) < MIN_STEP) return [];
      mark.points.push(p);
      mark.unsent.push(p);
    } else {
      mark.points = [mark.points[0], p];
      mark.unsent = [p];
    }
    return now - mark.sentAt >= SEND_EVERY_MS ? this.#flush(mark, now, false) : [];
  }

  /**
   * The operator let go.
   * @param {Point | null} p
   * @param {number} now
   * @returns {Msg[]}
   */
  end(p, now) {
    const mark = this.drawing;
    if (!mark) return [];
    if (p) this.move(p, -Infinity); // keep the last point without sending it on its own
    this.drawing = null;
    mark.endedAt = now;
    return this.#flush(mark, now, true);
  }

  /** @returns {Msg[]} */
  laserOff() {
    if (!this.laser) return [];
    const { x, y } = this.laser;
    this.laser = null;
    return [{ type: "laser", x, y, shown: false }];
  }

  /** Take the operator's newest stroke away. @returns {Msg[]} */
  undo() {
    while (this.mine.length) {
      const id = /** @type {number} */ (this.mine.pop());
      if (this.strokes.delete(`o${id}`)) {
        if (this.drawing?.id === id) this.drawing = null;
        return [{ type: "stroke_undo", id }];
      }
    }
    return [];
  }

  /** Take everything away. @returns {Msg[]} */
  clear() {
    this.cleared();
    return [{ type: "strokes_clear" }];
  }

  /** The customer cleared their screen (or the session ended): forget everything. */
  cleared() {
    this.strokes.clear();
    this.mine = [];
    this.drawing = null;
    this.laser = null;
  }

  /**
   * A message about the customer's own strokes (they draw on their screen too).
   * @param {Msg} msg `stroke` or `stroke_undo` from the peer
   * @param {number} now
   * @returns {boolean} whether what is drawn changed
   */
  theirs(msg, now) {
    const key = `c${msg.id}`;
    if (msg.type === "stroke_undo") return this.strokes.delete(key);
    if (msg.type !== "stroke" || msg.points.length % 2) return false;
    /** @type {Point[]} */
    const points = [];
    for (let i = 0; i < msg.points.length; i += 2) points.push({ x: msg.points[i], y: msg.points[i + 1] });
    let mark = this.strokes.get(key);
    if (!mark) {
      mark = { id: msg.id, tool: msg.tool, color: msg.color, width: msg.width, fade: msg.fade, points: [],
        endedAt: null, unsent: [], sentAt: 0, by: "customer" };
      this.#add(mark);
    } else if (mark.endedAt !== null || mark.tool !== msg.tool) {
      return false;
    }
    if (FREE.has(mark.tool)) mark.points.push(...points.slice(0, 4000 - mark.points.length));
    else if (points.length >= 2) mark.points = points.slice(-2);
    if (msg.done) mark.endedAt = now;
    return true;
  }

  /** Whether anything is (or is about to be) drawn. */
  get empty() {
    return this.strokes.size === 0 && this.laser === null;
  }

  /**
   * Forget faded strokes and a laser gone out; true if anything went.
   * @param {number} now
   */
  tick(now) {
    let gone = false;
    for (const [key, m] of this.strokes) {
      if (m.fade && m.endedAt !== null && now - m.endedAt >= FADE_MS) {
        this.strokes.delete(key);
        gone = true;
      }
    }
    if (this.laser && now - this.laser.at >= LASER_MS) {
      this.laser = null;
      gone = true;
    }
    return gone;
  }

  /** Whether the picture changes by itself (a fade, a laser going out). */
  get animating() {
    return this.laser !== null || [...this.strokes.values()].some((m) => m.fade && m.endedAt !== null);
  }

  /**
   * What to draw on a canvas of `width` x `height` pixels, bottom first.
   * @param {number} width
   * @param {number} height
   * @param {number} now
   * @returns {Shape[]}
   */
  shapes(width, height, now) {
    /** @type {Shape[]} */
    const out = [];
    const px = (/** @type {Point} */ p) => ({ x: p.x * (width - 1), y: p.y * (height - 1) });
    for (const m of this.strokes.values()) {
      let alpha = m.tool === "highlighter" ? HIGHLIGHTER_ALPHA : 1;
      if (m.fade && m.endedAt !== null) alpha *= Math.max(0, Math.min(1, (m.endedAt + FADE_MS - now) / FADE_OUT_MS));
      if (alpha <= 0) continue;
      let line = Math.max(1, (m.width * height) / 1000);
      if (m.tool === "highlighter") line = Math.max(line * 3, 6);
      const kind = FREE.has(m.tool) ? "line" : m.tool;
      out.push({ kind, color: m.color, width: line, points: m.points.map(px), alpha, by: m.by });
    }
    if (this.laser) {
      out.push({ kind: "dot", color: "#e61e1e", width: Math.max(4, (8 * height) / 1000), points: [px(this.laser)], alpha: 1,
        by: "operator" });
    }
    return out;
  }

  // ------------------------------------------------------------------ inside

  /** @param {Mark} mark */
  #add(mark) {
    while (this.strokes.size >= MAX_STROKES) {
      const oldest = /** @type {number} */ (this.strokes.keys().next().value);
      this.strokes.delete(oldest);
    }
    this.strokes.set(`${mark.by === "customer" ? "c" : "o"}${mark.id}`, mark);
  }

  /**
   * @param {Mark} mark
   * @param {number} now
   * @param {boolean} done
   * @returns {Msg[]}
   */
  #flush(mark, now, done) {
    /** @type {Msg[]} */
    const out = [];
    const base = { type: "stroke", id: mark.id, tool: mark.tool, color: mark.color, width: mark.width, fade: mark.fade };
    if (!FREE.has(mark.tool)) {
      const [a, b] = mark.points;
      out.push({ ...base, points: [a.x, a.y, b.x, b.y], done });
    } else {
      let rest = mark.unsent;
      do {
        const part = rest.slice(0, MAX_STROKE_POINTS_PER_MESSAGE);
        rest = rest.slice(part.length);
        out.push({ ...base, points: part.flatMap((p) => [p.x, p.y]), done: done && rest.length === 0 });
      } while (rest.length);
    }
    mark.unsent = [];
    mark.sentAt = now;
    return out;
  }

  /**
   * @param {Point} p
   * @param {number} now
   * @param {boolean} force
   * @returns {Msg[]}
   */
  #laser(p, now, force) {
    const sentAt = this.laser?.sentAt ?? -Infinity;
    this.laser = { x: p.x, y: p.y, at: now, sentAt };
    if (!force && now - sentAt < SEND_EVERY_MS) return [];
    this.laser.sentAt = now;
    return [{ type: "laser", x: p.x, y: p.y, shown: true }];
  }
}
