// @ts-check
/**
 * Resuming a file after a drop, the same decision as the peer's `peer/files/digest.py`:
 *
 *   receiver: hashes the partial file it holds      -> sends proofOf(hash) = {length, sha256}
 *   sender:   hashes the first `length` bytes of its source (sender.js `hashPrefix`)
 *             resumeOffset(proof, sourceSize, thatSha) -> where to start: proof.length, or 0
 *   receiver: Incoming.resuming(size, hash, start) goes on from the same hash state
 *   sender:   sendFile({start, prefix: thatHash, ...}) goes on hashing from it
 *
 * so the SHA-256 at the end covers the whole file and the partial file is read once on each side.
 */

/** @typedef {{length: number, sha256: string}} PrefixProof  "I hold the first `length` bytes; this is their SHA-256" */

const HEX64 = /^[0-9a-f]{64}$/;

/** SHA-256 of nothing. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/**
 * Whether `text` is a SHA-256 as the wire carries it: 64 lower-case hex digits.
 * @param {unknown} text
 */
export function isSha256Hex(text) {
  return typeof text === "string" && HEX64.test(text);
}

/**
 * Whether two hex digests are equal, without regard to case.
 * @param {string} a
 * @param {string} b
 */
export function sameDigest(a, b) {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

/**
 * The proof of what `hash` has seen, leaving `hash` free to go on.
 * @param {import("../sha256.js").Sha256} hash
 * @returns {PrefixProof}
 */
export function proofOf(hash) {
  return { length: hash.length, sha256: hash.copy().hex() };
}

/**
 * The sender's decision: where to start sending. `partial` is what the receiver holds (null:
 * nothing); `sourcePrefixSha` the SHA-256 of the source's first `partial.length` bytes (null
 * when the source is shorter, or could not be read). The partial is kept only if the source is
 * at least that long and starts with exactly those bytes; else the file starts over at 0.
 * A malformed proof (a bad length or digest) starts over too.
 * @param {PrefixProof | null} partial
 * @param {number} sourceSize
 * @param {string | null} sourcePrefixSha
 */
export function resumeOffset(partial, sourceSize, sourcePrefixSha) {
  if (partial === null || sourcePrefixSha === null) return 0;
  const { length, sha256 } = partial;
  if (!Number.isSafeInteger(length) || length <= 0 || !isSha256Hex(sha256)) return 0;
  if (length > sourceSize) return 0;
  return sameDigest(sha256, sourcePrefixSha) ? length : 0;
}
