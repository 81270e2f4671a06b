// @ts-check
/**
 * Small DOM helpers for the console: look-ups, showing and hiding, words, the log panel.
 *
 * The log panel is a record for support staff (and the browser console): its lines are in the
 * language the page had when they were written; technical tokens (message types, states,
 * codes) stay as they are on the wire.
 */

import { clockTime } from "./format.js";
import { t } from "./i18n.js";

/** @typedef {import("./i18n.js").Msg} Msg */

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
  if (el.dataset) {
    delete el.dataset.i18n; // these words are not the catalogue's: a switch of language leaves them
    delete el.dataset.i18nParams;
  }
}

/**
 * Put words from the catalogue on the page, keeping their key (and params) on the element so a
 * switch of language shows them anew (`language.js`); a plain string is shown as it is.
 * @param {HTMLElement} el
 * @param {Msg | string} words
 */
export function say(el, words) {
  if (typeof words === "string") return setText(el, words);
  el.textContent = t(words.key, words.params);
  el.dataset.i18n = words.key;
  if (words.params) el.dataset.i18nParams = JSON.stringify(words.params);
  else delete el.dataset.i18nParams;
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
