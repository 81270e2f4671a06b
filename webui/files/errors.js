// @ts-check
/**
 * The error family of `webui/files/`, mirroring the peer's `peer/files/errors.py`.
 *
 *     FilesError(Error)                 .token, a stable snake_case word the UI puts in words
 *      +-- UnsafeName(FilesError)          a name from the other side is refused   (names.js)
 *      +-- BadFrame(FilesError)            a binary frame is malformed             (frames.js)
 *      +-- TransferError(FilesError)       a chunk breaks the order, the size or the state,
 *                                          or the transfer stopped ("cancelled", "closed")
 *
 * The Python side calls the token `code`; `.code` here is the same word, so code that handles
 * both reads alike. Misuse by our own code (a negative size, seeding too much) throws a plain
 * RangeError or TypeError instead: that is a bug here, not something the other side did.
 */

export class FilesError extends Error {
  /**
   * @param {string} token stable word, e.g. "out_of_order"
   * @param {string} message for the log, in English
   */
  constructor(token, message) {
    super(`${token}: ${message}`);
    this.name = new.target.name;
    this.token = token;
  }

  /** The same word as `token`, under the Python side's name for it. */
  get code() {
    return this.token;
  }
}

/** A name (or a set of names) from the other side is refused; see `NAME_TOKENS` in names.js. */
export class UnsafeName extends FilesError {}

/** A binary chunk frame is malformed; see `FRAME_TOKENS` in frames.js. */
export class BadFrame extends FilesError {}

/** A chunk or the end of a file breaks the rules, or the transfer stopped; see receiver.js and sender.js. */
export class TransferError extends FilesError {}
