// @ts-check
/**
 * One file being received, as the peer's `peer/files/incoming.py` receives one: chunks in
 * order, within the declared size, checked by SHA-256 at the end. Where the bytes go (Blob
 * parts, a FileSystemWritableFileStream) is the caller's business: call `chunk()` first and
 * write its data only if it did not throw.
 *
 *   const file = new Incoming(size);                  // from the start
 *   const file = Incoming.resuming(size, hash, start); // on from a partial file's hash
 *   const file = new Incoming(size, start); file.seed(keptBytes) ...  // or seed it here
 *   const n = file.chunk(offset, data);               // write data (n bytes) at offset
 *   file.finish(claimedSha256Hex) -> {ok, token, sha256}   // after the sender's end of file
 *
 * `TransferError.token` thrown by `chunk` (the sender's fault; after one, the file can only
 * fail: later chunks throw the same token, and `finish` gives it):
 *
 *   out_of_order  a chunk does not start where the previous one ended (a gap or an overlap)
 *   past_end      a chunk goes past the declared size (a sender lying about the size)
 *   finished      a chunk, or a second end, after the end of the file
 *   bad_start     (Incoming.resuming) a resume from an offset the receiver did not prove
 *
 * `finish` always ends the file and gives the SHA-256 of what arrived; when not ok, `token` is
 * "short" (fewer bytes than declared), "hash_mismatch", or the token that failed the file
 * earlier. A short file is resumed with a new `Incoming` (resume.js).
 *
 * Misuse by our own code (a bad size, seeding too much, a chunk before the seed is complete)
 * throws RangeError, not a token.
 */

import { Crc32 } from "./crc32.js";
import { TransferError } from "./errors.js";
import { MAX_OFFSET } from "./frames.js";
import { sameDigest } from "./resume.js";
import { Sha256 } from "../sha256.js";

/** Every token of `Incoming`, as incoming.py's TRANSFER_CODES. */
export const TRANSFER_TOKENS = Object.freeze(["out_of_order", "past_end", "finished", "bad_start", "short", "hash_mismatch"]);

/**
 * @typedef {{ok: boolean, token: string | null, sha256: string}} FinishResult
 *   ok: every byte arrived and the SHA-256 matched; sha256: of what arrived (prefix included)
 * @typedef {{crc32?: boolean | Crc32}} IncomingOptions
 *   crc32: also keep a CRC-32 (for zip.js, saving a second read): true, or a Crc32 of the prefix
 */

export class Incoming {
  #hash = new Sha256();
  /** @type {Crc32 | null} */
  #crc;
  #received;
  #finished = false;
  /** @type {string | null} */
  #failed = null;

  /**
   * @param {number} size the file's declared size in bytes
   * @param {number} [start] bytes already kept from an earlier attempt, 0..size (then `seed` them)
   * @param {IncomingOptions} [options]
   */
  constructor(size, start = 0, options = {}) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_OFFSET) throw new RangeError(`file size ${size} out of range`);
    if (!Number.isInteger(start) || start < 0 || start > size) throw new RangeError(`start ${start} outside a file of ${size} bytes`);
    this.size = size;
    this.start = start;
    this.#received = start;
    this.#crc = options.crc32 instanceof Crc32 ? options.crc32.copy() : options.crc32 ? new Crc32() : null;
  }

  /**
   * Go on from the hash of the partial file (the one its proof came from) if the sender chose to
   * resume there; `start` 0 starts over. Any other `start` is "bad_start".
   * @param {number} size
   * @param {Sha256} prefix the hash of the partial file's bytes
   * @param {number} start where the sender resumes
   * @param {IncomingOptions} [options]
   */
  static resuming(size, prefix, start, options = {}) {
    if (start === 0) return new Incoming(size, 0, { ...options, crc32: options.crc32 ? true : undefined });
    if (start !== prefix.length || start > size) {
      throw new TransferError("bad_start", `start ${start}, proved ${prefix.length}, file of ${size} bytes`);
    }
    const incoming = new Incoming(size, start, options);
    incoming.#hash = prefix.copy();
    return incoming;
  }

  /**
   * Hash part of the kept prefix (in order, before any chunk); all seeded pieces together must be
   * exactly `start` bytes.
   * @param {Uint8Array} prefix
   */
  seed(prefix) {
    if (this.#hash.length + prefix.length > this.start) {
      throw new RangeError(`seeded more than the start of ${this.start} bytes`);
    }
    this.#hash.update(prefix);
    this.#crc?.update(prefix);
  }

  /** Whether the kept bytes are all hashed (always, when starting from 0). */
  get seeded() {
    return this.#hash.length >= this.start;
  }

  /**
   * Take `data` at `offset`: returns how many bytes to write there (all of them), or throws
   * TransferError.
   * @param {number} offset
   * @param {Uint8Array} data
   * @returns {number}
   */
  chunk(offset, data) {
    this.#checkSeeded();
    if (this.#failed !== null) throw new TransferError(this.#failed, "the file has already failed");
    if (this.#finished) throw new TransferError("finished", `a chunk at ${offset} after the end`);
    const n = data.length;
    if (offset !== this.#received) this.#fail("out_of_order", `a chunk at ${offset}, expected ${this.#received}`);
    if (offset + n > this.size) this.#fail("past_end", `${n} bytes at ${offset} in a file of ${this.size} bytes`);
    this.#hash.update(data);
    this.#crc?.update(data);
    this.#received += n;
    return n;
  }

  /**
   * The sender says the file is complete, with this SHA-256 (hex, any case).
   * @param {string} claimedSha256
   * @returns {FinishResult}
   */
  finish(claimedSha256) {
    this.#checkSeeded();
    if (this.#finished) throw new TransferError("finished", "a second end of the file");
    this.#finished = true;
    const sha256 = this.#hash.hex();
    if (this.#failed !== null) return { ok: false, token: this.#failed, sha256 };
    if (this.#received < this.size) return { ok: false, token: "short", sha256 };
    if (!sameDigest(sha256, claimedSha256)) return { ok: false, token: "hash_mismatch", sha256 };
    return { ok: true, token: null, sha256 };
  }

  /** Bytes of the file present so far, the kept prefix included. */
  get received() {
    return this.#received;
  }

  /** Bytes still to come. */
  get remaining() {
    return this.size - this.#received;
  }

  /** How much is here, 0..1 (an empty file is complete). */
  get fraction() {
    return this.size === 0 ? 1 : this.#received / this.size;
  }

  /** Whether every declared byte is here (the sender's end may still be awaited). */
  get complete() {
    return this.#received === this.size;
  }

  /** Whether `finish` was called. */
  get finished() {
    return this.#finished;
  }

  /** The token that failed this file, or null. */
  get failed() {
    return this.#failed;
  }

  /** The CRC-32 of the whole file once complete, when asked for; else null. */
  get crc32() {
    return this.#crc && this.complete && this.#failed === null ? this.#crc.value : null;
  }

  #checkSeeded() {
    if (!this.seeded) throw new RangeError(`seed ${this.start} bytes first (${this.#hash.length} so far)`);
  }

  /**
   * @param {string} token
   * @param {string} message
   * @returns {never}
   */
  #fail(token, message) {
    this.#failed = token;
    throw new TransferError(token, message);
  }
}
