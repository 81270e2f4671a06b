// @ts-check
/** Pure formatting for the console: no DOM here, so `node --test` covers it. */

/**
 * A session code as it is read out on the phone: `"12345678"` -> `"1234 5678"`.
 * @param {string} code
 */
export function formatCode(code) {
  return code.length === 8 ? `${code.slice(0, 4)} ${code.slice(4)}` : code;
}

/**
 * Time left as `mm:ss` (minutes may pass 59; never negative).
 * @param {number} seconds
 */
export function formatCountdown(seconds) {
  const s = Math.max(0, Math.ceil(Number.isFinite(seconds) ? seconds : 0));
  const minutes = Math.floor(s / 60);
  return `${String(minutes).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * Time gone by as `mm:ss`, a call's duration (minutes may pass 59; never negative).
 * @param {number} seconds
 */
export function formatElapsed(seconds) {
  const s = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * Seconds left until `expiresAt` (Unix seconds), given `now` in milliseconds.
 * @param {number} expiresAt
 * @param {number} nowMs
 */
export function secondsLeft(expiresAt, nowMs) {
  return Math.max(0, expiresAt - nowMs / 1000);
}

/**
 * A clock time for the log, `HH:MM:SS`, in local time.
 * @param {Date} date
 */
export function clockTime(date) {
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
}
