// @ts-check
/**
 * Names from the customer's computer, before the console uses one in a download's name, a zip
 * entry or a path under a folder the operator picked: taken as they are or refused, never
 * rewritten. The same rules, tokens and order of checks as the peer's `peer/files/names.py`
 * (its tests' cases are this module's tests' cases). A component is refused (`UnsafeName.token`)
 * when it
 *
 *   is empty: "", "a//b", "a/"                                       empty
 *   (a path) starts with "/"                                         absolute
 *   is "." / ".."                                                    dot / dot_dot
 *   holds NUL, "\", "/" (checked alone), ":" (a drive letter or an
 *     NTFS stream), a control character (C0, DEL, C1), U+2028/2029
 *     or a bidi control (U+061C, U+200E/F, U+202A-E, U+2066-9)       nul / backslash / slash / drive / control
 *   holds a lone surrogate                                           not_unicode
 *   ends in a dot or a space (Windows strips them)                   trailing
 *   is a Windows device name, with or without an extension, any
 *     case (CON PRN AUX NUL COM0-9 LPT0-9 CONIN$ CONOUT$, and COM¹
 *     by NFKC), or ends in PARTIAL_SUFFIX (ours)                     reserved
 *   is over 255 UTF-8 bytes as sent or once NFC; a path over 4096    too_long
 *   is fine as written but not in its NFKC form ("．．", "‥", "／",
 *     "＼", "：", a trailing U+00A0)                                 lookalike
 *   (a path) has more than 32 components                             too_deep
 *
 *   pathParts(path) -> NFC components          checkPath(path) -> "a/b.txt" (NFC)
 *   checkName(name) -> the NFC name            nameProblem(name), pathProblem(path) -> token | null
 *   uniqueAmong(paths, folders) -> components of each, or "duplicate" / "not_a_folder"
 *   duplicates(paths) -> the groups of paths one file system would take for one file
 *   freeName(exists, "report.pdf") -> "report (1).pdf"     (freeNameAsync: `exists` may be async)
 *   partialName(name) -> the name a file has while it arrives
 *
 * Case folding is `toUpperCase().toLowerCase()`, JavaScript's nearest to Python's `casefold`
 * ("ß" and "SS" meet; so do "σ" and "ς").
 */

import { FilesError, UnsafeName } from "./errors.js";
import { sha256Hex } from "../sha256.js";

export const MAX_COMPONENT_BYTES = 255;
export const MAX_PATH_BYTES = 4096;
export const MAX_DEPTH = 32;
/** What a file's name ends in while it arrives (`partialName`); refused from the other side. */
export const PARTIAL_SUFFIX = ".supportlink-partial";
/** `freeName` gives up after this many numbers. */
export const MAX_FREE_TRIES = 100_000;

/** Every token `UnsafeName` carries here, as in names.py's NAME_CODES. */
export const NAME_TOKENS = Object.freeze([
  "empty", "absolute", "dot", "dot_dot", "nul", "backslash", "slash", "drive", "control", "not_unicode",
  "trailing", "reserved", "too_long", "too_deep", "lookalike", "duplicate", "not_a_folder",
]);

// NUL, \, /, :, then what is "control": C0, DEL, C1, the line and paragraph separators, and the
// Bidi_Control characters
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\/:\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** @type {Record<string, string>} */
const FORBIDDEN_TOKENS = { "\0": "nul", "\\": "backslash", "/": "slash", ":": "drive" };
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const DEVICES = new Set(["con", "prn", "aux", "nul", "conin$", "conout$"]);
for (let i = 0; i < 10; i++) DEVICES.add(`com${i}`).add(`lpt${i}`);

/**
 * Bytes of `text` in UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD, as TextEncoder
 * writes it), without encoding it.
 * @param {string} text
 */
export function utf8Length(text) {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: two units, four bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** @param {string} text Python's `casefold`, as near as JavaScript comes */
const casefold = (text) => text.toUpperCase().toLowerCase();

/** @param {unknown} text @returns {asserts text is string} */
function checkUnicode(text) {
  if (typeof text !== "string") throw new TypeError(`a name is text, not ${typeof text}`);
  if (LONE_SURROGATE.test(text)) throw new UnsafeName("not_unicode", "the name holds a lone surrogate");
}

/** @param {string} text */
const quoted = (text) => JSON.stringify(text.slice(0, 60));

/**
 * Whether Windows reserves `name` for a device (the part before the first dot, trailing spaces
 * dropped, any case: "nul", "COM1.txt", "con .tar.gz"; also in NFKC form: "COM¹", "ＣＯＮ").
 * @param {string} name
 */
export function isDeviceName(name) {
  return [name, name.normalize("NFKC")].some((form) => DEVICES.has(casefold(form).split(".", 1)[0].replace(/ +$/, "")));
}

/**
 * The first rule `name` (normalised already) breaks, or null.
 * @param {string} name
 * @param {boolean} lengths whether to check the length too
 */
function problem(name, lengths) {
  if (name === "") return "empty";
  if (name === ".") return "dot";
  if (name === "..") return "dot_dot";
  const bad = FORBIDDEN.exec(name);
  if (bad) return FORBIDDEN_TOKENS[bad[0]] ?? "control";
  if (name.endsWith(".") || name.endsWith(" ")) return "trailing";
  // most names start with none of "aclnp" and are no device: skip the folding for them
  const first = name.charCodeAt(0) | 0x20;
  const maybeDevice = name.charCodeAt(0) >= 0x80 || "aclnp".includes(String.fromCharCode(first));
  const folded = maybeDevice || name.length >= PARTIAL_SUFFIX.length ? casefold(name) : "";
  if (maybeDevice && DEVICES.has(folded.split(".", 1)[0].replace(/ +$/, ""))) return "reserved";
  if (folded.endsWith(PARTIAL_SUFFIX)) return "reserved";
  if (lengths && utf8Length(name) > MAX_COMPONENT_BYTES) return "too_long";
  return null;
}

/**
 * One file or folder name, NFC-normalised; throws UnsafeName if refused (a "/" is "slash").
 * @param {string} name
 * @returns {string}
 */
export function checkName(name) {
  checkUnicode(name);
  const bytes = utf8Length(name);
  if (bytes > MAX_COMPONENT_BYTES) throw new UnsafeName("too_long", `a name of ${bytes} bytes`);
  const nfc = name.normalize("NFC");
  const token = problem(nfc, true);
  if (token !== null) throw new UnsafeName(token, `${quoted(nfc)}: refused (${token})`);
  const nfkc = nfc.normalize("NFKC");
  if (nfkc !== nfc) {
    const compat = problem(nfkc, false);
    if (compat !== null) {
      throw new UnsafeName(compat === "reserved" ? "reserved" : "lookalike", `${quoted(nfc)} normalises to ${quoted(nfkc)} (${compat})`);
    }
  }
  return nfc;
}

/**
 * The safe, NFC-normalised components of a relative "/"-separated path; throws UnsafeName.
 * @param {string} path
 * @returns {string[]}
 */
export function pathParts(path) {
  checkUnicode(path);
  const bytes = utf8Length(path);
  if (bytes > MAX_PATH_BYTES) throw new UnsafeName("too_long", `a path of ${bytes} bytes`);
  if (path === "") throw new UnsafeName("empty", "an empty path");
  if (path.startsWith("/")) throw new UnsafeName("absolute", `${quoted(path)} is absolute`);
  const raw = path.split("/");
  if (raw.length > MAX_DEPTH) throw new UnsafeName("too_deep", `a path of ${raw.length} levels`);
  const parts = raw.map(checkName);
  const size = utf8Length(parts.join("/"));
  if (size > MAX_PATH_BYTES) throw new UnsafeName("too_long", `a path of ${size} bytes once normalised`);
  return parts;
}

/**
 * A relative path, NFC-normalised and checked: `pathParts(path).join("/")`.
 * @param {string} path
 */
export function checkPath(path) {
  return pathParts(path).join("/");
}

/**
 * Why `name` is refused as one name, or null.
 * @param {string} name
 * @returns {string | null}
 */
export function nameProblem(name) {
  return tokenOf(() => checkName(name));
}

/**
 * Why `path` is refused, or null.
 * @param {string} path
 * @returns {string | null}
 */
export function pathProblem(path) {
  return tokenOf(() => pathParts(path));
}

/** @param {() => unknown} check */
function tokenOf(check) {
  try {
    check();
    return null;
  } catch (err) {
    if (err instanceof UnsafeName) return err.token;
    throw err;
  }
}

/** @param {string} name */
const foldNfc = (name) => casefold(name.normalize("NFC")).normalize("NFC");
/** @param {string} name */
const foldNfkc = (name) => casefold(name.normalize("NFKC")).normalize("NFKC");

/**
 * Check every file path of one offer and refuse names that collide: two that one file system
 * could take for the same (NFC or NFKC, then case-folded: "Report.PDF" and "report.pdf") are
 * "duplicate"; a file that another path needs as its folder ("a" and "a/b") is "not_a_folder".
 * `folders` are the offer's (empty) folders: they may hold files but not be one. Two files whose
 * partial names would be the same (long names cut for the suffix) collide too.
 * @param {Iterable<string>} paths
 * @param {Iterable<string>} [folders]
 * @returns {string[][]} each file's components, in order
 */
export function uniqueAmong(paths, folders = []) {
  const files = [...paths].map(pathParts);
  const dirs = [...folders].map(pathParts);
  const all = [...files, ...dirs];
  for (const fold of [foldNfc, foldNfkc]) {
    /** @param {string[]} components */
    const keyOf = (components) => components.map(fold);
    /** @type {Map<string, string[]>} */
    const seen = new Map();
    /** @type {Map<string, string[]>} */
    const partials = new Map();
    /** @type {Map<string, string[]>} */
    const parents = new Map();
    const keys = all.map(keyOf);
    keys.forEach((key, i) => {
      claim(seen, key.join("/"), all[i]);
      let parent = "";
      for (let depth = 0; depth < key.length - 1; depth++) {
        parent = depth === 0 ? key[0] : `${parent}/${key[depth]}`;
        if (!parents.has(parent)) parents.set(parent, all[i]);
      }
    });
    files.forEach((components, i) => {
      const key = keys[i];
      const last = /** @type {string} */ (components.at(-1));
      claim(partials, [...key.slice(0, -1), fold(partialName(last))].join("/"), components);
      const parent = parents.get(key.join("/"));
      if (parent) throw new UnsafeName("not_a_folder", `${quoted(components.join("/"))} for ${quoted(parent.join("/"))}`);
    });
  }
  return files;
}

/**
 * @param {Map<string, string[]>} seen
 * @param {string} key
 * @param {string[]} path
 */
function claim(seen, key, path) {
  const first = seen.get(key);
  if (first) throw new UnsafeName("duplicate", `${quoted(first.join("/"))} and ${quoted(path.join("/"))}`);
  seen.set(key, path);
}

/**
 * The paths that collide with another, for showing: each group (two or more, in the order
 * given) would be one file on some file system (the keys `uniqueAmong` compares). Exact
 * repeats count too. Paths are not checked here.
 * @param {Iterable<string>} paths
 * @returns {string[][]}
 */
export function duplicates(paths) {
  const list = [...paths];
  /** @type {number[]} */
  const group = list.map((_, i) => i);
  /** @param {number} i @returns {number} */
  const root = (i) => (group[i] === i ? i : (group[i] = root(group[i])));
  for (const fold of [foldNfc, foldNfkc]) {
    /** @type {Map<string, number>} */
    const first = new Map();
    list.forEach((path, i) => {
      const key = path.split("/").map(fold).join("/");
      const j = first.get(key);
      if (j === undefined) first.set(key, i);
      else group[root(i)] = root(j);
    });
  }
  /** @type {Map<number, string[]>} */
  const groups = new Map();
  list.forEach((path, i) => {
    const r = root(i);
    const members = groups.get(r);
    if (members) members.push(path);
    else groups.set(r, [path]);
  });
  return [...groups.values()].filter((members) => members.length > 1);
}

/**
 * @typedef {((name: string) => boolean) | {has: (name: string) => boolean}} Exists
 * @typedef {((name: string) => boolean | Promise<boolean>) | {has: (name: string) => boolean}} ExistsAsync
 */

/**
 * `name` if it is free, else "report (1).pdf", "report (2).pdf", ... (for "keep both"):
 * "report (1).pdf" goes on to "report (2).pdf", "backup.tar.gz" to "backup (1).tar.gz",
 * ".bashrc" to ".bashrc (1)"; a name too long for the number is cut. `exists` says whether a
 * name is taken: a Set, or a function that knows the file system's case rules. Throws
 * UnsafeName if `name` is refused, FilesError "no_free_name" if every number is taken.
 * @param {Exists} exists
 * @param {string} name
 * @returns {string}
 */
export function freeName(exists, name) {
  const taken = typeof exists === "function" ? exists : (/** @type {string} */ n) => exists.has(n);
  for (const candidate of candidates(name)) if (!taken(candidate)) return checkName(candidate);
  throw new FilesError("no_free_name", `no free name like ${quoted(name)}`);
}

/**
 * `freeName` with an `exists` that may answer later (a directory handle's lookup).
 * @param {ExistsAsync} exists
 * @param {string} name
 * @returns {Promise<string>}
 */
export async function freeNameAsync(exists, name) {
  const taken = typeof exists === "function" ? exists : (/** @type {string} */ n) => exists.has(n);
  for (const candidate of candidates(name)) if (!(await taken(candidate))) return checkName(candidate);
  throw new FilesError("no_free_name", `no free name like ${quoted(name)}`);
}

/**
 * `name` (checked), then its numbered forms.
 * @param {string} name
 */
function* candidates(name) {
  const nfc = checkName(name);
  yield nfc;
  const [stem, ext] = splitExtension(nfc);
  let base = stem;
  let number = 0;
  const numbered = /^(.*) \((\d{1,6})\)$/su.exec(stem);
  if (numbered) {
    base = numbered[1];
    number = Number(numbered[2]);
  }
  for (let n = number + 1; n < number + MAX_FREE_TRIES; n++) yield fit(base, ` (${n})${ext}`);
}

/**
 * The name a file has while it arrives: `name` + PARTIAL_SUFFIX. A name too long for the suffix
 * is cut and given a short hash of the whole name, so the same name always has the same partial
 * name (for resume) and two long names do not share one.
 * @param {string} name
 */
export function partialName(name) {
  if (utf8Length(name + PARTIAL_SUFFIX) <= MAX_COMPONENT_BYTES) return name + PARTIAL_SUFFIX;
  const tag = `~${sha256Hex(name).slice(0, 8)}`;
  return fit(name, tag + PARTIAL_SUFFIX);
}

/** @param {string} name */
export function isPartial(name) {
  return casefold(name).endsWith(PARTIAL_SUFFIX);
}

/**
 * ["report", ".pdf"], ["backup", ".tar.gz"], [".bashrc", ""]; an "extension" of over 16
 * characters or with a space is none.
 * @param {string} name
 * @returns {[string, string]}
 */
function splitExtension(name) {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return [name, ""];
  let stem = name.slice(0, dot);
  let ext = name.slice(dot);
  if ([...ext].length > 16 || ext.includes(" ")) return [name, ""];
  if (stem.toLowerCase().endsWith(".tar") && [...stem].length > 4) {
    ext = stem.slice(-4) + ext;
    stem = stem.slice(0, -4);
  }
  return [stem, ext];
}

/**
 * `base + tail` in NFC, `base` cut short (whole characters) to fit MAX_COMPONENT_BYTES.
 * @param {string} base
 * @param {string} tail
 */
function fit(base, tail) {
  const room = Math.max(MAX_COMPONENT_BYTES - utf8Length(tail), 0);
  const points = [];
  let used = 0;
  for (const point of base) {
    used += utf8Length(point);
    if (used > room) break;
    points.push(point);
  }
  for (;;) {
    const name = (points.join("") + tail).normalize("NFC");
    if (points.length === 0 || utf8Length(name) <= MAX_COMPONENT_BYTES) return name;
    points.pop();
  }
}
