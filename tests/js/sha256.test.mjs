// webui/sha256.js against the FIPS 180-2 vectors and padding edges.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { sha256, sha256Hex } from "../../webui/sha256.js";

const node = (/** @type {string | Uint8Array} */ data) => createHash("sha256").update(data).digest("hex");

test("empty string", () => {
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

test("abc", () => {
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("two-block message", () => {
  assert.equal(
    sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

test("one million 'a' (1 MB)", () => {
  assert.equal(
    sha256Hex("a".repeat(1_000_000)),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

test("every length around the padding boundaries matches node:crypto", () => {
  for (let n = 0; n <= 200; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    assert.equal(sha256Hex(bytes), node(bytes), `length ${n}`);
  }
});

test("strings are hashed as UTF-8", () => {
  const text = "supportlink-verify-v1\nsha-256 é😀";
  assert.equal(sha256Hex(text), node(Buffer.from(text, "utf8")));
  assert.equal(sha256(text).length, 32);
});
