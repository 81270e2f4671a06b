// @ts-check
/**
 * CRC-32 (ISO-HDLC: reflected, polynomial 0xEDB88320; the CRC of zip, gzip and PNG), whole or in
 * pieces. Slicing-by-8 tables: eight bytes per step.
 *
 *   crc32(bytes) -> u32                         crc32("123456789") === 0xcbf43926
 *   const c = new Crc32(); c.update(chunk); ...; c.value -> u32
 */

const TABLES = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let s = 1; s < 8; s++) {
      const prev = t[(s - 1) * 256 + n];
      t[s * 256 + n] = t[prev & 0xff] ^ (prev >>> 8);
    }
  }
  return t;
})();

/**
 * Continue a CRC over `bytes`.
 * @param {number} crc the CRC so far (0 to start)
 * @param {Uint8Array} bytes
 * @returns {number} u32
 */
function extend(crc, bytes) {
  const t = TABLES;
  let c = ~crc;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t[1792 + (lo & 0xff)] ^ t[1536 + ((lo >>> 8) & 0xff)] ^ t[1280 + ((lo >>> 16) & 0xff)] ^ t[1024 + (lo >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The CRC-32 of `data` (a string counts as its UTF-8 bytes).
 * @param {Uint8Array | string} data
 * @returns {number} u32
 */
export function crc32(data) {
  return extend(0, typeof data === "string" ? new TextEncoder().encode(data) : data);
}

/** A CRC-32 fed in pieces. */
export class Crc32 {
  #crc = 0;

  /**
   * @param {Uint8Array} bytes
   * @returns {this}
   */
  update(bytes) {
    this.#crc = extend(this.#crc, bytes);
    return this;
  }

  /** An independent copy in the present state. */
  copy() {
    const other = new Crc32();
    other.#crc = this.#crc;
    return other;
  }

  /** The CRC-32 of everything so far, u32. */
  get value() {
    return this.#crc;
  }
}
