// @ts-check
/** Small DOM helpers for the console: look-ups, showing and hiding, the log panel. */

import { clockTime } from "./format.js";

/**
 * The element with this id (throws if the page lacks it: a broken page should fail loudly).
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return /** @type {T} */ (el);
}

/**
 * @param {HTMLElement} el
 * @param {boolean} visible
 */
export function show(el, visible = true) {
  el.hidden = !visible;
}

/**
 * @param {HTMLElement} el
 * @param {string} text
 */
export function setText(el, text) {
  el.textContent = text;
}

/** Lines kept in the log panel; older ones drop off the top. */
const MAX_LOG_LINES = 500;

/**
 * Add one line to the log panel (and the browser console, for support staff debugging).
 * @param {HTMLElement} list the `<ol>` of the log panel
 * @param {string} text
 * @param {"info" | "error"} [level]
 */
export function logLine(list, text, level = "info") {
  const item = document.createElement("li");
  item.className = level === "error" ? "log-error" : "log-info";
  const time = document.createElement("time");
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = clockTime(now);
  item.append(time, " ", text);
  list.append(item);
  while (list.childElementCount > MAX_LOG_LINES) list.firstElementChild?.remove();
  list.scrollTop = list.scrollHeight;
  (level === "error" ? console.warn : console.info)(`[supportlink] ${text}`);
}
