// The operator's recent sessions without a browser: the server's records read leniently, rows
// in the console's words (durations, capabilities, how it ended, both languages), newest first,
// and hostile text from a customer's computer shown as text, never as markup.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";

import {
  HISTORY_LIMIT, allowedText, anyRunning, customerText, durationOf, endReasonMsg, formatDuration, historyRows,
  parseHistory,
} from "../../webui/history.js";
import { historyItem } from "../../webui/historyview.js";
import { render, setLanguage } from "../../webui/i18n.js";
import { BYE_REASONS } from "../../webui/protocol.js";

const UTC = { timeZone: "UTC" };
const HOSTILE = "<img src=x onerror=alert(1)>";

/** A record as `GET /api/sessions` sends it (the brief's example), with `fields` changed. */
const record = (fields = {}) => ({
  session_id: "s_0001", mode: "screen", host: "pc1", user: "bob", os: "Linux",
  started_at: 1733150000.5, ended_at: 1733150300.0, end_reason: "operator_ended", duration: 299.5,
  capabilities: ["view", "control", "clipboard", "chat"], ...fields,
});

/** @param {object[]} sessions */
const rows = (sessions) => historyRows(parseHistory({ sessions }), UTC);

test("durations are h:mm:ss, whole seconds, never negative", () => {
  assert.equal(formatDuration(0), "0:00:00");
  assert.equal(formatDuration(299.5), "0:04:59");
  assert.equal(formatDuration(59.999), "0:00:59");
  assert.equal(formatDuration(61), "0:01:01");
  assert.equal(formatDuration(3600), "1:00:00");
  assert.equal(formatDuration(3600 * 27 + 62), "27:01:02", "hours go past a day");
  assert.equal(formatDuration(-5), "0:00:00");
  assert.equal(formatDuration(NaN), "0:00:00");
});

test("a duration: the server's, else from the times; none while the session runs", () => {
  const [a, b, c] = parseHistory({ sessions: [
    record(),
    record({ duration: null }),
    record({ ended_at: null, end_reason: null, duration: null }),
  ] });
  assert.equal(durationOf(a), 299.5);
  assert.equal(durationOf(b), 1733150300.0 - 1733150000.5);
  assert.equal(durationOf(c), null);
  assert.equal(anyRunning([a, b]), false);
  assert.equal(anyRunning([a, c]), true);
});

test("a row in English: date and time, customer, duration, what was allowed, how it ended", () => {
  setLanguage("en");
  const [row] = rows([record()]);
  assert.deepEqual(row, {
    id: "s_0001",
    mode: "screen",
    when: "Dec 2, 2024, 14:33",
    whenIso: "2024-12-02T14:33:20.500Z",
    customer: "bob@pc1, Linux",
    duration: "0:04:59",
    running: false,
    allowed: "Allowed: screen viewing, remote control, clipboard, chat",
    ended: "Ended: the operator ended the session",
  });
  assert.ok(Object.isFrozen(row));
});

test("a row in Japanese: every word the catalogue's, the date as Japanese write it", () => {
  try {
    setLanguage("ja");
    const [row, running] = rows([
      record({ end_reason: "peer_left", capabilities: ["view", "chat"] }),
      record({ started_at: 1733140000, ended_at: null, end_reason: null, duration: null, capabilities: [] }),
    ]);
    assert.equal(row.when, "2024年12月2日 14:33");
    assert.equal(row.customer, "bob@pc1（Linux）");
    assert.equal(row.allowed, "許可: 画面の表示、チャット");
    assert.equal(row.ended, "終了: お客様の接続が切れました");
    assert.equal(running.duration, "進行中");
    assert.equal(running.allowed, "許可: なし");
  } finally {
    setLanguage("en");
  }
});

test("the newest first, whatever order the server sent; equal times keep the server's order", () => {
  setLanguage("en");
  const ids = rows([
    record({ session_id: "old", started_at: 1000 }),
    record({ session_id: "new", started_at: 3000 }),
    record({ session_id: "mid-a", started_at: 2000 }),
    record({ session_id: "mid-b", started_at: 2000 }),
  ]).map((r) => r.id);
  assert.deepEqual(ids, ["new", "mid-a", "mid-b", "old"]);
});

test("how it ended: every bye reason in the words the console shows when a session ends", () => {
  setLanguage("en");
  for (const [reason, words] of Object.entries(BYE_REASONS)) {
    assert.equal(render(endReasonMsg(reason)), words, reason);
    assert.equal(rows([record({ end_reason: reason })])[0].ended, `Ended: ${words}`);
  }
  assert.equal(render(endReasonMsg("server_restart")), "the server restarted during the session");
  assert.equal(render(endReasonMsg(null)), "no reason recorded");
  assert.equal(render(endReasonMsg("moon_landing")), "the session ended (moon_landing)", "an unknown token as it is");
  // still running: no end to tell
  const [running] = rows([record({ ended_at: null, end_reason: null, duration: null })]);
  assert.equal(running.running, true);
  assert.equal(running.duration, "running");
  assert.equal(running.ended, "");
});

test("capabilities in words, an unknown name as it is, each once; none is 'nothing'", () => {
  setLanguage("en");
  assert.equal(allowedText(["view", "control", "clipboard", "chat"]), "Allowed: screen viewing, remote control, clipboard, chat");
  assert.equal(allowedText(["chat", "teleport", "chat"]), "Allowed: chat, teleport");
  assert.equal(allowedText([]), "Allowed: nothing");
  assert.equal(allowedText([HOSTILE]), `Allowed: ${HOSTILE}`, "a name the console does not know is text");
});

test("the customer: user@host and the OS, leaving out what the computer did not say", () => {
  setLanguage("en");
  const [full, noOs, noUser] = parseHistory({ sessions: [record(), record({ os: "" }), record({ user: "" })] });
  assert.equal(customerText(full), "bob@pc1, Linux");
  assert.equal(customerText(noOs), "bob@pc1");
  assert.equal(customerText(noUser), "pc1, Linux");
});

test("the server's answer is read leniently, row by row, but must be a list of sessions", () => {
  assert.throws(() => parseHistory(null), /no list of sessions/);
  assert.throws(() => parseHistory({ sessions: "all" }), /no list of sessions/);
  assert.deepEqual(parseHistory({ sessions: [] }), []);
  const [odd] = parseHistory({ sessions: [null, 7, {
    session_id: 12, host: ["x"], started_at: "yesterday", ended_at: Infinity, end_reason: "", duration: "long",
    capabilities: ["view", 3, null, "chat"],
  }] });
  assert.deepEqual(odd, {
    session_id: "", mode: "", host: "", user: "", os: "", started_at: 0, ended_at: null, end_reason: null,
    duration: null, capabilities: ["view", "chat"],
  });
  const [row] = historyRows([odd], UTC);
  assert.equal(row.when, "–", "no time, no date made up");
  assert.equal(row.whenIso, "");
  assert.equal(HISTORY_LIMIT, 50);
});

/** A document that builds plain objects, and refuses any markup. */
function textOnlyDocument() {
  /** @param {string} tag */
  const createElement = (tag) => {
    const el = {
      tagName: tag.toUpperCase(), className: "", textContent: "", dataset: {}, children: [], dateTime: "",
      append: (...nodes) => el.children.push(...nodes),
    };
    for (const name of ["innerHTML", "outerHTML"]) {
      Object.defineProperty(el, name, { set: () => assert.fail(`${name} set on a history row`) });
    }
    el.insertAdjacentHTML = () => assert.fail("insertAdjacentHTML on a history row");
    return el;
  };
  return { createElement };
}

/** Every piece of text in a built element, in order. */
const texts = (el) => [el.textContent, ...el.children.flatMap(texts)].filter(Boolean);

test("a hostile host, user, OS or capability is shown as text, never as markup", () => {
  setLanguage("en");
  const [row] = rows([record({ host: HOSTILE, user: "<b>eve</b>", os: "</li><script>x()</script>", capabilities: [HOSTILE] })]);
  assert.equal(row.customer, `<b>eve</b>@${HOSTILE}, </li><script>x()</script>`);
  const item = historyItem(/** @type {any} */ (textOnlyDocument()), row);
  assert.equal(item.tagName, "LI");
  assert.equal(item.className, "history-row");
  assert.equal(item.dataset.sessionId, "s_0001");
  assert.deepEqual(texts(item), [
    "Dec 2, 2024, 14:33", "0:04:59", `<b>eve</b>@${HOSTILE}, </li><script>x()</script>`,
    `Allowed: ${HOSTILE}`, "Ended: the operator ended the session",
  ]);
  const when = item.children[0].children[0];
  assert.equal(when.tagName, "TIME");
  assert.equal(when.dateTime, "2024-12-02T14:33:20.500Z");
});

test("a running session's row has no end line, and says it runs", () => {
  setLanguage("en");
  const [row] = rows([record({ ended_at: null, end_reason: null, duration: null })]);
  const item = historyItem(/** @type {any} */ (textOnlyDocument()), row);
  assert.equal(item.dataset.running, "true");
  assert.equal(item.children.length, 3);
  assert.equal(item.children[0].children[1].textContent, "running");
});

test("no console module writes markup: words from the server and the customer go in as text", () => {
  const dir = new URL("../../webui/", import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".js"))) {
    const source = readFileSync(new URL(file, dir), "utf8");
    assert.doesNotMatch(source, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/, file);
  }
});

test("the page: a bounded, folding list of recent sessions in the session column", () => {
  const html = readFileSync(new URL("../../webui/index.html", import.meta.url), "utf8");
  const css = readFileSync(new URL("../../webui/style.css", import.meta.url), "utf8");
  const scroll = html.indexOf('<div class="session-scroll">');
  const panel = html.indexOf('id="history-panel"');
  assert.ok(scroll > 0 && panel > scroll && panel < html.indexOf('id="end-button"'), "inside the scrolling column");
  assert.match(html, /<details id="history-details"[^>]*>/);
  for (const id of ["history-list", "history-empty", "history-error", "history-retry", "history-loading"]) {
    assert.ok(html.includes(`id="${id}"`), id);
  }
  const list = css.slice(css.indexOf("\n.history-list {"), css.indexOf("}", css.indexOf("\n.history-list {")));
  assert.match(list, /max-height: \d/);
  assert.match(list, /overflow-y: auto/);
});
