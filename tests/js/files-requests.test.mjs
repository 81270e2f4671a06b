// The operator asks the customer for a file or folder by its path: what may be asked (the same
// as the wire takes), one request waiting at a time, and each outcome in words in both
// languages; through the files panel, with fake hooks as in files-panel.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";

import { FileRequests, KEEP, askProblemText, pathProblem, requestText } from "../../webui/filerequests.js";
import { FilesPanel } from "../../webui/filespanel.js";
import { setLanguage } from "../../webui/i18n.js";
import { FILE_REQUEST_RESULTS, ProtocolError, parse, serialize } from "../../webui/protocol.js";

const FACTS = { mode: "screen", operator: "alice", user: "bob", host: "pc1", startedAt: new Date(0), sessionId: "s1" };

test("what may be asked for is exactly what the wire carries", () => {
  const paths = ["~", "~/", "~/Documents/report.pdf", "~\\Desktop", "/", "/var/log/syslog", "C:\\Users\\田中",
    "d:/x", "", "~root/.ssh", "Documents/x", "./x", "../x", "C:x", "/tmp/a\nb", "/tmp/\u202egpj.exe", "/a\u0085",
    "/" + "a".repeat(4095), "/" + "a".repeat(4096), "/" + "😀".repeat(4095)];
  for (const path of paths) {
    let wire = true;
    try {
      parse(JSON.stringify({ type: "file_request", request: 1, path }), "files");
    } catch (err) {
      assert.ok(err instanceof ProtocolError);
      wire = false;
    }
    assert.equal(pathProblem(path) === null, wire, JSON.stringify(path.slice(0, 40)));
  }
  assert.equal(pathProblem(""), "empty");
  assert.equal(pathProblem("Documents/x"), "relative");
  assert.equal(pathProblem("/tmp/\u202egpj.exe"), "control");
  assert.equal(pathProblem("/" + "a".repeat(4096)), "too_long");
});

test("one request waits at a time; each ends once, with what the customer's side said", () => {
  const asks = new FileRequests();
  const first = asks.ask("  ~/report.log ");
  assert.ok("message" in first);
  assert.deepEqual(first.message, { type: "file_request", request: 1, path: "~/report.log" });
  assert.deepEqual(asks.ask("/etc/hosts"), { problem: "waiting" });
  assert.deepEqual(asks.ask("relative"), { problem: "relative" });
  assert.equal(asks.result({ request: 9, result: "sending" }), null, "not ours");
  const done = asks.result({ request: 1, result: "sending", transfer: 7 });
  assert.deepEqual(done, { request: 1, path: "~/report.log", state: "sending", reason: null, transfer: 7 });
  assert.equal(asks.result({ request: 1, result: "declined" }), null, "over already");
  const second = asks.ask("/var/log");
  assert.ok("message" in second && second.message.request === 2);
  asks.closed();
  assert.equal(asks.waiting(), null);
  assert.deepEqual(asks.list().map((a) => a.state), ["closed", "sending"]);
  for (let i = 0; i < 2 * KEEP; i++) {
    asks.ask(`/tmp/${i}`);
    asks.closed();
  }
  assert.equal(asks.list().length, KEEP);
  asks.clear();
  assert.deepEqual(asks.list(), []);
});

test("every outcome reads in plain words, in English and in Japanese", () => {
  /** @param {string} state @param {string | null} [reason] */
  const words = (state, reason = null) =>
    requestText({ request: 1, path: "~/report.log", state: /** @type {any} */ (state), reason, transfer: null });
  try {
    setLanguage("en");
    assert.equal(words("waiting"), "Asked for ~/report.log — waiting for the customer…");
    assert.equal(words("sending"), "~/report.log: the customer agreed; it arrives below");
    assert.equal(words("declined", "customer"), "~/report.log: the customer declined");
    assert.equal(words("declined", "no_answer"), "~/report.log: the customer did not answer");
    assert.match(words("declined", "outside_allowed"), /outside the folders/);
    assert.match(words("declined", "unattended"), /--allow-file-requests/);
    assert.equal(words("not_found", "missing"), "~/report.log: there is nothing at that path on the customer's computer");
    assert.equal(words("refused", "special_file"),
      "~/report.log: SupportLink does not send that: it is not a regular file or folder (a device, a FIFO or a socket)");
    assert.equal(words("refused", "new_reason"), "~/report.log: SupportLink does not send that: new_reason");
    assert.equal(words("not_allowed"), "~/report.log: the customer has not allowed file transfer");
    assert.match(words("busy", "pending"), /still answering another request/);
    assert.match(words("busy", "too_often"), /too many requests/);
    assert.equal(askProblemText("relative"), "Type a full path: one that starts with / or ~/ (or a drive, such as C:\\).");
    const states = [...FILE_REQUEST_RESULTS, "waiting", "closed"];
    const english = states.map((s) => words(s));
    setLanguage("ja");
    assert.equal(words("waiting"), "~/report.log を求めました。お客様の返事を待っています…");
    assert.equal(words("declined", "customer"), "~/report.log: お客様が断りました");
    states.forEach((s, i) => {
      assert.notEqual(words(s), english[i], s);
      assert.ok(words(s).includes("~/report.log"), s);
    });
  } finally {
    setLanguage("en");
  }
});

function setup({ allowed = true, open = true } = {}) {
  /** @type {any[]} */
  const sent = [];
  /** @type {string[]} */
  const logged = [];
  let changes = 0;
  const files = new FilesPanel({
    // what goes out must pass the FILES registry, as DataChannels.send checks it
    send: (msg) => open && (sent.push(parse(serialize(msg, "files"), "files")), true),
    channel: () => null,
    maxMessageSize: () => 262144,
    allowed: () => allowed,
    log: (line) => logged.push(line),
    record: () => {},
    changed: () => changes++,
    now: () => 1000,
  });
  files.start(FACTS);
  return { files, sent, logged, changes: () => changes };
}

test("the panel asks through the files channel and shows what the customer's side answered", () => {
  setLanguage("en");
  const { files, sent, logged } = setup();
  const made = files.ask("~/Desktop/crash.log");
  assert.ok("ask" in made);
  assert.deepEqual(sent, [{ type: "file_request", request: 1, path: "~/Desktop/crash.log" }]);
  assert.equal(logged.at(-1), "files: asked the customer for ~/Desktop/crash.log");
  assert.deepEqual(files.ask("/etc/hosts"), { problem: "waiting" });
  files.receive(parse(JSON.stringify({ type: "file_request_result", request: 1, result: "refused", reason: "special_file" }), "files"));
  assert.equal(files.requests.list()[0].state, "refused");
  assert.match(logged.at(-1) ?? "", /^files: ~\/Desktop\/crash\.log: SupportLink does not send that/);
  // what is then asked for arrives like any offer from the customer
  assert.ok("ask" in files.ask("~/Desktop"));
  files.receive(parse(JSON.stringify({ type: "file_request_result", request: 2, result: "sending", transfer: 4 }), "files"));
  files.receive(parse(JSON.stringify({ type: "file_offer", transfer: 4, name: "Desktop", from_folder: "/home/bob",
    count: 1, total: 1, entries: [{ path: "Desktop/a.txt", size: 1 }], more: false }), "files"));
  assert.deepEqual(sent.at(-1), { type: "file_answer", transfer: 4, accept: true, skip: [], resume: [] });
  // a request waiting when the channel closes gets no answer now
  files.ask("/var/log/syslog");
  files.stop("closed");
  assert.equal(files.requests.list()[0].state, "closed");
});

test("nothing is asked for while the customer does not allow it or the channel is shut", () => {
  const off = setup({ allowed: false });
  assert.deepEqual(off.files.ask("~/report.log"), { problem: "not_allowed" });
  assert.deepEqual(off.sent, []);
  const shut = setup({ open: false });
  assert.deepEqual(shut.files.ask("~/report.log"), { problem: "closed" });
  assert.equal(shut.files.requests.list()[0].state, "closed");
  assert.ok("message" in shut.files.requests.ask("~/again"), "a closed one does not block the next");
  const empty = setup();
  assert.deepEqual(empty.files.ask("   "), { problem: "empty" });
  assert.deepEqual(empty.sent, []);
});
