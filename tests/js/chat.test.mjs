// Chat without the DOM: counting, limits, the bounded transcript, the download, burst rendering.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  MAX_RENDERED,
  RenderQueue,
  Transcript,
  chatProblem,
  counterText,
  graphemeCount,
  isolated,
  shortTime,
  transcriptFileName,
  transcriptText,
} from "../../webui/chat.js";
import { MAX_CHAT_CHARS, parse, serialize } from "../../webui/protocol.js";

test("characters are counted as a person counts them", () => {
  assert.equal(graphemeCount(""), 0);
  assert.equal(graphemeCount("abc"), 3);
  assert.equal(graphemeCount("e\u0301"), 1, "e + combining acute");
  assert.equal(graphemeCount("👍🏽"), 1, "emoji with a skin tone");
  assert.equal(graphemeCount("👨‍👩‍👧‍👦"), 1, "a family (ZWJ sequence)");
  assert.equal(graphemeCount("🇫🇷"), 1, "a flag");
  assert.equal(graphemeCount("\r\n"), 1);
  assert.equal(counterText("👍🏽 ok"), "4 / 4,000");
});

test("the limit is 4,000 characters, however many code points they take", () => {
  assert.equal(chatProblem("a".repeat(MAX_CHAT_CHARS)), null);
  assert.match(/** @type {string} */ (chatProblem("a".repeat(MAX_CHAT_CHARS + 1))), /^Too long: 4,001 characters; a message holds at most 4,000/);
  const thumbs = "👍🏽".repeat(MAX_CHAT_CHARS); // 4000 characters, 8000 code points
  assert.equal(chatProblem(thumbs), null);
  assert.doesNotThrow(() => parse(serialize({ type: "chat", text: thumbs }, "chat"), "chat"));
  // one base letter carrying many combining marks is one character, but too many code points
  const zalgo = "a" + "\u0301".repeat(16_000);
  assert.equal(graphemeCount(zalgo), 1);
  assert.match(/** @type {string} */ (chatProblem(zalgo)), /^Too long: .*code points/);
});

test("empty or blank text is not sent; NUL is refused in words", () => {
  assert.match(/** @type {string} */ (chatProblem("")), /empty/);
  assert.match(/** @type {string} */ (chatProblem(" \n\t")), /empty/);
  assert.match(/** @type {string} */ (chatProblem("a\0b")), /^Cannot be sent: NUL/);
  assert.equal(chatProblem("<script>alert(1)</script>"), null);
});

test("control characters that JSON escapes six bytes wide still fit the frame", () => {
  // 4000 characters of \u0001 are 24000 bytes escaped: under the 64 KiB frame
  assert.equal(chatProblem("\u0001".repeat(MAX_CHAT_CHARS)), null);
});

test("times are HH:MM local", () => {
  assert.equal(shortTime(new Date(2024, 0, 2, 7, 5, 59)), "07:05");
  assert.equal(shortTime(new Date(2024, 0, 2, 23, 59)), "23:59");
});

test("the transcript keeps the last messages and says how many were trimmed", () => {
  const t = new Transcript(100);
  const at = new Date(2024, 4, 6, 9, 30);
  for (let i = 0; i < 10_000; i++) t.add({ who: "customer", name: "bob", text: `m${i}`, at });
  assert.ok(t.entries.length <= 110, "memory stays bounded between trims");
  const kept = t.kept();
  assert.equal(kept.length, 100);
  assert.equal(kept[0].text, "m9900");
  assert.equal(t.trimmed, 9900);
  const text = transcriptText({ operator: "alice", user: "bob", host: "pc1", startedAt: at }, t);
  assert.match(text, /9900 earlier messages were trimmed/);
  assert.match(text, /\n09:30 bob: m9999\n$/);
});

test("the download: date in the header, customer's host and user, one line per message", () => {
  const t = new Transcript();
  const startedAt = new Date(2024, 4, 6, 9, 30);
  t.add({ who: "operator", name: "You", text: "Hello", at: new Date(2024, 4, 6, 9, 31) });
  t.add({ who: "customer", name: "bob", text: "line one\nline two", at: new Date(2024, 4, 6, 9, 32) });
  t.add({ who: "note", name: "", text: "Not delivered: too long", at: new Date(2024, 4, 6, 9, 33) });
  const facts = { operator: "alice", user: "bob", host: "pc1", startedAt, endedAt: new Date(2024, 4, 6, 10, 0) };
  const text = transcriptText(facts, t);
  assert.equal(text, [
    "SupportLink chat transcript, 2024-05-06",
    "Customer: bob on pc1",
    "Operator: alice",
    "Started: 2024-05-06 09:30, ended: 2024-05-06 10:00",
    "",
    "09:31 You: Hello",
    "09:32 bob: line one",
    "      line two",
    "09:33 -- Not delivered: too long",
    "",
  ].join("\n"));
  assert.equal(transcriptFileName({ ...facts, user: "b/ob ../x" }), "supportlink-chat-b_ob_x-2024-05-06-0930.txt");
});

test("a burst of 10,000 messages is drawn as at most MAX_RENDERED elements", () => {
  const q = new RenderQueue();
  const at = new Date();
  for (let i = 0; i < 10_000; i++) q.push({ who: "customer", name: "bob", text: `m${i}`, at });
  assert.ok(q.size <= MAX_RENDERED * 2, "the queue itself stays bounded");
  const plan = q.take(120);
  assert.equal(plan.clear, true);
  assert.equal(plan.add.length, MAX_RENDERED);
  assert.equal(plan.add.at(-1)?.text, "m9999");
  assert.equal(q.size, 0);
});

test("a few messages are added, and the oldest leave when the list is full", () => {
  const q = new RenderQueue(10);
  const at = new Date();
  for (let i = 0; i < 3; i++) q.push({ who: "customer", name: "bob", text: `m${i}`, at });
  const plan = q.take(9);
  assert.equal(plan.clear, false);
  assert.equal(plan.remove, 2);
  assert.deepEqual(plan.add.map((e) => e.text), ["m0", "m1", "m2"]);
  assert.deepEqual(q.take(10), { clear: false, remove: 0, add: [] });
});

test("in the .txt, a bidi override cannot flip the rest of the line", () => {
  assert.equal(isolated("plain text"), "plain text");
  assert.equal(isolated("\u202eabc"), "\u2068\u202eabc\u2069");
  assert.equal(isolated("a\u202e\nb"), "\u2068a\u202e\u2069\n\u2068b\u2069");
  const t = new Transcript();
  const at = new Date(2024, 4, 6, 9, 30);
  t.add({ who: "customer", name: "bob\u202e", text: "x\u202ey", at });
  const last = transcriptText({ operator: "a", user: "bob", host: "h", startedAt: at }, t).trimEnd().split("\n").at(-1);
  assert.equal(last, "09:30 \u2068bob\u202e\u2069: \u2068x\u202ey\u2069");
});

test("the console counts characters exactly as the peer does (shared vectors)", async () => {
  const { readFile } = await import("node:fs/promises");
  const data = JSON.parse(await readFile(new URL("../data/user_lengths.json", import.meta.url), "utf8"));
  for (const [text, length] of data.vectors) assert.equal(graphemeCount(text), length, JSON.stringify(text));
});

test("the transcript keeps a bounded amount of text, however long each message is", () => {
  const t = new Transcript(5000, 100_000);
  const long = "x".repeat(16_000);
  for (let i = 0; i < 100; i++) t.add({ who: "customer", name: "c", text: long, at: new Date(0) });
  const kept = t.kept();
  assert.ok(t.size <= 100_000, `${t.size}`);
  assert.equal(kept.reduce((n, e) => n + e.text.length, 0), t.size);
  assert.equal(kept.length + t.trimmed, 100);
  assert.ok(kept.length >= 1);
});
