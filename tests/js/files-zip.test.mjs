// The zip of a received folder, read back by the system's own tools: Info-ZIP `unzip` and
// Python's `zipfile` (both on the machine), including ZIP64 by size (a sparse 4 GiB file), by
// count (65,536 entries) and forced.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { UnsafeName } from "../../webui/files/errors.js";
import { crc32 } from "../../webui/files/crc32.js";
import { zipChunks, zipParts, zipSize } from "../../webui/files/zip.js";

const dir = mkdtempSync(join(tmpdir(), "files-zip-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const env = { ...process.env, LC_ALL: "C.UTF-8", PYTHONIOENCODING: "utf-8" };

/** @param {string[]} args */
const unzip = (...args) => execFileSync("unzip", args, { env, encoding: "utf8", maxBuffer: 64 << 20 });

/**
 * What Python's zipfile reads in `file`: every entry, and the bytes of the entries named in `read`.
 * @param {string} file
 * @param {string[]} [read]
 */
function python(file, read = []) {
  const script = `
import json, struct, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    entries = []
    for i in z.infolist():
        ut = None
        extra = i.extra
        while len(extra) >= 4:
            tag, size = struct.unpack("<HH", extra[:4])
            if tag == 0x5455:
                ut = struct.unpack("<I", extra[5:9])[0]
            extra = extra[4 + size:]
        entries.append({"name": i.filename, "size": i.file_size, "crc": i.CRC, "dir": i.is_dir(),
                        "utf8": bool(i.flag_bits & 0x800), "offset": i.header_offset, "date": list(i.date_time),
                        "ut": ut, "method": i.compress_type})
    data = {name: z.read(name).hex() for name in json.loads(sys.argv[2])}
    print(json.dumps({"entries": entries, "data": data, "bad": z.testzip() if sys.argv[3] == "1" else None}))
`;
  const out = execFileSync("python3", ["-c", script, file, JSON.stringify(read), read.length ? "0" : "1"], { env, encoding: "utf8", maxBuffer: 256 << 20 });
  return JSON.parse(out);
}

/** Write the chunks of `zipChunks` to a file. */
async function writeZip(name, entries, options) {
  const file = join(dir, name);
  const chunks = [];
  for await (const chunk of zipChunks(entries, options)) chunks.push(chunk);
  writeFileSync(file, Buffer.concat(chunks));
  return file;
}

const hello = new TextEncoder().encode("Hello, zip!\n");
const random = Uint8Array.from({ length: 200_000 }, (_, i) => (Math.imul(i, 2654435761) >>> 13) & 0xff);
const when = new Date(2024, 0, 2, 3, 4, 6); // local time, as DOS fields are

/** A folder as the console would have received it. */
const folder = () => [
  { path: "folder/hello.txt", data: hello, mtime: when },
  { path: "folder/日本語 é.txt", data: new Blob([hello, hello]), mtime: when }, // no CRC: read for it
  { path: "folder/empty/", mtime: when },
  { path: "folder/also empty", folder: true },
  { path: "folder/zero.bin", data: new Uint8Array(0), mtime: when },
  { path: "folder/sub/random.bin", data: new Blob([random]), crc32: crc32(random), size: random.length, mtime: when },
  { path: "e\u0301t\u00e9.txt", data: hello }, // decomposed: stored as NFC, no time given
];

test("CRC-32: the check value and known strings", () => {
  assert.equal(crc32("123456789"), 0xcbf43926);
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  const zlib = execFileSync("python3", ["-c", "import sys, zlib; print(zlib.crc32(sys.stdin.buffer.read()))"], { input: random });
  assert.equal(crc32(random), Number(zlib.toString()));
});

test("a folder zipped here reads back in unzip and Python: names, folders, sizes, CRCs, times", async () => {
  const file = await writeZip("folder.zip", folder());
  assert.equal(statSync(file).size, zipSize(folder()));
  unzip("-tq", file); // throws unless every CRC checks
  const listing = unzip("-l", file);
  for (const name of ["folder/hello.txt", "folder/日本語 é.txt", "folder/empty/", "folder/also empty/", "folder/zero.bin", "été.txt"]) {
    assert.ok(listing.includes(name), `unzip -l lists ${name}:\n${listing}`);
  }
  execFileSync("python3", ["-m", "zipfile", "-t", file], { env });
  const read = python(file, ["folder/hello.txt", "folder/日本語 é.txt", "folder/sub/random.bin", "\u00e9t\u00e9.txt"]);
  const byName = Object.fromEntries(read.entries.map((/** @type {any} */ e) => [e.name, e]));
  assert.deepEqual(Object.keys(byName), [
    "folder/hello.txt", "folder/日本語 é.txt", "folder/empty/", "folder/also empty/", "folder/zero.bin",
    "folder/sub/random.bin", "\u00e9t\u00e9.txt",
  ]);
  assert.ok(read.entries.every((/** @type {any} */ e) => e.utf8 && e.method === 0));
  assert.equal(byName["folder/hello.txt"].crc, crc32(hello));
  assert.equal(byName["folder/日本語 é.txt"].size, 2 * hello.length);
  assert.equal(byName["folder/empty/"].dir, true);
  assert.equal(byName["folder/also empty/"].dir, true);
  assert.equal(byName["folder/zero.bin"].size, 0);
  assert.equal(byName["folder/sub/random.bin"].crc, crc32(random));
  assert.deepEqual(byName["folder/hello.txt"].date, [2024, 1, 2, 3, 4, 6]);
  assert.equal(byName["folder/hello.txt"].ut, Math.floor(when.getTime() / 1000), "UTC time in the extended timestamp");
  assert.deepEqual(byName["\u00e9t\u00e9.txt"].date, [1980, 1, 1, 0, 0, 0]);
  assert.equal(byName["\u00e9t\u00e9.txt"].ut, null);
  assert.equal(read.data["folder/hello.txt"], Buffer.from(hello).toString("hex"));
  assert.equal(read.data["folder/日本語 é.txt"], Buffer.from(hello).toString("hex").repeat(2));
  assert.equal(read.data["folder/sub/random.bin"], Buffer.from(random).toString("hex"));
  // extracted by unzip, the bytes are the same
  const out = join(dir, "out");
  unzip("-q", file, "-d", out);
  assert.deepEqual(new Uint8Array(readFileSync(join(out, "folder/sub/random.bin"))), random);
  assert.ok(statSync(join(out, "folder/empty")).isDirectory());
  assert.ok(statSync(join(out, "folder/also empty")).isDirectory());
});

test("parts for a Blob: headers as bytes, file data as given (not copied), the same archive", async () => {
  const entries = folder();
  const parts = await zipParts(entries);
  assert.ok(parts.includes(/** @type {any} */ (entries[5].data)), "the Blob itself is a part");
  assert.ok(parts.includes(/** @type {any} */ (entries[0].data)), "so is the Uint8Array");
  const viaBlob = new Uint8Array(await new Blob(/** @type {BlobPart[]} */ (parts)).arrayBuffer());
  const chunks = [];
  for await (const chunk of zipChunks(folder())) chunks.push(chunk);
  assert.deepEqual(viaBlob, new Uint8Array(Buffer.concat(chunks)));
});

test("an empty archive is the end record alone", async () => {
  const file = await writeZip("empty.zip", []);
  assert.equal(readFileSync(file).toString("hex"), "504b0506" + "00".repeat(18));
  assert.equal(zipSize([]), 22);
  assert.deepEqual(python(file).entries, []);
});

test("ZIP64 records everywhere (forced) still read back in both tools", async () => {
  const file = await writeZip("forced64.zip", folder(), { zip64: true });
  assert.equal(statSync(file).size, zipSize(folder(), { zip64: true }));
  assert.ok(readFileSync(file).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), "a ZIP64 end record");
  unzip("-tq", file);
  execFileSync("python3", ["-m", "zipfile", "-t", file], { env });
  const read = python(file, ["folder/sub/random.bin"]);
  assert.equal(read.entries.length, 7);
  assert.equal(read.data["folder/sub/random.bin"], Buffer.from(random).toString("hex"));
});

test("65,536 entries: ZIP64 by count", async () => {
  const entries = Array.from({ length: 65_536 }, (_, i) => ({ path: `many/${i}.txt`, data: new TextEncoder().encode(String(i)) }));
  const file = join(dir, "many.zip");
  writeFileSync(file, Buffer.concat(/** @type {Uint8Array[]} */ (await zipParts(entries))));
  const bytes = readFileSync(file);
  assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), "a ZIP64 end record");
  assert.equal(bytes.readUInt16LE(bytes.length - 22 + 10), 0xffff, "the old record's count says: see ZIP64");
  assert.match(unzip("-tq", file), /No errors/);
  const script = "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.infolist()), z.read('many/65535.txt').decode())";
  assert.equal(execFileSync("python3", ["-c", script, file], { env, encoding: "utf8" }).trim(), "65536 65535");
  // 65,534 entries need no ZIP64
  const fewer = await zipParts(entries.slice(0, 65_534));
  const end = /** @type {Uint8Array} */ (fewer.at(-1));
  assert.equal(end.length, 22);
});

test("over 4 GiB: a sparse archive with a 4 GiB + 10 byte entry and one after it", async () => {
  const bigSize = 2 ** 32 + 10;
  // a Blob of zeros nobody reads: the CRC is given, and the file is written around it
  const big = { size: bigSize, slice: () => assert.fail("the big entry must not be read") };
  const after = new TextEncoder().encode("after the big one");
  const entries = [
    { path: "big.bin", data: big, crc32: 0x12345678, mtime: when },
    { path: "after.txt", data: after, mtime: when },
  ];
  const file = join(dir, "big.zip");
  const fd = openSync(file, "w");
  let at = 0;
  try {
    for (const part of await zipParts(/** @type {any} */ (entries))) {
      if (part instanceof Uint8Array) writeSync(fd, part, 0, part.length, at);
      at += part instanceof Uint8Array ? part.length : part.size;
    }
    ftruncateSync(fd, at);
  } finally {
    closeSync(fd);
  }
  assert.equal(at, zipSize(/** @type {any} */ (entries)));
  assert.ok(at > bigSize);
  const read = python(file, ["after.txt"]);
  assert.deepEqual(read.entries.map((/** @type {any} */ e) => [e.name, e.size, e.crc]), [
    ["big.bin", bigSize, 0x12345678],
    ["after.txt", after.length, crc32(after)],
  ]);
  assert.ok(read.entries[1].offset > 2 ** 32, "the second local header is past 4 GiB");
  assert.equal(Buffer.from(read.data["after.txt"], "hex").toString(), "after the big one");
  assert.match(unzip("-l", file), /4294967306\s+\S+\s+\S+\s+big\.bin/);
  assert.equal(unzip("-p", file, "after.txt"), "after the big one");
});

test("names are checked as names from the customer, and a path is in the archive once", async () => {
  for (const [path, token] of [["../evil", "dot_dot"], ["/etc/passwd", "absolute"], ["a\\b", "backslash"], ["C:/x", "drive"],
    ["a/CON", "reserved"], ["a\u202eb", "control"], ["a//b", "empty"], ["a/\uff0e\uff0e/b", "lookalike"]]) {
    await assert.rejects(zipParts([{ path, data: hello }]), (err) => err instanceof UnsafeName && err.token === token, path);
  }
  await assert.rejects(zipParts([{ path: "a.txt", data: hello }, { path: "a.txt", data: hello }]),
    (err) => err instanceof UnsafeName && err.token === "duplicate");
  await assert.rejects(zipParts([{ path: "d/", data: hello }]), RangeError, "a folder with data");
  await assert.rejects(zipParts([{ path: "a", data: hello, size: 3 }]), RangeError, "a size that is not the data's");
  await assert.rejects(zipParts([{ path: "a", data: hello, crc32: -1 }]), RangeError);
});
