import { test } from "node:test";
import assert from "node:assert/strict";

import { clockTime, formatCode, formatCountdown, secondsLeft } from "../../webui/format.js";

test("the code is grouped four and four", () => {
  assert.equal(formatCode("04718263"), "0471 8263");
  assert.equal(formatCode("123"), "123");
});

test("countdown is mm:ss, rounded up, never negative", () => {
  assert.equal(formatCountdown(900), "15:00");
  assert.equal(formatCountdown(899.2), "15:00");
  assert.equal(formatCountdown(61), "01:01");
  assert.equal(formatCountdown(9.5), "00:10");
  assert.equal(formatCountdown(0), "00:00");
  assert.equal(formatCountdown(-5), "00:00");
  assert.equal(formatCountdown(NaN), "00:00");
  assert.equal(formatCountdown(3600 * 2), "120:00");
});

test("seconds left from expires_at (Unix seconds) and now (ms)", () => {
  assert.equal(secondsLeft(1000, 400_000), 600);
  assert.equal(secondsLeft(1000, 2_000_000), 0);
});

test("log clock time", () => {
  assert.equal(clockTime(new Date(2024, 0, 1, 9, 5, 7)), "09:05:07");
});
