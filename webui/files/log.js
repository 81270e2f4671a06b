// @ts-check
/**
 * The operator's log of file transfers: which file, from which folder, went to which folder, when,
 * and how it ended. It is kept in this browser only (IndexedDB), never on the server, and can be
 * saved as CSV.
 *
 *   checkRecord(record) -> a frozen, checked copy (TypeError names the bad field)
 *   toCsv(records, {bom}) -> RFC 4180 text: a header row, CRLF, times in ISO 8601 UTC, and a
 *                            leading apostrophe on any field a spreadsheet would run as a formula
 *   const log = new TransferLog(indexedDB);  await log.add(record);  await log.list()  (newest first)
 *
 * `TransferLog` is a thin adapter over IndexedDB: one object store with auto-incremented keys
 * (so "newest" is "added last"), trimmed to `MAX_LOG` records on add.
 */

export const DIRECTIONS = Object.freeze(["to_customer", "from_customer"]);
export const RESULTS = Object.freeze(["ok", "cancelled", "failed", "declined", "skipped"]);
/** The CSV's columns, in order: the record's fields. */
export const CSV_COLUMNS = Object.freeze([
  "id", "direction", "session_id", "operator_machine", "customer_machine", "from_folder", "to_folder",
  "name", "size", "sha256", "started_at", "ended_at", "result", "error",
]);
/** Records kept in the browser; adding more drops the oldest. */
export const MAX_LOG = 20_000;
export const LOG_DATABASE = "supportlink-transfers";
const STORE = "transfers";

/**
 * @typedef {"to_customer" | "from_customer"} Direction
 * @typedef {"ok" | "cancelled" | "failed" | "declined" | "skipped"} Result
 * @typedef {{
 *   id: string,
 *   direction: Direction,
 *   session_id: string,
 *   operator_machine: string,
 *   customer_machine: string,
 *   from_folder: string,
 *   to_folder: string,
 *   name: string,
 *   size: number,
 *   sha256: string,
 *   started_at: number,
 *   ended_at: number | null,
 *   result: Result,
 *   error?: string,
 * }} TransferRecord  times are milliseconds since 1970 (Date.now()); sha256 is 64 hex digits, or
 *   "" when none was computed (declined, cancelled); error is a token or a short text
 */

const TEXT_FIELDS = /** @type {const} */ ([
  "id", "session_id", "operator_machine", "customer_machine", "from_folder", "to_folder", "name",
]);

/**
 * A checked, frozen copy of `record` with only the record's fields. Throws TypeError naming the
 * first bad field: the log is written by our own code, so a bad record is a bug here.
 * @param {TransferRecord} record
 * @returns {Readonly<TransferRecord>}
 */
export function checkRecord(record) {
  /** @param {string} field @param {string} why */
  const bad = (field, why) => new TypeError(`transfer record: ${field} ${why}`);
  if (typeof record !== "object" || record === null) throw new TypeError("transfer record: not an object");
  for (const field of TEXT_FIELDS) if (typeof record[field] !== "string") throw bad(field, "must be text");
  if (record.id === "") throw bad("id", "must not be empty");
  if (!DIRECTIONS.includes(record.direction)) throw bad("direction", `"${record.direction}" is not one of ${DIRECTIONS}`);
  if (!RESULTS.includes(record.result)) throw bad("result", `"${record.result}" is not one of ${RESULTS}`);
  if (!Number.isSafeInteger(record.size) || record.size < 0) throw bad("size", `${record.size} is not a byte count`);
  if (typeof record.sha256 !== "string" || !/^([0-9a-f]{64})?$/.test(record.sha256)) {
    throw bad("sha256", "must be 64 lower-case hex digits or empty");
  }
  if (!Number.isFinite(record.started_at)) throw bad("started_at", "must be a time in milliseconds");
  if (record.ended_at !== null && !Number.isFinite(record.ended_at)) throw bad("ended_at", "must be a time or null");
  if (record.error !== undefined && typeof record.error !== "string") throw bad("error", "must be text if given");
  /** @type {TransferRecord} */
  const copy = {
    id: record.id, direction: record.direction, session_id: record.session_id,
    operator_machine: record.operator_machine, customer_machine: record.customer_machine,
    from_folder: record.from_folder, to_folder: record.to_folder, name: record.name, size: record.size,
    sha256: record.sha256, started_at: record.started_at, ended_at: record.ended_at, result: record.result,
  };
  if (record.error !== undefined) copy.error = record.error;
  return Object.freeze(copy);
}

/**
 * A time as ISO 8601 UTC ("2024-12-02T14:33:20.500Z"); "" for none.
 * @param {number | Date | null | undefined} time milliseconds since 1970, or a Date
 */
export function isoTime(time) {
  if (time === null || time === undefined) return "";
  const date = time instanceof Date ? time : new Date(time);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

/** What a spreadsheet runs as a formula (or DDE) when a cell starts with it. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field: an apostrophe before a formula-like start, then RFC 4180 quoting (quotes
 * around a field with `"`, `,`, CR or LF, and `"` doubled).
 * @param {unknown} value
 */
export function csvField(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text)) text = `"${text.replaceAll('"', '""')}"`;
  return text;
}

/**
 * The records as CSV: a header row of `CSV_COLUMNS`, one row per record, CRLF after every row.
 * `bom` puts a byte order mark first, so Excel reads the file as UTF-8.
 * @param {Iterable<TransferRecord>} records
 * @param {{bom?: boolean}} [options]
 */
export function toCsv(records, { bom = false } = {}) {
  const rows = [CSV_COLUMNS.join(",")];
  for (const record of records) {
    rows.push(
      CSV_COLUMNS.map((column) => {
        const value = /** @type {Record<string, unknown>} */ (record)[column];
        if (column === "started_at" || column === "ended_at") return csvField(isoTime(/** @type {any} */ (value)));
        return csvField(value);
      }).join(","),
    );
  }
  return (bom ? "\ufeff" : "") + rows.join("\r\n") + "\r\n";
}

/**
 * @typedef {Pick<IDBFactory, "open">} FactoryLike the part of `indexedDB` used here
 */

/** The transfer log in this browser's IndexedDB. */
export class TransferLog {
  /** @type {IDBDatabase | null} */
  #db = null;

  /**
   * @param {FactoryLike} factory `indexedDB` (a test passes a fake)
   * @param {{name?: string, limit?: number}} [options]
   */
  constructor(factory, { name = LOG_DATABASE, limit = MAX_LOG } = {}) {
    this.factory = factory;
    this.name = name;
    this.limit = limit;
  }

  /** Open (and on first use create) the database; later calls do nothing. */
  async open() {
    if (this.#db) return;
    this.#db = await new Promise((resolve, reject) => {
      const request = this.factory.open(this.name, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { autoIncrement: true });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("the transfer log is held open by an older console tab"));
    });
    // another tab upgrading the database: let it
    /** @type {IDBDatabase} */ (this.#db).onversionchange = () => this.close();
  }

  /**
   * Add one record (checked); the oldest go once there are more than `limit`.
   * @param {TransferRecord} record
   */
  async add(record) {
    const checked = checkRecord(record);
    await this.#run("readwrite", (store) => {
      store.add({ ...checked });
      const count = store.count();
      count.onsuccess = () => {
        let excess = count.result - this.limit;
        if (excess <= 0) return;
        const cursor = store.openCursor();
        cursor.onsuccess = () => {
          const at = cursor.result;
          if (!at || excess-- <= 0) return;
          at.delete();
          at.continue();
        };
      };
    });
  }

  /**
   * The records, newest first, at most `limit` of them.
   * @param {number} [limit]
   * @returns {Promise<TransferRecord[]>}
   */
  async list(limit = Infinity) {
    /** @type {TransferRecord[]} */
    const records = [];
    await this.#run("readonly", (store) => {
      if (limit <= 0) return;
      const cursor = store.openCursor(null, "prev");
      cursor.onsuccess = () => {
        const at = cursor.result;
        if (!at) return;
        records.push(at.value);
        if (records.length < limit) at.continue();
      };
    });
    return records;
  }

  /** Forget every record. */
  async clear() {
    await this.#run("readwrite", (store) => void store.clear());
  }

  close() {
    this.#db?.close();
    this.#db = null;
  }

  /**
   * Run `work` in one transaction; resolve when it has committed.
   * @param {IDBTransactionMode} mode
   * @param {(store: IDBObjectStore) => void} work
   * @returns {Promise<void>}
   */
  async #run(mode, work) {
    await this.open();
    const db = /** @type {IDBDatabase} */ (this.#db);
    await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      tx.oncomplete = () => resolve(undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("the transfer log's transaction was aborted"));
      work(tx.objectStore(STORE));
    });
  }
}
