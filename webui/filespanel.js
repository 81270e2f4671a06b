// @ts-check
/**
 * File transfer with the customer, both ways, on the `files` data channel: the protocol here,
 * the page in `filesview.js`, the numbers in `transfers.js`, the bytes in `files/`.
 *
 * Text frames on the channel are the FILES messages, binary frames are chunks (`files/frames.js`).
 * Whoever sends picks the transfer's number and offers it (`file_offer`, split over several
 * messages when its entries do not fit one); the receiver answers (`file_answer`: accept, skip,
 * resume); the sender then sends each file in order (`file_start`, chunks, `file_end` with the
 * SHA-256) and the receiver says how each ended (`file_result`). Either side may stop the whole
 * transfer (`file_cancel`).
 *
 * Flow control, so that a file does not fill the link's queue and hold back the operator's clicks
 * and keys on the `control` channel (`files/flow.js`): the receiver of a transfer tells its sender
 * how many bytes of it arrived (`file_ack`, at most every 10 ms; at once at each file's end), and
 * the sender keeps only a window of bytes on their way (`SendFlow` in `files/sender.js`, one per
 * transfer to the customer). The customer's acks for our transfers move our window; our acks for
 * the customer's transfers come from one `Acker` each, with a timer for a count held back.
 *
 * To the customer: only while the customer allows "files" (asked for like the clipboard). From
 * the customer: the customer chose to send, so an offer is accepted at once, into this page's
 * memory (at most `MAX_RECEIVE_BYTES` a transfer); each name is checked (`files/names.js`)
 * before it is used, and a refused one is skipped with a `file_result` giving the token. What
 * arrived whole and verified can be saved (`filesview.js`).
 *
 * A file from the customer cut off half-way (the channel or the session went, either side
 * cancelled) is not lost: its bytes go into this page's store of partial files as they arrive
 * (`hooks.partials`, `files/partials.js`: IndexedDB, else memory; with the batches of chunks, not
 * frame by frame), and stay there when the transfer is cut. When the same file is offered again
 * (same `from_folder`, path and size; a new session, or after a reload of the page), the answer
 * proves the part already here (`file_answer.resume`: its length and SHA-256); a `file_start` at
 * that offset goes on from it (the file's bytes and its running SHA-256 begin with the kept
 * part, so `file_end`'s check covers the whole file), a `file_start` at 0 (the customer's file
 * changed) starts over and replaces it, any other offset is refused ("bad_start"). The partial is
 * dropped once its file ends, well or not.
 *
 * The operator may also ask for a path on the customer's computer (`file_request`, one waiting at
 * a time: `filerequests.js`); the customer is shown exactly what is there and decides, the answer
 * comes back as `file_request_result`, and what the customer sends arrives as any offer does.
 *
 * Every file that ends, well or not, goes into the transfer log (`hooks.record`: IndexedDB in
 * the browser, `files/log.js`).
 *
 *   const files = new FilesPanel(hooks);
 *   files.start(facts);                      // paired
 *   files.receive(msg);                      // a FILES text message from the peer
 *   files.receiveBinary(data);               // a chunk frame
 *   files.send(items, {name});               // offer files to the customer -> key, or a problem token
 *   files.cancel(key);                       // the operator stops a transfer
 *   files.ask(path);                         // ask the customer for a file or folder by its path
 *   files.stop("closed");                    // the channel or the session went: every live transfer ends
 *   files.resumedBytes(key, index);          // bytes of a file from the customer already here from an earlier try
 *
 * `FILES_PANEL` registers it as the panel of the `files` capability (`panels.js`).
 */

import { FileRequests, requestText } from "./filerequests.js";
import { FilesError, TransferError } from "./files/errors.js";
import { Acker, voiceOn } from "./files/flow.js";
import { chunkSize, decodeFrame } from "./files/frames.js";
import { duplicates, pathProblem, uniqueAmong } from "./files/names.js";
import { pagePartials, proofsFor } from "./files/partials.js";
import { Incoming } from "./files/receiver.js";
import { resumeOffset } from "./files/resume.js";
import { SendFlow, blobReader, hashPrefix, seconds, sendFile } from "./files/sender.js";
import { locale, t } from "./i18n.js";
import { definePanel } from "./panels.js";
import { MAX_FILES_PER_TRANSFER, utf8Length } from "./protocol.js";
import { FilesView } from "./filesview.js";
import { Transfers, formatBytes } from "./transfers.js";

/** A file_offer message is kept under this many bytes of JSON (the registry takes 64 KiB). */
export const OFFER_BYTES = 60 * 1024;
/** Entries one file_offer message may carry (the registry's bound). */
export const OFFER_ENTRIES = 1000;
/** Most bytes one transfer from the customer may hold: it is kept in this page's memory. */
export const MAX_RECEIVE_BYTES = 2 * 1024 ** 3;
/** Chunks kept as small arrays until this many bytes, then joined into one Blob (which a browser may page out). */
const BLOB_BATCH = 8 * 1024 * 1024;

/**
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {import("./transfers.js").Transfer} Transfer
 * @typedef {import("./files/log.js").TransferRecord} TransferRecord
 * @typedef {import("./files/sender.js").ChannelLike} SendChannel
 * @typedef {{path: string, size: number, folder?: boolean}} Entry
 * @typedef {{path: string, file?: Blob, folder?: boolean}} Outgoing
 *   one thing to send: a file (`file`) at `path`, or an empty folder
 * @typedef {{blob: Blob, crc32: number | null, sha256: string}} Received
 * @typedef {import("./files/partials.js").PartialStore} PartialStore
 * @typedef {import("./files/partials.js").PartialKey} PartialKey
 * @typedef {import("./files/partials.js").Proof} Proof
 * @typedef {{
 *   index: number, file: Incoming, parts: BlobPart[], batch: Uint8Array[], batchBytes: number,
 *   key: PartialKey, stored: number, keep: boolean,
 * }} Current
 *   the file arriving now: parts, the Blobs so far (a resumed file's kept part first); batch, the
 *   chunks not in a Blob yet; key, its partial file's; stored, the bytes handed to the store;
 *   keep, whether the store still takes them
 * @typedef {{
 *   key: string, transfer: number, name: string, fromFolder: string, count: number, total: number,
 *   entries: Entry[], offered: boolean, accepted: Set<number>, current: Current | null,
 *   next: number, received: Map<number, Received>, acker: Acker | null,
 *   ackTimer: ReturnType<typeof setTimeout> | null, proofs: Map<number, Proof>,
 * }} InState
 *   next: the lowest index a file_start may name (files come in order); acker: when to send
 *   file_ack (from our file_answer on); ackTimer: sends a count the acker held back once it is
 *   due; proofs: the partial files our file_answer proved, by index
 * @typedef {{
 *   key: string, transfer: number, items: Outgoing[], abort: AbortController, answered: boolean,
 *   toFolder: string, flow: SendFlow | null,
 * }} OutState
 *   flow: the window of the transfer, from its first file on (the customer's file_acks move it)
 * @typedef {{mode: string, operator: string, user: string, host: string, startedAt: Date, sessionId?: string}} Facts
 * @typedef {{
 *   send: (msg: {type: string, [field: string]: any}) => boolean,
 *   channel: () => SendChannel | null,
 *   maxMessageSize: () => number | undefined,
 *   allowed: () => boolean,
 *   log: (line: string, level?: "info" | "error") => void,
 *   record: (record: TransferRecord) => void,
 *   changed: () => void,
 *   now?: () => number,
 *   clock?: () => number,
 *   partials?: PartialStore | null,
 * }} FilesHooks
 *   send: a text message on the files channel (false while it is not open); channel: the raw
 *   channel, for chunks; allowed: the customer allows files and the channel is open; changed:
 *   the transfers changed (draw them); now: milliseconds, for the transfers' times; clock:
 *   seconds, steady, for the flow control (`performance.now() / 1000` unless a test gives one);
 *   partials: where files cut off half-way are kept to be resumed (none: every file from zero,
 *   and the answer to an offer goes at once)
 */

/**
 * The file_offer messages of one transfer: the entries in order, as many in each message as fit
 * under `limit` bytes of JSON (and `OFFER_ENTRIES`); `more` is false on the last one only.
 * @param {{transfer: number, name: string, from_folder: string, entries: readonly Entry[]}} offer
 * @param {number} [limit]
 * @returns {Array<{type: "file_offer", transfer: number, name: string, from_folder: string, count: number,
 *   total: number, entries: Entry[], more: boolean}>}
 */
export function offerMessages({ transfer, name, from_folder, entries }, limit = OFFER_BYTES) {
  const total = entries.reduce((sum, e) => sum + (e.folder ? 0 : e.size), 0);
  const base = { type: /** @type {const} */ ("file_offer"), transfer, name, from_folder, count: entries.length, total };
  const empty = utf8Length(JSON.stringify({ ...base, entries: [], more: false }));
  const messages = [];
  /** @type {Entry[]} */
  let batch = [];
  let size = empty;
  for (const entry of entries) {
    const wire = entry.folder ? { path: entry.path, size: 0, folder: true } : { path: entry.path, size: entry.size };
    const bytes = utf8Length(JSON.stringify(wire)) + 1; // and a comma
    if (batch.length > 0 && (size + bytes > limit || batch.length >= OFFER_ENTRIES)) {
      messages.push({ ...base, entries: batch, more: true });
      batch = [];
      size = empty;
    }
    if (empty + bytes > limit) throw new RangeError(`an entry of ${bytes} bytes does not fit an offer`);
    batch.push(wire);
    size += bytes;
  }
  messages.push({ ...base, entries: batch, more: false });
  return messages;
}

/**
 * Which entries of an offer from the customer to skip, and why: a name `names.js` refuses, or
 * one that would be the same file as an earlier one ("duplicate"), or a file another path needs
 * as its folder ("not_a_folder").
 * @param {readonly Entry[]} entries
 * @returns {Map<number, string>} index -> token
 */
export function refusedEntries(entries) {
  /** @type {Map<number, string>} */
  const refused = new Map();
  entries.forEach((e, i) => {
    const problem = pathProblem(e.path);
    if (problem !== null) refused.set(i, problem);
  });
  const good = entries.map((_, i) => i).filter((i) => !refused.has(i));
  /** @type {Map<string, number[]>} */
  const byPath = new Map();
  for (const i of good) byPath.set(entries[i].path, [...(byPath.get(entries[i].path) ?? []), i]);
  for (const group of duplicates(good.map((i) => entries[i].path))) {
    const indices = [...new Set(group)].flatMap((path) => byPath.get(path) ?? []).sort((a, b) => a - b);
    for (const i of indices.slice(1)) refused.set(i, "duplicate"); // the first of them is kept
  }
  /** @param {string} path */
  const fold = (path) => path.normalize("NFC").toUpperCase().toLowerCase();
  const parents = new Set();
  for (const i of good) {
    if (refused.has(i)) continue;
    const parts = fold(entries[i].path).split("/");
    for (let depth = 1; depth < parts.length; depth++) parents.add(parts.slice(0, depth).join("/"));
  }
  for (const i of good) {
    if (!refused.has(i) && !entries[i].folder && parents.has(fold(entries[i].path))) refused.set(i, "not_a_folder");
  }
  return refused;
}

/**
 * A new transfer number, 1..2**32-1, not in `taken`.
 * @param {(n: number) => boolean} taken
 */
export function newTransferNumber(taken) {
  const word = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(word);
    if (word[0] !== 0 && !taken(word[0])) return word[0];
  }
}

export class FilesPanel {
  /** @param {FilesHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.now = hooks.now ?? (() => Date.now());
    this.clock = hooks.clock ?? seconds;
    this.transfers = new Transfers();
    /** Transfers from the customer not over yet, by wire number. @type {Map<number, InState>} */
    this.incoming = new Map();
    /** Transfers to the customer not over yet, by wire number. @type {Map<number, OutState>} */
    this.outgoing = new Map();
    /** What arrived whole and verified, by transfer key (kept after the transfer ends). @type {Map<string, Map<number, Received>>} */
    this.saved = new Map();
    /** @type {Facts | null} */
    this.facts = null;
    this.seq = 0;
    /** The operator's requests for a path. */
    this.requests = new FileRequests();
    /** The page's partial files (or none). */
    this.partials = hooks.partials ?? null;
    /** Bytes a resumed file from the customer found already here, by transfer key and index. @type {Map<string, Map<number, number>>} */
    this.resumed = new Map();
  }

  /** @param {Facts} facts */
  start(facts) {
    this.reset();
    this.facts = { ...facts };
  }

  /** Nothing shown, nothing kept (received files neither). */
  reset() {
    this.stop("closed", false);
    this.transfers.clear();
    this.saved.clear();
    this.resumed.clear();
    this.requests.clear();
    this.facts = null;
    this.hooks.changed();
  }

  /**
   * Every live transfer ends (the channel went, the session is over, or a fresh connection
   * replaced the old one); the customer is told when `tell` and the channel is still open.
   * @param {string} reason
   * @param {boolean} [tell]
   */
  stop(reason, tell = true) {
    for (const out of [...this.outgoing.values()]) this.#endOut(out, "failed", reason, tell);
    for (const inc of [...this.incoming.values()]) this.#endIn(inc, "failed", reason, tell);
    this.requests.closed();
  }

  /** @param {string} key */
  received(key) {
    return this.saved.get(key) ?? new Map();
  }

  /**
   * Bytes of file `index` of a transfer from the customer that were already here from an
   * earlier try (0: it came whole this time).
   * @param {string} key
   * @param {number} index
   */
  resumedBytes(key, index) {
    return this.resumed.get(key)?.get(index) ?? 0;
  }

  // ------------------------------------------------------------------- from the peer

  /** @param {Message} msg a FILES message from the peer */
  receive(msg) {
    if (!this.facts) return;
    switch (msg.type) {
      case "file_offer": return this.#onOffer(msg);
      case "file_start": return this.#onStart(msg);
      case "file_end": return this.#onEnd(msg);
      case "file_answer": return this.#onAnswer(msg);
      case "file_result": return this.#onResult(msg);
      case "file_cancel": return this.#onCancel(msg);
      case "file_ack": return this.#onAck(msg);
      case "file_request_result": return this.#onRequestResult(msg);
      case "error":
        this.hooks.log(t("log.files.peer_error", { code: msg.code, message: msg.message }), "error");
        return;
    }
  }

  /**
   * A binary frame: a chunk of a file the customer sends.
   * @param {unknown} data
   */
  receiveBinary(data) {
    if (!this.facts) return;
    let frame;
    try {
      frame = decodeFrame(data);
    } catch (err) {
      if (!(err instanceof FilesError)) throw err;
      this.hooks.log(t("log.files.bad_frame", { token: err.token }), "error");
      return;
    }
    const inc = this.incoming.get(frame.transfer);
    if (inc) this.#acknowledge(inc, frame.data.length); // every byte that came, even a failed file's
    const cur = inc?.current;
    if (!inc || !cur || cur.index !== frame.index) return; // a cancelled or failed file's late chunks
    try {
      cur.file.chunk(frame.offset, frame.data);
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      this.#fileFailed(inc, cur.index, err.token);
      return;
    }
    cur.batch.push(frame.data.slice());
    cur.batchBytes += frame.data.length;
    if (cur.batchBytes >= BLOB_BATCH) this.#keep(cur, flush(cur));
    this.transfers.progress(inc.key, cur.index, cur.file.received, this.now());
    this.hooks.changed();
  }

  /** @param {Message} msg */
  #onOffer(msg) {
    let inc = this.incoming.get(msg.transfer);
    if (inc && inc.offered) {
      this.hooks.log(t("log.files.offer_again", { transfer: String(msg.transfer) }), "error");
      return;
    }
    if (!inc) {
      inc = {
        key: `in:${msg.transfer}:${++this.seq}`, transfer: msg.transfer, name: msg.name, fromFolder: msg.from_folder,
        count: msg.count, total: msg.total, entries: [], offered: false, accepted: new Set(), current: null, next: 0,
        received: new Map(), acker: null, ackTimer: null, proofs: new Map(),
      };
      this.incoming.set(msg.transfer, inc);
    }
    inc.entries.push(...msg.entries);
    if (inc.entries.length > inc.count) return this.#decline(inc, "bad_offer");
    if (msg.more) return;
    inc.offered = true;
    const sum = inc.entries.reduce((s, e) => s + (e.folder ? 0 : e.size), 0);
    if (inc.entries.length !== inc.count || sum !== inc.total) return this.#decline(inc, "bad_offer");
    if (inc.total > MAX_RECEIVE_BYTES) return this.#decline(inc, "too_large");
    const now = this.now();
    this.transfers.add({
      key: inc.key, transfer: inc.transfer, direction: "from_customer", name: msg.name, now,
      fromFolder: inc.fromFolder, files: inc.entries,
    });
    const refused = refusedEntries(inc.entries);
    const kept = inc.entries.map((_, i) => i).filter((i) => !refused.has(i));
    try {
      // what is kept must be safe together too (zip.js and a picked folder rely on it)
      uniqueAmong(kept.filter((i) => !inc.entries[i].folder).map((i) => inc.entries[i].path),
        kept.filter((i) => inc.entries[i].folder).map((i) => inc.entries[i].path));
    } catch (err) {
      if (!(err instanceof FilesError)) throw err;
      this.transfers.end(inc.key, "declined", err.token, now);
      return this.#decline(inc, err.token);
    }
    for (const i of kept) if (!inc.entries[i].folder) inc.accepted.add(i);
    const store = this.partials;
    if (!store) return this.#accept(inc, refused);
    const files = [...inc.accepted].sort((a, b) => a - b);
    const alive = () => this.incoming.get(inc.transfer) === inc;
    void proofsFor(store, inc.fromFolder, inc.entries, files, alive).then(
      (proofs) => {
        if (!proofs || !alive()) return; // the transfer ended while its partial files were looked at
        inc.proofs = proofs;
        this.#accept(inc, refused);
      },
      () => alive() && this.#accept(inc, refused),
    );
  }

  /**
   * Answer an offer from the customer: accepted, but the refused names, with the proofs of the
   * partial files kept from an earlier try.
   * @param {InState} inc
   * @param {Map<number, string>} refused
   */
  #accept(inc, refused) {
    const now = this.now();
    const skip = [...refused.keys()].sort((a, b) => a - b);
    const resume = [...inc.proofs].map(([index, p]) => ({ index, length: p.length, sha256: p.hash.copy().hex() }));
    this.hooks.send({ type: "file_answer", transfer: inc.transfer, accept: true, skip, resume });
    inc.acker = new Acker(this.clock()); // the customer counts its bytes from this answer on
    this.hooks.log(t("log.files.incoming", {
      name: inc.name, count: String(inc.count), bytes: String(inc.total), refused: String(refused.size),
    }));
    if (resume.length > 0) this.hooks.log(t("log.files.partials", { count: String(resume.length) }));
    this.transfers.accept(inc.key, { skip, reasons: refused }, now);
    for (const index of skip) {
      const token = /** @type {string} */ (refused.get(index));
      this.hooks.send({ type: "file_result", transfer: inc.transfer, index, ok: false, reason: token });
      this.hooks.log(t("log.files.refused_name", { token }), "error");
      if (!inc.entries[index].folder) this.#recordIn(inc, index, "skipped", "", token);
    }
    this.saved.set(inc.key, inc.received);
    this.#settleIn(inc);
    this.hooks.changed();
  }

  /**
   * @param {InState} inc
   * @param {string} reason
   */
  #decline(inc, reason) {
    this.incoming.delete(inc.transfer);
    this.hooks.send({ type: "file_answer", transfer: inc.transfer, accept: false, skip: [], resume: [], reason });
    this.hooks.log(t("log.files.declined_offer", { name: inc.name, reason }), "error");
    this.hooks.changed();
  }

  /** @param {Message} msg */
  #onStart(msg) {
    const inc = this.incoming.get(msg.transfer);
    if (!inc || !inc.offered || !inc.acker) return; // not answered yet: the customer cannot start
    const index = msg.index;
    if (inc.current) this.#fileFailed(inc, inc.current.index, "short"); // a new file before the end of this one
    const refuse = () => {
      if (index < inc.entries.length && !inc.entries[index].folder) this.#fileFailed(inc, index, "bad_start");
    };
    const proof = inc.proofs.get(index);
    inc.proofs.delete(index);
    if (!inc.accepted.has(index) || index < inc.next || (!proof && msg.offset !== 0)) return refuse();
    const { path, size } = inc.entries[index];
    /** @type {Incoming} */
    let file;
    try {
      // on from the proven part (offset: its length) or from 0; any other offset is a lie ("bad_start")
      file = proof ? Incoming.resuming(size, proof.hash, msg.offset, { crc32: proof.crc }) : new Incoming(size, 0, { crc32: true });
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      return refuse();
    }
    inc.next = index + 1;
    const key = { fromFolder: inc.fromFolder, path, size };
    const start = file.start;
    inc.current = {
      index, file, parts: start > 0 && proof ? [proof.blob] : [], batch: [], batchBytes: 0, key, stored: start, keep: true,
    };
    if (start === 0) {
      void this.partials?.drop(key); // nothing kept, or a changed file: it starts over
      if (proof) this.hooks.log(t("log.files.changed", { path }));
      this.transfers.progress(inc.key, index, 0, this.now());
    } else {
      this.resumed.set(inc.key, (this.resumed.get(inc.key) ?? new Map()).set(index, start));
      this.hooks.log(t("log.files.resumed", { path, size: formatBytes(start, locale()) }));
      alreadyThere(this.transfers, inc.key, index, start, this.now());
    }
    this.hooks.changed();
  }

  /** @param {Message} msg */
  #onEnd(msg) {
    const inc = this.incoming.get(msg.transfer);
    if (inc) this.#acknowledge(inc, 0, true); // the end of a file: every byte of it, at once
    const cur = inc?.current;
    if (!inc || !cur || cur.index !== msg.index) return;
    inc.current = null;
    this.#forget(cur); // it ends here, well or not: nothing to go on from
    const result = cur.file.finish(msg.sha256);
    if (!result.ok) {
      this.#fileFailed(inc, cur.index, /** @type {string} */ (result.token), result.sha256);
      return;
    }
    flush(cur);
    const blob = new Blob(cur.parts);
    inc.received.set(cur.index, { blob, crc32: cur.file.crc32, sha256: result.sha256 });
    this.hooks.send({ type: "file_result", transfer: inc.transfer, index: cur.index, ok: true });
    this.transfers.fileDone(inc.key, cur.index, { ok: true, sha256: result.sha256 }, this.now());
    this.#recordIn(inc, cur.index, "ok", result.sha256);
    this.#settleIn(inc);
    this.hooks.changed();
  }

  /**
   * One file from the customer failed: say so, once.
   * @param {InState} inc
   * @param {number} index
   * @param {string} token
   * @param {string} [sha256]
   */
  #fileFailed(inc, index, token, sha256 = "") {
    if (inc.current?.index === index) {
      this.#forget(inc.current); // the customer's side broke it: no part of it to go on from
      inc.current = null;
    }
    if (!inc.accepted.delete(index)) return;
    inc.next = Math.max(inc.next, index + 1);
    this.hooks.send({ type: "file_result", transfer: inc.transfer, index, ok: false, reason: token });
    this.hooks.log(t("log.files.file_failed", { path: inc.entries[index].path, token }), "error");
    this.transfers.fileDone(inc.key, index, { ok: false, reason: token, sha256 }, this.now());
    this.#recordIn(inc, index, "failed", sha256, token);
    this.#settleIn(inc);
    this.hooks.changed();
  }

  /** @param {InState} inc */
  #settleIn(inc) {
    const tr = this.transfers.get(inc.key);
    if (tr && tr.state !== "active" && tr.state !== "offering") {
      this.incoming.delete(inc.transfer);
      stopAckTimer(inc);
      this.hooks.log(t("log.files.received", { name: inc.name, ok: String(inc.received.size) }));
    }
  }

  /**
   * @param {InState} inc
   * @param {"failed" | "cancelled"} state
   * @param {string} reason
   * @param {boolean} tell
   */
  #endIn(inc, state, reason, tell) {
    this.incoming.delete(inc.transfer);
    stopAckTimer(inc);
    if (inc.current) this.#keep(inc.current, flush(inc.current)); // cut: the partial file stays, every byte of it
    inc.current = null;
    if (tell) this.hooks.send({ type: "file_cancel", transfer: inc.transfer, reason });
    const open = this.transfers.end(inc.key, state, reason, this.now());
    for (const f of open) {
      const index = this.transfers.get(inc.key)?.files.indexOf(f) ?? -1;
      if (index >= 0 && !f.folder) this.#recordIn(inc, index, "cancelled", "", reason);
    }
    this.hooks.changed();
  }

  /**
   * Hand a batch of the file arriving now to the store of partial files, after the ones before
   * it; once the store refuses one (full, or failing) the file is no longer kept.
   * @param {Current} cur
   * @param {Blob | null} blob
   */
  #keep(cur, blob) {
    const store = this.partials;
    if (!store || !blob || !cur.keep) return;
    const at = cur.stored;
    cur.stored += blob.size;
    const stop = () => void (cur.keep = false);
    void store.append(cur.key, at, blob).then((kept) => kept || stop(), stop);
  }

  /**
   * The file arriving now ended: what is kept of it goes.
   * @param {Current} cur
   */
  #forget(cur) {
    cur.keep = false;
    void this.partials?.drop(cur.key);
  }

  /**
   * Count `n` more bytes of a transfer from the customer and send its file_ack when the acker
   * says so (`last`: a file's end, at once); a count held back goes when it is due, by a timer.
   * @param {InState} inc
   * @param {number} n
   * @param {boolean} [last]
   */
  #acknowledge(inc, n, last = false) {
    if (!inc.acker) return;
    this.#sendAck(inc, inc.acker.add(n, this.clock(), { last }));
    this.#armAckTimer(inc);
  }

  /**
   * One timer per transfer while the acker holds a count back: at its `due` time it sends what
   * `flush` gives (and looks again if a count is still held back).
   * @param {InState} inc
   */
  #armAckTimer(inc) {
    const due = inc.acker?.due ?? null;
    if (due === null) return stopAckTimer(inc);
    if (inc.ackTimer !== null) return;
    const wait = Math.max(0, Math.ceil((due - this.clock()) * 1000));
    inc.ackTimer = setTimeout(() => {
      inc.ackTimer = null;
      if (this.incoming.get(inc.transfer) !== inc || !inc.acker) return;
      this.#sendAck(inc, inc.acker.flush(this.clock()));
      this.#armAckTimer(inc);
    }, wait);
  }

  /**
   * @param {InState} inc
   * @param {number | null} received the acker's count, null: nothing to say
   */
  #sendAck(inc, received) {
    if (received === null) return;
    try {
      this.hooks.send({ type: "file_ack", transfer: inc.transfer, received });
    } catch {
      // the channel is going: the transfer ends with it, and a frame handler must not throw
    }
  }

  // ------------------------------------------------------------------- to the peer

  /**
   * Offer files (and empty folders) to the customer. Returns the transfer's key, or why it could
   * not go: "not_allowed", "empty", "too_many", "closed".
   * @param {readonly Outgoing[]} items paths relative to what is offered ("report.pdf", "photos/a.jpg")
   * @param {{name: string}} offer
   * @returns {{key: string} | {problem: string}}
   */
  send(items, { name }) {
    if (!this.facts || !this.hooks.allowed()) return { problem: "not_allowed" };
    if (items.length === 0) return { problem: "empty" };
    if (items.length > MAX_FILES_PER_TRANSFER) return { problem: "too_many" };
    const transfer = newTransferNumber((n) => this.outgoing.has(n));
    const key = `out:${transfer}:${++this.seq}`;
    const entries = items.map((it) => (it.folder ? { path: it.path, size: 0, folder: true } : { path: it.path, size: it.file?.size ?? 0 }));
    /** @type {OutState} */
    const out = { key, transfer, items: [...items], abort: new AbortController(), answered: false, toFolder: "", flow: null };
    this.transfers.add({ key, transfer, direction: "to_customer", name, files: entries, now: this.now() });
    this.outgoing.set(transfer, out);
    for (const m of offerMessages({ transfer, name, from_folder: "", entries })) {
      if (!this.hooks.send(m)) {
        this.#endOut(out, "failed", "closed", false);
        return { problem: "closed" };
      }
    }
    this.hooks.log(t("log.files.offered", { name, count: String(items.length) }));
    this.hooks.changed();
    return { key };
  }

  /**
   * The operator stops a transfer (either way).
   * @param {string} key
   */
  cancel(key) {
    const tr = this.transfers.get(key);
    if (!tr) return;
    const out = this.outgoing.get(tr.transfer);
    if (out?.key === key) return this.#endOut(out, "cancelled", "cancelled", true);
    const inc = this.incoming.get(tr.transfer);
    if (inc?.key === key) return this.#endIn(inc, "cancelled", "cancelled", true);
  }

  /** @param {Message} msg */
  #onAnswer(msg) {
    const out = this.outgoing.get(msg.transfer);
    if (!out || out.answered) return;
    out.answered = true;
    out.toFolder = msg.to_folder ?? "";
    if (!msg.accept) {
      const reason = msg.reason ?? "declined";
      this.hooks.log(t("log.files.declined", { reason }));
      this.#endOut(out, "declined", reason, false);
      return;
    }
    const skip = new Set(msg.skip.filter((/** @type {number} */ i) => i < out.items.length && !out.items[i].folder));
    this.transfers.accept(out.key, { skip, toFolder: out.toFolder }, this.now());
    for (const index of skip) this.#recordOut(out, index, "skipped", "", "skipped");
    /** @type {Map<number, {length: number, sha256: string}>} */
    const resume = new Map(msg.resume.map((/** @type {any} */ r) => [r.index, r]));
    void this.#pump(out, skip, resume);
    this.#settleOut(out);
    this.hooks.changed();
  }

  /**
   * Send every file of `out` the receiver did not skip, in order.
   * @param {OutState} out
   * @param {Set<number>} skip
   * @param {Map<number, {length: number, sha256: string}>} resume
   */
  async #pump(out, skip, resume) {
    const signal = out.abort.signal;
    for (let index = 0; index < out.items.length; index++) {
      const item = out.items[index];
      if (item.folder || skip.has(index) || !item.file) continue;
      if (signal.aborted || this.outgoing.get(out.transfer) !== out) return;
      const channel = this.hooks.channel();
      if (!channel) return this.#endOut(out, "failed", "closed", false);
      const maxMessageSize = this.hooks.maxMessageSize();
      out.flow ??= new SendFlow(chunkSize(maxMessageSize ?? channel.maxMessageSize), { clock: this.clock });
      const read = blobReader(item.file);
      const size = item.file.size;
      try {
        let start = 0;
        let prefix;
        const proof = resume.get(index);
        if (proof && proof.length <= size) {
          prefix = await hashPrefix({ read, length: proof.length, signal });
          start = resumeOffset(proof, size, prefix.copy().hex());
          if (start === 0) prefix = undefined;
        }
        if (!this.hooks.send({ type: "file_start", transfer: out.transfer, index, offset: start })) {
          throw new TransferError("closed", "the files channel is not open");
        }
        alreadyThere(this.transfers, out.key, index, start, this.now());
        this.hooks.changed();
        const sha256 = await sendFile({
          channel, transfer: out.transfer, index, size, start, read, signal, prefix, maxMessageSize, flow: out.flow,
          onprogress: ({ sent }) => {
            this.transfers.progress(out.key, index, sent, this.now());
            this.hooks.changed();
          },
        });
        if (signal.aborted) return;
        const row = this.transfers.get(out.key)?.files[index];
        if (row) row.sha256 = sha256;
        if (!this.hooks.send({ type: "file_end", transfer: out.transfer, index, sha256 })) {
          throw new TransferError("closed", "the files channel is not open");
        }
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        if (err.token === "cancelled" || this.outgoing.get(out.transfer) !== out) return; // ended already
        this.hooks.log(t("log.files.send_failed", { path: item.path, token: err.token }), "error");
        this.#endOut(out, "failed", err.token, err.token !== "closed");
        return;
      }
    }
  }

  /** @param {Message} msg */
  #onResult(msg) {
    const out = this.outgoing.get(msg.transfer);
    const row = out ? this.transfers.get(out.key)?.files[msg.index] : undefined;
    if (!out || !row) return;
    const ok = msg.ok === true;
    this.transfers.fileDone(out.key, msg.index, { ok, reason: msg.reason ?? "failed", savedAs: msg.saved_as }, this.now());
    if (!ok) this.hooks.log(t("log.files.not_saved", { path: row.path, reason: msg.reason ?? "failed" }), "error");
    this.#recordOut(out, msg.index, ok ? "ok" : "failed", row.sha256, ok ? undefined : msg.reason ?? "failed");
    this.#settleOut(out);
    this.hooks.changed();
  }

  /**
   * The customer has `received` bytes of one of our transfers: its window moves on.
   * @param {Message} msg
   */
  #onAck(msg) {
    this.outgoing.get(msg.transfer)?.flow?.ack(msg.received);
  }

  /** @param {OutState} out */
  #settleOut(out) {
    const tr = this.transfers.get(out.key);
    if (tr && tr.state !== "active" && tr.state !== "offering") {
      this.outgoing.delete(out.transfer);
      this.hooks.log(t("log.files.sent", { name: tr.name }));
    }
  }

  /**
   * @param {OutState} out
   * @param {"failed" | "cancelled" | "declined"} state
   * @param {string} reason
   * @param {boolean} tell
   */
  #endOut(out, state, reason, tell) {
    if (this.outgoing.get(out.transfer) !== out) return;
    this.outgoing.delete(out.transfer);
    out.abort.abort();
    if (tell) this.hooks.send({ type: "file_cancel", transfer: out.transfer, reason });
    const tr = this.transfers.get(out.key);
    const open = this.transfers.end(out.key, state, reason, this.now());
    for (const f of open) {
      const index = tr?.files.indexOf(f) ?? -1;
      if (index >= 0 && !f.folder) this.#recordOut(out, index, state === "declined" ? "declined" : "cancelled", f.sha256, reason);
    }
    this.hooks.changed();
  }

  /** @param {Message} msg */
  #onCancel(msg) {
    const reason = msg.reason;
    const inc = this.incoming.get(msg.transfer);
    const out = this.outgoing.get(msg.transfer);
    if (inc || out) this.hooks.log(t("log.files.peer_cancelled", { reason }));
    if (inc) this.#endIn(inc, "cancelled", reason, false);
    if (out) this.#endOut(out, "cancelled", reason, false);
  }

  // ------------------------------------------------------------------- requests for a path

  /**
   * Ask the customer for the file or folder at `path` on their computer. Returns the request,
   * or why it did not go: a `pathProblem` token, "waiting" (another one waits for the
   * customer), "not_allowed" or "closed".
   * @param {string} path as the operator typed it: "~/…", "/…" or "C:\…"
   * @returns {{ask: import("./filerequests.js").Ask} | {problem: string}}
   */
  ask(path) {
    if (!this.facts || !this.hooks.allowed()) return { problem: "not_allowed" };
    const made = this.requests.ask(path);
    if ("problem" in made) return made;
    if (!this.hooks.send(made.message)) {
      made.ask.state = "closed";
      this.hooks.changed();
      return { problem: "closed" };
    }
    this.hooks.log(t("log.files.asked_path", { path: made.ask.path }));
    this.hooks.changed();
    return { ask: made.ask };
  }

  /** @param {Message} msg */
  #onRequestResult(msg) {
    const ask = this.requests.result(msg);
    if (!ask) return;
    this.hooks.log(t("log.files.request_answered", { text: requestText(ask) }));
    this.hooks.changed();
  }

  // ------------------------------------------------------------------- the log

  /**
   * @param {InState} inc
   * @param {number} index
   * @param {TransferRecord["result"]} result
   * @param {string} sha256
   * @param {string} [error]
   */
  #recordIn(inc, index, result, sha256, error) {
    const f = this.transfers.get(inc.key)?.files[index];
    this.#record(inc.key, "from_customer", inc.transfer, index, {
      from_folder: inc.fromFolder, to_folder: "", name: inc.entries[index].path, size: inc.entries[index].size,
      sha256, result, error, started_at: f?.startedAt ?? this.transfers.get(inc.key)?.startedAt ?? this.now(),
    });
  }

  /**
   * @param {OutState} out
   * @param {number} index
   * @param {TransferRecord["result"]} result
   * @param {string} sha256
   * @param {string} [error]
   */
  #recordOut(out, index, result, sha256, error) {
    const tr = this.transfers.get(out.key);
    const f = tr?.files[index];
    this.#record(out.key, "to_customer", out.transfer, index, {
      from_folder: "", to_folder: out.toFolder, name: out.items[index].path, size: out.items[index].file?.size ?? 0,
      sha256, result, error, started_at: f?.startedAt ?? tr?.startedAt ?? this.now(),
    });
  }

  /**
   * @param {string} key
   * @param {TransferRecord["direction"]} direction
   * @param {number} transfer
   * @param {number} index
   * @param {{from_folder: string, to_folder: string, name: string, size: number, sha256: string,
   *   result: TransferRecord["result"], error?: string, started_at: number}} what
   */
  #record(key, direction, transfer, index, what) {
    const facts = this.facts;
    /** @type {TransferRecord} */
    const record = {
      id: `${facts?.sessionId ?? "session"}-${key.split(":")[0]}${transfer}-${index}`,
      direction,
      session_id: facts?.sessionId ?? "",
      operator_machine: "this browser",
      customer_machine: facts ? `${facts.user}@${facts.host}` : "",
      ...what,
      sha256: /^[0-9a-f]{64}$/.test(what.sha256) ? what.sha256 : "",
      ended_at: this.now(),
    };
    if (what.error === undefined) delete record.error;
    this.hooks.record(record);
  }
}

/**
 * No timer for a transfer's acks any more (it ended).
 * @param {InState} inc
 */
function stopAckTimer(inc) {
  if (inc.ackTimer !== null) clearTimeout(inc.ackTimer);
  inc.ackTimer = null;
}

/**
 * The chunks gathered so far go into one Blob (returned; null when there were none).
 * @param {{parts: BlobPart[], batch: Uint8Array[], batchBytes: number}} cur
 * @returns {Blob | null}
 */
function flush(cur) {
  if (cur.batch.length === 0) return null;
  const blob = new Blob(cur.batch);
  cur.parts.push(blob);
  cur.batch = [];
  cur.batchBytes = 0;
  return blob;
}

/**
 * File `index` of a transfer starts at `offset`: those bytes are there already (a resume), so
 * they count as done but not as speed (as the peer's `TransferPlan.resumed`): the recent
 * samples are lifted by the same amount.
 * @param {Transfers} transfers
 * @param {string} key
 * @param {number} index
 * @param {number} offset
 * @param {number} now
 */
function alreadyThere(transfers, key, index, offset, now) {
  const tr = transfers.get(key);
  const f = tr?.files[index];
  if (tr && f?.state === "waiting" && tr.state === "active") {
    const jump = Math.max(0, Math.min(offset, f.size));
    for (const sample of tr.samples) sample.bytes += jump;
  }
  transfers.progress(key, index, offset, now);
}

/** The `files` capability's panel: every FILES message from the peer, and the chunks. */
export const FILES_PANEL = definePanel({
  capability: "files",
  receives: {
    files: [
      "file_offer", "file_answer", "file_start", "file_end", "file_result", "file_cancel", "file_ack", "file_request_result", "error",
    ],
  },
  binary: ["files"],
  create: (hooks) => createFilesPanel(hooks),
});

/**
 * The panel on the page (`filesview.js`) around a `FilesPanel`.
 * @param {import("./panels.js").PanelHooks} hooks
 * @returns {import("./panels.js").Panel}
 */
function createFilesPanel(hooks) {
  /** @type {FilesView | null} */
  let view = null;
  const files = new FilesPanel({
    send: (msg) => hooks.send("files", msg),
    channel: () => /** @type {SendChannel | null} */ (/** @type {unknown} */ (hooks.link()?.channel("files") ?? null)),
    maxMessageSize: () => hooks.link()?.pc?.sctp?.maxMessageSize ?? undefined,
    allowed: () => hooks.isOpen("files") && hooks.consent.allows("files"),
    log: hooks.log,
    record: (record) => view?.record(record),
    changed: () => view?.changed(),
    partials: pagePartials(),
  });
  view = new FilesView(files, hooks);
  const shown = /** @type {FilesView} */ (view);
  let wasOpen = false;
  return {
    start: (facts) => files.start(facts),
    update: (now) => {
      voiceOn(now.mode !== null && hooks.consent.allows("voice")); // files yield to voice
      const open = now.offered && now.isOpen("files");
      if (wasOpen && !open) files.stop("closed");
      wasOpen = open;
      shown.update(now.offered);
    },
    receive: (_label, msg) => files.receive(msg),
    receiveBinary: (_label, data) => files.receiveBinary(data),
    relink: () => files.stop("closed", false),
    end: () => {
      files.stop("closed");
      files.facts = null;
      shown.update(false);
    },
    reset: () => files.reset(),
  };
}
