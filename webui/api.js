// @ts-check
/**
 * The server's HTTP API for operators: log in, log out, who am I and the name customers see,
 * the operator's recent sessions. Same origin, cookie based. Errors arrive as
 * `{"error": {"code", "message", "retry_after"?}}` (or flat, `{"error": code, "message"}`) and
 * are thrown as ApiError.
 */

import { HISTORY_LIMIT, parseHistory } from "./history.js";
import { parseProfile } from "./profile.js";

/**
 * @typedef {import("./profile.js").Profile} Profile
 * @typedef {import("./history.js").SessionRecord} SessionRecord
 */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 when the server could not be reached)
   * @param {string} code stable code from the server (`bad_credentials`, `rate_limited`, ...)
   * @param {string} message words for people
   * @param {number | null} [retryAfter] seconds, when the server says so
   */
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 */
async function request(path, init = {}) {
  let response;
  try {
    response = await fetch(path, {
      credentials: "same-origin",
      cache: "no-store",
      ...init,
      headers: { Accept: "application/json", ...(init.headers ?? {}) },
    });
  } catch {
    throw new ApiError(0, "unreachable", "The server cannot be reached.");
  }
  if (response.ok) return response;
  let code = `http_${response.status}`;
  let message = `The server answered ${response.status} ${response.statusText}.`.replace(" .", ".");
  let retryAfter = null;
  try {
    const body = await response.json();
    // {"error": {"code", "message", "retry_after"}}, or the same fields beside a string "error"
    const error = body && typeof body.error === "object" && body.error ? body.error
      : body && typeof body.error === "string" ? { ...body, code: body.error } : null;
    if (error) {
      if (typeof error.code === "string") code = error.code;
      if (typeof error.message === "string") message = error.message;
      if (typeof error.retry_after === "number") retryAfter = error.retry_after;
    }
  } catch {
    // not JSON: keep the status line
  }
  throw new ApiError(response.status, code, message, retryAfter);
}

/**
 * Log in; resolves to the operator's name, throws ApiError (bad_credentials, rate_limited...).
 * @param {string} username
 * @param {string} password
 * @returns {Promise<string>}
 */
export async function login(username, password) {
  const response = await request("/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const body = await response.json();
  return String(body.operator);
}

/** End the web session (the cookie is cleared by the server). */
export async function logout() {
  await request("/api/logout", { method: "POST" });
}

/**
 * Who is logged in (the login, the name customers see, the organisation), or null when nobody.
 * @returns {Promise<Profile | null>}
 */
export async function me() {
  try {
    const response = await request("/api/me");
    return parseProfile(await response.json());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/**
 * Set the name customers see ("" for the login); resolves to the profile as the server keeps
 * it, throws ApiError (`bad_display_name` for a name it refuses).
 * @param {string} displayName
 * @returns {Promise<Profile>}
 */
export async function saveDisplayName(displayName) {
  const response = await request("/api/me", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ display_name: displayName }),
  });
  return parseProfile(await response.json());
}

/**
 * The logged-in operator's own sessions, the most recent first; throws ApiError (401 when
 * logged out).
 * @param {number} [limit]
 * @returns {Promise<SessionRecord[]>}
 */
export async function sessions(limit = HISTORY_LIMIT) {
  const response = await request(`/api/sessions?limit=${encodeURIComponent(String(limit))}`);
  return parseHistory(await response.json());
}
