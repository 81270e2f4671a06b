// Clipboard text going to the customer: the protocol's limits, said in words first.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clipboardProblem, clipboardStateText, counterText } from "../../webui/clipboard.js";
import { codePointLength as charCount } from "../../webui/protocol.js";
import { MAX_CLIPBOARD_CHARS, parse, serialize } from "../../webui/protocol.js";

test("text within the limit goes, and the peer can parse it", () => {
  for (const text of ["hello", "x".repeat(MAX_CLIPBOARD_CHARS), "😀".repeat(MAX_CLIPBOARD_CHARS), "line 1\nline 2\ttab"]) {
    assert.equal(clipboardProblem(text), null, text.slice(0, 20));
    assert.equal(parse(serialize({ type: "clipboard", text }, "control"), "control").text, text);
  }
});

test("the limit counts characters (code points), as the protocol does", () => {
  assert.equal(charCount("😀é"), 2);
  assert.equal(counterText("😀😀"), `2 / ${MAX_CLIPBOARD_CHARS}`);
  assert.match(clipboardProblem("x".repeat(MAX_CLIPBOARD_CHARS + 1)), /^Too long: 4001 characters; the clipboard carries at most 4000\.$/);
  assert.match(clipboardProblem("😀".repeat(MAX_CLIPBOARD_CHARS + 1)), /Too long: 4001/);
});

test("empty text, NUL and lone surrogates are refused with words", () => {
  assert.match(clipboardProblem(""), /empty/);
  assert.match(clipboardProblem("a\0b"), /^Cannot be sent: .*NUL/);
  assert.match(clipboardProblem("a\ud800b"), /^Cannot be sent: .*surrogate/);
});

test("a message too large for the control channel is refused before sending", () => {
  // 4000 control characters are 4000 characters but 6 bytes each once escaped in JSON
  assert.match(clipboardProblem("\u0001".repeat(MAX_CLIPBOARD_CHARS)), /^Too large: \d+ bytes/);
});

test("the panel's state line", () => {
  assert.equal(clipboardStateText("off", true), "Off until the customer allows it");
  assert.equal(clipboardStateText("granted", true), "Allowed: text goes both ways");
  assert.equal(clipboardStateText("denied", true), "Clipboard denied by the customer");
  assert.equal(clipboardStateText("granted", false), "Waiting for the customer…");
});
