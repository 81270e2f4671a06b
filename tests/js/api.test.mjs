// The console's HTTP calls against a fake fetch that records what it was asked: the profile
// (GET and POST /api/me) and the session history (GET /api/sessions), their errors in either
// shape the server uses, and a logged-out operator.
import { test } from "node:test";
import assert from "node:assert/strict";

import * as api from "../../webui/api.js";

/**
 * Answer every fetch with `status` and `body`, recording the calls.
 * @param {number} status
 * @param {unknown} body
 */
function fakeFetch(status, body) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url, init });
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status, statusText: status === 200 ? "OK" : "Bad Request", headers: { "Content-Type": "application/json" },
    });
  };
  return calls;
}

const realFetch = globalThis.fetch;
test.afterEach(() => {
  globalThis.fetch = realFetch;
});

const PROFILE = { operator: "admin", display_name: "Alice Smith", organisation: "Acme IT" };

test("who am I: the profile, or null when logged out", async () => {
  const calls = fakeFetch(200, PROFILE);
  assert.deepEqual(await api.me(), { operator: "admin", displayName: "Alice Smith", organisation: "Acme IT" });
  assert.equal(calls[0].url, "/api/me");
  assert.equal(calls[0].init.credentials, "same-origin");
  fakeFetch(401, { error: { code: "not_authenticated", message: "log in first" } });
  assert.equal(await api.me(), null);
});

test("saving the display name: a same-origin JSON POST, the profile back", async () => {
  const calls = fakeFetch(200, { ...PROFILE, display_name: "Bob" });
  assert.deepEqual(await api.saveDisplayName("Bob"), { operator: "admin", displayName: "Bob", organisation: "Acme IT" });
  const { url, init } = calls[0];
  assert.equal(url, "/api/me");
  assert.equal(init.method, "POST");
  assert.equal(init.credentials, "same-origin", "the cookie goes, as with /api/logout");
  assert.equal(init.headers["Content-Type"], "application/json");
  assert.deepEqual(JSON.parse(init.body), { display_name: "Bob" });
});

test("a refused name is an ApiError with the server's code, in either error shape", async () => {
  for (const body of [
    { error: "bad_display_name", message: "a display name has 1 to 64 printable characters" },
    { error: { code: "bad_display_name", message: "a display name has 1 to 64 printable characters" } },
  ]) {
    fakeFetch(400, body);
    await assert.rejects(api.saveDisplayName("x".repeat(65)), (err) => {
      assert.ok(err instanceof api.ApiError);
      assert.equal(err.status, 400);
      assert.equal(err.code, "bad_display_name");
      assert.equal(err.message, "a display name has 1 to 64 printable characters");
      return true;
    });
  }
});

test("the history: the last 50 sessions asked for, the records read", async () => {
  const calls = fakeFetch(200, { sessions: [{
    session_id: "s_1", mode: "call", host: "pc1", user: "bob", os: "Windows 11", started_at: 1733150000.5,
    ended_at: null, end_reason: null, duration: null, capabilities: ["chat"],
  }] });
  const [record] = await api.sessions();
  assert.equal(calls[0].url, "/api/sessions?limit=50");
  assert.equal(record.mode, "call");
  assert.equal(record.ended_at, null);
  assert.deepEqual(record.capabilities, ["chat"]);
});

test("the history when logged out, or the server unreachable: ApiError", async () => {
  fakeFetch(401, { error: { code: "not_authenticated", message: "log in first" } });
  await assert.rejects(api.sessions(), { name: "ApiError", status: 401, code: "not_authenticated" });
  globalThis.fetch = async () => {
    throw new TypeError("Failed to fetch");
  };
  await assert.rejects(api.sessions(), { name: "ApiError", status: 0, code: "unreachable" });
});
