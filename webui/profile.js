// @ts-check
/**
 * The operator's profile: the name customers are shown (no DOM: node tests it).
 *
 * `GET /api/me` says who is logged in (`operator`, the login), the name customers see instead
 * (`display_name`, "" when unset) and the server's organisation (or null). The customer's
 * program names the operator in every question it asks: "Alice Smith (Acme IT) wants to see
 * your screen"; without a display name it says the login. `shownName` is that name, as the
 * console previews it; `displayNameProblem` holds a name to what the server accepts (1 to 64
 * printable characters once trimmed, or "" to clear it) before it is sent.
 *
 *   const profile = parseProfile(await response.json());
 *   shownName(profile);                 // "Alice Smith (Acme IT)"
 *   shownName(profile, "Bob");          // "Bob (Acme IT)": the preview while typing
 *   displayNameProblem("x".repeat(65)); // msg("profile.problem.too_long", ...)
 */

import { errorMsg, msg } from "./i18n.js";

/** Longest display name, in characters (code points, as the server counts them). */
export const MAX_DISPLAY_NAME = 64;

/**
 * @typedef {Readonly<{operator: string, displayName: string, organisation: string | null}>} Profile
 *   operator: the login; displayName: "" when unset; organisation: the server's, or null
 * @typedef {import("./i18n.js").Msg} Msg
 */

/**
 * The profile in a `/api/me` answer; throws TypeError naming what is wrong.
 * @param {unknown} body
 * @returns {Profile}
 */
export function parseProfile(body) {
  const b = /** @type {Record<string, unknown>} */ (body);
  if (!b || typeof b !== "object" || Array.isArray(b)) throw new TypeError(`/api/me: not a JSON object: ${JSON.stringify(body)}`);
  if (typeof b.operator !== "string" || b.operator === "") {
    throw new TypeError(`/api/me: operator must be a name, not ${JSON.stringify(b.operator)}`);
  }
  const displayName = b.display_name ?? "";
  if (typeof displayName !== "string") throw new TypeError(`/api/me: display_name must be text, not ${JSON.stringify(displayName)}`);
  const organisation = b.organisation ?? null;
  if (organisation !== null && typeof organisation !== "string") {
    throw new TypeError(`/api/me: organisation must be text or null, not ${JSON.stringify(organisation)}`);
  }
  return Object.freeze({ operator: b.operator, displayName, organisation: organisation || null });
}

/**
 * The name the customer's program shows: the display name (or, while the operator types, the
 * text typed), else the login, with the organisation in brackets when the server has one.
 * @param {Profile} profile
 * @param {string} [typed] the text in the form, instead of the saved display name
 */
export function shownName(profile, typed = profile.displayName) {
  const name = typed.trim() || profile.operator;
  return profile.organisation ? `${name} (${profile.organisation})` : name;
}

/** Characters as Python's `len` counts them: code points. @param {string} text */
export function characterCount(text) {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** What Python's `str.isprintable` refuses: other (controls, formats...) and separators but the space. */
const UNPRINTABLE = /(?! )[\p{C}\p{Z}]/u;

/**
 * Why the server would refuse this display name (after trimming), or null if it may be sent;
 * "" is fine: it clears the name (customers see the login).
 * @param {string} text
 * @returns {Msg | null}
 */
export function displayNameProblem(text) {
  const name = text.trim();
  const count = characterCount(name);
  if (count > MAX_DISPLAY_NAME) {
    return msg("profile.problem.too_long", { count: String(count), max: String(MAX_DISPLAY_NAME) });
  }
  if (UNPRINTABLE.test(name)) return msg("profile.problem.unprintable");
  return null;
}

/**
 * The words for a failed save (an `ApiError`'s status, code and the server's own message).
 * @param {number} status
 * @param {string} code
 * @param {string} message
 * @returns {Msg | string}
 */
export function saveProblem(status, code, message) {
  if (code === "bad_display_name") return msg("profile.bad_name", { max: String(MAX_DISPLAY_NAME) });
  if (code === "unreachable") return msg("profile.save_failed", { message: msg("login.unreachable") });
  if (status === 401) return msg("login.expired");
  return msg("profile.save_failed", { message: errorMsg(code, message) });
}
