// The customer's page without a browser: the link, the code as people type it, which program
// fits which computer, the words for a refused download, the API document, and the page's
// contract with the server (a real form POST) and with the CSP (nothing inline).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { render, setLanguage } from "../../webui/i18n.js";
import {
  chooseProgram, codeFromHash, detectSystem, downloadError, glibcReleases, joinUrl, linuxCommand, megabytes,
  parseDownloads, pythonCommands, readCode, shellWord, systemName, systemWords,
} from "../../webui/joinpage.js";

const WEBUI = new URL("../../webui/", import.meta.url);
const SHA = "3f2a9c1b4d5e".padEnd(64, "0");

/** The document of the brief, as `GET /api/downloads` answers it. */
const DOWNLOADS = {
  server: "support.example.com",
  url: "https://support.example.com",
  programs: [{
    platform: "linux-x86_64", href: "/download/3f2a9c1b4d5e/supportlink-peer", filename: "supportlink-peer",
    size: 39812345, sha256: SHA, version: "0.1.0", glibc: "2.36",
  }],
  wheel: {
    href: "/download/9a8b7c6d5e4f/supportlink-0.1.0-py3-none-any.whl", filename: "supportlink-0.1.0-py3-none-any.whl",
    size: 230437, sha256: SHA, version: "0.1.0",
  },
  licenses: true,
};

const UA = {
  chromeLinux: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  firefoxLinux: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
  chromeWindows: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  firefoxWindows: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
  safariMac: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  chromeMac: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  iphone: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  android: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
  chromebook: "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
};

/**
 * @param {string} platform
 * @param {object} [extra]
 */
const program = (platform, extra = {}) => ({ ...DOWNLOADS.programs[0], platform, glibc: null, ...extra });

test("the operator's link carries the code in the fragment only", () => {
  assert.equal(joinUrl("https://support.example.com", "04718263"), "https://support.example.com/join#04718263");
  assert.equal(joinUrl("http://127.0.0.1:8080"), "http://127.0.0.1:8080/join");
  assert.equal(new URL(joinUrl("https://s.example", "12345678")).search, "");
});

test("a code as people type it: spaces, dashes, full-width digits; anything else is not a code", () => {
  assert.equal(readCode("12345678"), "12345678");
  assert.equal(readCode("1234 5678"), "12345678");
  assert.equal(readCode(" 1234-5678 "), "12345678");
  assert.equal(readCode("1234–5678"), "12345678");
  assert.equal(readCode("１２３４　５６７８"), "12345678"); // a Japanese keyboard
  assert.equal(readCode("1234ー5678"), "12345678");
  assert.equal(readCode("1234.5678"), "12345678");
  assert.equal(readCode(""), "");
  assert.equal(readCode("   "), "");
  assert.equal(readCode("1234567"), null);
  assert.equal(readCode("123456789"), null);
  assert.equal(readCode("1234 567a"), null);
  assert.equal(readCode("٠١٢٣٤٥٦٧"), null); // other scripts' digits are not the server's
});

test("the code in a link's fragment, or none", () => {
  assert.equal(codeFromHash("#12345678"), "12345678");
  assert.equal(codeFromHash("#1234%205678"), "12345678");
  assert.equal(codeFromHash("#1234-5678"), "12345678");
  assert.equal(codeFromHash(""), "");
  assert.equal(codeFromHash("#"), "");
  assert.equal(codeFromHash("#top"), "");
  assert.equal(codeFromHash("#1234567"), "");
  assert.equal(codeFromHash("#%E0%A4%A"), ""); // not decodable
});

test("a refused download in words, never with the token itself", () => {
  setLanguage("en");
  assert.equal(render(/** @type {any} */ (downloadError("unknown_code"))),
    "This code is not valid. Check the 8 digits with your support contact.");
  for (const token of ["used_code", "expired_code"]) {
    assert.match(render(/** @type {any} */ (downloadError(token))), /new one/);
  }
  assert.match(render(/** @type {any} */ (downloadError("bad_code"))), /8 digits/);
  assert.match(render(/** @type {any} */ (downloadError("rate_limited"))), /wait a minute/);
  assert.match(render(/** @type {any} */ (downloadError("no_program"))), /no SupportLink program/);
  for (const token of ["<img src=x>", "__proto__", "toString", "hasOwnProperty", "", "internal"]) {
    const words = render(/** @type {any} */ (downloadError(token)));
    assert.equal(words, "The download did not work. Please try again; if it fails again, tell your support contact.", token);
  }
  assert.equal(downloadError(null), null);
});

test("the system from the browser: Linux, Windows, Mac, phones, the rest unknown", () => {
  assert.deepEqual(detectSystem({ platform: "Linux x86_64", userAgent: UA.chromeLinux, uaPlatform: "Linux" }),
    { os: "linux", arch: "x86_64" });
  assert.deepEqual(detectSystem({ platform: "Linux x86_64", userAgent: UA.firefoxLinux }), { os: "linux", arch: "x86_64" });
  // Chrome's user agent says x86_64 on every Linux: navigator.platform and the architecture hint do not
  assert.deepEqual(detectSystem({ platform: "Linux aarch64", userAgent: UA.chromeLinux }), { os: "linux", arch: "arm64" });
  assert.deepEqual(detectSystem({ platform: "Linux x86_64", userAgent: UA.chromeLinux, architecture: "arm", bitness: "64" }),
    { os: "linux", arch: "arm64" });
  assert.deepEqual(detectSystem({ platform: "Linux armv7l", userAgent: "" }), { os: "linux", arch: "armv7l" });
  assert.deepEqual(detectSystem({ platform: "Win32", userAgent: UA.chromeWindows, uaPlatform: "Windows" }),
    { os: "windows", arch: "x86_64" });
  assert.deepEqual(detectSystem({ platform: "Win32", userAgent: UA.firefoxWindows }), { os: "windows", arch: "x86_64" });
  assert.deepEqual(detectSystem({ platform: "Win32", userAgent: UA.chromeWindows, architecture: "arm", bitness: "64" }),
    { os: "windows", arch: "arm64" });
  // every Mac says "Intel Mac OS X": only the hint tells
  assert.deepEqual(detectSystem({ platform: "MacIntel", userAgent: UA.safariMac, maxTouchPoints: 0 }), { os: "macos", arch: null });
  assert.deepEqual(detectSystem({ platform: "MacIntel", userAgent: UA.chromeMac, uaPlatform: "macOS", architecture: "arm", bitness: "64" }),
    { os: "macos", arch: "arm64" });
  assert.deepEqual(detectSystem({ platform: "MacIntel", userAgent: UA.chromeMac, uaPlatform: "macOS", architecture: "x86", bitness: "64" }),
    { os: "macos", arch: "x86_64" });
  assert.deepEqual(detectSystem({ platform: "MacIntel", userAgent: UA.safariMac, maxTouchPoints: 5 }), { os: "mobile", arch: null }); // iPad
  assert.deepEqual(detectSystem({ platform: "iPhone", userAgent: UA.iphone }), { os: "mobile", arch: null });
  assert.deepEqual(detectSystem({ platform: "Linux armv81", userAgent: UA.android, uaPlatform: "Android", mobile: true }),
    { os: "mobile", arch: null });
  assert.equal(detectSystem({ platform: "Linux x86_64", userAgent: UA.chromebook, uaPlatform: "Chrome OS" }).os, "unknown");
  assert.equal(detectSystem({ platform: "FreeBSD amd64", userAgent: "Mozilla/5.0 (X11; FreeBSD amd64; rv:127.0)" }).os, "unknown");
  assert.deepEqual(detectSystem({}), { os: "unknown", arch: null });
});

test("the program offered first, with fallbacks that run", () => {
  const linux = program("linux-x86_64");
  const win = program("windows-x86_64");
  const macArm = program("macos-arm64");
  const macIntel = program("macos-x86_64");
  const all = [linux, win, macArm, macIntel];
  assert.deepEqual(chooseProgram({ os: "linux", arch: "x86_64" }, all), { program: linux, uncertain: false });
  assert.deepEqual(chooseProgram({ os: "linux", arch: null }, all), { program: linux, uncertain: false });
  assert.equal(chooseProgram({ os: "linux", arch: "arm64" }, all), null);
  assert.deepEqual(chooseProgram({ os: "windows", arch: "arm64" }, all), { program: win, uncertain: false });
  // a Mac that does not say: Apple silicon first, with words on how to tell
  assert.deepEqual(chooseProgram({ os: "macos", arch: null }, all), { program: macArm, uncertain: true });
  assert.deepEqual(chooseProgram({ os: "macos", arch: null }, [macIntel]), { program: macIntel, uncertain: false });
  assert.deepEqual(chooseProgram({ os: "macos", arch: "arm64" }, [macIntel]), { program: macIntel, uncertain: false });
  assert.deepEqual(chooseProgram({ os: "macos", arch: "arm64" }, all), { program: macArm, uncertain: false });
  assert.equal(chooseProgram({ os: "macos", arch: "x86_64" }, [macArm]), null);
  assert.equal(chooseProgram({ os: "mobile", arch: null }, all), null);
  assert.equal(chooseProgram({ os: "unknown", arch: null }, all), null);
  assert.equal(chooseProgram({ os: "linux", arch: "x86_64" }, []), null);
});

test("systems in words, in both languages", () => {
  try {
    setLanguage("en");
    assert.equal(render(systemName("linux-x86_64")), "Linux");
    assert.equal(render(systemName("macos-arm64")), "Mac (Apple silicon)");
    assert.equal(render(systemName("plan9-mips")), "plan9-mips");
    assert.equal(render(/** @type {any} */ (systemWords({ os: "macos", arch: null }))), "Mac");
    assert.equal(render(/** @type {any} */ (systemWords({ os: "linux", arch: "arm64" }))), "Linux (ARM)");
    assert.equal(systemWords({ os: "mobile", arch: null }), null);
    setLanguage("ja");
    assert.equal(render(systemName("macos-x86_64")), "Mac（Intel）");
  } finally {
    setLanguage("en");
  }
});

test("sizes in megabytes with one decimal", () => {
  assert.equal(megabytes(39812345), "39.8");
  assert.equal(megabytes(230437), "0.2");
  assert.equal(megabytes(0), "0.0");
});

test("the oldest Debian and Ubuntu releases a glibc version runs on", () => {
  assert.equal(glibcReleases("2.36"), "Debian 12, Ubuntu 24.04"); // Ubuntu 22.04 has 2.35
  assert.equal(glibcReleases("2.35"), "Debian 12, Ubuntu 22.04");
  assert.equal(glibcReleases("2.31"), "Debian 11, Ubuntu 20.04");
  assert.equal(glibcReleases("2.17"), "Debian 10, Ubuntu 18.04");
  assert.equal(glibcReleases("2.40"), "Debian 13");
  assert.equal(glibcReleases("2.99"), "");
});

test("commands to copy: safe words as they are, anything else quoted", () => {
  assert.equal(shellWord("https://support.example.com/download/9a8b/x.whl"), "https://support.example.com/download/9a8b/x.whl");
  assert.equal(shellWord("a b"), "'a b'");
  assert.equal(shellWord("it's;rm"), "'it'\\''s;rm'");
  assert.equal(linuxCommand("~/Downloads", "supportlink-peer"),
    "chmod +x ~/Downloads/supportlink-peer && ~/Downloads/supportlink-peer");
  assert.equal(linuxCommand("~/ダウンロード", "supportlink peer"),
    "chmod +x ~/ダウンロード/'supportlink peer' && ~/ダウンロード/'supportlink peer'");
  const wheel = "https://support.example.com/download/9a8b7c6d5e4f/supportlink-0.1.0-py3-none-any.whl";
  assert.deepEqual(pythonCommands(wheel, "https://support.example.com"), {
    pipx: `pipx run --spec ${wheel} supportlink-peer --server https://support.example.com`,
    pipInstall: `python3 -m pip install --user ${wheel}`,
    pipRun: "supportlink-peer --server https://support.example.com",
  });
});

test("the downloads document: kept as it is, odd entries left out, not a document refused", () => {
  assert.deepEqual(parseDownloads(structuredClone(DOWNLOADS)), {
    ...DOWNLOADS,
    programs: [{ ...DOWNLOADS.programs[0] }],
  });
  const none = parseDownloads({ server: "s.example", url: "https://s.example/", programs: [], wheel: null, licenses: false });
  assert.deepEqual(none, { server: "s.example", url: "https://s.example", programs: [], wheel: null, licenses: false });
  const odd = parseDownloads({
    server: "s.example",
    url: "javascript:alert(1)",
    programs: [
      program("windows-x86_64", { glibc: undefined }),
      program("linux-x86_64", { size: "big" }),
      program("../../etc", {}),
      program("macos-arm64", { href: "//evil.example/x" }),
      program("linux-x86_64", { sha256: "not hex", glibc: "new" }),
      program("linux-x86_64", {}), // a second one for the same platform
      "nothing",
    ],
    wheel: { href: "/w.whl", filename: "w.whl" },
    licenses: "yes",
  });
  assert.deepEqual(odd.programs.map((p) => [p.platform, p.sha256, p.glibc]),
    [["windows-x86_64", SHA, null], ["linux-x86_64", "", null]]);
  assert.equal(odd.url, "");
  assert.equal(odd.wheel, null);
  assert.equal(odd.licenses, false);
  for (const body of [null, [], "text", { programs: [] }, { server: "s", programs: {} }]) {
    assert.throws(() => parseDownloads(body), TypeError);
  }
});

test("join.html: the download is a real form POST of platform and code", () => {
  const html = readFileSync(new URL("join.html", WEBUI), "utf8");
  const form = /<form\b[^>]*>/.exec(html)?.[0] ?? "";
  assert.match(form, /\smethod="post"/);
  assert.match(form, /\saction="\/join\/download"/);
  const inside = html.slice(html.indexOf(form), html.indexOf("</form>"));
  assert.match(inside, /<button type="submit" id="download-button"[^>]*\sname="platform"/);
  assert.match(inside, /<input type="hidden" name="code"/);
  // only the digits go: the box people type in has no name of its own
  assert.doesNotMatch(/<input id="code-input"[^>]*>/.exec(inside)?.[0] ?? "", /\sname=/);
  for (const button of inside.matchAll(/<button\b[^>]*>/g)) assert.match(button[0], /\stype="(submit|button)"/);
});

test("the pages obey the CSP: nothing inline, only same-origin scripts and styles", () => {
  for (const page of ["index.html", "join.html"]) {
    const html = readFileSync(new URL(page, WEBUI), "utf8");
    assert.doesNotMatch(html, /<style\b/i, page);
    assert.doesNotMatch(html, /\sstyle=/i, page);
    assert.doesNotMatch(html, /\son[a-z]+=/i, page);
    assert.doesNotMatch(html, /javascript:/i, page);
    for (const script of html.matchAll(/<script\b([^>]*)>/gi)) assert.match(script[1], /\ssrc="[a-z]+\.js"/, page);
    for (const link of html.matchAll(/<link\b[^>]*\shref="([^"]+)"/gi)) assert.match(link[1], /^(style\.css|data:,)$/, page);
  }
});
