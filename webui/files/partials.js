// @ts-check
/**
 * Files from the customer that stopped half-way, kept so that the same file offered again (in a
 * new session, on the same page, or after a reload) goes on from where it stopped instead of
 * from zero: the console's side of `file_answer.resume` (resume.js has the decision itself).
 *
 * A partial file is known by what makes "the same file offered again": the offer's
 * `from_folder`, the entry's `path` and its `size` (`partialId`). It holds the bytes received so
 * far as Blobs appended in order (the panel's batches of chunks) and their `length`. Nothing in it
 * is trusted: the receiver proves the bytes by their SHA-256 (`provePartial`) and the sender
 * resumes only when its own first `length` bytes have the same digest.
 *
 *   const store = pagePartials();                          // this page's store (IndexedDB, or memory)
 *   await store.append(key, at, blob) -> true | false      // the bytes at..at+blob.size of that file
 *   await store.find(key) -> {length, blob} | null         // what is kept of that file
 *   const {hash, crc} = await provePartial(blob);          // its SHA-256 (to go on from) and CRC-32
 *   await store.drop(key);                                 // the file completed, failed, or starts over
 *
 * Bounded: at most `maxBytes` in all (2 GiB, or half of what `navigator.storage.estimate()`
 * gives this origin when that is less), the least recently written partial dropped first to
 * make room; a partial not written for `MAX_PARTIAL_AGE_MS` (7 days) is dropped. A file larger
 * than the whole bound is kept up to the bound, no further (`append` says false). An append
 * that does not start exactly at the kept length is refused, so the kept bytes are always one
 * unbroken prefix.
 *
 * Where the bytes live is a `PartialBackend`: `indexedDbBackend` (the database
 * "supportlink-partials": one record of facts per file, and one record per appended Blob, so an
 * append writes only the new Blob) or `memoryBackend` (this page's memory: private windows where
 * IndexedDB fails, and node). `PartialStore` does the rest (the bounds, the order of
 * operations: one at a time, in the order asked), and keeps the facts of every partial in
 * memory, so an offer of 10,000 files is looked up without 10,000 reads. No operation throws:
 * a backend that fails gives `false` / `null`.
 */

import { Crc32 } from "./crc32.js";
import { Sha256 } from "../sha256.js";

/** Most bytes all partial files together may hold. */
export const MAX_PARTIAL_BYTES = 2 * 1024 ** 3;
/** A partial file not written for this long (milliseconds) is dropped. */
export const MAX_PARTIAL_AGE_MS = 7 * 24 * 3600 * 1000;
/** The IndexedDB database of the partial files. */
export const PARTIALS_DB = "supportlink-partials";
/** Bytes read at once when a partial file is hashed. */
const READ_SIZE = 1024 * 1024;

/**
 * @typedef {{fromFolder: string, path: string, size: number}} PartialKey
 *   what identifies a file offered again: the offer's from_folder, the entry's path and size
 * @typedef {{
 *   id: string, fromFolder: string, path: string, size: number,
 *   length: number, chunks: number, created: number, updated: number,
 * }} PartialMeta
 *   length: bytes kept (the sum of its Blobs); chunks: how many Blobs; times in milliseconds
 * @typedef {{
 *   kind: string,
 *   load: () => Promise<PartialMeta[]>,
 *   chunks: (id: string) => Promise<Blob[]>,
 *   write: (meta: PartialMeta, chunk: {seq: number, blob: Blob}) => Promise<void>,
 *   remove: (ids: readonly string[]) => Promise<void>,
 * }} PartialBackend
 *   write: the facts and one more Blob together (all or nothing); remove: facts and Blobs
 * @typedef {{length: number, blob: Blob}} Partial
 * @typedef {{
 *   now?: () => number,
 *   maxBytes?: number | Promise<number>,
 *   maxAge?: number,
 * }} StoreOptions
 */

/**
 * The key of a partial file in the store.
 * @param {PartialKey} key
 */
export function partialId({ fromFolder, path, size }) {
  return JSON.stringify([fromFolder, path, size]);
}

/**
 * The bound of all partial files given what the browser says this origin may store: half its
 * quota, at most `max` (`max` when it says nothing useful).
 * @param {{quota?: number, usage?: number} | null | undefined} estimate
 * @param {number} [max]
 */
export function capFor(estimate, max = MAX_PARTIAL_BYTES) {
  const quota = estimate?.quota;
  if (typeof quota !== "number" || !Number.isFinite(quota) || quota <= 0) return max;
  return Math.min(max, Math.floor(quota / 2));
}

/**
 * Which partial files to drop before `adding` more bytes to `keep` (null: only tidying up), and
 * whether it then fits: every partial older than `maxAge`, then the least recently written ones
 * until the total is within `maxBytes`. When `keep` alone would not fit, nothing else is dropped
 * for it (only the old ones) and `fits` is false.
 * @param {readonly PartialMeta[]} metas
 * @param {{now: number, maxBytes: number, maxAge: number, keep?: string | null, adding?: number}} want
 * @returns {{drop: string[], fits: boolean}}
 */
export function evictions(metas, { now, maxBytes, maxAge, keep = null, adding = 0 }) {
  /** @type {string[]} */
  const drop = [];
  /** @type {PartialMeta[]} */
  const live = [];
  for (const m of metas) {
    if (m.id !== keep && now - m.updated > maxAge) drop.push(m.id);
    else live.push(m);
  }
  const own = (live.find((m) => m.id === keep)?.length ?? 0) + adding;
  if (own > maxBytes) return { drop, fits: false };
  let total = live.reduce((sum, m) => sum + m.length, 0) + adding;
  const others = live.filter((m) => m.id !== keep).sort((a, b) => a.updated - b.updated);
  for (const m of others) {
    if (total <= maxBytes) break;
    drop.push(m.id);
    total -= m.length;
  }
  return { drop, fits: total <= maxBytes };
}

/**
 * The SHA-256 of a kept prefix (to prove it, and to go on hashing from it when the sender
 * resumes) and its CRC-32 (for a .zip), in one read of `blob`, block by block.
 * @param {Blob} blob
 * @param {{readSize?: number}} [options]
 * @returns {Promise<{hash: Sha256, crc: Crc32}>}
 */
export async function provePartial(blob, { readSize = READ_SIZE } = {}) {
  const hash = new Sha256();
  const crc = new Crc32();
  for (let at = 0; at < blob.size; at += readSize) {
    const bytes = new Uint8Array(await blob.slice(at, Math.min(blob.size, at + readSize)).arrayBuffer());
    hash.update(bytes);
    crc.update(bytes);
  }
  return { hash, crc };
}

export class PartialStore {
  /** @type {PartialBackend} */
  #backend = memoryBackend();
  /** The facts of every partial file, by id. @type {Map<string, PartialMeta>} */
  #index = new Map();
  /** Operations run one at a time, in the order asked. @type {Promise<unknown>} */
  #queue;
  #maxBytes = MAX_PARTIAL_BYTES;
  #maxAge;
  #now;

  /**
   * @param {PartialBackend | Promise<PartialBackend>} backend a backend that fails to open or to
   *   load leaves the store in this page's memory
   * @param {StoreOptions} [options]
   */
  constructor(backend, { now = () => Date.now(), maxBytes = MAX_PARTIAL_BYTES, maxAge = MAX_PARTIAL_AGE_MS } = {}) {
    this.#now = now;
    this.#maxAge = maxAge;
    this.#queue = (async () => {
      this.#maxBytes = await Promise.resolve(maxBytes).catch(() => MAX_PARTIAL_BYTES);
      try {
        const opened = await backend;
        const metas = await opened.load();
        this.#backend = opened;
        for (const m of metas) this.#index.set(m.id, m);
      } catch {
        this.#backend = memoryBackend();
        this.#index.clear();
      }
      const { drop } = evictions([...this.#index.values()], { now: this.#now(), maxBytes: this.#maxBytes, maxAge });
      await this.#remove(drop);
    })();
  }

  /** Where the bytes are: "indexeddb" or "memory" (once the store is open). */
  async kind() {
    return this.#run(async () => this.#backend.kind);
  }

  /** The bound of all partial files together, in bytes. */
  async maxBytes() {
    return this.#run(async () => this.#maxBytes);
  }

  /**
   * Every partial file's facts, least recently written first.
   * @returns {Promise<PartialMeta[]>}
   */
  async list() {
    return this.#run(async () => [...this.#index.values()].map((m) => ({ ...m })).sort((a, b) => a.updated - b.updated));
  }

  /**
   * What is kept of a file: its first `length` bytes (never 0), or null.
   * @param {PartialKey} key
   * @returns {Promise<Partial | null>}
   */
  async find(key) {
    const id = partialId(key);
    return this.#run(async () => {
      const meta = this.#index.get(id);
      if (!meta) return null;
      if (this.#now() - meta.updated > this.#maxAge || meta.length === 0 || meta.length > meta.size) {
        await this.#remove([id]);
        return null;
      }
      let blob;
      try {
        blob = new Blob(await this.#backend.chunks(id));
      } catch {
        return null;
      }
      if (blob.size !== meta.length) {
        await this.#remove([id]); // not what was written: of no use
        return null;
      }
      return { length: meta.length, blob };
    });
  }

  /**
   * Keep `blob` as the bytes `at..at+blob.size` of a file. True when kept; false when `at` is not
   * where the kept bytes end (0 for a file not kept yet), the bytes go past the file's size, they
   * do not fit the bound, or the backend failed: then nothing changed.
   * @param {PartialKey} key
   * @param {number} at
   * @param {Blob} blob
   */
  async append(key, at, blob) {
    const id = partialId(key);
    return this.#run(async () => {
      const meta = this.#index.get(id);
      const length = meta?.length ?? 0;
      if (at !== length || at + blob.size > key.size) return false;
      if (blob.size === 0) return true;
      const now = this.#now();
      const plan = evictions([...this.#index.values()], {
        now, maxBytes: this.#maxBytes, maxAge: this.#maxAge, keep: id, adding: blob.size,
      });
      await this.#remove(plan.drop);
      if (!plan.fits) return false;
      /** @type {PartialMeta} */
      const next = {
        ...(meta ?? { id, fromFolder: key.fromFolder, path: key.path, size: key.size, length: 0, chunks: 0, created: now }),
        updated: now,
      };
      next.length = length + blob.size;
      next.chunks += 1;
      try {
        await this.#backend.write(next, { seq: next.chunks - 1, blob });
      } catch {
        return false;
      }
      this.#index.set(id, next);
      return true;
    });
  }

  /**
   * Forget what is kept of a file (nothing if nothing is).
   * @param {PartialKey} key
   */
  async drop(key) {
    const id = partialId(key);
    return this.#run(async () => {
      if (this.#index.has(id)) await this.#remove([id]);
    });
  }

  /**
   * @template T
   * @param {() => Promise<T>} operation
   * @returns {Promise<T>}
   */
  #run(operation) {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => {});
    return result;
  }

  /** @param {readonly string[]} ids */
  async #remove(ids) {
    if (ids.length === 0) return;
    for (const id of ids) this.#index.delete(id);
    try {
      await this.#backend.remove(ids);
    } catch {
      // left in the database; its facts are gone from the index, so it is never offered as proof
    }
  }
}

/**
 * A store in this page's memory only: what a private window or node gets.
 * @param {StoreOptions} [options]
 */
export function memoryPartials(options) {
  return new PartialStore(memoryBackend(), options);
}

/**
 * Partial files in this page's memory (the Blobs are the panel's own: nothing is copied).
 * @returns {PartialBackend}
 */
export function memoryBackend() {
  /** @type {Map<string, PartialMeta>} */
  const metas = new Map();
  /** @type {Map<string, Blob[]>} */
  const blobs = new Map();
  return {
    kind: "memory",
    load: async () => [...metas.values()].map((m) => ({ ...m })),
    chunks: async (id) => [...(blobs.get(id) ?? [])],
    write: async (meta, { seq, blob }) => {
      const list = blobs.get(meta.id) ?? [];
      list[seq] = blob;
      blobs.set(meta.id, list);
      metas.set(meta.id, { ...meta });
    },
    remove: async (ids) => {
      for (const id of ids) {
        metas.delete(id);
        blobs.delete(id);
      }
    },
  };
}

/**
 * Partial files in IndexedDB: the store "partials" holds each file's facts (key: its id), the
 * store "chunks" each appended Blob (key: [id, seq]).
 * @param {IDBFactory} idb
 * @param {string} [name]
 * @returns {Promise<PartialBackend>}
 */
export async function indexedDbBackend(idb, name = PARTIALS_DB) {
  const db = await request(() => {
    const open = idb.open(name, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore("partials", { keyPath: "id" });
      open.result.createObjectStore("chunks", { keyPath: ["id", "seq"] });
    };
    return open;
  });
  db.onversionchange = () => db.close();
  /** @param {string} id */
  const range = (id) => IDBKeyRange.bound([id, 0], [id, Infinity]);
  return {
    kind: "indexeddb",
    load: () => request(() => db.transaction("partials").objectStore("partials").getAll()),
    chunks: async (id) => {
      const rows = await request(() => db.transaction("chunks").objectStore("chunks").getAll(range(id)));
      return rows.map((/** @type {{blob: Blob}} */ row) => row.blob);
    },
    write: (meta, { seq, blob }) => done(db.transaction(["partials", "chunks"], "readwrite"), (tx) => {
      tx.objectStore("chunks").put({ id: meta.id, seq, blob });
      tx.objectStore("partials").put(meta);
    }),
    remove: (ids) => done(db.transaction(["partials", "chunks"], "readwrite"), (tx) => {
      for (const id of ids) {
        tx.objectStore("partials").delete(id);
        tx.objectStore("chunks").delete(range(id));
      }
    }),
  };
}

/**
 * The result of one IndexedDB request.
 * @template T
 * @param {() => IDBRequest<T>} make
 * @returns {Promise<T>}
 */
function request(make) {
  return new Promise((resolve, reject) => {
    const req = make();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Run `fill` in `tx` and wait until the transaction is committed (or failed).
 * @param {IDBTransaction} tx
 * @param {(tx: IDBTransaction) => void} fill
 * @returns {Promise<void>}
 */
function done(tx, fill) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("the transaction was aborted"));
    try {
      fill(tx);
    } catch (err) {
      tx.abort(); // nothing of it is written
      reject(err);
    }
  });
}

/**
 * A store in IndexedDB when this browser has it, else in memory; bounded by what
 * `navigator.storage.estimate()` says (`capFor`).
 * @param {{indexedDB?: IDBFactory, storage?: {estimate?: () => Promise<{quota?: number, usage?: number}>}, now?: () => number}} [env]
 */
export function openPartials({ indexedDB = globalThis.indexedDB, storage = globalThis.navigator?.storage, now } = {}) {
  const backend = indexedDB ? indexedDbBackend(indexedDB).catch(() => memoryBackend()) : Promise.resolve(memoryBackend());
  const maxBytes = typeof storage?.estimate === "function"
    ? storage.estimate().then((e) => capFor(e), () => MAX_PARTIAL_BYTES)
    : MAX_PARTIAL_BYTES;
  return new PartialStore(backend, { maxBytes, now });
}

/** @type {PartialStore | null} */
let page = null;

/** This page's store, opened once (every session of the page shares it). */
export function pagePartials() {
  page ??= openPartials();
  return page;
}

/** Proofs one `file_answer.resume` may carry (the registry's bound). */
export const MAX_PROOFS = 500;

/**
 * @typedef {{key: PartialKey, length: number, hash: Sha256, crc: Crc32, blob: Blob}} Proof
 *   a kept prefix of one entry, proven: its SHA-256 state (the receiver goes on from it), its
 *   CRC-32 state and its bytes (the received file's first part)
 */

/**
 * The proofs for an offer's entries: for each of `indices` (files, not folders) whose partial
 * file is kept, its prefix hashed, at most `MAX_PROOFS`. `alive` is asked between files: false
 * stops the look (the transfer ended meanwhile) and gives null. A partial that cannot be read
 * back is dropped and left out.
 * @param {PartialStore} store
 * @param {string} fromFolder
 * @param {readonly {path: string, size: number}[]} entries
 * @param {readonly number[]} indices
 * @param {() => boolean} [alive]
 * @returns {Promise<Map<number, Proof> | null>}
 */
export async function proofsFor(store, fromFolder, entries, indices, alive = () => true) {
  /** @type {Map<number, Proof>} */
  const proofs = new Map();
  for (const index of indices) {
    if (proofs.size >= MAX_PROOFS) break;
    const { path, size } = entries[index];
    if (size === 0) continue;
    const key = { fromFolder, path, size };
    const found = await store.find(key);
    if (!alive()) return null;
    if (!found) continue;
    try {
      const { hash, crc } = await provePartial(found.blob);
      proofs.set(index, { key, length: found.length, hash, crc, blob: found.blob });
    } catch {
      await store.drop(key); // its bytes are gone (a browser that cleared them under us)
    }
    if (!alive()) return null;
  }
  return proofs;
}
