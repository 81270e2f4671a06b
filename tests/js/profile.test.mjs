// The name customers see, without a browser: the label "Customers see: …" with and without the
// organisation, the checks a display name passes before it is sent, the words for a refused
// save, and the form's contract with the page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { render, setLanguage, t } from "../../webui/i18n.js";
import {
  MAX_DISPLAY_NAME, characterCount, displayNameProblem, parseProfile, saveProblem, shownName,
} from "../../webui/profile.js";

const ALICE = parseProfile({ operator: "admin", display_name: "Alice Smith", organisation: "Acme IT" });

test("the name customers see: the display name, else the login, with the organisation when there is one", () => {
  assert.equal(shownName(ALICE), "Alice Smith (Acme IT)");
  assert.equal(shownName(parseProfile({ operator: "admin", display_name: "", organisation: "Acme IT" })), "admin (Acme IT)");
  assert.equal(shownName(parseProfile({ operator: "admin", display_name: "Alice Smith", organisation: null })), "Alice Smith");
  assert.equal(shownName(parseProfile({ operator: "admin", display_name: "", organisation: null })), "admin");
  // while typing: the text in the field, trimmed; an empty field previews the login
  assert.equal(shownName(ALICE, "  Bob  "), "Bob (Acme IT)");
  assert.equal(shownName(ALICE, "   "), "admin (Acme IT)");
});

test("the label says it in the console's language", () => {
  setLanguage("en");
  assert.equal(t("profile.customers_see", { name: shownName(ALICE) }), "Customers see: Alice Smith (Acme IT)");
  try {
    setLanguage("ja");
    assert.equal(t("profile.customers_see", { name: shownName(ALICE) }), "お客様の画面での表示: Alice Smith (Acme IT)");
    assert.equal(t("profile.hint_login", { login: "admin" }), "お客様にはログイン名「admin」が表示されます。");
  } finally {
    setLanguage("en");
  }
  assert.equal(t("profile.hint_login", { login: "admin" }), "Customers will see your login name “admin”.");
});

test("/api/me is read strictly: a login is needed, the rest has defaults", () => {
  assert.deepEqual(parseProfile({ operator: "admin" }), { operator: "admin", displayName: "", organisation: null });
  assert.deepEqual(parseProfile({ operator: "admin", display_name: "A", organisation: "" }),
    { operator: "admin", displayName: "A", organisation: null });
  assert.ok(Object.isFrozen(ALICE));
  assert.throws(() => parseProfile(null), /not a JSON object/);
  assert.throws(() => parseProfile({ operator: 7 }), /operator must be a name, not 7/);
  assert.throws(() => parseProfile({ operator: "a", display_name: 1 }), /display_name must be text, not 1/);
  assert.throws(() => parseProfile({ operator: "a", organisation: ["x"] }), /organisation must be text or null/);
});

test("a display name has at most 64 characters, counted as the server counts them", () => {
  setLanguage("en");
  assert.equal(MAX_DISPLAY_NAME, 64);
  assert.equal(displayNameProblem("a".repeat(64)), null);
  assert.equal(displayNameProblem(""), null, "empty clears the name");
  assert.equal(displayNameProblem(`  ${"a".repeat(64)}  `), null, "spaces around are trimmed, as the server does");
  const long = displayNameProblem("a".repeat(65));
  assert.deepEqual(long, { key: "profile.problem.too_long", params: { count: "65", max: "64" } });
  assert.equal(render(/** @type {any} */ (long)), "Too long: 65 characters; a name has at most 64.");
  // 64 emoji are 128 UTF-16 units but 64 characters
  assert.equal(characterCount("😀".repeat(64)), 64);
  assert.equal(displayNameProblem("😀".repeat(64)), null);
  assert.notEqual(displayNameProblem("😀".repeat(65)), null);
  assert.equal(characterCount("山田 太郎"), 5);
});

test("a display name is printable: no tabs, line breaks or control characters", () => {
  assert.equal(displayNameProblem("Alice Smith"), null);
  assert.equal(displayNameProblem("山田 太郎（サポート）"), null);
  assert.equal(displayNameProblem("O'Brien-Müller, Jr."), null);
  for (const bad of ["Alice\tSmith", "Alice\nSmith", "Alice\u0000", "Alice\u202eevil", "Alice\u00a0Smith"]) {
    assert.deepEqual(displayNameProblem(bad), { key: "profile.problem.unprintable" }, JSON.stringify(bad));
  }
});

test("a refused save says why in the console's words", () => {
  setLanguage("en");
  assert.equal(render(/** @type {any} */ (saveProblem(400, "bad_display_name", "a display name has 1 to 64 printable characters"))),
    "The server did not accept this name: use up to 64 letters, digits, spaces or punctuation marks.");
  assert.equal(render(/** @type {any} */ (saveProblem(0, "unreachable", "x"))), "Not saved: The server cannot be reached.");
  assert.equal(render(/** @type {any} */ (saveProblem(401, "not_authenticated", "log in first"))),
    "Your login has expired. Please log in again.");
  assert.equal(render(/** @type {any} */ (saveProblem(403, "bad_origin", "x"))), "Not saved: the request came from another site");
  assert.equal(render(/** @type {any} */ (saveProblem(500, "http_500", "The server answered 500."))),
    "Not saved: The server answered 500.");
});

test("the form: one field of at most 64, Save and Cancel, the label, the error line", () => {
  const html = readFileSync(new URL("../../webui/index.html", import.meta.url), "utf8");
  const form = html.slice(html.indexOf('<form id="profile-form"'), html.indexOf("</form>", html.indexOf('<form id="profile-form"')));
  assert.equal(form.match(/<input /g)?.length, 1, "one text field");
  assert.match(form, /<input id="display-name"[^>]* maxlength="64"/);
  assert.match(form, /<button type="submit" id="profile-save"/, "Enter in the field saves");
  assert.match(form, /<button type="button" id="profile-cancel"/);
  assert.match(form, /id="customers-see"/);
  assert.match(form, /id="profile-error" class="alert" role="alert" hidden/);
  assert.match(html, /<button type="button" id="profile-button"[^>]* aria-controls="profile-form"/);
  const view = readFileSync(new URL("../../webui/profileview.js", import.meta.url), "utf8");
  assert.match(view, /event\.key !== "Escape"/, "Esc cancels");
});
