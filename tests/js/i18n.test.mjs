// The console's catalogues against the sources: every key the console uses is in every
// catalogue, no catalogue holds a key nothing uses, and each text names the same {params} in
// every language. index.html's own words are the English catalogue's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";

import {
  LANGUAGES, byeMsg, capabilityList, capabilityText, errorMsg, pickLanguage, render, routeMsg, setLanguage, t,
} from "../../webui/i18n.js";
import { BYE_REASONS, CAPABILITY_TABLE, ERROR_CODES } from "../../webui/protocol.js";

const WEBUI = new URL("../../webui/", import.meta.url);
const EN = LANGUAGES[0].messages;

/** Keys written literally in the console's sources. */
function usedKeys() {
  const keys = new Set();
  const files = readdirSync(WEBUI).filter((f) => f.endsWith(".js") || f.endsWith(".html"));
  for (const file of files) {
    const text = readFileSync(new URL(file, WEBUI), "utf8");
    for (const m of text.matchAll(/\b(?:t|msg|words)\(\s*"([^"]+)"/g)) keys.add(m[1]);
    for (const m of text.matchAll(/\bdata-i18n(?:-[a-z-]+)?="([^"]+)"/g)) keys.add(m[1]);
  }
  // the protocol's tokens, each through one function of i18n.js
  for (const row of CAPABILITY_TABLE) keys.add(`capability.${row.name}`);
  for (const code of Object.keys(ERROR_CODES)) keys.add(`error.${code}`);
  for (const reason of Object.keys(BYE_REASONS)) keys.add(`bye.${reason}`);
  for (const route of ["direct", "relay"]) keys.add(`route.${route}`);
  return keys;
}

/** @param {string} text */
const params = (text) => [...text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort();

for (const lang of LANGUAGES) {
  test(`the ${lang.code} catalogue holds exactly the keys the console uses`, () => {
    const used = usedKeys();
    const have = new Set(Object.keys(lang.messages));
    assert.deepEqual([...used].filter((k) => !have.has(k)).sort(), [], "missing from the catalogue");
    assert.deepEqual([...have].filter((k) => !used.has(k)).sort(), [], "in the catalogue, used nowhere");
    assert.ok(Object.isFrozen(lang.messages));
  });

  test(`the ${lang.code} catalogue names the same {params} as English`, () => {
    for (const [key, text] of Object.entries(lang.messages)) {
      assert.deepEqual(params(text), params(EN[key] ?? ""), key);
      assert.notEqual(text.trim(), "", key);
    }
  });
}

/**
 * The words a page carries itself (shown before the catalogue renders them) against English.
 * @param {string} page
 */
function pageWordsChecked(page) {
  const html = readFileSync(new URL(page, WEBUI), "utf8");
  let checked = 0;
  for (const m of html.matchAll(/<([a-z0-9]+)([^>]*?)\sdata-i18n="([^"]+)"([^>]*)>([^<]*)</g)) {
    assert.equal(m[5], EN[m[3]], m[3]);
    checked++;
  }
  for (const m of html.matchAll(/\s([a-z-]+)="([^"]*)"([^>]*?)\sdata-i18n-\1="([^"]+)"/g)) {
    assert.equal(m[2], EN[m[4]], m[4]);
    checked++;
  }
  return checked;
}

test("index.html's own words are the English catalogue's", () => {
  const checked = pageWordsChecked("index.html");
  assert.ok(checked > 60, `only ${checked} words checked`);
});

test("the keyboard hint: how Esc works, said once (issue 9)", () => {
  const html = readFileSync(new URL("index.html", WEBUI), "utf8");
  assert.equal(html.split('data-i18n="control.keyboard_capture"').length, 2, "one element on the page");
  assert.equal(EN["control.keyboard_capture"],
    "Press Esc three times quickly to release the keyboard (a single Esc still goes to the customer)");
  for (const lang of LANGUAGES) {
    const hint = lang.messages["control.keyboard_capture"];
    // no other words of the console say it again, and the hint does not repeat the button beside it
    const again = Object.entries(lang.messages).filter(([key, text]) => key !== "control.keyboard_capture" && /Esc\b/.test(text));
    assert.deepEqual(again, [], lang.code);
    assert.ok(!hint.includes(lang.messages["control.release_keyboard"]), lang.code);
  }
});

test("join.html's own words are the English catalogue's", () => {
  const checked = pageWordsChecked("join.html");
  assert.ok(checked > 20, `only ${checked} words checked`);
});

test("the protocol's words: capabilities, error codes, bye reasons, with fallbacks", () => {
  setLanguage("en");
  for (const row of CAPABILITY_TABLE) assert.equal(capabilityText(row.name), row.operator_name);
  for (const [code, text] of Object.entries(ERROR_CODES)) assert.equal(render(errorMsg(code, "server words")), text);
  for (const [reason, text] of Object.entries(BYE_REASONS)) assert.equal(render(byeMsg(reason)), text);
  assert.equal(capabilityText("teleport"), "teleport");
  assert.equal(errorMsg("no_such_code", "what the server said"), "what the server said");
  assert.equal(render(byeMsg("moon_landing")), "the session ended (moon_landing)");
  assert.equal(capabilityList(["view", "control"]), "screen viewing, remote control");
  try {
    setLanguage("ja");
    assert.equal(capabilityText("view"), "画面の表示");
    assert.equal(capabilityList(["view", "chat"]), "画面の表示、チャット");
    assert.equal(t("status.ended", { reason: byeMsg("peer_ended") }), "終了: お客様がセッションを終了しました");
    assert.equal(render(errorMsg("bad_credentials", "x")), "ユーザー名またはパスワードが正しくありません");
    assert.equal(capabilityText("teleport"), "teleport");
  } finally {
    setLanguage("en");
  }
});

test("the language: the stored choice, else the browser's first known, else English", () => {
  assert.equal(pickLanguage(["ja-JP", "en-US"]), "ja");
  assert.equal(pickLanguage(["de-DE", "ja"]), "ja");
  assert.equal(pickLanguage(["en-GB", "ja-JP"]), "en");
  assert.equal(pickLanguage(["fr"]), "en");
  assert.equal(pickLanguage([]), "en");
  assert.equal(pickLanguage(["ja-JP"], "en"), "en");
  assert.equal(pickLanguage(["en-US"], "ja"), "ja");
  assert.equal(pickLanguage(["en-US"], "xx"), "en");
});

test("named {params}: a nested message is rendered, an unknown one left as it is", () => {
  assert.equal(t("status.ended_customer_gone", { reason: byeMsg("peer_left") }),
    "Ended: the customer's connection was lost. Customer disconnected.");
  assert.equal(t("status.customer_joined", { user: "bob", host: "pc1" }), "Customer joined: bob on pc1 ({os})");
  assert.equal(t("no.such.key"), "no.such.key");
});

test("log lines: the English the end-to-end tests and benches wait for, to the character", () => {
  setLanguage("en");
  assert.equal(t("log.channel.open", { label: "input" }), "input channel open");
  assert.equal(t("log.channel.open", { label: "chat" }), "chat channel open");
  assert.match(t("log.rtc.candidate_error", { code: String(401), url: "turns:relay.example:443?transport=tcp", error: "Unauthorized" }),
    /ICE candidate error 401 at turns:/);
  assert.equal(t("log.media.picture_size", { size: "1280×720" }), "picture size 1280×720");
  assert.equal(t("log.session.verification", { code: "1234 5678" }), "verification code 1234 5678");
  // numbers go in as strings: a log line never gains a thousands separator
  assert.equal(t("log.signaling.closed", { code: String(1006), why: "" }), "signaling connection closed (code 1006)");
  assert.equal(t("log.signaling.closed", { code: "1008", why: t("log.signaling.closed_reason", { reason: "policy" }) }),
    "signaling connection closed (code 1008: policy)");
  assert.equal(t("log.signaling.signed_in", { as: t("log.signaling.signed_in_as", { operator: "alice" }), protocol: "1" }),
    "signed in to the signaling server as alice (protocol 1)");
  assert.equal(t("log.signaling.signed_in", { as: "", protocol: "1" }), "signed in to the signaling server (protocol 1)");
  assert.equal(t("log.signaling.server_error", { code: "rate_limited", message: "slow down",
    retry: t("log.signaling.server_error_retry", { seconds: "3" }) }), "server error rate_limited: slow down (retry in 3 s)");
  assert.equal(t("log.session.join_request", { user: "bob", host: "pc1", os: "Linux", address: t("log.session.address_unknown") }),
    "join request from bob on pc1, Linux, address unknown");
  assert.equal(t("log.session.route", { route: routeMsg("relay"), local: "relay", remote: "host" }), "route: relay (relay -> host)");
  assert.equal(t("log.rtc.renegotiating", { n: "2" }), "new offer from the peer (#2): renegotiating");
  assert.equal(t("log.clipboard.sent", { count: String(12000) }), "clipboard: sent 12000 characters to the customer");
});

test("log lines in Japanese: the words translated, tokens and states kept", () => {
  try {
    setLanguage("ja");
    assert.equal(t("log.channel.open", { label: "control" }), "control チャネルを開きました");
    assert.equal(t("log.signaling.connecting"), "シグナリングサーバーに接続しています");
    assert.equal(t("log.rtc.connection_state", { state: "connected" }), "接続状態: connected");
    assert.equal(t("log.session.route", { route: routeMsg("relay"), local: "relay", remote: "host" }), "経路: リレー経由（relay -> host）");
    assert.equal(t("log.signaling.signed_in", { as: t("log.signaling.signed_in_as", { operator: "alice" }), protocol: "1" }),
      "シグナリングサーバーに alice としてサインインしました（プロトコル 1）");
    // no English word of three letters or more, other than the protocol's and the browser's tokens
    const tokens = new Set(["ICE", "offer", "candidate", "bye", "mid", "Ctrl"]);
    for (const [key, text] of Object.entries(LANGUAGES[1].messages)) {
      if (!key.startsWith("log.")) continue;
      const words = text.replace(/\{[a-z_]+\}/g, "").match(/[A-Za-z]{3,}/g) ?? [];
      assert.deepEqual(words.filter((w) => !tokens.has(w)), [], key);
    }
  } finally {
    setLanguage("en");
  }
});
