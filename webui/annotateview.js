// @ts-check
/**
 * The "Draw on the screen" panel and the drawing layer over the customer's picture.
 *
 * Off until the customer allows `annotate`; "Ask to draw" asks. Then the toolbar picks a tool
 * (Pointer gives the picture back to remote control), a colour, a width and whether strokes fade
 * after a few seconds; Undo takes the operator's last stroke away, Clear everything. While a
 * drawing tool is picked, a canvas over the picture takes the pointer: strokes are drawn there at
 * once (`annotate.js`'s `Sketch`) and sent on the `annotate` channel; the customer's peer draws
 * them on their real screen. The customer clearing their screen (`strokes_clear`) clears here too;
 * what the customer draws on their own screen (`stroke` from the peer) is drawn here too, each
 * stroke labelled "Customer".
 */

import { Sketch, COLORS, TOOLS, WIDTHS } from "./annotate.js";
import { onLanguageChange, t } from "./i18n.js";
import { pictureBox, videoPointToFraction } from "./input.js";
import { definePanel } from "./panels.js";
import { byId } from "./ui.js";

/**
 * @typedef {import("./annotate.js").Shape} Shape
 * @typedef {{
 *   send: (msg: {type: string, [field: string]: any}) => boolean,
 *   sendControl: (msg: {type: string, [field: string]: any}) => boolean,
 *   consent: import("./consent.js").ConsentTracker,
 *   log: (line: string, level?: "info" | "error") => void,
 * }} AnnotateHooks
 */

/** The words of each tool, colour and width (written out: the catalogue test reads them). */
const TOOL_WORDS = {
  pointer: () => t("annotate.tool.pointer"),
  pen: () => t("annotate.tool.pen"),
  highlighter: () => t("annotate.tool.highlighter"),
  rect: () => t("annotate.tool.rect"),
  ellipse: () => t("annotate.tool.ellipse"),
  arrow: () => t("annotate.tool.arrow"),
  laser: () => t("annotate.tool.laser"),
};
/** @type {Record<string, () => string>} */
const COLOR_WORDS = {
  "#e5322d": () => t("annotate.color.e5322d"),
  "#ffd400": () => t("annotate.color.ffd400"),
  "#1f9d55": () => t("annotate.color.1f9d55"),
  "#1a73e8": () => t("annotate.color.1a73e8"),
  "#ffffff": () => t("annotate.color.ffffff"),
  "#000000": () => t("annotate.color.000000"),
};
const WIDTH_WORDS = [() => t("annotate.width.thin"), () => t("annotate.width.medium"), () => t("annotate.width.thick")];

/**
 * The panel's one line of state.
 * @param {import("./consent.js").Status} status
 * @param {boolean} open
 */
export function annotateStateText(status, open) {
  if (!open) return t("common.waiting_customer");
  switch (status) {
    case "granted": return t("annotate.state.granted");
    case "asked": return t("annotate.state.asked");
    case "denied": return t("annotate.state.denied");
    case "revoked": return t("annotate.state.revoked");
    case "released": return t("annotate.state.off");
    case "unknown": return t("common.waiting_customer");
    case "off": return t("annotate.state.off");
  }
}

/**
 * Draw `shapes` on a 2D context (translated to the picture's corner); the customer's own
 * strokes carry `customerTag`.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Shape[]} shapes
 * @param {string} [customerTag]
 */
export function paint(ctx, shapes, customerTag = "") {
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const s of shapes) {
    if (s.by === "customer" && customerTag) tag(ctx, s, customerTag);
    ctx.globalAlpha = s.alpha;
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.width;
    ctx.beginPath();
    const [a, b] = s.points;
    if (s.kind === "dot") {
      ctx.arc(a.x, a.y, s.width, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    if (s.kind === "line") {
      ctx.moveTo(a.x, a.y);
      if (s.points.length === 1) ctx.lineTo(a.x + 0.01, a.y);
      for (const p of s.points.slice(1)) ctx.lineTo(p.x, p.y);
    } else if (s.kind === "rect") {
      ctx.rect(Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(b.x - a.x), Math.abs(b.y - a.y));
    } else if (s.kind === "ellipse") {
      ctx.ellipse((a.x + b.x) / 2, (a.y + b.y) / 2, Math.abs(b.x - a.x) / 2, Math.abs(b.y - a.y) / 2, 0, 0, 2 * Math.PI);
    } else if (s.kind === "arrow") {
      ctx.moveTo(a.x, a.y);
      ctx.lineTo(b.x, b.y);
      ctx.stroke();
      const angle = Math.atan2(b.y - a.y, b.x - a.x);
      const size = Math.max(10, 4 * s.width);
      ctx.beginPath();
      ctx.moveTo(b.x, b.y);
      ctx.lineTo(b.x - size * Math.cos(angle - 0.45), b.y - size * Math.sin(angle - 0.45));
      ctx.lineTo(b.x - size * Math.cos(angle + 0.45), b.y - size * Math.sin(angle + 0.45));
      ctx.closePath();
      ctx.fill();
      continue;
    }
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
}

/**
 * The mark on a stroke the customer drew: their name for it in a small label at its start.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Shape} s
 * @param {string} text
 */
function tag(ctx, s, text) {
  const { x, y } = s.points[0];
  ctx.save();
  ctx.globalAlpha = 0.9;
  ctx.font = "600 12px system-ui, sans-serif";
  const w = ctx.measureText(text).width + 10;
  ctx.fillStyle = s.color;
  ctx.fillRect(x + 6, y - 22, w, 18);
  ctx.fillStyle = "#ffffff";
  ctx.fillText(text, x + 11, y - 9);
  ctx.restore();
}

export class AnnotatePanel {
  /**
   * @param {{panel: HTMLElement, state: HTMLElement, request: HTMLButtonElement, tools: HTMLElement,
   *   toolButtons: HTMLElement, colors: HTMLElement, width: HTMLSelectElement, fade: HTMLInputElement,
   *   undo: HTMLButtonElement, clear: HTMLButtonElement, canvas: HTMLCanvasElement,
   *   video: HTMLVideoElement, wrap: HTMLElement}} el
   * @param {AnnotateHooks} hooks
   */
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.live = false;
    this.open = false;
    /** The tool picked: null is the pointer (remote control keeps the picture). @type {string | null} */
    this.tool = null;
    this.sketch = new Sketch({ tool: "pen", color: COLORS[0], width: WIDTHS[1], fade: false });
    /** @type {number | null} */
    this.frame = null;
    /** Whether the customer drew in this session (said once in the log). */
    this.customerDrew = false;
    this.#build();
    el.request.addEventListener("click", () => this.#request());
    el.undo.addEventListener("click", () => this.#send(this.sketch.undo()));
    el.clear.addEventListener("click", () => this.#send(this.sketch.clear()));
    el.width.addEventListener("change", () => { this.sketch.pen.width = Number(el.width.value); });
    el.fade.addEventListener("change", () => { this.sketch.pen.fade = el.fade.checked; });
    const canvas = el.canvas;
    canvas.addEventListener("pointerdown", (e) => this.#down(e));
    canvas.addEventListener("pointermove", (e) => this.#move(e));
    canvas.addEventListener("pointerup", (e) => this.#up(e));
    canvas.addEventListener("pointercancel", (e) => this.#up(e));
    canvas.addEventListener("pointerleave", () => this.#send(this.sketch.laserOff()));
    new ResizeObserver(() => this.draw()).observe(el.wrap);
    onLanguageChange(() => {
      this.#build();
      this.update();
    });
    this.reset();
  }

  reset() {
    this.customerDrew = false;
    this.sketch.cleared();
    this.#pick(null);
    this.live = false;
    this.update();
  }

  /** @param {boolean} open whether the annotate channel is open */
  setOpen(open) {
    this.open = open;
    this.update();
  }

  update() {
    const consent = this.hooks.consent;
    const allowed = this.live && this.open && consent.allows("annotate");
    const status = consent.status("annotate");
    this.el.panel.hidden = !this.live;
    this.el.state.textContent = annotateStateText(status, this.live && this.open);
    this.el.request.hidden = !this.live || !this.open || allowed || status === "unknown";
    this.el.request.disabled = status === "asked";
    this.el.tools.hidden = !allowed;
    if (!allowed) {
      if (this.tool !== null) this.#pick(null);
      if (!this.sketch.empty) {
        this.sketch.cleared();
        this.draw();
      }
    }
  }

  /** The customer cleared the drawing on their screen. */
  clearedByCustomer() {
    this.sketch.cleared();
    this.draw();
    this.hooks.log(t("log.annotate.cleared_by_customer"));
  }

  /**
   * A stroke the customer drew (or took back) on their own screen.
   * @param {{type: string, [field: string]: any}} msg
   */
  theirs(msg) {
    if (!this.hooks.consent.allows("annotate")) return;
    const first = !this.sketch.strokes.has(`c${msg.id}`) && msg.type === "stroke";
    if (this.sketch.theirs(msg, performance.now())) this.draw();
    if (first && !this.customerDrew) {
      this.customerDrew = true;
      this.hooks.log(t("log.annotate.customer_draws"));
    }
  }

  /** Redraw the layer (and keep redrawing while strokes fade or the laser shows). */
  draw() {
    const { canvas, video, wrap } = this.el;
    const ratio = globalThis.devicePixelRatio || 1;
    const width = Math.round(wrap.clientWidth * ratio);
    const height = Math.round(wrap.clientHeight * ratio);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, width, height);
    const now = performance.now();
    this.sketch.tick(now);
    const box = this.#pictureBox();
    if (box && !this.sketch.empty) {
      ctx.save();
      ctx.scale(ratio, ratio);
      ctx.translate(box.left, box.top);
      paint(ctx, this.sketch.shapes(box.width, box.height, now), t("annotate.customer_tag"));
      ctx.restore();
    }
    if (this.sketch.animating && this.frame === null) {
      this.frame = requestAnimationFrame(() => {
        this.frame = null;
        this.draw();
      });
    }
  }

  // ------------------------------------------------------------------ inside

  /** Where the picture is inside the wrap (object-fit: contain), in CSS pixels; null without one. */
  #pictureBox() {
    const { video, wrap } = this.el;
    const rect = { left: 0, top: 0, width: wrap.clientWidth, height: wrap.clientHeight };
    return pictureBox(rect, video.videoWidth, video.videoHeight);
  }

  /** @param {PointerEvent} e @param {boolean} clamp */
  #point(e, clamp) {
    const { video } = this.el;
    return videoPointToFraction(e.clientX, e.clientY, video.getBoundingClientRect(), video.videoWidth, video.videoHeight, clamp);
  }

  /** @param {PointerEvent} e */
  #down(e) {
    if (this.tool === null || e.button !== 0) return;
    const p = this.#point(e, false);
    if (!p) return;
    this.el.canvas.setPointerCapture(e.pointerId);
    this.#send(this.sketch.begin(p, performance.now()));
    e.preventDefault();
  }

  /** @param {PointerEvent} e */
  #move(e) {
    if (this.tool === null) return;
    const drawing = this.sketch.drawing !== null;
    const p = this.#point(e, drawing);
    if (!p) {
      if (this.tool === "laser") this.#send(this.sketch.laserOff());
      return;
    }
    if (drawing || this.tool === "laser") this.#send(this.sketch.move(p, performance.now()));
  }

  /** @param {PointerEvent} e */
  #up(e) {
    if (this.sketch.drawing === null) return;
    this.#send(this.sketch.end(this.#point(e, true), performance.now()));
  }

  /** @param {{type: string, [field: string]: any}[]} messages */
  #send(messages) {
    for (const msg of messages) {
      if (!this.hooks.send(msg)) {
        this.hooks.log(t("log.annotate.closed"), "error");
        break;
      }
    }
    this.draw();
  }

  #request() {
    if (!this.hooks.sendControl({ type: "consent_request", capability: "annotate" })) {
      this.hooks.log(t("log.annotate.closed"), "error");
      return;
    }
    this.hooks.consent.ask("annotate");
    this.hooks.log(t("log.annotate.asked"));
    this.update();
  }

  /** @param {string | null} tool */
  #pick(tool) {
    if (this.tool === "laser" && tool !== "laser") this.#send(this.sketch.laserOff());
    this.tool = tool;
    if (tool !== null) this.sketch.pen.tool = tool;
    this.el.canvas.classList.toggle("drawing", tool !== null);
    this.el.wrap.classList.toggle("annotating", tool !== null);
    for (const button of this.el.toolButtons.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String((button.dataset.tool || null) === tool));
    }
  }

  #build() {
    const { toolButtons, colors, width } = this.el;
    toolButtons.replaceChildren();
    for (const tool of [null, ...TOOLS]) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary tool";
      b.dataset.tool = tool ?? "";
      b.id = `annotate-tool-${tool ?? "pointer"}`;
      b.textContent = TOOL_WORDS[/** @type {keyof TOOL_WORDS} */ (tool ?? "pointer")]();
      b.setAttribute("aria-pressed", String(tool === this.tool));
      b.addEventListener("click", () => this.#pick(tool));
      toolButtons.append(b);
    }
    colors.replaceChildren();
    for (const color of COLORS) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "swatch";
      b.style.background = color;
      b.title = COLOR_WORDS[color]?.() ?? color;
      b.setAttribute("aria-label", b.title);
      b.setAttribute("aria-pressed", String(color === this.sketch.pen.color));
      b.addEventListener("click", () => {
        this.sketch.pen.color = color;
        for (const other of colors.querySelectorAll("button")) other.setAttribute("aria-pressed", String(other === b));
      });
      colors.append(b);
    }
    const chosen = String(this.sketch.pen.width);
    width.replaceChildren(...WIDTHS.map((w, i) => {
      const o = document.createElement("option");
      o.value = String(w);
      o.textContent = WIDTH_WORDS[i]?.() ?? String(w);
      return o;
    }));
    width.value = chosen;
  }
}

/** The `annotate` capability's panel: `strokes_clear` from the peer (the customer cleared). */
export const ANNOTATE_PANEL = definePanel({
  capability: "annotate",
  receives: { annotate: ["stroke", "stroke_undo", "strokes_clear"] },
  create: (hooks) => {
    const panel = new AnnotatePanel(
      { panel: byId("annotate-panel"), state: byId("annotate-state"), request: byId("annotate-request"),
        tools: byId("annotate-tools"), toolButtons: byId("annotate-tool-buttons"), colors: byId("annotate-colors"),
        width: byId("annotate-width"), fade: byId("annotate-fade"), undo: byId("annotate-undo"),
        clear: byId("annotate-clear"), canvas: byId("annotate-canvas"), video: byId("remote-video"),
        wrap: byId("video-wrap") },
      { send: (msg) => hooks.send("annotate", msg), sendControl: (msg) => hooks.send("control", msg),
        consent: hooks.consent, log: hooks.log },
    );
    return {
      reset: () => panel.reset(),
      update: (now) => {
        panel.live = now.offered;
        panel.open = now.isOpen("annotate");
        panel.update();
      },
      receive: (_label, msg) => (msg.type === "strokes_clear" ? panel.clearedByCustomer() : panel.theirs(msg)),
    };
  },
});
