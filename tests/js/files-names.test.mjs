// Names from the customer's computer: the peer's own cases (tests/test_files_names.py) with the
// same tokens, collisions in an offer, free and partial names, and a seeded random loop checking
// that nothing unsafe ever comes out.
import { test } from "node:test";
import assert from "node:assert/strict";

import { FilesError, UnsafeName } from "../../webui/files/errors.js";
import {
  MAX_COMPONENT_BYTES, MAX_DEPTH, MAX_PATH_BYTES, NAME_TOKENS, PARTIAL_SUFFIX, checkName, checkPath, duplicates,
  freeName, freeNameAsync, isDeviceName, isPartial, nameProblem, partialName, pathParts, pathProblem, uniqueAmong,
  utf8Length,
} from "../../webui/files/names.js";

/** @param {() => unknown} fn @param {string} token */
function throwsToken(fn, token) {
  assert.throws(fn, (err) => err instanceof UnsafeName && err instanceof FilesError && err.token === token);
}

// [path, token]: the peer's cases, then a few more
const REFUSED = [
  ["", "empty"], ["a//b", "empty"], ["a/", "empty"],
  ["/etc/passwd", "absolute"], ["/", "absolute"], ["//server/share", "absolute"],
  [".", "dot"], ["a/./b", "dot"],
  ["..", "dot_dot"], ["../x", "dot_dot"], ["a/../../x", "dot_dot"],
  ["C:", "drive"], ["C:/Windows", "drive"], ["a/c:x", "drive"], ["file.txt:stream", "drive"],
  ["a\\b", "backslash"], ["..\\..\\x", "backslash"], ["\\\\server\\share", "backslash"], ["C:\\x", "drive"],
  ["a\0b", "nul"],
  ["a\nb", "control"], ["tab\there", "control"], ["del\x7f", "control"], ["c1\x85", "control"], ["c1\x9b", "control"],
  ["line\u2028sep", "control"], ["para\u2029sep", "control"], ["invoice\u202efdp.exe", "control"], ["x\u202a", "control"],
  ["x\u2066y", "control"], ["x\u2069y", "control"], ["x\u200fy", "control"], ["x\u061cy", "control"], ["\u0001", "control"],
  ["\ud800", "not_unicode"], ["a/b\udfff", "not_unicode"], ["a\udc00b", "not_unicode"],
  ["name.", "trailing"], ["name ", "trailing"], ["...", "trailing"], ["a/dir./b", "trailing"], [" ", "trailing"],
  ["CON", "reserved"], ["con", "reserved"], ["Con.txt", "reserved"], ["nul.tar.gz", "reserved"], ["a/PRN", "reserved"],
  ["AUX.h", "reserved"], ["COM0", "reserved"], ["com9.log", "reserved"], ["LPT1", "reserved"], ["lpt0.x", "reserved"],
  ["CONIN$", "reserved"], ["conout$.txt", "reserved"], ["CON .txt", "reserved"], ["COM\u00b9", "reserved"],
  ["LPT\u00b3.txt", "reserved"], ["\uff23\uff2f\uff2e", "reserved"], ["report.pdf" + PARTIAL_SUFFIX, "reserved"],
  ["x.SupportLink-Partial", "reserved"], ["docs/CON/x.txt", "reserved"],
  ["\uff0e\uff0e", "lookalike"], ["\uff0e\uff0e/x", "lookalike"], ["\u2025", "lookalike"], ["\uff0e", "lookalike"],
  ["a\uff0fb", "lookalike"], ["a\uff3cb", "lookalike"], ["a\ufe68b", "lookalike"], ["c\uff1ax", "lookalike"],
  ["a\ufe55b", "lookalike"], ["end\uff0e", "lookalike"], ["end\u00a0", "lookalike"], ["\ufe52", "lookalike"],
  ["x".repeat(256), "too_long"], ["\u00e9".repeat(128), "too_long"], ["e\u0301".repeat(100), "too_long"],
  ["😀".repeat(64), "too_long"], ["a/" + "x".repeat(256), "too_long"],
  [Array(MAX_DEPTH + 1).fill("a").join("/"), "too_deep"],
  [Array(21).fill("x".repeat(200)).join("/"), "too_long"], // 4220 bytes
];

test("hostile paths are refused, each with the peer's token", () => {
  for (const [path, token] of REFUSED) {
    assert.ok(NAME_TOKENS.includes(token), token);
    assert.equal(pathProblem(path), token, JSON.stringify(path).slice(0, 60));
    throwsToken(() => pathParts(path), token);
    throwsToken(() => checkPath(path), token);
  }
  assert.throws(() => pathParts(/** @type {any} */ (42)), TypeError);
  assert.throws(() => checkName(/** @type {any} */ (null)), TypeError);
});

test("ordinary paths are taken as they are, NFC-normalised", () => {
  /** @type {Array<[string, string[] | null]>} */
  const cases = [
    ["report.pdf", ["report.pdf"]], ["a/b/c.txt", ["a", "b", "c.txt"]], [".bashrc", [".bashrc"]],
    ["..hidden", ["..hidden"]], ["a..b", ["a..b"]], ["my file (1).txt", ["my file (1).txt"]],
    [" leading space", [" leading space"]], ["CONSOLE.txt", ["CONSOLE.txt"]], ["COM10", ["COM10"]], ["LPT", ["LPT"]],
    ["con-game", ["con-game"]], ["x.con", ["x.con"]], ["what?.txt", ["what?.txt"]], ["~", ["~"]], ["-rf", ["-rf"]],
    ["Grüße/日本語/файл.txt", ["Grüße", "日本語", "файл.txt"]],
    ["e\u0301t\u0301e\u0301", ["\u00e9t\u0301\u00e9"]],
    ["family \u{1f468}\u200d\u{1f469}\u200d\u{1f467}.jpg", null], // ZWJ is not a control
    ["x".repeat(MAX_COMPONENT_BYTES), null], ["é".repeat(127) + "x", null], ["😀".repeat(63) + "abc", null],
    [Array(MAX_DEPTH).fill("a").join("/"), null],
  ];
  for (const [path, parts] of cases) {
    const expected = parts ?? path.split("/").map((c) => c.normalize("NFC"));
    assert.deepEqual(pathParts(path), expected, path);
    assert.equal(checkPath(path), expected.join("/"));
  }
  assert.equal(checkName("e\u0301"), "\u00e9");
  throwsToken(() => checkName("a/b"), "slash");
  assert.equal(nameProblem("a/b"), "slash");
  assert.equal(nameProblem("ok.txt"), null);
});

test("path lengths: 4096 bytes as sent and once NFC", () => {
  const longest = Array(16).fill("x".repeat(255)).join("/");
  assert.equal(utf8Length(longest), 4095);
  assert.equal(checkPath(longest), longest);
  assert.equal(pathProblem(longest.slice(0, -1) + "/x"), null, "4096 bytes");
  assert.equal(pathProblem(longest + "/x"), "too_long", "4097 bytes");
  // as sent counts too: decomposed accents take 3 bytes each before NFC makes them 2
  const decomposed = Array(17).fill("e\u0301".repeat(85)).join("/");
  assert.equal(utf8Length(decomposed), 17 * 255 + 16);
  assert.ok(utf8Length(decomposed.normalize("NFC")) < MAX_PATH_BYTES);
  assert.equal(pathProblem(decomposed), "too_long");
});

test("Windows device names: before the first dot, trailing spaces dropped, any case, NFKC too", () => {
  for (const name of ["CON", "con", "cOn.txt", "CON .txt", "nul.tar.gz", "COM1", "Com9.x", "LPT0", "CONIN$", "conout$.log",
    "AUX", "COM\u00b2", "\uff23\uff2f\uff2e"]) {
    assert.equal(isDeviceName(name), true, name);
  }
  for (const name of ["CONX", "xCON", "COM10", "COM", "LPT", " CON", "CONIN", "CON$", "NULL", "x.con", "PRN_", "COMA"]) {
    assert.equal(isDeviceName(name), false, name);
  }
});

test("an offer's names may not collide (the peer's cases)", () => {
  assert.deepEqual(uniqueAmong(["a/B.txt", "A/c.txt", "b"]), [["a", "B.txt"], ["A", "c.txt"], ["b"]]);
  /** @type {Array<[string[], string]>} */
  const cases = [
    [["Report.pdf", "report.PDF"], "duplicate"],
    [["caf\u00e9", "cafe\u0301"], "duplicate"],
    [["\uff52\uff45\uff50\uff4f\uff52\uff54", "report"], "duplicate"],
    [["Stra\u00dfe", "STRASSE"], "duplicate"],
    [["a/x", "A/X"], "duplicate"],
    [["a", "a/b"], "not_a_folder"],
    [["a/b", "A"], "not_a_folder"],
    [["ok", "../x"], "dot_dot"],
    [["\u03c3\u03bf\u03c6\u03b9\u03b1\u03c3", "\u03a3\u039f\u03a6\u0399\u0391\u03a3"], "duplicate"],
  ];
  for (const [offer, token] of cases) throwsToken(() => uniqueAmong(offer), token);
  assert.deepEqual(uniqueAmong(["a/b"], ["a", "c"]), [["a", "b"]]);
  throwsToken(() => uniqueAmong(["a"], ["a/empty"]), "not_a_folder");
  throwsToken(() => uniqueAmong(["a"], ["A"]), "duplicate");
  // two long names cut to the same partial name collide
  const long = "x".repeat(250);
  const cut = partialName(long).slice(0, -PARTIAL_SUFFIX.length);
  assert.notEqual(cut, long);
  throwsToken(() => uniqueAmong([long, cut]), "duplicate");
});

test("a hundred thousand names are checked quickly", () => {
  const offer = Array.from({ length: 100_000 }, (_, i) => `dir${Math.floor(i / 1000)}/file${i}.txt`);
  const t0 = performance.now();
  assert.equal(uniqueAmong(offer).length, 100_000);
  assert.ok(performance.now() - t0 < 20_000);
});

test("duplicates: the groups, for showing which names collide", () => {
  assert.deepEqual(duplicates(["a.txt", "b.txt", "A.TXT", "c", "a.txt"]), [["a.txt", "A.TXT", "a.txt"]]);
  assert.deepEqual(duplicates(["caf\u00e9", "CAFE\u0301"]), [["caf\u00e9", "CAFE\u0301"]]);
  assert.deepEqual(duplicates(["Stra\u00dfe", "x", "STRASSE", "strasse"]), [["Stra\u00dfe", "STRASSE", "strasse"]]);
  assert.deepEqual(duplicates(["\ufb01le", "FILE"]), [["\ufb01le", "FILE"]], "the fi ligature, by NFKC");
  assert.deepEqual(duplicates(["Docs/Report.pdf", "docs/report.PDF", "docs/other.pdf"]), [["Docs/Report.pdf", "docs/report.PDF"]]);
  assert.deepEqual(duplicates(["a", "b", "c"]), []);
  assert.deepEqual(duplicates([]), []);
});

test("free names keep the extension (the peer's cases)", () => {
  assert.equal(freeName(new Set(), "report.pdf"), "report.pdf");
  assert.equal(freeName(new Set(["report.pdf"]), "report.pdf"), "report (1).pdf");
  assert.equal(freeName(new Set(["report.pdf", "report (1).pdf"]), "report.pdf"), "report (2).pdf");
  assert.equal(freeName(new Set(["report (1).pdf"]), "report (1).pdf"), "report (2).pdf");
  assert.equal(freeName(new Set(["backup.tar.gz"]), "backup.tar.gz"), "backup (1).tar.gz");
  assert.equal(freeName(new Set([".bashrc"]), ".bashrc"), ".bashrc (1)");
  assert.equal(freeName(new Set(["Makefile"]), "Makefile"), "Makefile (1)");
  assert.equal(freeName((n) => n !== "a (3).txt", "a.txt"), "a (3).txt");
  assert.equal(freeName(new Set(["x.verylongextension17"]), "x.verylongextension17"), "x.verylongextension17 (1)");
  assert.equal(freeName(new Set(["my file.not an ext"]), "my file.not an ext"), "my file.not an ext (1)");
  const long = "y".repeat(251) + ".pdf";
  assert.equal(freeName(new Set([long]), long), "y".repeat(247) + " (1).pdf");
  const emoji = "😀".repeat(62) + "ab.txt"; // 254 bytes
  const free = freeName(new Set([emoji]), emoji);
  assert.equal(free, "😀".repeat(61) + " (1).txt", "cut at the end, by whole characters");
  assert.equal(freeName(new Set(), "e\u0301.txt"), "\u00e9.txt");
  throwsToken(() => freeName(new Set(), "../x"), "slash");
  throwsToken(() => freeName(new Set(), "CON"), "reserved");
  assert.throws(() => freeName(() => true, "a"), (err) => err instanceof FilesError && err.token === "no_free_name");
});

test("free names with an `exists` that answers later (a directory handle)", async () => {
  const taken = new Set(["a.txt", "a (1).txt"]);
  assert.equal(await freeNameAsync(async (n) => taken.has(n), "a.txt"), "a (2).txt");
  assert.equal(await freeNameAsync(taken, "b.txt"), "b.txt");
  await assert.rejects(freeNameAsync(taken, "a:b"), (err) => err instanceof UnsafeName && err.token === "drive");
});

test("partial names: the same name always gets the same one, and it fits", () => {
  assert.equal(partialName("report.pdf"), "report.pdf.supportlink-partial");
  assert.ok(isPartial("report.pdf.SupportLink-Partial"));
  assert.ok(!isPartial("report.pdf"));
  const name = "\u00e9".repeat(127); // 254 bytes
  const partial = partialName(name);
  assert.ok(utf8Length(partial) <= MAX_COMPONENT_BYTES);
  assert.ok(partial.startsWith("\u00e9".repeat(10)) && partial.endsWith(PARTIAL_SUFFIX));
  assert.notEqual(partial, partialName(name.slice(0, -1)));
  assert.equal(partial, partialName(name));
  throwsToken(() => checkName(partial), "reserved");
});

/** A seeded generator (mulberry32). */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// pieces a hostile name is made of (the peer's TRICKY, and more), ordinary ones weighted in
const PIECES = [
  ".", "..", "/", "\\", ":", "\0", " ", "\t", "\x85", "\u202e", "\u2028", "\uff0e", "\uff0f", "\uff3c", "\uff1a", "\u2024",
  "\u2025", "\u2026", "\u00a0", "\u0301", "\u00b9", "\ufb01", "\u212a", "CON", "nul", "com1", "LPT\u00b2", "\uff23\uff2f\uff2e",
  PARTIAL_SUFFIX, "e\u0301", "😀", "ß", "İ", "Σ", "\u200f", "\u061c", "\u2067", "\ufeff", "\u007f", "\u009f", "\ud800", "\udfff",
  "a", "b", "Z", "report", "x.txt", "日本", ".", "/", "$", "~", "-", "=", "x".repeat(100), "é".repeat(60), "*", "?", "<", "|",
];

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** @param {string} part */
function assertSafeComponent(part) {
  const show = JSON.stringify(part);
  assert.ok(part !== "" && part !== "." && part !== "..", show);
  assert.ok(!/[/\\:\0]/.test(part), show);
  assert.ok(!CONTROL.test(part), show);
  assert.ok(!/[. ]$/.test(part), show);
  assert.ok(!isDeviceName(part), show);
  assert.ok(!isPartial(part), show);
  assert.ok(utf8Length(part) <= MAX_COMPONENT_BYTES, show);
  assert.equal(part, part.normalize("NFC"));
  assert.ok(part.isWellFormed(), "no lone surrogate");
  const compat = part.normalize("NFKC");
  assert.ok(compat !== "." && compat !== ".." && !/[/\\:\0]/.test(compat), show);
}

test("property: whatever comes in, nothing unsafe comes out (seeded random strings)", () => {
  const next = random(20241202);
  const pick = () => PIECES[Math.floor(next() * PIECES.length)];
  let accepted = 0;
  let refused = 0;
  for (let round = 0; round < 20_000; round++) {
    let text = "";
    const n = 1 + Math.floor(next() * 7);
    for (let i = 0; i < n; i++) text += pick();
    if (next() < 0.1) {
      // any code units at all, lone surrogates included
      text = String.fromCharCode(...Array.from({ length: 1 + Math.floor(next() * 8) }, () => Math.floor(next() * 0x10000)));
    }
    const problem = pathProblem(text);
    if (problem !== null) {
      assert.ok(NAME_TOKENS.includes(problem), problem);
      refused++;
      continue;
    }
    accepted++;
    const parts = pathParts(text);
    assert.ok(parts.length >= 1 && parts.length <= MAX_DEPTH);
    assert.ok(utf8Length(parts.join("/")) <= MAX_PATH_BYTES);
    parts.forEach(assertSafeComponent);
    assert.deepEqual(pathParts(parts.join("/")), parts, "checking twice changes nothing");
    // its case-and-normalisation twin, if acceptable at all, is a duplicate of it
    const twin = parts.map((c) => c.normalize("NFD").toUpperCase()).join("/");
    if (pathProblem(twin) === null) throwsToken(() => uniqueAmong([text, twin]), "duplicate");
    // keeping both, again and again, gives fresh safe names
    const last = /** @type {string} */ (parts.at(-1));
    const used = new Set([last]);
    for (let copy = 0; copy < 3; copy++) {
      const free = freeName(used, last);
      assert.ok(!used.has(free));
      assertSafeComponent(free);
      used.add(free);
    }
  }
  assert.ok(accepted > 1000, `only ${accepted} accepted: the loop tests too little`);
  assert.ok(refused > 1000, `only ${refused} refused`);
});
