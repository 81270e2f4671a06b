// @ts-check
/**
 * The console's words in the operator's language (no DOM: node tests it).
 *
 * Each language is one catalogue module in `i18n/` (a frozen object, key -> text with named
 * `{param}`s) and one line in `LANGUAGES`; adding a language is that file and that line. Every
 * key is written literally where it is used (`t("status.ready")`, `msg("status.ended", ...)`,
 * `data-i18n="start.new_session"` in index.html) so `tests/js/i18n.test.mjs` can scan the
 * sources and hold each catalogue to exactly the keys used. The only computed keys are the
 * protocol's tokens, each through one function here: `capability.<name>` (CAPABILITY_TABLE),
 * `error.<code>` (ERROR_CODES), `bye.<reason>` (BYE_REASONS), `route.<route>`.
 *
 *   setLanguage("ja");                        // listeners run (the page re-renders its words)
 *   t("status.customer_joined", {user, host, os})
 *   msg("status.ended", {reason: byeMsg(r)})  // a message kept as data: rendered again on a switch
 */

import EN from "./i18n/en.js";
import JA from "./i18n/ja.js";
import { CAPABILITY_BY_NAME } from "./protocol.js";

/**
 * @typedef {Readonly<Record<string, string>>} Catalogue
 * @typedef {Readonly<{code: string, name: string, locale: string, messages: Catalogue}>} Language
 *   name: in the language itself, for the switch
 * @typedef {string | number | Msg} Param
 * @typedef {{key: string, params?: Record<string, Param>}} Msg
 *   words kept as data, rendered with `render` in the language of the moment
 */

/** Every language the console speaks; the first is the default. */
export const LANGUAGES = Object.freeze([
  Object.freeze({ code: "en", name: "English", locale: "en-US", messages: EN }),
  Object.freeze({ code: "ja", name: "日本語", locale: "ja-JP", messages: JA }),
]);

/** @type {Language} */
let current = LANGUAGES[0];
/** @type {Set<() => void>} */
const listeners = new Set();

/** The language in use: its code ("en", "ja"). */
export function language() {
  return current.code;
}

/** The locale for dates and numbers in the language in use ("en-US", "ja-JP"). */
export function locale() {
  return current.locale;
}

/**
 * The language to use: the stored choice if it is one of `LANGUAGES`, else the first of the
 * browser's languages the console speaks (by primary subtag: "ja-JP" -> "ja"), else English.
 * @param {readonly string[]} preferred `navigator.languages`
 * @param {string | null} [stored] the operator's earlier choice
 */
export function pickLanguage(preferred, stored = null) {
  if (stored && LANGUAGES.some((l) => l.code === stored)) return stored;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split("-")[0];
    if (LANGUAGES.some((l) => l.code === primary)) return primary;
  }
  return LANGUAGES[0].code;
}

/**
 * Speak `code` from now on; every listener runs when it changes.
 * @param {string} code one of `LANGUAGES`
 */
export function setLanguage(code) {
  const next = LANGUAGES.find((l) => l.code === code);
  if (!next) throw new Error(`no catalogue for language ${JSON.stringify(code)}`);
  if (next === current) return;
  current = next;
  for (const listener of listeners) listener();
}

/**
 * Run `listener` after every change of language (to show the page's words anew).
 * @param {() => void} listener
 * @returns {() => void} stops listening
 */
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The text of `key` in the language in use (English if the catalogue lacks it, else the key),
 * each `{name}` replaced by `params.name` (a nested `Msg` is rendered first).
 * @param {string} key
 * @param {Record<string, Param>} [params]
 */
export function t(key, params = {}) {
  const text = current.messages[key] ?? EN[key] ?? key;
  return text.replace(/\{([a-z_]+)\}/g, (whole, name) =>
    Object.hasOwn(params, name) ? render(params[name]) : whole);
}

/**
 * Words kept as data (rendered with `render`, again after a switch of language).
 * @param {string} key
 * @param {Record<string, Param>} [params]
 * @returns {Msg}
 */
export function msg(key, params) {
  return params ? { key, params } : { key };
}

/**
 * @param {Param} value
 * @returns {string}
 */
export function render(value) {
  if (typeof value === "string") return value;
  if (typeof value === "number") return value.toLocaleString(current.locale);
  if (value === null || typeof value !== "object" || typeof value.key !== "string") return String(value);
  return t(value.key, value.params);
}

/**
 * What the console calls a capability: `capability.<name>`, else the table's English, else the token.
 * @param {string} name
 */
export function capabilityText(name) {
  const key = `capability.${name}`;
  if (current.messages[key] ?? EN[key]) return t(key);
  return CAPABILITY_BY_NAME.get(name)?.operator_name ?? name;
}

/**
 * Capabilities as a list in the language in use ("screen viewing, remote control"), or "nothing".
 * @param {readonly string[]} names
 */
export function capabilityList(names) {
  return names.length ? names.map(capabilityText).join(t("list.separator")) : t("consent.nothing");
}

/**
 * The console's words for a stable error code; `fallback` (the server's words) for a code it does not know.
 * @param {string} code
 * @param {string} fallback
 * @returns {Msg | string}
 */
export function errorMsg(code, fallback) {
  const key = `error.${code}`;
  return key in EN ? msg(key) : fallback;
}

/**
 * Why a session ended, for a `bye.reason` (or a reason the console does not know).
 * @param {string} reason
 * @returns {Msg}
 */
export function byeMsg(reason) {
  const key = `bye.${reason}`;
  return key in EN ? msg(key) : msg("status.bye_unknown", { reason });
}

/**
 * Whether the connection runs direct or through the relay, in words.
 * @param {string} route "direct" | "relay"
 * @returns {Msg | string}
 */
export function routeMsg(route) {
  const key = `route.${route}`;
  return key in EN ? msg(key) : route;
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const clocks = new Map();

/**
 * A time of day as `HH:MM` (24-hour, as both languages show it in a support tool), in local time.
 * @param {Date} date
 */
export function timeOfDay(date) {
  let format = clocks.get(current.locale);
  if (!format) {
    format = new Intl.DateTimeFormat(current.locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    clocks.set(current.locale, format);
  }
  return format.format(date);
}
