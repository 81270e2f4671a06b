// @ts-check
/**
 * Remote control from the console: the operator's pointer and keyboard on the video element
 * become INPUT channel messages (see wire/protocol.py: pointer_move, pointer_button,
 * wheel, key, release_all). Coordinates are fractions 0..1 of the picture itself, not of the
 * element: with `object-fit: contain` the element may show bars around the picture.
 *
 *   const input = attachInput(video, (msg) => inputChannel.send(JSON.stringify(msg)), {
 *     onActiveChange: (active) => indicator.hidden = !active,
 *   });
 *   input.enable();            // control granted: pointer and (once focused) keyboard
 *   input.releaseKeyboard();   // the visible "release keyboard" button
 *   input.disable();           // control revoked or released: sends release_all
 *   input.detach();            // the session is over
 *
 * Keyboard: while enabled and the video has focus (tabindex=0; a click on it focuses it), every
 * keydown/keyup goes to the customer and the browser does not act on it (preventDefault).
 * Shortcuts the browser reserves (Ctrl+W, Ctrl+T, Alt+Tab, the OS's own) cannot be taken from
 * it. The way out: Escape pressed three times quickly (`escape.js`: those Escapes are held back
 * and never reach the customer; one or two are sent once the moment has passed, so a single
 * Esc still does), clicking outside the video, or `releaseKeyboard()` from a visible button.
 * Leaving the video (blur), hiding the tab and `disable()` send `release_all`, so nothing
 * stays held on the customer's side (and drop Escapes still held back).
 *
 * Windows reports AltGr as ControlLeft + AltRight("AltGraph"); the ControlLeft is held back a
 * moment (CTRL_HOLD_MS) and dropped when AltGraph follows, so "@" typed with AltGr does not
 * arrive as Ctrl+@.
 */

import { EscapeGate } from "./escape.js";
import { BUTTONS } from "./protocol.js";

export { ESCAPE_PRESSES, ESCAPE_WINDOW_MS } from "./escape.js";

/** How long a ControlLeft keydown waits to see whether it is AltGr's phantom, in ms. */
export const CTRL_HOLD_MS = 30;
/** The protocol's bounds for one wheel message, in notches per axis. */
export const MAX_WHEEL_NOTCHES = 50;

const CODE_RE = /^[A-Za-z0-9]{0,32}$/;

/**
 * @typedef {{left: number, top: number, width: number, height: number}} Box
 * @typedef {{x: number, y: number}} Fraction
 * @typedef {{type: "pointer_move", x: number, y: number}
 *   | {type: "pointer_button", button: "left" | "middle" | "right", down: boolean,
 *      x: number, y: number}
 *   | {type: "wheel", x: number, y: number, dx: number, dy: number}
 *   | {type: "key", code: string, key: string, down: boolean}
 *   | {type: "release_all"}} InputMessage
 * @typedef {{
 *   now: () => number,
 *   setTimeout: (f: () => void, ms: number) => any,
 *   clearTimeout: (id: any) => void,
 * }} Clock
 *   the time in ms and a timer (the page's by default; tests pass their own)
 */

/**
 * Where the picture is inside an element of box `rect` that shows it with `object-fit: contain`
 * (same units as `rect`); null without a picture or a box.
 * @param {Box} rect
 * @param {number} videoWidth
 * @param {number} videoHeight
 * @returns {Box | null}
 */
export function pictureBox(rect, videoWidth, videoHeight) {
  if (!(videoWidth > 0 && videoHeight > 0 && rect.width > 0 && rect.height > 0)) return null;
  const scale = Math.min(rect.width / videoWidth, rect.height / videoHeight);
  const width = videoWidth * scale;
  const height = videoHeight * scale;
  return { left: rect.left + (rect.width - width) / 2, top: rect.top + (rect.height - height) / 2, width, height };
}

/**
 * Where a point of the page falls on the picture inside a video element shown with
 * `object-fit: contain`: fractions 0..1 of the picture, or null in the bars around it.
 * With `clamp`, a point outside is pulled to the nearest edge instead (for drags).
 *
 * @param {number} clientX
 * @param {number} clientY
 * @param {Box} rect the element's `getBoundingClientRect()`
 * @param {number} videoWidth intrinsic width of the picture (`video.videoWidth`)
 * @param {number} videoHeight
 * @param {boolean} [clamp]
 * @returns {Fraction | null}
 */
export function videoPointToFraction(clientX, clientY, rect, videoWidth, videoHeight, clamp = false) {
  const box = pictureBox(rect, videoWidth, videoHeight);
  if (!box) return null;
  if (!Number.isFinite(clientX) || !Number.isFinite(clientY)) return null;
  let x = (clientX - box.left) / box.width;
  let y = (clientY - box.top) / box.height;
  const EPS = 1e-9;
  if (!clamp && (x < -EPS || x > 1 + EPS || y < -EPS || y > 1 + EPS)) return null;
  x = Math.min(1, Math.max(0, x));
  y = Math.min(1, Math.max(0, y));
  return { x, y };
}

/**
 * Turns WheelEvent deltas into whole notches, keeping the remainder for the next event
 * (a touchpad sends many small pixel deltas; a mouse wheel one ~100 px or 3-line step).
 *
 * @param {{pixelsPerNotch?: number, linesPerNotch?: number, notchesPerPage?: number}} [options]
 */
export function wheelSteps(options = {}) {
  const pixelsPerNotch = options.pixelsPerNotch ?? 100;
  const linesPerNotch = options.linesPerNotch ?? 3;
  const notchesPerPage = options.notchesPerPage ?? 10;
  let restX = 0;
  let restY = 0;
  /** @param {number} delta @param {number} mode */
  const toNotches = (delta, mode) => {
    if (!Number.isFinite(delta)) return 0;
    if (mode === 1) return delta / linesPerNotch; // DOM_DELTA_LINE
    if (mode === 2) return delta * notchesPerPage; // DOM_DELTA_PAGE
    return delta / pixelsPerNotch; // DOM_DELTA_PIXEL
  };
  /** @param {number} rest @param {number} add */
  const accumulate = (rest, add) => (rest !== 0 && add !== 0 && Math.sign(rest) !== Math.sign(add) ? add : rest + add);
  /** @param {number} total @returns {[number, number]} whole notches (bounded), remainder */
  const split = (total) => {
    const whole = Math.trunc(total + (total > 0 ? 1e-9 : -1e-9));
    const bounded = Math.max(-MAX_WHEEL_NOTCHES, Math.min(MAX_WHEEL_NOTCHES, whole));
    return [bounded, whole === bounded ? total - whole : 0];
  };
  return {
    /**
     * @param {number} deltaX @param {number} deltaY @param {number} [deltaMode]
     * @returns {{dx: number, dy: number}} notches to send now (positive: right, down)
     */
    add(deltaX, deltaY, deltaMode = 0) {
      let dx;
      let dy;
      [dx, restX] = split(accumulate(restX, toNotches(deltaX, deltaMode)));
      [dy, restY] = split(accumulate(restY, toNotches(deltaY, deltaMode)));
      return { dx: dx + 0, dy: dy + 0 }; // + 0 turns -0 into 0
    },
    reset() {
      restX = 0;
      restY = 0;
    },
  };
}

/**
 * The `key` message for a keyboard event, or null if it cannot be one (an input method
 * composing, a key name the protocol cannot carry).
 *
 * @param {{code: string, key: string, isComposing?: boolean}} event
 * @param {boolean} down
 * @returns {InputMessage | null}
 */
export function keyMessage(event, down) {
  if (event.isComposing) return null;
  const key = typeof event.key === "string" ? event.key : "";
  if (key.length < 1 || key.length > 32 || key.includes("\0")) return null;
  const code = typeof event.code === "string" && CODE_RE.test(event.code) ? event.code : "";
  return { type: "key", code, key, down };
}

/**
 * Sends the operator's pointer and keyboard on `video` as INPUT messages while enabled.
 *
 * @param {HTMLVideoElement} video
 * @param {(msg: InputMessage) => void} send
 * @param {{
 *   onActiveChange?: (active: boolean) => void,
 *   wheel?: Parameters<typeof wheelSteps>[0],
 *   clock?: Clock,
 * }} [options]
 */
export function attachInput(video, send, options = {}) {
  const onActiveChange = options.onActiveChange ?? (() => {});
  const wheel = wheelSteps(options.wheel);
  /** @type {Clock} */
  const clock = options.clock ?? {
    now: () => performance.now(),
    setTimeout: (f, ms) => setTimeout(f, ms),
    clearTimeout: (id) => clearTimeout(id),
  };
  const doc = video.ownerDocument ?? globalThis.document;
  const raf = globalThis.requestAnimationFrame?.bind(globalThis) ?? ((/** @type {() => void} */ f) => setTimeout(f, 16));
  const caf = globalThis.cancelAnimationFrame?.bind(globalThis) ?? clearTimeout;

  let enabled = false;
  let active = false;
  /** @type {AbortController | null} */
  let listeners = null;
  /** @type {{x: number, y: number} | null} */
  let pendingMove = null;
  /** @type {any} */
  let frame = null;
  /** @type {Set<string>} buttons sent down */
  const buttonsDown = new Set();
  /** @type {Set<string>} codes (or keys) sent down */
  const keysDown = new Set();
  /** @type {{event: KeyboardEvent, timer: any} | null} */
  let heldCtrl = null;
  let suppressCtrlUp = false;
  /** Escapes held back: the first two of "Esc three times" never reach the customer. @type {EscapeGate<KeyboardEvent>} */
  const escapes = new EscapeGate();
  /** @type {any} */
  let escapeTimer = null;

  if (video.tabIndex < 0) video.tabIndex = 0;

  /** @param {{clientX: number, clientY: number}} e @param {boolean} clamp */
  const fraction = (e, clamp) =>
    videoPointToFraction(e.clientX, e.clientY, video.getBoundingClientRect(), video.videoWidth, video.videoHeight, clamp);

  const setActive = () => {
    const now = enabled && doc?.activeElement === video;
    if (now !== active) {
      active = now;
      onActiveChange(active);
    }
  };

  const flushMove = () => {
    frame = null;
    if (pendingMove && enabled) send({ type: "pointer_move", ...pendingMove });
    pendingMove = null;
  };

  const dropMove = () => {
    if (frame !== null) caf(frame);
    frame = null;
    pendingMove = null;
  };

  const releaseAll = () => {
    dropMove();
    dropEscapes();
    if (heldCtrl) clock.clearTimeout(heldCtrl.timer);
    heldCtrl = null;
    suppressCtrlUp = false;
    wheel.reset();
    buttonsDown.clear();
    keysDown.clear();
    send({ type: "release_all" });
  };

  /** @param {KeyboardEvent} e @param {boolean} down */
  const sendKey = (e, down) => {
    const msg = keyMessage(e, down);
    if (msg === null || msg.type !== "key") return;
    const id = msg.code || `key:${msg.key}`;
    if (down) keysDown.add(id);
    else if (!keysDown.delete(id)) return; // never sent down (focus arrived while it was held)
    send(msg);
  };

  const flushCtrl = () => {
    if (!heldCtrl) return;
    clock.clearTimeout(heldCtrl.timer);
    const { event } = heldCtrl;
    heldCtrl = null;
    sendKey(event, true);
  };

  /** @param {KeyboardEvent[]} held Escapes held back: each goes out as a press and a release */
  const sendEscapes = (held) => {
    for (const e of held) {
      const down = keyMessage(e, true);
      const up = keyMessage(e, false);
      if (enabled && down && up) {
        send(down);
        send(up);
      }
    }
  };

  /** One timer, for when the Escapes held back are due. */
  const armEscapes = () => {
    if (escapeTimer !== null) clock.clearTimeout(escapeTimer);
    escapeTimer = null;
    const deadline = escapes.deadline;
    if (deadline === null) return;
    escapeTimer = clock.setTimeout(() => {
      escapeTimer = null;
      sendEscapes(escapes.due(clock.now()));
      armEscapes(); // a timer that fired early waits for the rest
    }, Math.max(0, deadline - clock.now()));
  };

  /** Another key or a click: the Escapes held back go first. */
  const flushEscapes = () => {
    if (!escapes.holding) return;
    sendEscapes(escapes.flush());
    armEscapes();
  };

  const dropEscapes = () => {
    escapes.drop();
    armEscapes();
  };

  /** @param {PointerEvent} e */
  const onPointerMove = (e) => {
    const point = fraction(e, buttonsDown.size > 0);
    if (point === null) return;
    pendingMove = point;
    if (frame === null) frame = raf(flushMove);
  };

  /** @param {PointerEvent} e */
  const onPointerDown = (e) => {
    const button = BUTTONS[e.button];
    if (button === undefined) return;
    e.preventDefault(); // no text selection, no middle-click autoscroll
    video.focus();
    flushEscapes();
    flushCtrl();
    const point = fraction(e, false);
    if (point === null) return; // in the bars: not on the customer's screen
    dropMove();
    video.setPointerCapture?.(e.pointerId); // a drag keeps reporting outside the element
    buttonsDown.add(button);
    send({ type: "pointer_button", button, down: true, ...point });
  };

  /** @param {PointerEvent} e */
  const onPointerUp = (e) => {
    const button = BUTTONS[e.button];
    if (button === undefined || !buttonsDown.has(button)) return;
    e.preventDefault();
    flushEscapes();
    flushCtrl();
    dropMove();
    const point = fraction(e, true) ?? { x: 0, y: 0 };
    buttonsDown.delete(button);
    send({ type: "pointer_button", button, down: false, ...point });
    if (buttonsDown.size === 0 && video.hasPointerCapture?.(e.pointerId)) {
      video.releasePointerCapture(e.pointerId);
    }
  };

  /** @param {WheelEvent} e */
  const onWheel = (e) => {
    e.preventDefault();
    const point = fraction(e, false);
    if (point === null) return;
    flushEscapes();
    flushCtrl();
    const { dx, dy } = wheel.add(e.deltaX, e.deltaY, e.deltaMode);
    if (dx !== 0 || dy !== 0) send({ type: "wheel", ...point, dx, dy });
  };

  /** @param {KeyboardEvent} e */
  const onKeyDown = (e) => {
    e.preventDefault();
    e.stopPropagation();
    if (e.key === "Escape") {
      if (e.repeat && escapes.holding) return; // Esc held down: still one press
      if (!e.repeat) {
        flushCtrl();
        const { send: due, release } = escapes.escape(e, clock.now());
        sendEscapes(due);
        armEscapes();
        if (release) video.blur(); // blur sends release_all
        return;
      }
    }
    flushEscapes();
    if (e.code === "AltRight" && e.key === "AltGraph" && heldCtrl) {
      clock.clearTimeout(heldCtrl.timer); // AltGr's phantom ControlLeft: never sent
      heldCtrl = null;
      suppressCtrlUp = true;
    }
    flushCtrl();
    if (e.code === "ControlLeft" && !e.repeat) {
      heldCtrl = { event: e, timer: clock.setTimeout(flushCtrl, CTRL_HOLD_MS) };
      return;
    }
    sendKey(e, true);
  };

  /** @param {KeyboardEvent} e */
  const onKeyUp = (e) => {
    e.preventDefault();
    e.stopPropagation();
    if (e.key !== "Escape") flushEscapes(); // a held Escape's own release is never sent
    if (e.code === "ControlLeft" && suppressCtrlUp) {
      suppressCtrlUp = false;
      if (heldCtrl) clock.clearTimeout(heldCtrl.timer);
      heldCtrl = null;
      return;
    }
    flushCtrl();
    sendKey(e, false);
  };

  const onBlur = () => {
    releaseAll();
    setActive();
  };

  const onVisibility = () => {
    if (doc?.visibilityState === "hidden") releaseAll();
  };

  const enable = () => {
    if (enabled) return;
    enabled = true;
    listeners = new AbortController();
    const opts = { signal: listeners.signal };
    video.addEventListener("pointermove", /** @type {EventListener} */ (onPointerMove), opts);
    video.addEventListener("pointerdown", /** @type {EventListener} */ (onPointerDown), opts);
    video.addEventListener("pointerup", /** @type {EventListener} */ (onPointerUp), opts);
    video.addEventListener("pointercancel", /** @type {EventListener} */ (onPointerUp), opts);
    video.addEventListener("wheel", /** @type {EventListener} */ (onWheel), { ...opts, passive: false });
    video.addEventListener("contextmenu", (e) => e.preventDefault(), opts);
    video.addEventListener("keydown", /** @type {EventListener} */ (onKeyDown), opts);
    video.addEventListener("keyup", /** @type {EventListener} */ (onKeyUp), opts);
    video.addEventListener("focus", setActive, opts);
    video.addEventListener("blur", onBlur, opts);
    doc?.addEventListener("visibilitychange", onVisibility, opts);
    setActive();
  };

  const disable = () => {
    if (!enabled) return;
    enabled = false;
    listeners?.abort();
    listeners = null;
    releaseAll();
    setActive();
  };

  return {
    enable,
    disable,
    /** The visible way out: give the keyboard back to the browser (releases everything). */
    releaseKeyboard() {
      if (doc?.activeElement === video) video.blur();
    },
    /** Whether key presses go to the customer now. */
    get active() {
      return active;
    },
    detach() {
      disable();
    },
  };
}
