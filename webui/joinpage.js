// @ts-check
/**
 * The customer's page (`/join`) without the page: what `GET /api/downloads` says, which
 * program fits the customer's computer, the code as people type it, the words for a failed
 * download. No DOM here, so `node --test` covers it; `join.js` puts it on the page.
 *
 * The link the operator sends is `<origin>/join#<code>`: the code rides in the fragment, which
 * the browser never sends to the server, so it reaches no log (`joinUrl`, `codeFromHash`).
 *
 *   const system = detectSystem({platform: "Linux x86_64", userAgent: "...X11; Linux x86_64..."});
 *   const choice = chooseProgram(system, downloads.programs);  // {program, uncertain} | null
 *   readCode("1234-5678")                                        // "12345678"
 */

import { msg } from "./i18n.js";

/**
 * @typedef {import("./i18n.js").Msg} Msg
 * @typedef {{platform: string, href: string, filename: string, size: number, sha256: string,
 *   version: string, glibc: string | null}} Program
 *   one ready-made program; `sha256` is that of the file downloaded without a code
 * @typedef {{href: string, filename: string, size: number, sha256: string, version: string}} Wheel
 * @typedef {{server: string, url: string, programs: Program[], wheel: Wheel | null, licenses: boolean}} Downloads
 * @typedef {"linux" | "windows" | "macos" | "mobile" | "unknown"} Os
 * @typedef {{os: Os, arch: string | null}} System
 *   arch: "x86_64", "arm64", another machine name, or null when the browser does not tell
 * @typedef {{uaPlatform?: string, platform?: string, userAgent?: string, architecture?: string,
 *   bitness?: string, mobile?: boolean, maxTouchPoints?: number}} BrowserHints
 *   `navigator.userAgentData.platform`, `navigator.platform`, `navigator.userAgent`, the
 *   high-entropy `architecture` and `bitness` where the browser gives them, `userAgentData.mobile`
 */

/** Digits a session code has. */
export const CODE_DIGITS = 8;

/**
 * The customer's page, with the session's code in the fragment when there is one.
 * @param {string} origin `location.origin` of the console
 * @param {string} [code] the session code (digits)
 */
export function joinUrl(origin, code = "") {
  return code ? `${origin}/join#${code}` : `${origin}/join`;
}

/**
 * A code as people type it, reduced to its digits: spaces, dashes and dots between digits are
 * dropped, full-width digits (a Japanese keyboard) count as digits.
 * @param {string} text
 * @returns {string | null} the 8 digits; "" for no code at all; null for something that is not a code
 */
export function readCode(text) {
  const bare = text.normalize("NFKC").replace(/[\s.\-‐‑‒–—―−ー]/g, "");
  if (bare === "") return "";
  return new RegExp(`^[0-9]{${CODE_DIGITS}}$`).test(bare) ? bare : null;
}

/**
 * The code a link carries in its fragment (`#12345678`), or "" when it carries none.
 * @param {string} hash `location.hash`
 */
export function codeFromHash(hash) {
  let text = hash.replace(/^#/, "");
  try {
    text = decodeURIComponent(text);
  } catch {
    return "";
  }
  return readCode(text) ?? "";
}

/** What the page says for each refusal of `POST /join/download` (`/join?error=TOKEN`). */
const DOWNLOAD_ERRORS = Object.freeze({
  unknown_code: msg("joinpage.error.unknown_code"),
  used_code: msg("joinpage.error.used_code"),
  expired_code: msg("joinpage.error.expired_code"),
  bad_code: msg("joinpage.error.bad_code"),
  rate_limited: msg("joinpage.error.rate_limited"),
  no_program: msg("joinpage.error.no_program"),
});

/**
 * Words for the `error` the server put in the page's query after a refused download; any
 * token the page does not know gets general words (the token itself is never shown).
 * @param {string | null} token
 * @returns {Msg | null} null: no error
 */
export function downloadError(token) {
  if (token === null) return null;
  return Object.hasOwn(DOWNLOAD_ERRORS, token)
    ? DOWNLOAD_ERRORS[/** @type {keyof typeof DOWNLOAD_ERRORS} */ (token)]
    : msg("joinpage.error.other");
}

/**
 * A machine name as the downloads spell it: "x86_64", "arm64", or the name as given.
 * @param {string} name
 */
function machine(name) {
  const n = name.toLowerCase();
  if (/^(x86_64|amd64|x64|win64|wow64|x86-64)$/.test(n)) return "x86_64";
  if (/^(aarch64|arm64|armv8.*)$/.test(n)) return "arm64";
  return n;
}

/**
 * The customer's system from what the browser tells. Phones and tablets are `mobile`
 * (SupportLink runs on a computer); ChromeOS and anything else unknown are `unknown`.
 * @param {BrowserHints} hints
 * @returns {System}
 */
export function detectSystem(hints) {
  const ua = hints.userAgent ?? "";
  const uaPlatform = (hints.uaPlatform ?? "").toLowerCase();
  const platform = (hints.platform ?? "").toLowerCase();
  if (hints.mobile || uaPlatform === "android" || uaPlatform === "ios" || /Android|iPhone|iPad|iPod|Mobile/.test(ua)) {
    return { os: "mobile", arch: null };
  }
  // Only the high-entropy hint tells an Apple silicon Mac from an Intel one (both say "Intel Mac OS X").
  let arch = null;
  if (hints.architecture === "arm") arch = hints.bitness === "32" ? "arm" : "arm64";
  else if (hints.architecture === "x86") arch = hints.bitness === "32" ? "x86" : "x86_64";

  if (uaPlatform === "macos" || platform.startsWith("mac") || /Macintosh|Mac OS X/.test(ua)) {
    // iPadOS asks for desktop pages as a Mac; a Mac has no touch screen
    if ((hints.maxTouchPoints ?? 0) > 1) return { os: "mobile", arch: null };
    return { os: "macos", arch };
  }
  if (uaPlatform === "chrome os" || uaPlatform === "chromeos" || /CrOS/.test(ua)) return { os: "unknown", arch };
  if (uaPlatform === "windows" || platform.startsWith("win") || /Windows/.test(ua)) {
    return { os: "windows", arch: arch ?? (/Win64|WOW64|x64/i.test(ua) || platform === "win64" ? "x86_64" : null) };
  }
  if (uaPlatform === "linux" || platform.startsWith("linux") || /Linux/.test(ua)) {
    // navigator.platform names the real machine ("Linux aarch64"); Chrome's user agent says x86_64 everywhere
    const named = /linux\s+(\S+)/.exec(platform)?.[1] ?? /Linux\s+([A-Za-z0-9_]+)/.exec(ua)?.[1] ?? null;
    return { os: "linux", arch: arch ?? (named ? machine(named) : null) };
  }
  return { os: "unknown", arch };
}

/**
 * The platforms that run on `system`, best first (an Apple silicon Mac runs Intel programs,
 * Windows on ARM runs x86_64 ones); empty for a phone or an unknown system.
 * @param {System} system
 * @returns {string[]}
 */
export function platformsFor(system) {
  switch (system.os) {
    case "linux":
      return [`linux-${system.arch ?? "x86_64"}`];
    case "windows":
      return system.arch === "arm64" ? ["windows-arm64", "windows-x86_64"] : ["windows-x86_64"];
    case "macos":
      return system.arch === "x86_64" ? ["macos-x86_64"] : ["macos-arm64", "macos-x86_64"];
    default:
      return [];
  }
}

/**
 * The program to offer first, or null when the server has none for this system.
 * `uncertain`: an Apple silicon program offered to a Mac that did not say which kind it is
 * (the page then says how to tell).
 * @param {System} system
 * @param {readonly Program[]} programs
 * @returns {{program: Program, uncertain: boolean} | null}
 */
export function chooseProgram(system, programs) {
  for (const platform of platformsFor(system)) {
    const program = programs.find((p) => p.platform === platform);
    if (program) return { program, uncertain: system.os === "macos" && system.arch === null && platform === "macos-arm64" };
  }
  return null;
}

/** What the page calls each platform. */
const SYSTEM_NAMES = Object.freeze({
  "linux-x86_64": msg("joinpage.system.linux"),
  "linux-arm64": msg("joinpage.system.linux_arm"),
  "windows-x86_64": msg("joinpage.system.windows"),
  "windows-arm64": msg("joinpage.system.windows_arm"),
  "macos-arm64": msg("joinpage.system.mac_arm"),
  "macos-x86_64": msg("joinpage.system.mac_intel"),
});

/**
 * A platform in words ("Linux", "Mac (Apple silicon)"); one the page does not know as its token.
 * @param {string} platform
 * @returns {Msg | string}
 */
export function systemName(platform) {
  return Object.hasOwn(SYSTEM_NAMES, platform) ? SYSTEM_NAMES[/** @type {keyof typeof SYSTEM_NAMES} */ (platform)] : platform;
}

/**
 * The customer's system in words, for "no program for ... yet" (null: the page cannot tell).
 * @param {System} system
 * @returns {Msg | string | null}
 */
export function systemWords(system) {
  if (system.os === "macos") return msg("joinpage.system.mac");
  const [first] = platformsFor(system);
  return first ? systemName(first) : null;
}

/**
 * A size as the page shows it: megabytes with one decimal ("39.8 MB" for 39,812,345 bytes).
 * @param {number} bytes
 */
export function megabytes(bytes) {
  return (Math.max(bytes, 0) / 1_000_000).toFixed(1);
}

/** Releases and their glibc, oldest first, for "needs glibc 2.36 or newer (Debian 12 ...)". */
const GLIBC_RELEASES = Object.freeze({
  Debian: [["10", "2.28"], ["11", "2.31"], ["12", "2.36"], ["13", "2.41"]],
  Ubuntu: [["18.04", "2.27"], ["20.04", "2.31"], ["22.04", "2.35"], ["24.04", "2.39"]],
});

/**
 * @param {string} a
 * @param {string} b
 */
function versionAtLeast(a, b) {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/**
 * The oldest Debian and Ubuntu (LTS) releases whose glibc is `glibc` or newer:
 * "Debian 12, Ubuntu 24.04"; "" when none of those is new enough.
 * @param {string} glibc "2.36"
 */
export function glibcReleases(glibc) {
  const names = [];
  for (const [distro, releases] of Object.entries(GLIBC_RELEASES)) {
    const first = releases.find(([, version]) => versionAtLeast(version, glibc));
    if (first) names.push(`${distro} ${first[0]}`);
  }
  return names.join(", ");
}

/**
 * One word for a POSIX shell: as it is when it holds only safe characters, else single-quoted.
 * @param {string} word
 */
export function shellWord(word) {
  return /^[A-Za-z0-9_./:@%+=,~-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * Make a downloaded Linux program executable and run it, as one terminal line.
 * @param {string} folder where the browser saved it, as the shell should expand it ("~/Downloads")
 * @param {string} filename
 */
export function linuxCommand(folder, filename) {
  const path = `${folder}/${shellWord(filename)}`;
  return `chmod +x ${path} && ${path}`;
}

/**
 * The program from the Python wheel, for people with Python: with pipx (one line) or pip (two).
 * @param {string} wheelUrl the wheel's absolute URL
 * @param {string} serverUrl this server, as the program must reach it
 */
export function pythonCommands(wheelUrl, serverUrl) {
  const wheel = shellWord(wheelUrl);
  const server = shellWord(serverUrl);
  return {
    pipx: `pipx run --spec ${wheel} supportlink-peer --server ${server}`,
    pipInstall: `python3 -m pip install --user ${wheel}`,
    pipRun: `supportlink-peer --server ${server}`,
  };
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The common fields of a program or the wheel, or null when one is missing or odd.
 * @param {unknown} item
 */
function file(item) {
  if (!isObject(item)) return null;
  const { href, filename, size, sha256, version } = item;
  if (typeof href !== "string" || !(/^\/(?!\/)/.test(href) || /^https?:\/\//.test(href))) return null;
  if (typeof filename !== "string" || !/^[^/\\\0]{1,200}$/.test(filename)) return null;
  if (typeof size !== "number" || !Number.isFinite(size) || size < 0) return null;
  return {
    href,
    filename,
    size,
    sha256: typeof sha256 === "string" && /^[0-9a-f]{64}$/.test(sha256) ? sha256 : "",
    version: typeof version === "string" ? version : "",
  };
}

/**
 * `GET /api/downloads` checked: a program or wheel with a field missing or odd is left out
 * (the page offers the rest); an answer that is not the document at all throws.
 * @param {unknown} body the parsed JSON
 * @returns {Downloads}
 */
export function parseDownloads(body) {
  if (!isObject(body) || typeof body.server !== "string" || !Array.isArray(body.programs)) {
    throw new TypeError("not the downloads document");
  }
  /** @type {Program[]} */
  const programs = [];
  for (const item of body.programs) {
    const common = file(item);
    if (!common || !isObject(item) || typeof item.platform !== "string" || !/^[a-z0-9]+-[a-z0-9_]+$/.test(item.platform)) continue;
    if (programs.some((p) => p.platform === item.platform)) continue;
    const glibc = typeof item.glibc === "string" && /^[0-9]+\.[0-9]+$/.test(item.glibc) ? item.glibc : null;
    programs.push({ platform: item.platform, ...common, glibc });
  }
  const url = typeof body.url === "string" && /^https?:\/\/[^\s/]+$/.test(body.url.replace(/\/$/, ""))
    ? body.url.replace(/\/$/, "") : "";
  return {
    server: body.server,
    url,
    programs,
    wheel: file(body.wheel),
    licenses: body.licenses === true,
  };
}
