// @ts-check
/**
 * Key combinations the operator cannot press into the picture because their own computer
 * takes them first (Ctrl+Alt+Del, Alt+Tab, the Windows/Super key, Print Screen, Alt+F4):
 * sent as `key` messages, pressed in order and released in reverse (no DOM: node tests it).
 *
 *   for (const msg of comboMessages(SPECIAL_KEYS[0].keys)) send(msg);
 */

import { t } from "./i18n.js";

/**
 * @typedef {readonly (readonly [string, string])[]} Combo  [KeyboardEvent.code, .key] each
 * @typedef {{id: string, label: () => string, keys: Combo}} SpecialKey
 */

/** @type {readonly SpecialKey[]} */
export const SPECIAL_KEYS = Object.freeze([
  { id: "ctrl_alt_del", label: () => t("keys.ctrl_alt_del"),
    keys: [["ControlLeft", "Control"], ["AltLeft", "Alt"], ["Delete", "Delete"]] },
  { id: "alt_tab", label: () => t("keys.alt_tab"), keys: [["AltLeft", "Alt"], ["Tab", "Tab"]] },
  { id: "super", label: () => t("keys.super"), keys: [["MetaLeft", "Meta"]] },
  { id: "print_screen", label: () => t("keys.print_screen"), keys: [["PrintScreen", "PrintScreen"]] },
  { id: "alt_f4", label: () => t("keys.alt_f4"), keys: [["AltLeft", "Alt"], ["F4", "F4"]] },
]);

/**
 * The `key` messages that press `keys` together: each goes down in order, then up in reverse.
 * @param {Combo} keys
 * @returns {{type: "key", code: string, key: string, down: boolean}[]}
 */
export function comboMessages(keys) {
  const down = keys.map(([code, key]) => ({ type: /** @type {"key"} */ ("key"), code, key, down: true }));
  const up = [...keys].reverse().map(([code, key]) => ({ type: /** @type {"key"} */ ("key"), code, key, down: false }));
  return [...down, ...up];
}

/**
 * The special key of `id`, or undefined.
 * @param {string} id
 */
export function specialKey(id) {
  return SPECIAL_KEYS.find((k) => k.id === id);
}
