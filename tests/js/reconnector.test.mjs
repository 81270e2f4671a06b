// The reconnect carried out (webui/reconnector.js) with a recording host and a hand-driven
// clock: what reaches the socket, the connection and the session card, and when.
import { test } from "node:test";
import assert from "node:assert/strict";

import { render, setLanguage } from "../../webui/i18n.js";
import { Reconnector, TICK_MS } from "../../webui/reconnector.js";

const SESSION = "s_7Hq2LmZ0xKp4RtYw";
const TOKEN = "r_9fKq2LmZ0xKp4RtYwAbCdEf";
const TURN = [{ urls: ["turn:turn.example.com:3478"], username: "u", credential: "c" }];

class FakeClock {
  constructor() {
    this.t = 0;
    /** @type {Map<number, {f: () => void, ms: number, due: number}>} */
    this.intervals = new Map();
    this.ids = 0;
  }
  now() {
    return this.t;
  }
  setInterval(f, ms) {
    this.intervals.set(++this.ids, { f, ms, due: this.t + ms });
    return this.ids;
  }
  clearInterval(id) {
    this.intervals.delete(id);
  }
  /** Let `ms` pass, each interval running when it is due. */
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      const next = Math.min(...[...this.intervals.values()].map((i) => i.due));
      if (!(next <= end)) break;
      this.t = next;
      for (const interval of [...this.intervals.values()]) {
        if (interval.due !== next) continue;
        interval.due += interval.ms;
        interval.f();
      }
    }
    this.t = end;
  }
}

/** A host that records what it is asked to do. */
function fakeHost() {
  const calls = [];
  const status = { words: null, detail: "", stage: null, phase: "connected" };
  const host = {
    calls, status,
    log: (line, level = "info") => calls.push(["log", level, line]),
    view: {
      reconnecting: (stage) => { status.stage = stage; },
      detail: (text) => { status.detail = typeof text === "string" ? text : render(text); },
      verificationChanged: (code) => calls.push(["verificationChanged", code]),
    },
    live: {
      suspend: () => calls.push(["suspend"]),
      restore: () => calls.push(["restore"]),
      relink: (servers) => calls.push(["relink", servers]),
    },
    setPhase: (event, words) => {
      status.phase = event.type === "interrupted" ? "reconnecting" : event.type;
      status.words = render(words);
      status.detail = "";
    },
    send: (msg) => { calls.push(["send", msg]); return true; },
    reopen: () => calls.push(["reopen"]),
    endLost: (reason, words) => {
      calls.push(["endLost", reason, words && render(words)]);
      reconnector.forget(); // as the controller's endSession does
    },
  };
  const clock = new FakeClock();
  const reconnector = new Reconnector(host, clock);
  return { host, calls, status, clock, reconnector };
}

const did = (calls, name) => calls.filter((c) => c[0] === name);

function pairedAndUp(within = 60) {
  const f = fakeHost();
  f.reconnector.on({ type: "paired", sessionId: SESSION, token: TOKEN, within, iceServers: [] });
  f.reconnector.on({ type: "ice", state: "connected" });
  return f;
}

test("our socket lost and back: held, attempts on time, resume, Reconnecting…, a fresh connection, live", () => {
  setLanguage("en");
  const { calls, status, clock, reconnector } = pairedAndUp(60);
  assert.equal(reconnector.resumable, true);
  reconnector.on({ type: "socket_closed" });
  assert.deepEqual(did(calls, "suspend").length, 1);
  assert.equal(status.phase, "reconnecting");
  assert.equal(status.words, "Connection to the server lost — reconnecting…");
  assert.equal(status.stage, "offline");
  assert.equal(status.detail, "The session is kept for another 60 s.");
  clock.advance(999);
  assert.equal(did(calls, "reopen").length, 0);
  clock.advance(1);
  assert.equal(did(calls, "reopen").length, 1);
  clock.advance(2000);
  assert.equal(did(calls, "reopen").length, 2, "the first never opened: the next at 3 s");
  assert.equal(status.detail, "The session is kept for another 57 s.");
  reconnector.on({ type: "socket_open" });
  assert.deepEqual(did(calls, "send"), [["send", { type: "resume", session_id: SESSION, token: TOKEN }]]);
  assert.equal(status.detail, "", "no countdown while the server answers");
  reconnector.on({ type: "resumed", iceServers: TURN });
  assert.equal(status.words, "Reconnecting…");
  assert.equal(status.stage, "rejoining");
  reconnector.on({ type: "offer", fresh: true });
  assert.deepEqual(did(calls, "relink"), [["relink", TURN]]);
  reconnector.on({ type: "ice", state: "connected" });
  assert.deepEqual(did(calls, "restore").length, 1);
  assert.equal(status.stage, null);
  assert.equal(clock.intervals.size, 0, "no timer once live");
  // nothing in the log gives the secret away
  assert.ok(calls.every((c) => !JSON.stringify(c).includes(TOKEN) || c[0] === "send"));
});

test("our socket never back: the end at the deadline, and no timer after it", () => {
  setLanguage("en");
  const { calls, clock, reconnector } = pairedAndUp(10);
  reconnector.on({ type: "socket_closed" });
  clock.advance(9_999);
  assert.equal(did(calls, "endLost").length, 0);
  clock.advance(TICK_MS);
  assert.deepEqual(did(calls, "endLost"), [["endLost", "operator_left", "The connection was lost for too long; the session has ended"]]);
  assert.equal(did(calls, "reopen").length, 3, "at 1, 3 and 7 s");
  assert.equal(clock.intervals.size, 0);
  assert.equal(reconnector.stage, "idle");
});

test("the customer's connection lost: its words, a countdown, then back", () => {
  setLanguage("en");
  const { calls, status, clock, reconnector } = pairedAndUp(60);
  reconnector.on({ type: "interrupted", within: 60 });
  assert.equal(status.words, "The customer's connection was lost — waiting up to 60 s for it to come back…");
  assert.equal(status.stage, "customer_lost");
  clock.advance(15_000);
  assert.equal(status.detail, "The session is kept for another 45 s.");
  assert.equal(status.words, "The customer's connection was lost — waiting up to 60 s for it to come back…", "the status stays");
  reconnector.on({ type: "resumed", iceServers: [] });
  reconnector.on({ type: "offer", fresh: true });
  reconnector.on({ type: "ice", state: "connected" });
  assert.deepEqual(calls.filter((c) => c[0] !== "log").map((c) => c[0]), ["suspend", "relink", "restore"]);
});

test("the media path lost and no fresh offer: bye connection_failed, then the end", () => {
  const { calls, status, clock, reconnector } = pairedAndUp(20);
  reconnector.on({ type: "ice", state: "failed" });
  assert.equal(status.words, "Connection lost — reconnecting…");
  clock.advance(20_000);
  assert.deepEqual(did(calls, "send"), [["send", { type: "bye", reason: "connection_failed" }]]);
  assert.deepEqual(did(calls, "endLost"), [["endLost", "connection_failed", null]]);
});

test("a changed verification code is an alert, logged as an error", () => {
  const { calls, reconnector } = pairedAndUp(60);
  reconnector.on({ type: "verification", code: "111 111" });
  reconnector.on({ type: "offer", fresh: true });
  reconnector.on({ type: "verification", code: "222 222" });
  assert.deepEqual(did(calls, "verificationChanged"), [["verificationChanged", "222 222"]]);
  assert.ok(calls.some((c) => c[0] === "log" && c[1] === "error" && c[2].includes("111 111") && c[2].includes("222 222")));
});

test("forget: the session is over, nothing runs", () => {
  const { clock, reconnector, status } = pairedAndUp(60);
  reconnector.on({ type: "socket_closed" });
  assert.equal(clock.intervals.size, 1);
  reconnector.forget();
  assert.equal(clock.intervals.size, 0);
  assert.equal(status.stage, null);
  assert.equal(reconnector.resumable, false);
});
