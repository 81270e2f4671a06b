// @ts-check
/**
 * A `.zip` of a received folder, built in the browser without a library: entries stored as they
 * are (no compression: what arrives is mostly compressed already, and storing costs no CPU),
 * UTF-8 names (general purpose flag bit 11), CRC-32, a local header before each entry, the
 * central directory and the end record after them; ZIP64 records once an entry, an offset or
 * the directory passes 4 GiB - 1, or there are 65,535 entries or more. Each entry's time is in
 * the DOS fields (local time) and, exactly, in an extended timestamp (UTC).
 *
 *   new Blob(await zipParts(entries), {type: "application/zip"})   // file data is not copied
 *   for await (const bytes of zipChunks(entries)) await writable.write(bytes)
 *   zipSize(entries) -> the archive's size in bytes, before building it
 *
 * An entry is `{path, data, size?, crc32?, mtime?}` for a file, `{path: "dir/"}` or
 * `{path: "dir", folder: true}` for a folder (give empty folders; the others come with their
 * files). Paths are checked by names.js (UnsafeName and its tokens), and one path twice is
 * refused as "duplicate". `data` is a Uint8Array or a Blob; the CRC-32 of a Blob is read from it
 * unless given (receiver.js can keep it as the file arrives: `new Incoming(size, 0, {crc32: true})`).
 */

import { UnsafeName } from "./errors.js";
import { Crc32, crc32 } from "./crc32.js";
import { checkPath } from "./names.js";

/** Fields at this value mean "see the ZIP64 record". */
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
/** Bytes read from a Blob at a time. */
const READ_SIZE = 1024 * 1024;

const UTF8_NAMES = 0x0800;
const MADE_BY_UNIX = (3 << 8) | 45;
const FILE_ATTRIBUTES = 0o100644 * 0x10000;
const FOLDER_ATTRIBUTES = 0o040755 * 0x10000 + 0x10;

/**
 * @typedef {{
 *   size: number,
 *   slice: (start?: number, end?: number) => {arrayBuffer: () => Promise<ArrayBuffer>},
 * }} BlobLike
 * @typedef {{
 *   path: string,
 *   data?: Uint8Array | BlobLike,
 *   size?: number,
 *   crc32?: number,
 *   mtime?: Date,
 *   folder?: boolean,
 * }} ZipEntry
 * @typedef {{zip64?: boolean}} ZipOptions  zip64: ZIP64 records everywhere (for tests)
 * @typedef {{
 *   name: Uint8Array,
 *   folder: boolean,
 *   data: Uint8Array | BlobLike | null,
 *   size: number,
 *   crc: number | undefined,
 *   mtime: Date | null,
 *   offset: number,
 *   local64: boolean,
 * }} Planned
 */

/**
 * The archive as parts for a Blob: headers as Uint8Arrays, each file's `data` as given (a Blob
 * stays a Blob: nothing is copied). Blobs without `crc32` are read once for it.
 * @param {Iterable<ZipEntry>} entries
 * @param {ZipOptions} [options]
 * @returns {Promise<Array<Uint8Array | BlobLike>>}
 */
export async function zipParts(entries, options = {}) {
  const planned = plan(entries, options);
  for (const entry of planned) if (entry.crc === undefined) entry.crc = await crcOf(/** @type {BlobLike} */ (entry.data));
  /** @type {Array<Uint8Array | BlobLike>} */
  const parts = [];
  for (const entry of planned) {
    parts.push(localHeader(entry));
    if (entry.data && entry.size > 0) parts.push(entry.data);
  }
  parts.push(...centralDirectory(planned, options));
  return parts;
}

/**
 * The archive as Uint8Array chunks, Blobs read a megabyte at a time (for a writable stream).
 * @param {Iterable<ZipEntry>} entries
 * @param {ZipOptions} [options]
 * @returns {AsyncGenerator<Uint8Array>}
 */
export async function* zipChunks(entries, options = {}) {
  for (const part of await zipParts(entries, options)) {
    if (part instanceof Uint8Array) yield part;
    else yield* blobChunks(part);
  }
}

/**
 * The archive's size in bytes, computed without reading any data.
 * @param {Iterable<ZipEntry>} entries
 * @param {ZipOptions} [options]
 */
export function zipSize(entries, options = {}) {
  const planned = plan(entries, options);
  const end = planned.length ? planned[planned.length - 1] : null;
  const start = end ? end.offset + localHeaderSize(end) + end.size : 0;
  let size = start;
  for (const entry of planned) size += centralHeaderSize(entry, options);
  return size + endSize(planned.length, start, size - start, options);
}

/**
 * Check the entries and place them: names, sizes, offsets.
 * @param {Iterable<ZipEntry>} entries
 * @param {ZipOptions} options
 * @returns {Planned[]}
 */
function plan(entries, options) {
  const encoder = new TextEncoder();
  /** @type {Set<string>} */
  const seen = new Set();
  /** @type {Planned[]} */
  const planned = [];
  let offset = 0;
  for (const entry of entries) {
    const folder = entry.folder === true || (typeof entry.path === "string" && entry.path.endsWith("/"));
    const path = checkPath(folder && entry.path.endsWith("/") ? entry.path.slice(0, -1) : entry.path);
    if (seen.has(path)) throw new UnsafeName("duplicate", `"${path}" is in the archive twice`);
    seen.add(path);
    const data = entry.data ?? null;
    const dataSize = data === null ? 0 : data instanceof Uint8Array ? data.length : data.size;
    const size = entry.size ?? dataSize;
    if (size !== dataSize) throw new RangeError(`"${path}": size ${size}, but the data holds ${dataSize} bytes`);
    if (folder && size !== 0) throw new RangeError(`"${path}": a folder holds no data`);
    if (entry.crc32 !== undefined && !(Number.isInteger(entry.crc32) && entry.crc32 >= 0 && entry.crc32 <= MAX32)) {
      throw new RangeError(`"${path}": crc32 ${entry.crc32} is not a u32`);
    }
    const mtime = entry.mtime instanceof Date && !Number.isNaN(entry.mtime.getTime()) ? entry.mtime : null;
    /** @type {Planned} */
    const item = {
      name: encoder.encode(folder ? `${path}/` : path),
      folder,
      data: size > 0 ? data : null,
      size,
      crc: size === 0 ? 0 : entry.crc32 ?? (data instanceof Uint8Array ? crc32(data) : undefined),
      mtime,
      offset,
      local64: options.zip64 === true || size >= MAX32,
    };
    planned.push(item);
    offset += localHeaderSize(item) + size;
  }
  return planned;
}

/** @param {BlobLike} blob */
async function crcOf(blob) {
  const crc = new Crc32();
  for await (const bytes of blobChunks(blob)) crc.update(bytes);
  return crc.value;
}

/** @param {BlobLike} blob */
async function* blobChunks(blob) {
  for (let at = 0; at < blob.size; at += READ_SIZE) {
    const end = Math.min(at + READ_SIZE, blob.size);
    const bytes = new Uint8Array(await blob.slice(at, end).arrayBuffer());
    if (bytes.length !== end - at) throw new RangeError(`a Blob gave ${bytes.length} bytes of ${end - at}`);
    yield bytes;
  }
}

/**
 * Which ZIP64 fields an entry's central header needs.
 * @param {Planned} entry
 * @param {ZipOptions} options
 */
function central64(entry, options) {
  const all = options.zip64 === true;
  const sizes = all || entry.local64 || entry.size >= MAX32;
  return { sizes, offset: all || entry.offset >= MAX32 };
}

/** @param {Date | null} mtime */
const unixTime = (mtime) => {
  if (!mtime) return null;
  const seconds = Math.floor(mtime.getTime() / 1000);
  return seconds >= 0 && seconds <= 0x7fffffff ? seconds : null;
};

/** @param {Planned} entry */
function localHeaderSize(entry) {
  return 30 + entry.name.length + (entry.local64 ? 20 : 0) + (unixTime(entry.mtime) === null ? 0 : 9);
}

/**
 * @param {Planned} entry
 * @param {ZipOptions} options
 */
function centralHeaderSize(entry, options) {
  const z = central64(entry, options);
  const zip64 = z.sizes || z.offset ? 4 + (z.sizes ? 16 : 0) + (z.offset ? 8 : 0) : 0;
  return 46 + entry.name.length + zip64 + (unixTime(entry.mtime) === null ? 0 : 9);
}

/**
 * Whether the end needs ZIP64 records.
 * @param {number} count
 * @param {number} start where the central directory starts
 * @param {number} size its size
 * @param {ZipOptions} options
 */
const end64 = (count, start, size, options) =>
  options.zip64 === true || count >= MAX16 || start >= MAX32 || size >= MAX32;

/**
 * @param {number} count
 * @param {number} start
 * @param {number} size
 * @param {ZipOptions} options
 */
const endSize = (count, start, size, options) => 22 + (end64(count, start, size, options) ? 56 + 20 : 0);

/** DOS date and time fields, local time, clamped to 1980..2107. @param {Date | null} mtime */
function dosTime(mtime) {
  if (!mtime) return { time: 0, date: (1 << 5) | 1 };
  const year = mtime.getFullYear();
  if (year < 1980) return { time: 0, date: (1 << 5) | 1 };
  if (year > 2107) return { time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 };
  return {
    time: (mtime.getHours() << 11) | (mtime.getMinutes() << 5) | (mtime.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((mtime.getMonth() + 1) << 5) | mtime.getDate(),
  };
}

/** A little-endian writer over a fresh buffer. */
class Writer {
  /** @param {number} size */
  constructor(size) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.at = 0;
  }

  /** @param {number} value */
  u16(value) {
    this.view.setUint16(this.at, value, true);
    this.at += 2;
  }

  /** @param {number} value */
  u32(value) {
    this.view.setUint32(this.at, value, true);
    this.at += 4;
  }

  /** @param {number} value 0..2**53 */
  u64(value) {
    this.view.setUint32(this.at, value % 0x100000000, true);
    this.view.setUint32(this.at + 4, Math.floor(value / 0x100000000), true);
    this.at += 8;
  }

  /** @param {Uint8Array} bytes */
  raw(bytes) {
    this.bytes.set(bytes, this.at);
    this.at += bytes.length;
  }

  /** The bytes, checked to be exactly filled. */
  done() {
    if (this.at !== this.bytes.length) throw new Error(`zip: wrote ${this.at} of ${this.bytes.length} bytes`);
    return this.bytes;
  }
}

/**
 * The extended timestamp extra field (0x5455): the modification time, UTC seconds.
 * @param {Writer} w
 * @param {number | null} seconds
 */
function extendedTime(w, seconds) {
  if (seconds === null) return;
  w.u16(0x5455);
  w.u16(5);
  w.bytes[w.at++] = 1; // modification time present
  w.u32(seconds);
}

/** @param {Planned} entry */
function localHeader(entry) {
  const w = new Writer(localHeaderSize(entry));
  const { time, date } = dosTime(entry.mtime);
  const seconds = unixTime(entry.mtime);
  w.u32(0x04034b50);
  w.u16(entry.local64 ? 45 : 20);
  w.u16(UTF8_NAMES);
  w.u16(0); // stored
  w.u16(time);
  w.u16(date);
  w.u32(/** @type {number} */ (entry.crc));
  w.u32(entry.local64 ? MAX32 : entry.size); // compressed size
  w.u32(entry.local64 ? MAX32 : entry.size);
  w.u16(entry.name.length);
  w.u16((entry.local64 ? 20 : 0) + (seconds === null ? 0 : 9));
  w.raw(entry.name);
  if (entry.local64) {
    w.u16(0x0001);
    w.u16(16);
    w.u64(entry.size);
    w.u64(entry.size);
  }
  extendedTime(w, seconds);
  return w.done();
}

/**
 * @param {Planned} entry
 * @param {ZipOptions} options
 */
function centralHeader(entry, options) {
  const w = new Writer(centralHeaderSize(entry, options));
  const z = central64(entry, options);
  const zip64 = z.sizes || z.offset;
  const { time, date } = dosTime(entry.mtime);
  const seconds = unixTime(entry.mtime);
  w.u32(0x02014b50);
  w.u16(MADE_BY_UNIX);
  w.u16(zip64 || entry.local64 ? 45 : 20);
  w.u16(UTF8_NAMES);
  w.u16(0);
  w.u16(time);
  w.u16(date);
  w.u32(/** @type {number} */ (entry.crc));
  w.u32(z.sizes ? MAX32 : entry.size);
  w.u32(z.sizes ? MAX32 : entry.size);
  w.u16(entry.name.length);
  w.u16((zip64 ? 4 + (z.sizes ? 16 : 0) + (z.offset ? 8 : 0) : 0) + (seconds === null ? 0 : 9));
  w.u16(0); // comment
  w.u16(0); // disk
  w.u16(0); // internal attributes
  w.u32(entry.folder ? FOLDER_ATTRIBUTES : FILE_ATTRIBUTES);
  w.u32(z.offset ? MAX32 : entry.offset);
  w.raw(entry.name);
  if (zip64) {
    w.u16(0x0001);
    w.u16((z.sizes ? 16 : 0) + (z.offset ? 8 : 0));
    if (z.sizes) {
      w.u64(entry.size);
      w.u64(entry.size);
    }
    if (z.offset) w.u64(entry.offset);
  }
  extendedTime(w, seconds);
  return w.done();
}

/**
 * The central directory headers and the end records.
 * @param {Planned[]} planned
 * @param {ZipOptions} options
 * @returns {Uint8Array[]}
 */
function centralDirectory(planned, options) {
  const last = planned.length ? planned[planned.length - 1] : null;
  const start = last ? last.offset + localHeaderSize(last) + last.size : 0;
  const headers = planned.map((entry) => centralHeader(entry, options));
  const size = headers.reduce((sum, h) => sum + h.length, 0);
  const count = planned.length;
  const zip64 = end64(count, start, size, options);
  const w = new Writer(endSize(count, start, size, options));
  if (zip64) {
    const recordAt = start + size;
    w.u32(0x06064b50); // ZIP64 end of central directory record
    w.u64(44); // size of what follows
    w.u16(MADE_BY_UNIX);
    w.u16(45);
    w.u32(0); // this disk
    w.u32(0); // the directory's disk
    w.u64(count);
    w.u64(count);
    w.u64(size);
    w.u64(start);
    w.u32(0x07064b50); // ZIP64 end of central directory locator
    w.u32(0);
    w.u64(recordAt);
    w.u32(1); // disks
  }
  w.u32(0x06054b50);
  w.u16(0);
  w.u16(0);
  w.u16(Math.min(count, MAX16));
  w.u16(Math.min(count, MAX16));
  w.u32(Math.min(size, MAX32));
  w.u32(Math.min(start, MAX32));
  w.u16(0); // comment
  return [...headers, w.done()];
}
