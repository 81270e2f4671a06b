// @ts-check
/**
 * SHA-256 (FIPS 180-4) in plain JavaScript.
 *
 * The console needs it for the verification code and for every file it sends or receives;
 * `crypto.subtle` exists only on secure origins (HTTPS or localhost) and has no incremental
 * digest, so a console served over plain HTTP on a LAN hashes by itself:
 *
 *   sha256(bytes or string) -> 32 bytes        sha256Hex(...) -> "e3b0c4..."
 *   const h = new Sha256();  h.update(chunk); ...;  h.hex()   (a file, in pieces)
 *
 * After `digest()`/`hex()` a `Sha256` is finished: another `update` throws (`copy()` first to
 * look at a digest and go on). `length` is the count of bytes hashed so far (exact up to 2**53).
 */

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * The SHA-256 digest of `data`; a string is hashed as its UTF-8 encoding.
 * @param {Uint8Array | string} data
 * @returns {Uint8Array} 32 bytes
 */
export function sha256(data) {
  return new Sha256().update(typeof data === "string" ? new TextEncoder().encode(data) : data).digest();
}

/**
 * The SHA-256 digest of `data` as 64 lower-case hex digits.
 * @param {Uint8Array | string} data
 * @returns {string}
 */
export function sha256Hex(data) {
  return Array.from(sha256(data), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export class Sha256 {
  #h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  #w = new Uint32Array(64);
  /** A partial block waiting for more bytes. */
  #block = new Uint8Array(64);
  #buffered = 0;
  #length = 0;
  /** @type {Uint8Array | null} */
  #result = null;

  /** Bytes hashed so far. */
  get length() {
    return this.#length;
  }

  /**
   * Hash `data` after everything before it.
   * @param {Uint8Array} data
   * @returns {this}
   */
  update(data) {
    if (this.#result) throw new Error("this SHA-256 is finished; start a new one");
    if (!(data instanceof Uint8Array)) throw new TypeError("SHA-256 hashes a Uint8Array");
    this.#length += data.length;
    let i = 0;
    if (this.#buffered > 0) {
      const take = Math.min(64 - this.#buffered, data.length);
      this.#block.set(data.subarray(0, take), this.#buffered);
      this.#buffered += take;
      i = take;
      if (this.#buffered < 64) return this;
      this.#compress(this.#block, 0);
      this.#buffered = 0;
    }
    for (; i + 64 <= data.length; i += 64) this.#compress(data, i);
    if (i < data.length) {
      this.#block.set(data.subarray(i));
      this.#buffered = data.length - i;
    }
    return this;
  }

  /**
   * The 32-byte digest of everything hashed; the hash is finished after this (calling it again
   * gives the same bytes).
   * @returns {Uint8Array}
   */
  digest() {
    if (this.#result) return this.#result.slice();
    const length = this.#length;
    const tail = new Uint8Array(this.#buffered < 56 ? 64 : 128);
    tail.set(this.#block.subarray(0, this.#buffered));
    tail[this.#buffered] = 0x80;
    const view = new DataView(tail.buffer);
    // the length in bits, 64-bit big-endian: bytes * 8 split without leaving exact Numbers
    view.setUint32(tail.length - 8, Math.floor(length / 0x20000000));
    view.setUint32(tail.length - 4, (length % 0x20000000) * 8);
    for (let i = 0; i < tail.length; i += 64) this.#compress(tail, i);
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setUint32(i * 4, this.#h[i]);
    this.#result = out;
    return out.slice();
  }

  /**
   * An independent copy of this hash in its present state: the receiver's proof of a partial
   * file (`copy().hex()`) without finishing the hash that goes on.
   * @returns {Sha256}
   */
  copy() {
    const other = new Sha256();
    other.#h.set(this.#h);
    other.#block.set(this.#block);
    other.#buffered = this.#buffered;
    other.#length = this.#length;
    other.#result = this.#result && this.#result.slice();
    return other;
  }

  /** The digest as 64 lower-case hex digits. */
  hex() {
    return Array.from(this.digest(), (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  /**
   * One 64-byte block of `bytes` from `at`.
   * @param {Uint8Array} bytes
   * @param {number} at
   */
  #compress(bytes, at) {
    const w = this.#w;
    const h = this.#h;
    for (let i = 0; i < 16; i++, at += 4) {
      w[i] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (k + S1 + ch + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      k = g; g = f; f = e; e = (d + t1) | 0;
      d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += k;
  }
}
