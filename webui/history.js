// @ts-check
/**
 * The operator's recent sessions, from `GET /api/sessions`, as rows of words (no DOM: node
 * tests it; `historyview.js` puts the rows on the page, as text only).
 *
 * A record is what the server's audit keeps of one started session: who the customer's
 * computer said it was, when, for how long, what the customer allowed and why it ended. A row
 * is that record in the console's language: the local date and time, `user@host` and the OS,
 * the duration as h:mm:ss ("running" while it has not ended), the capabilities in words (a name
 * the console does not know is shown as it is) and the end in words (the `bye` reasons'
 * words, `byeMsg`, which `status.ended` shows when a live session ends).
 *
 *   const records = parseHistory(await response.json());
 *   historyRows(records);   // newest first, in the language in use
 */

import { byeMsg, capabilityList, locale, msg, t } from "./i18n.js";

/** Rows asked of the server. */
export const HISTORY_LIMIT = 50;

/**
 * @typedef {Readonly<{
 *   session_id: string,
 *   mode: string,
 *   host: string,
 *   user: string,
 *   os: string,
 *   started_at: number,
 *   ended_at: number | null,
 *   end_reason: string | null,
 *   duration: number | null,
 *   capabilities: readonly string[],
 * }>} SessionRecord
 *   times in Unix seconds; ended_at, end_reason and duration are null while the session runs
 * @typedef {Readonly<{
 *   id: string,
 *   mode: string,
 *   when: string,
 *   whenIso: string,
 *   customer: string,
 *   duration: string,
 *   running: boolean,
 *   allowed: string,
 *   ended: string,
 * }>} HistoryRow
 *   when: local date and time; whenIso: the same for `<time datetime>` ("" if unknown);
 *   customer: "user@host, OS"; ended: how it ended in words ("" while running)
 * @typedef {{timeZone?: string}} RowOptions timeZone: for tests (else the browser's own)
 */

/** @param {unknown} value */
const text = (value) => (typeof value === "string" ? value : "");
/** @param {unknown} value */
const seconds = (value) => (typeof value === "number" && Number.isFinite(value) ? value : null);

/**
 * The records in a `/api/sessions` answer; throws TypeError when it is not one. A field of the
 * wrong type in a record is taken as missing (text "", a time null), so one odd row does not
 * hide the others.
 * @param {unknown} body
 * @returns {SessionRecord[]}
 */
export function parseHistory(body) {
  const sessions = body && typeof body === "object" ? /** @type {{sessions?: unknown}} */ (body).sessions : undefined;
  if (!Array.isArray(sessions)) throw new TypeError(`/api/sessions: no list of sessions in ${JSON.stringify(body)?.slice(0, 80)}`);
  return sessions.filter((r) => r && typeof r === "object").map((r) => Object.freeze({
    session_id: text(r.session_id),
    mode: text(r.mode),
    host: text(r.host),
    user: text(r.user),
    os: text(r.os),
    started_at: seconds(r.started_at) ?? 0,
    ended_at: seconds(r.ended_at),
    end_reason: typeof r.end_reason === "string" && r.end_reason !== "" ? r.end_reason : null,
    duration: seconds(r.duration),
    capabilities: Object.freeze(Array.isArray(r.capabilities) ? r.capabilities.filter((c) => typeof c === "string") : []),
  }));
}

/**
 * A duration as `h:mm:ss` (hours may pass 23; whole seconds, never negative).
 * @param {number} value seconds
 */
export function formatDuration(value) {
  const s = Math.max(0, Math.floor(Number.isFinite(value) ? value : 0));
  const two = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/**
 * How long the session lasted: the server's `duration`, else from its times; null while it runs.
 * @param {SessionRecord} record
 * @returns {number | null}
 */
export function durationOf(record) {
  if (record.duration !== null) return record.duration;
  if (record.ended_at !== null) return record.ended_at - record.started_at;
  return null;
}

/**
 * How a session ended, in words: the `bye` reason's (the words the console shows when a live
 * session ends), the server's restart, or, for a token the console does not know, the token.
 * @param {string | null} reason
 * @returns {import("./i18n.js").Msg}
 */
export function endReasonMsg(reason) {
  if (reason === null) return msg("history.reason_unknown");
  if (reason === "server_restart") return msg("history.reason.server_restart");
  return byeMsg(reason);
}

/**
 * What the customer allowed, in words ("screen viewing, chat"; "nothing" when nothing).
 * @param {readonly string[]} capabilities
 */
export function allowedText(capabilities) {
  return t("history.allowed", { list: capabilityList([...new Set(capabilities)]) });
}

/**
 * Who the customer was: `user@host, OS` (a part the computer did not say is left out).
 * @param {SessionRecord} record
 */
export function customerText(record) {
  const who = record.user && record.host ? `${record.user}@${record.host}` : record.user || record.host;
  return record.os ? t("history.customer", { who, os: record.os }) : who;
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/**
 * A moment as the console shows dates: day, month, year and a 24-hour time, in its language.
 * @param {Date} date
 * @param {string} [timeZone]
 */
export function dateTime(date, timeZone) {
  const key = `${locale()} ${timeZone ?? ""}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale(), {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone,
    });
    formats.set(key, format);
  }
  return format.format(date);
}

/**
 * Whether a session of these records has not ended: right after a session ends, the server
 * may not have written its end yet (ask again once).
 * @param {readonly SessionRecord[]} records
 */
export function anyRunning(records) {
  return records.some((r) => r.ended_at === null);
}

/**
 * The records as rows in the language in use, the most recent first.
 * @param {readonly SessionRecord[]} records
 * @param {RowOptions} [options]
 * @returns {HistoryRow[]}
 */
export function historyRows(records, { timeZone } = {}) {
  const newestFirst = [...records].sort((a, b) => b.started_at - a.started_at);
  return newestFirst.map((r) => {
    const date = new Date(r.started_at * 1000);
    const valid = r.started_at > 0 && !Number.isNaN(date.getTime());
    const lasted = durationOf(r);
    const running = r.ended_at === null;
    return Object.freeze({
      id: r.session_id,
      mode: r.mode,
      when: valid ? dateTime(date, timeZone) : "–",
      whenIso: valid ? date.toISOString() : "",
      customer: customerText(r),
      duration: lasted === null ? t("history.running") : formatDuration(lasted),
      running,
      allowed: allowedText(r.capabilities),
      ended: running ? "" : t("status.ended", { reason: endReasonMsg(r.end_reason) }),
    });
  });
}
