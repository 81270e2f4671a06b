// @ts-check
/**
 * "Esc three times" to take the keyboard back from the customer, without the customer getting
 * those Escapes (no DOM, no timers: the caller passes the time and keeps one timer).
 *
 * While the console has the keyboard, an Escape press is held back for `windowMs`; another
 * Escape within the window is held too and starts the window again; the `presses`-th releases
 * the keyboard and every held Escape is dropped. When the window passes with fewer, the held
 * Escapes are sent then, in order: a single Esc still reaches the customer, a moment later.
 * Any other key (or a click) while Escapes are held sends them first, so keys keep their order.
 *
 *   const gate = new EscapeGate();
 *   gate.escape(event, now);   // {send: [], release: false}: held; call gate.due at gate.deadline
 *   gate.due(now);             // the held Escapes to send now, once their window has passed
 *   gate.flush();              // another key: the held Escapes to send before it
 *   gate.drop();               // the keyboard was released some other way: none are sent
 */

/** Escape this many times, each within ESCAPE_WINDOW_MS of the one before, releases the keyboard. */
export const ESCAPE_PRESSES = 3;
export const ESCAPE_WINDOW_MS = 700;

/** @template T what the caller holds back for each Escape (its keyboard event) */
export class EscapeGate {
  /**
   * @param {number} [windowMs]
   * @param {number} [presses]
   */
  constructor(windowMs = ESCAPE_WINDOW_MS, presses = ESCAPE_PRESSES) {
    if (!(windowMs > 0) || !(Number.isInteger(presses) && presses >= 2)) {
      throw new Error(`an Escape gate needs a window > 0 and 2 presses or more, not ${windowMs} ms and ${presses}`);
    }
    this.windowMs = windowMs;
    this.presses = presses;
    /** @type {T[]} Escapes held back, oldest first */
    this.held = [];
    /** When the held Escapes are due (the caller's clock), or null when none are held. @type {number | null} */
    this.deadline = null;
  }

  /** Whether Escapes are being held back now. */
  get holding() {
    return this.held.length > 0;
  }

  /**
   * An Escape press (not a key repeat) while the keyboard is captured.
   * @param {T} item
   * @param {number} now
   * @returns {{send: T[], release: boolean}}
   *   send: Escapes held from a window that had already passed (send them now, first);
   *   release: give the keyboard back (this one and those held are never sent)
   */
  escape(item, now) {
    const send = this.due(now);
    this.held.push(item);
    if (this.held.length >= this.presses) {
      this.drop();
      return { send, release: true };
    }
    this.deadline = now + this.windowMs;
    return { send, release: false };
  }

  /**
   * The held Escapes once their window has passed (then none are held), else nothing.
   * @param {number} now
   * @returns {T[]}
   */
  due(now) {
    return this.deadline !== null && now >= this.deadline ? this.flush() : [];
  }

  /**
   * Another key or a click: the held Escapes, to send before it (then none are held).
   * @returns {T[]}
   */
  flush() {
    const held = this.held;
    this.held = [];
    this.deadline = null;
    return held;
  }

  /** Forget the held Escapes without sending them. */
  drop() {
    this.held = [];
    this.deadline = null;
  }
}
