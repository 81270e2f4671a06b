// Golden wire examples (tests/data/messages.json) checked against webui/protocol.js, the
// console's mirror of wire/protocol.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  BYE_REASONS,
  CAPABILITIES,
  CHANNEL_BY_LABEL,
  CHAT,
  CONTROL,
  ERROR_CODES,
  ANNOTATE,
  ANNOTATION_TOOLS,
  FILES,
  FILE_REQUEST_RESULTS,
  INPUT,
  MAX_JSON_DEPTH,
  ProtocolError,
  SIGNALING,
  parse,
  sdpFingerprint,
  serialize,
  utf8Length,
  validate,
  verificationCode,
} from "../../webui/protocol.js";

const golden = JSON.parse(
  readFileSync(new URL("../data/messages.json", import.meta.url), "utf8"),
);

/** @param {unknown} code */
const protocolError = (code) => (/** @type {any} */ err) => {
  assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${err}`);
  assert.equal(err.code, code, err.message);
  return true;
};

test("golden file has examples of every kind", () => {
  assert.ok(golden.valid.length > 0);
  assert.ok(golden.invalid.length > 0);
  assert.ok(golden.verification.length > 0);
  assert.ok(golden.fingerprints.length > 0);
});

for (const [i, { channel, message }] of golden.valid.entries()) {
  test(`valid #${i}: ${channel} ${message.type} parses and round-trips`, () => {
    const text = JSON.stringify(message);
    const parsed = parse(text, channel);
    assert.deepEqual(parsed, message);
    assert.deepEqual(parse(serialize(parsed, channel), channel), message);
    assert.deepEqual(JSON.parse(serialize(message)), message);
  });
}

for (const [i, { channel, why, text, code }] of golden.invalid.entries()) {
  test(`invalid #${i}: ${channel} ${why} -> ${code}`, () => {
    assert.throws(() => parse(text, channel), protocolError(code));
  });
}

for (const [i, { a, b, code }] of golden.verification.entries()) {
  test(`verification #${i}`, () => {
    assert.equal(verificationCode(a, b), code);
    assert.equal(verificationCode(b, a), code);
  });
}

for (const [i, { sdp, fingerprint }] of golden.fingerprints.entries()) {
  test(`fingerprint #${i}`, () => {
    if (fingerprint === null) assert.throws(() => sdpFingerprint(sdp));
    else assert.equal(sdpFingerprint(sdp), fingerprint);
  });
}

test("every error code an invalid example uses is a known one", () => {
  for (const { code } of golden.invalid) assert.ok(code in ERROR_CODES, code);
});

test("constants mirror protocol.py", () => {
  assert.deepEqual([...CAPABILITIES], ["view", "control", "clipboard", "files", "voice", "annotate", "camera", "show_screen", "show_camera", "chat"]);
  assert.equal(Object.keys(ERROR_CODES).length, 19);
  assert.equal(BYE_REASONS.peer_ended, "the customer ended the session");
  assert.equal(SIGNALING.maxBytes, 65536);
  assert.equal(CONTROL.maxBytes, 16384);
  assert.equal(INPUT.maxBytes, 512);
  assert.equal(Object.keys(SIGNALING.messages).length, 19);
  assert.equal(Object.keys(CONTROL.messages).length, 14);
  assert.equal(Object.keys(INPUT.messages).length, 5);
  assert.equal(CHAT.maxBytes, 65536);
  assert.deepEqual(Object.keys(CHAT.messages), ["chat", "error"]);
  assert.equal(FILES.maxBytes, 65536);
  assert.equal(Object.keys(FILES.messages).length, 10);
  assert.equal(ANNOTATE.maxBytes, 16384);
  assert.deepEqual(Object.keys(ANNOTATE.messages), ["stroke", "stroke_undo", "strokes_clear", "laser"]);
  assert.deepEqual([...ANNOTATION_TOOLS], ["pen", "highlighter", "rect", "ellipse", "arrow"]);
  assert.deepEqual([...FILE_REQUEST_RESULTS], ["sending", "declined", "not_found", "refused", "not_allowed", "busy"]);
});

test("a file request goes from the operator only, its result from the peer only", () => {
  const files = /** @type {any} */ (CHANNEL_BY_LABEL.get("files"));
  assert.ok(files.from_operator.includes("file_request") && !files.from_peer.includes("file_request"));
  assert.ok(files.from_peer.includes("file_request_result") && !files.from_operator.includes("file_request_result"));
  assert.equal(files.from_operator.length, 9);
  assert.equal(files.from_peer.length, 9);
});

test("a requested path is the customer's home or absolute, and reads as it is", () => {
  const ask = (/** @type {string} */ path) => JSON.stringify({ type: "file_request", request: 1, path });
  for (const path of ["~", "~/a b/ü.txt", "~\\Desktop", "/", "/var/log/syslog", "C:\\Users\\田中", "d:/x"]) {
    assert.equal(parse(ask(path), "files").path, path);
  }
  for (const path of ["", "~root", "relative/x", ":x", "/a\tb", "/a\u0085b", "/a\u2028b", "/\u202ex", "/\u2066x"]) {
    assert.throws(() => parse(ask(path), "files"), protocolError("bad_message"), path);
  }
});

// The cases below are where JSON.parse and JavaScript strings differ from Python; each
// expectation was checked against wire/protocol.py.
const HELLO = '{"type":"hello","role":"operator","protocol":';

test("an integer field refuses 1.0 and 1e0 like Python's int check", () => {
  assert.equal(parse(HELLO + "1}").protocol, 1);
  assert.throws(() => parse(HELLO + "1.0}"), protocolError("bad_message"));
  assert.throws(() => parse(HELLO + "1e0}"), protocolError("bad_message"));
});

test("a number field takes integers and floats", () => {
  const base = '{"type":"error","code":"rate_limited","message":"m","retry_after":';
  assert.equal(parse(base + "3}").retry_after, 3);
  assert.equal(parse(base + "2.5}").retry_after, 2.5);
  assert.throws(() => parse(base + "1e400}"), protocolError("bad_message"));
});

test("integers past Python's 4300-digit limit are bad JSON, huge ones in range fail", () => {
  assert.throws(() => parse(HELLO + "1".repeat(4301) + "}"), protocolError("bad_json"));
  assert.throws(() => parse(HELLO + "1".repeat(4300) + "}"), protocolError("bad_message"));
});

test("nesting deeper than MAX_JSON_DEPTH is bad JSON, bad_message up to it", () => {
  // the message object itself is one level
  const nested = (/** @type {number} */ d) => '{"type":"bye","reason":' + "[".repeat(d) + "]".repeat(d) + "}";
  assert.throws(() => parse(nested(MAX_JSON_DEPTH - 1)), protocolError("bad_message"));
  assert.throws(() => parse(nested(MAX_JSON_DEPTH)), protocolError("bad_json"));
  assert.throws(() => parse(nested(5000)), protocolError("bad_json"));
  assert.throws(() => parse('{"type":"bye","reason":"' + "[".repeat(100) + '"}'), protocolError("bad_message"));
});

test("string lengths count code points, not UTF-16 units", () => {
  const base = (/** @type {string} */ host) =>
    JSON.stringify({ type: "join", code: "12345678", host, user: "u", os: "o" });
  assert.equal(parse(base("😀".repeat(128))).host.length, 256);
  assert.throws(() => parse(base("😀".repeat(129))), protocolError("bad_message"));
  assert.equal(parse(base("\\ud83d".repeat(1))).host, "\\ud83d");
});

test("frame size is UTF-8 bytes, lone surrogates counting three", () => {
  assert.equal(utf8Length("a\u00e9\u20ac😀\ud800"), 1 + 2 + 3 + 4 + 3);
  const pad = "é".repeat(8200); // 16400 bytes, 8200 characters
  assert.throws(
    () => parse(JSON.stringify({ type: "clipboard", text: pad }), "control"),
    protocolError("too_large"),
  );
});

test("constants NaN / Infinity, BOM, trailing commas and single quotes are bad JSON", () => {
  for (const text of [
    '{"type":"bye","reason":NaN}',
    "\ufeff" + '{"type":"bye","reason":"x"}',
    '{"type":"bye","reason":"x",}',
    "{'type':'bye'}",
    '{"type":"bye","reason":"a\tb"}',
    '{"type":"bye","reason":"\\x41"}',
    '{"type":"bye","reason":01}',
  ]) {
    assert.throws(() => parse(text), protocolError("bad_json"), text);
  }
});

test("whitespace around the object is fine, only JSON's four characters", () => {
  assert.equal(parse(' \t\r\n{"type":"bye","reason":"peer_ended"}\n').reason, "peer_ended");
  assert.throws(() => parse('\u00a0{"type":"bye","reason":"x"}'), protocolError("bad_json"));
});

test("null for an optional field is the same as absent", () => {
  const msg = parse(HELLO + '1,"agent":null}');
  assert.deepEqual(msg, { type: "hello", role: "operator", protocol: 1 });
});

test("TURN urls use Python's whitespace: \\x1c is space there, \\ufeff is not", () => {
  const paired = (/** @type {string} */ url) =>
    JSON.stringify({
      type: "paired", session_id: "s_12345678", mode: "screen", operator: "o", host: "h",
      user: "u", os: "o", ice_servers: [{ urls: [url] }],
    });
  assert.throws(() => parse(paired("turn:a\u001cb")), protocolError("bad_message"));
  assert.throws(() => parse(paired("turn:a b")), protocolError("bad_message"));
  assert.deepEqual(parse(paired("turn:a\ufeffb")).ice_servers[0].urls, ["turn:a\ufeffb"]);
});

test("a nested record refuses a 'type' key, as Python's _build does", () => {
  const text = JSON.stringify({
    type: "paired", session_id: "s_12345678", mode: "call", operator: "o", host: "h",
    user: "u", os: "o", ice_servers: [{ urls: ["turn:x:443"], type: "z" }],
  });
  assert.throws(() => parse(text), protocolError("bad_message"));
});

test("the channel decides the table", () => {
  const consent = '{"type":"consent_request","capability":"view"}';
  assert.equal(parse(consent, "control").capability, "view");
  assert.throws(() => parse(consent), protocolError("unknown_type"));
  assert.equal(parse('{"type":"release_all"}', "input").type, "release_all");
  assert.throws(() => parse("{}", /** @type {any} */ ("video")), TypeError);
});

test("bytes frames are read as UTF-8", () => {
  const bytes = new TextEncoder().encode('{"type":"consent_state","granted":["view"]}');
  assert.deepEqual(parse(bytes, "control").granted, ["view"]);
  assert.throws(() => parse(new Uint8Array([0x7b, 0xff, 0x7d]), "control"), protocolError("bad_json"));
});

test("serialize checks what it sends and leaves out empty optional fields", () => {
  assert.equal(
    serialize({ type: "candidate", candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host", sdp_mid: "0", sdp_mline_index: 0 }),
    '{"type":"candidate","candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdp_mid":"0","sdp_mline_index":0}',
  );
  assert.equal(serialize({ type: "candidate", candidate: "", sdp_mid: null, sdp_mline_index: undefined }),
    '{"type":"candidate","candidate":""}');
  assert.equal(serialize({ type: "hello", role: "operator", protocol: 1, agent: "supportlink-console/0.1" }),
    '{"type":"hello","role":"operator","protocol":1,"agent":"supportlink-console/0.1"}');
  assert.throws(() => serialize({ type: "hello", role: "operator", protocol: 1.5 }), protocolError("bad_message"));
  assert.throws(() => serialize({ type: "accept" }), protocolError("bad_message"));
  assert.throws(() => serialize({ type: "accept", session_id: "s_12345678", extra: 1 }), protocolError("bad_message"));
  assert.throws(() => serialize({ type: "nope" }), protocolError("unknown_type"));
  assert.throws(() => serialize({ type: "consent_request", capability: "view" }, "signaling"), protocolError("unknown_type"));
  assert.equal(serialize({ type: "consent_request", capability: "view" }), '{"type":"consent_request","capability":"view"}');
  assert.deepEqual(validate({ type: "consent_state", granted: ["view"] }), { type: "consent_state", granted: ["view"] });
  assert.throws(() => validate({ type: "consent_state", granted: ["view", "view"] }), protocolError("bad_message"));
});

test("sdpFingerprint follows Python's MULTILINE ^ and $ and whitespace", () => {
  const fp = "AB:CD:EF";
  assert.equal(sdpFingerprint(`v=0\r\na=fingerprint:SHA-256 ab:cd:ef\r\n`), `sha-256 ${fp}`);
  assert.equal(sdpFingerprint(`v=0\na=fingerprint:sha-256 ab:cd:ef`), `sha-256 ${fp}`);
  // a lone \r is not a line end for Python's $, but it is whitespace before the end
  assert.equal(sdpFingerprint(`a=fingerprint:sha-256 ab:cd:ef \r\n`), `sha-256 ${fp}`);
  assert.throws(() => sdpFingerprint(`a=fingerprint:sha-256 ab:cd:ef\rx=1\n`));
  assert.throws(() => sdpFingerprint("v=0\r\n x a=fingerprint:sha-256 ab\r\n"));
  assert.throws(() => sdpFingerprint("v=0\r\n"));
});

test("verificationCode strips Python whitespace and is six digits", () => {
  const a = "sha-256 AA:BB";
  const b = "sha-256 CC:DD";
  const code = verificationCode(a, b);
  assert.match(code, /^\d{3} \d{3}$/);
  assert.equal(verificationCode(` ${a}\x1c`, `\n${b}\t`), code);
});
