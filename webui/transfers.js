// @ts-check
/**
 * File transfers both ways, as state for the page: what each transfer holds, how far each file
 * is, the speed and the time left (no DOM, no clock of its own: every change takes `now` in
 * milliseconds, so node tests it).
 *
 *   const list = new Transfers();
 *   const tr = list.add({key: "out:7", transfer: 7, direction: "to_customer", name, files: [{path, size}], now});
 *   list.accept(key, {skip: [2]}, now);                   // the receiver's answer
 *   list.progress(key, index, bytesOfThatFile, now);
 *   list.fileDone(key, index, {ok: true, sha256}, now);  // or {ok: false, reason: "hash_mismatch"}
 *   list.end(key, "cancelled", "cancelled", now);
 *   stats(tr, now) -> {bytes, total, fraction, speed, eta, ok, failed, skipped, pending}
 *
 * A transfer is known by a `key` of this page's choosing: its wire number is the sender's pick,
 * so one the customer sends and one the operator sends may carry the same number, and the
 * customer may use a number again once a transfer is over.
 *
 * A transfer's `state` is one of `TRANSFER_STATES`; it becomes "done" by itself once every
 * file has an outcome (all of them ok or skipped: "done", else "failed"). A file's `state` is
 * one of `FILE_STATES`.
 */

/** What a transfer is doing. */
export const TRANSFER_STATES = Object.freeze(["offering", "active", "done", "failed", "cancelled", "declined"]);
/** What one file of a transfer is doing. */
export const FILE_STATES = Object.freeze(["waiting", "moving", "ok", "failed", "skipped", "cancelled"]);
/** Speed is measured over this many milliseconds of the latest progress. */
export const SPEED_WINDOW_MS = 5000;

/**
 * @typedef {"to_customer" | "from_customer"} Direction
 * @typedef {"offering" | "active" | "done" | "failed" | "cancelled" | "declined"} TransferState
 * @typedef {"waiting" | "moving" | "ok" | "failed" | "skipped" | "cancelled"} FileState
 * @typedef {{
 *   path: string,
 *   size: number,
 *   folder: boolean,
 *   state: FileState,
 *   done: number,
 *   reason: string | null,
 *   sha256: string,
 *   savedAs: string,
 *   startedAt: number | null,
 *   endedAt: number | null,
 * }} FileRow
 *   done: bytes of it moved so far; reason: a token when failed or skipped; savedAs: the
 *   receiver's name for it, when it said
 * @typedef {{
 *   key: string,
 *   transfer: number,
 *   direction: Direction,
 *   name: string,
 *   fromFolder: string,
 *   toFolder: string,
 *   files: FileRow[],
 *   total: number,
 *   state: TransferState,
 *   reason: string | null,
 *   startedAt: number,
 *   endedAt: number | null,
 *   samples: {at: number, bytes: number}[],
 *   moved: number,
 * }} Transfer
 *   total: bytes of every file; moved: bytes moved so far (all files); samples: recent
 *   (time, moved) pairs for the speed
 * @typedef {{path: string, size: number, folder?: boolean}} FileSpec
 * @typedef {{
 *   bytes: number, total: number, fraction: number, speed: number | null, eta: number | null,
 *   ok: number, failed: number, skipped: number, pending: number,
 * }} Stats
 *   speed in bytes per second (null until measurable); eta in seconds (null when unknown)
 */

/**
 * A transfer's numbers now.
 * @param {Transfer} tr
 * @param {number} now milliseconds
 * @returns {Stats}
 */
export function stats(tr, now) {
  let ok = 0;
  let failed = 0;
  let skipped = 0;
  let pending = 0;
  for (const f of tr.files) {
    if (f.folder) continue;
    if (f.state === "ok") ok++;
    else if (f.state === "skipped") skipped++;
    else if (f.state === "failed" || f.state === "cancelled") failed++;
    else pending++;
  }
  const fraction = tr.total === 0 ? (pending === 0 ? 1 : 0) : Math.min(1, tr.moved / tr.total);
  const speed = tr.state === "active" ? speedOf(tr.samples, now) : null;
  const left = tr.total - tr.moved;
  const eta = speed !== null && speed > 0 ? left / speed : left === 0 && tr.state === "active" ? 0 : null;
  return { bytes: tr.moved, total: tr.total, fraction, speed, eta, ok, failed, skipped, pending };
}

/**
 * Bytes per second over the samples of the last `SPEED_WINDOW_MS` (null with under 0.5 s of them).
 * @param {{at: number, bytes: number}[]} samples oldest first
 * @param {number} now
 */
export function speedOf(samples, now) {
  if (samples.length < 2) return null;
  const last = samples[samples.length - 1];
  if (now - last.at > SPEED_WINDOW_MS) return 0; // nothing moved for a while
  const first = samples.find((s) => s.at >= now - SPEED_WINDOW_MS) ?? samples[0];
  const span = last.at - first.at;
  if (span < 500) return null;
  return ((last.bytes - first.bytes) * 1000) / span;
}

export class Transfers {
  constructor() {
    /** @type {Map<string, Transfer>} newest last */
    this.byId = new Map();
  }

  /**
   * A new transfer, "offering" until the other side answers.
   * @param {{key: string, transfer: number, direction: Direction, name: string, files: readonly FileSpec[],
   *   now: number, fromFolder?: string, toFolder?: string}} spec
   * @returns {Transfer}
   */
  add({ key, transfer, direction, name, files, now, fromFolder = "", toFolder = "" }) {
    if (this.byId.has(key)) throw new RangeError(`transfer ${key} exists already`);
    /** @type {Transfer} */
    const tr = {
      key, transfer, direction, name, fromFolder, toFolder,
      files: files.map((f) => ({
        path: f.path, size: f.folder ? 0 : f.size, folder: f.folder === true, state: "waiting", done: 0,
        reason: null, sha256: "", savedAs: "", startedAt: null, endedAt: null,
      })),
      total: 0, state: "offering", reason: null, startedAt: now, endedAt: null, samples: [], moved: 0,
    };
    for (const f of tr.files) {
      tr.total += f.size;
      if (f.folder) f.state = "ok"; // an empty folder has nothing to move
    }
    this.byId.set(key, tr);
    return tr;
  }

  /** @param {string} key */
  get(key) {
    return this.byId.get(key) ?? null;
  }

  /** Every transfer, newest first. */
  list() {
    return [...this.byId.values()].reverse();
  }

  /**
   * The other side accepted: the skipped files are set aside.
   * @param {string} key
   * @param {{skip?: Iterable<number>, reasons?: Map<number, string>, toFolder?: string}} answer
   * @param {number} now
   */
  accept(key, { skip = [], reasons = new Map(), toFolder }, now) {
    const tr = this.#live(key);
    if (!tr) return;
    tr.state = "active";
    if (toFolder !== undefined) tr.toFolder = toFolder;
    for (const index of skip) {
      const f = tr.files[index];
      if (!f || f.folder) continue;
      f.state = "skipped";
      f.reason = reasons.get(index) ?? "skipped";
      tr.total -= f.size;
    }
    tr.samples = [{ at: now, bytes: tr.moved }];
    this.#settle(tr, now);
  }

  /**
   * Bytes `0..done` of file `index` have moved (a resume starts with its offset).
   * @param {string} key
   * @param {number} index
   * @param {number} done
   * @param {number} now
   */
  progress(key, index, done, now) {
    const tr = this.#live(key);
    const f = tr?.files[index];
    if (!tr || !f || (f.state !== "waiting" && f.state !== "moving")) return;
    if (f.state === "waiting") {
      f.state = "moving";
      f.startedAt = now;
    }
    const clamped = Math.max(0, Math.min(done, f.size));
    tr.moved += clamped - f.done;
    f.done = clamped;
    const last = tr.samples[tr.samples.length - 1];
    if (last && now - last.at < 100) last.bytes = tr.moved; // at most ten samples a second
    else tr.samples.push({ at: now, bytes: tr.moved });
    while (tr.samples.length > 2 && tr.samples[1].at < now - SPEED_WINDOW_MS) tr.samples.shift();
  }

  /**
   * File `index` has its outcome.
   * @param {string} key
   * @param {number} index
   * @param {{ok: boolean, reason?: string | null, sha256?: string, savedAs?: string}} outcome
   * @param {number} now
   */
  fileDone(key, index, { ok, reason = null, sha256, savedAs }, now) {
    const tr = this.byId.get(key);
    const f = tr?.files[index];
    if (!tr || !f || f.state === "ok" || f.state === "failed" || f.state === "skipped" || f.state === "cancelled") return;
    if (ok) this.progress(key, index, f.size, now);
    f.state = ok ? "ok" : "failed";
    f.reason = ok ? null : reason ?? "failed";
    if (sha256) f.sha256 = sha256;
    if (savedAs) f.savedAs = savedAs;
    f.startedAt ??= now;
    f.endedAt = now;
    this.#settle(tr, now);
  }

  /**
   * The whole transfer stops: cancelled, declined or failed; files without an outcome get `fileState`.
   * @param {string} key
   * @param {"cancelled" | "declined" | "failed"} state
   * @param {string} reason a token
   * @param {number} now
   * @returns {FileRow[]} the files that had no outcome yet
   */
  end(key, state, reason, now) {
    const tr = this.#live(key);
    if (!tr) return [];
    const open = tr.files.filter((f) => f.state === "waiting" || f.state === "moving");
    for (const f of open) {
      f.state = "cancelled";
      f.reason = reason;
      f.endedAt = now;
    }
    tr.state = state;
    tr.reason = reason;
    tr.endedAt = now;
    return open;
  }

  /**
   * Forget a transfer that is over.
   * @param {string} key
   */
  remove(key) {
    const tr = this.byId.get(key);
    if (tr && !isOver(tr)) return false;
    return this.byId.delete(key);
  }

  clear() {
    this.byId.clear();
  }

  /** @param {string} key */
  #live(key) {
    const tr = this.byId.get(key);
    return tr && !isOver(tr) ? tr : null;
  }

  /**
   * @param {Transfer} tr
   * @param {number} now
   */
  #settle(tr, now) {
    if (tr.state !== "active") return;
    if (tr.files.some((f) => f.state === "waiting" || f.state === "moving")) return;
    tr.state = tr.files.every((f) => f.state === "ok" || f.state === "skipped") ? "done" : "failed";
    tr.endedAt = now;
  }
}

/**
 * Whether a transfer has ended, one way or another.
 * @param {Transfer} tr
 */
export function isOver(tr) {
  return tr.state !== "offering" && tr.state !== "active";
}

/** Byte units, powers of 1024. */
const UNITS = ["B", "KB", "MB", "GB", "TB"];

/**
 * A size for people: "0 B", "512 B", "1.5 MB", "12 MB", "3.2 GB" (1024-based; the number
 * grouped as `locale` groups digits).
 * @param {number} bytes
 * @param {string} [locale]
 */
export function formatBytes(bytes, locale = "en-US") {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toLocaleString(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${UNITS[unit]}`;
}

/**
 * Time left for people: "5 s", "2 min 05 s", "1 h 02 min" (units as the SI writes them, in every language).
 * @param {number} seconds
 */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}
