// The operator's transfer log: records checked, CSV safe to open in a spreadsheet, and the
// IndexedDB adapter run against a small in-memory fake (the real IndexedDB is the browser
// test's to cover: this fake only does what the adapter asks, in IndexedDB's order).
import { test } from "node:test";
import assert from "node:assert/strict";

import { CSV_COLUMNS, TransferLog, checkRecord, csvField, isoTime, toCsv } from "../../webui/files/log.js";

/** @returns {import("../../webui/files/log.js").TransferRecord} */
const record = (fields = {}) => ({
  id: "t1-0", direction: "from_customer", session_id: "s_0001", operator_machine: "op-laptop",
  customer_machine: "bob@pc1", from_folder: "/home/bob/Documents", to_folder: "Downloads", name: "report.pdf",
  size: 1234, sha256: "ab".repeat(32), started_at: Date.UTC(2024, 11, 2, 14, 33, 20, 500),
  ended_at: Date.UTC(2024, 11, 2, 14, 33, 25), result: "ok", ...fields,
});

test("a record is checked field by field and copied frozen", () => {
  const checked = checkRecord(/** @type {any} */ ({ ...record(), extra: "dropped" }));
  assert.ok(Object.isFrozen(checked));
  assert.equal(/** @type {any} */ (checked).extra, undefined);
  assert.equal(checked.error, undefined);
  assert.equal(checkRecord(record({ result: "failed", error: "hash_mismatch", sha256: "" })).error, "hash_mismatch");
  assert.equal(checkRecord(record({ ended_at: null })).ended_at, null);
  for (const [fields, field] of /** @type {Array<[object, string]>} */ ([
    [{ direction: "sideways" }, "direction"], [{ result: "maybe" }, "result"], [{ size: -1 }, "size"],
    [{ size: 1.5 }, "size"], [{ sha256: "AB".repeat(32) }, "sha256"], [{ sha256: "abc" }, "sha256"],
    [{ started_at: NaN }, "started_at"], [{ ended_at: "later" }, "ended_at"], [{ name: 5 }, "name"],
    [{ id: "" }, "id"], [{ error: 3 }, "error"],
  ])) {
    assert.throws(() => checkRecord(record(fields)), new RegExp(`transfer record: ${field} `), JSON.stringify(fields));
  }
  assert.throws(() => checkRecord(/** @type {any} */ (null)), TypeError);
});

test("times are ISO 8601 UTC", () => {
  assert.equal(isoTime(Date.UTC(2024, 11, 2, 14, 33, 20, 500)), "2024-12-02T14:33:20.500Z");
  assert.equal(isoTime(new Date(0)), "1970-01-01T00:00:00.000Z");
  assert.equal(isoTime(null), "");
  assert.equal(isoTime(NaN), "");
});

test("fields: RFC 4180 quoting, and no formula a spreadsheet would run", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField(""), "");
  assert.equal(csvField(null), "");
  assert.equal(csvField(42), "42");
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("two\nlines"), '"two\nlines"');
  assert.equal(csvField("cr\rhere"), '"cr\rhere"');
  assert.equal(csvField("=1+1"), "'=1+1");
  assert.equal(csvField("+1"), "'+1");
  assert.equal(csvField("-2"), "'-2");
  assert.equal(csvField("@SUM(A1)"), "'@SUM(A1)");
  assert.equal(csvField("\tx"), "'\tx");
  assert.equal(csvField("\rx"), "\"'\rx\"");
  assert.equal(csvField('=HYPERLINK("http://x","y")'), '"\'=HYPERLINK(""http://x"",""y"")"');
  assert.equal(csvField("a=b"), "a=b", "only at the start");
  assert.equal(csvField(" =x"), " =x");
});

test("the CSV: a header row, one row per record, CRLF, and hostile names kept as text", () => {
  const csv = toCsv([
    record(),
    record({ id: "t1-1", direction: "to_customer", name: "=cmd|' /C calc'!A0.xlsx", result: "failed", error: "hash_mismatch",
      from_folder: "C:\\Users\\op\\Desk, top", sha256: "", ended_at: null }),
  ]);
  const lines = csv.split("\r\n");
  assert.equal(lines.length, 4);
  assert.equal(lines[3], "", "CRLF after the last row");
  assert.equal(lines[0], CSV_COLUMNS.join(","));
  assert.equal(lines[0], "id,direction,session_id,operator_machine,customer_machine,from_folder,to_folder,name,size,sha256,started_at,ended_at,result,error");
  assert.equal(lines[1], `t1-0,from_customer,s_0001,op-laptop,bob@pc1,/home/bob/Documents,Downloads,report.pdf,1234,${"ab".repeat(32)},2024-12-02T14:33:20.500Z,2024-12-02T14:33:25.000Z,ok,`);
  assert.equal(lines[2], `t1-1,to_customer,s_0001,op-laptop,bob@pc1,"C:\\Users\\op\\Desk, top",Downloads,'=cmd|' /C calc'!A0.xlsx,1234,,2024-12-02T14:33:20.500Z,,failed,hash_mismatch`);
  assert.equal(toCsv([]), CSV_COLUMNS.join(",") + "\r\n");
  assert.ok(toCsv([], { bom: true }).startsWith("\ufeffid,"));
  // a name with a new line stays one field of one row
  const multi = toCsv([record({ name: "a\r\nb.txt" })]);
  assert.ok(multi.includes('"a\r\nb.txt"'));
});

/**
 * A minimal in-memory IndexedDB: open with an upgrade, one store with auto-incremented keys,
 * add, count, clear, cursors both ways with continue and delete, transactions that complete
 * once their requests are done. Requests succeed in a later task, in order, as IndexedDB's do.
 */
class FakeIndexedDB {
  constructor() {
    /** @type {Map<string, Map<string, {next: number, rows: Map<number, any>}>>} database -> its stores */
    this.stores = new Map();
    this.opens = 0;
  }

  /** @param {string} name @param {number} version */
  open(name, version) {
    this.opens++;
    const request = new FakeRequest();
    setTimeout(() => {
      const fresh = !this.stores.has(name);
      if (fresh) this.stores.set(name, new Map());
      // each open is a new connection to the same stores
      request.result = new FakeDatabase(version, /** @type {Map<string, any>} */ (this.stores.get(name)));
      if (fresh) request.onupgradeneeded?.();
      request.onsuccess?.();
    });
    return request;
  }
}

class FakeRequest {
  /** @type {any} */ result = undefined;
  /** @type {any} */ error = null;
  /** @type {(() => void) | null} */ onsuccess = null;
  /** @type {(() => void) | null} */ onerror = null;
  /** @type {(() => void) | null} */ onupgradeneeded = null;
  /** @type {(() => void) | null} */ onblocked = null;
}

class FakeDatabase {
  /** @param {number} version @param {Map<string, {next: number, rows: Map<number, any>}>} stores */
  constructor(version, stores) {
    this.version = version;
    this.stores = stores;
    this.closed = false;
    this.objectStoreNames = { contains: (/** @type {string} */ name) => this.stores.has(name) };
    /** @type {(() => void) | null} */
    this.onversionchange = null;
  }

  /** @param {string} name @param {{autoIncrement?: boolean}} options */
  createObjectStore(name, options) {
    assert.equal(options.autoIncrement, true);
    this.stores.set(name, { next: 1, rows: new Map() });
  }

  /** @param {string} name @param {"readonly" | "readwrite"} mode */
  transaction(name, mode) {
    assert.ok(!this.closed, "a transaction on a closed database");
    const store = this.stores.get(name);
    assert.ok(store, `no store ${name}`);
    return new FakeTransaction(store, mode);
  }

  close() {
    this.closed = true;
  }
}

class FakeTransaction {
  /** @param {{next: number, rows: Map<number, any>}} data @param {string} mode */
  constructor(data, mode) {
    /** @type {Array<() => void>} */
    this.queue = [];
    /** @type {(() => void) | null} */ this.oncomplete = null;
    /** @type {(() => void) | null} */ this.onerror = null;
    /** @type {(() => void) | null} */ this.onabort = null;
    this.error = null;
    const tx = this;
    const writable = mode === "readwrite";
    /** @param {() => any} work */
    const request = (work) => {
      const r = new FakeRequest();
      tx.queue.push(() => {
        r.result = work();
        r.onsuccess?.();
      });
      return r;
    };
    /** @param {string} op */
    const mustWrite = (op) => assert.ok(writable, `${op} in a readonly transaction`);
    this.store = {
      add: (/** @type {any} */ value) => (mustWrite("add"), request(() => {
        const key = data.next++;
        data.rows.set(key, structuredClone(value));
        return key;
      })),
      count: () => request(() => data.rows.size),
      clear: () => (mustWrite("clear"), request(() => data.rows.clear())),
      openCursor: (/** @type {null | undefined} */ query, direction = "next") => {
        assert.equal(query ?? null, null);
        const keys = [...data.rows.keys()].sort((a, b) => (direction === "prev" ? b - a : a - b));
        let at = -1;
        const r = new FakeRequest();
        const step = () => {
          at++;
          while (at < keys.length && !data.rows.has(keys[at])) at++;
          if (at >= keys.length) return null;
          const key = keys[at];
          return {
            key,
            value: structuredClone(data.rows.get(key)),
            continue: () => void tx.queue.push(() => ((r.result = step()), r.onsuccess?.())),
            delete: () => (mustWrite("delete"), data.rows.delete(key)),
          };
        };
        tx.queue.push(() => ((r.result = step()), r.onsuccess?.()));
        return r;
      },
    };
    setTimeout(() => this.run());
  }

  /** @param {string} name */
  objectStore(name) {
    assert.equal(name, "transfers");
    return this.store;
  }

  run() {
    while (this.queue.length) /** @type {() => void} */ (this.queue.shift())();
    this.oncomplete?.();
  }
}

test("the log in a (fake) IndexedDB: add, newest first, a limit, clear", async () => {
  const factory = new FakeIndexedDB();
  const log = new TransferLog(/** @type {any} */ (factory), { name: "test-log" });
  assert.deepEqual(await log.list(), []);
  await log.add(record({ id: "a" }));
  await log.add(record({ id: "b", result: "cancelled", sha256: "" }));
  await log.add(record({ id: "c", result: "declined", sha256: "", error: "no room" }));
  assert.deepEqual((await log.list()).map((r) => r.id), ["c", "b", "a"]);
  assert.deepEqual((await log.list(2)).map((r) => r.id), ["c", "b"]);
  assert.deepEqual(await log.list(0), []);
  assert.deepEqual((await log.list())[0], { ...record({ id: "c", result: "declined", sha256: "", error: "no room" }) });
  assert.equal(factory.opens, 1, "opened once");
  await assert.rejects(log.add(record({ result: "meh" })), TypeError);
  assert.equal((await log.list()).length, 3, "a bad record is not stored");
  // another console tab reads what this one wrote
  const other = new TransferLog(/** @type {any} */ (factory), { name: "test-log" });
  assert.deepEqual((await other.list()).map((r) => r.id), ["c", "b", "a"]);
  await log.clear();
  assert.deepEqual(await log.list(), []);
  log.close();
  assert.deepEqual(await log.list(), [], "it opens again after close");
});

test("past its limit the log drops the oldest records", async () => {
  const log = new TransferLog(/** @type {any} */ (new FakeIndexedDB()), { limit: 3 });
  for (const id of ["1", "2", "3", "4", "5"]) await log.add(record({ id }));
  assert.deepEqual((await log.list()).map((r) => r.id), ["5", "4", "3"]);
});
