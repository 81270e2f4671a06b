// @ts-check
/**
 * The server's HTTP API for operators: log in, log out, who am I. Same origin, cookie based.
 * Errors arrive as `{"error": {"code", "message", "retry_after"?}}` and are thrown as ApiError.
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
    if (body && typeof body.error === "object" && body.error) {
      if (typeof body.error.code === "string") code = body.error.code;
      if (typeof body.error.message === "string") message = body.error.message;
      if (typeof body.error.retry_after === "number") retryAfter = body.error.retry_after;
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
 * The logged-in operator's name, or null when not logged in.
 * @returns {Promise<string | null>}
 */
export async function me() {
  try {
    const response = await request("/api/me");
    const body = await response.json();
    return String(body.operator);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}
