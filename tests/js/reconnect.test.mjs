// Getting a paired session back after a short drop: the decisions of webui/reconnect.js, with
// the clock given by hand (no sockets, no timers).
import { test } from "node:test";
import assert from "node:assert/strict";

import { render, setLanguage } from "../../webui/i18n.js";
import { parse, serialize } from "../../webui/protocol.js";
import {
  DISCONNECTED_GRACE_MS, INITIAL, SERVER_GRACE_MS, backoff, canResume, needsTicks, statusOf, step,
} from "../../webui/reconnect.js";

const SESSION = "s_7Hq2LmZ0xKp4RtYw";
const TOKEN = "r_9fKq2LmZ0xKp4RtYwAbCdEf";
const STUN = [{ urls: ["stun:stun.example.com:3478"] }];
const TURN = [{ urls: ["turn:turn.example.com:3478"], username: "1700000000:s-operator", credential: "c2VjcmV0" }];

/** A driver that keeps the state and every action, with the time of each. */
class Drive {
  constructor(state = INITIAL) {
    this.state = state;
    /** @type {{at: number | null, action: any}[]} */
    this.done = [];
  }

  /** @param {any} event @returns {any[]} the actions of this event */
  on(event) {
    const { state, actions } = step(this.state, event);
    this.state = state;
    for (const action of actions) this.done.push({ at: event.now ?? null, action });
    return actions;
  }

  /** Tick every `every` ms from `from` to `to` (inclusive); the actions of them all. */
  ticks(from, to, every = 50, onconnect = null) {
    const actions = [];
    for (let now = from; now <= to; now += every) {
      for (const action of this.on({ type: "tick", now })) {
        actions.push({ at: now, ...action });
        if (action.type === "connect" && onconnect) onconnect(now);
      }
    }
    return actions;
  }

  /** @param {string} type */
  times(type) {
    return this.done.filter((d) => d.action.type === type).map((d) => d.at);
  }
}

/** Paired at t=0 with a secret and `within` seconds; the media path up. */
function paired(within = 60, { token = TOKEN, connected = true } = {}) {
  const d = new Drive();
  d.on({ type: "paired", sessionId: SESSION, token, within, iceServers: STUN, now: 0 });
  if (connected) d.on({ type: "ice", state: "connected", now: 0 });
  return d;
}

const types = (actions) => actions.map((a) => a.type);

test("the backoff: 1, 2, 4, then every 5 s", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 10].map(backoff), [1, 2, 4, 5, 5, 5]);
});

test("our socket lost: attempts at 1, 3, 7, 12, 17 ... s, whether they fail at once or hang", () => {
  for (const failFast of [true, false]) {
    const d = paired(60);
    assert.deepEqual(types(d.on({ type: "socket_closed", now: 0 })), ["suspend"]);
    assert.equal(d.state.stage, "offline");
    d.ticks(0, 30_000, 50, (now) => {
      if (failFast) d.on({ type: "socket_closed", now }); // refused at once
    });
    assert.deepEqual(d.times("connect"), [1000, 3000, 7000, 12000, 17000, 22000, 27000], `failFast=${failFast}`);
    assert.equal(d.state.stage, "offline");
  }
});

test("giving up exactly at the deadline, with no attempt at or after it", () => {
  const d = paired(10);
  d.on({ type: "socket_closed", now: 500 });
  const early = d.ticks(500, 10_499, 1, (now) => d.on({ type: "socket_closed", now }));
  assert.deepEqual(types(early).filter((t) => t !== "connect"), [], "nothing ends before the deadline");
  assert.deepEqual(d.times("connect"), [1500, 3500, 7500]); // the next (12 500) would be too late
  assert.equal(d.state.stage, "offline");
  const end = d.on({ type: "tick", now: 10_500 });
  assert.deepEqual(end, [{ type: "end", reason: "operator_left", words: { key: "status.reconnect.gave_up" } }]);
  assert.equal(d.state, INITIAL);
  assert.deepEqual(d.on({ type: "tick", now: 20_000 }), [], "nothing more once given up");
});

test("on open: resume with the session and the secret, and nothing else", () => {
  const d = paired(60);
  d.on({ type: "socket_closed", now: 0 });
  d.ticks(0, 1000);
  const actions = d.on({ type: "socket_open", now: 1100 });
  assert.deepEqual(actions, [{ type: "send", msg: { type: "resume", session_id: SESSION, token: TOKEN } }]);
  assert.equal(d.state.stage, "resuming");
  // a valid protocol message, as the server reads it
  assert.deepEqual(parse(serialize(actions[0].msg, "signaling"), "signaling"), actions[0].msg);
  // the first socket of the console (no session) and a second open say nothing
  assert.deepEqual(d.on({ type: "socket_open", now: 1200 }), []);
  assert.deepEqual(step(INITIAL, { type: "socket_open", now: 0 }).actions, []);
});

test("never a resume without a secret, nor from a server that does not wait", () => {
  for (const [token, within] of [[null, 60], ["", 60], [TOKEN, 0], [TOKEN, null]]) {
    const d = paired(within, { token });
    assert.equal(canResume(d.state), false, `${token} ${within}`);
    assert.deepEqual(d.on({ type: "socket_closed", now: 0 }), []);
    assert.deepEqual(d.ticks(0, 120_000, 500), []);
    assert.deepEqual(d.on({ type: "socket_open", now: 120_001 }), []);
    assert.equal(d.state.stage, "live");
    // a media failure is left to the caller as before
    assert.deepEqual(d.on({ type: "ice", state: "failed", now: 1 }), []);
    assert.equal(d.state.stage, "live");
  }
  assert.equal(canResume(INITIAL), false);
});

test("resuming: interrupted -> wait for the customer; resumed -> rejoining; a socket closed again -> offline", () => {
  const d = paired(60);
  d.on({ type: "socket_closed", now: 0 });
  d.ticks(0, 1000);
  d.on({ type: "socket_open", now: 1000 });
  assert.deepEqual(d.on({ type: "interrupted", within: 42, now: 1100 }), []);
  assert.equal(d.state.stage, "customer_lost");
  assert.equal(d.state.deadline, 1100 + 42_000);
  assert.deepEqual(d.on({ type: "resumed", iceServers: TURN, now: 5000 }), []);
  assert.equal(d.state.stage, "rejoining");
  assert.deepEqual(d.state.iceServers, TURN);
  assert.equal(d.times("suspend").length, 1, "the connection was held once, when it was lost");

  const again = paired(60);
  again.on({ type: "socket_closed", now: 0 });
  again.ticks(0, 1000);
  again.on({ type: "socket_open", now: 1000 });
  again.on({ type: "socket_closed", now: 1500 }); // lost again before the answer
  assert.equal(again.state.stage, "offline");
  assert.equal(again.state.deadline, 60_000, "the same time to get back");
  assert.equal(again.state.retryAt, 1500 + 2000);
});

test("the server has no such session any more: the session has ended, said plainly", () => {
  const d = paired(60);
  d.on({ type: "socket_closed", now: 0 });
  d.ticks(0, 1000);
  d.on({ type: "socket_open", now: 1000 });
  const actions = d.on({ type: "refused", code: "no_session" });
  assert.deepEqual(actions, [{ type: "end", reason: "operator_left", words: { key: "status.reconnect.gave_up" } }]);
  assert.equal(d.state.stage, "idle");
  setLanguage("en");
  assert.equal(render(actions[0].words), "The connection was lost for too long; the session has ended");
  // an error at any other time is not an answer to resume
  const live = paired(60);
  assert.deepEqual(live.on({ type: "refused", code: "no_session" }), []);
  assert.equal(live.state.stage, "live");
});

test("a fresh offer replaces the connection, with the ICE servers of resumed; a plain one does not", () => {
  const d = paired(60);
  d.on({ type: "interrupted", within: 60, now: 1000 });
  d.on({ type: "resumed", iceServers: TURN, now: 9000 });
  // the old connection's news while it is being replaced changes nothing
  assert.deepEqual(d.on({ type: "ice", state: "failed", now: 9100 }), []);
  assert.deepEqual(d.on({ type: "ice", state: "connected", now: 9150 }), []);
  assert.equal(d.state.stage, "rejoining");
  assert.deepEqual(d.on({ type: "offer", fresh: true, now: 9200 }), [{ type: "replace", iceServers: TURN }]);
  assert.equal(d.state.relinked, true);
  assert.deepEqual(d.on({ type: "ice", state: "connected", now: 10_000 }), [{ type: "restore" }]);
  assert.equal(d.state.stage, "live");
  assert.equal(d.state.deadline, null);
  assert.equal(needsTicks(d.state), false);

  // renegotiation: the same connection, nothing changes
  const before = d.state;
  assert.deepEqual(d.on({ type: "offer", fresh: false, now: 11_000 }), []);
  assert.equal(d.state, before);
});

test("a fresh offer while all looked well also replaces the connection (the peer saw the drop first)", () => {
  const d = paired(60);
  assert.deepEqual(d.on({ type: "offer", fresh: true, now: 3000 }), [{ type: "replace", iceServers: STUN }]);
  assert.equal(d.state.stage, "rejoining");
  assert.equal(d.state.deadline, 63_000);
  assert.deepEqual(d.on({ type: "ice", state: "connected", now: 4000 }), [{ type: "restore" }]);
  // before pairing there is nothing to replace
  assert.deepEqual(step(INITIAL, { type: "offer", fresh: true, now: 0 }).actions, []);
});

test("the customer's connection lost: input stops, the server's time is counted down", () => {
  setLanguage("en");
  const d = paired(60);
  assert.deepEqual(d.on({ type: "interrupted", within: 60, now: 2000 }), [{ type: "suspend" }]);
  const words = (now) => {
    const shown = statusOf(d.state, now);
    return [render(shown.status), shown.detail && render(shown.detail)];
  };
  assert.deepEqual(words(2000), [
    "The customer's connection was lost — waiting up to 60 s for it to come back…",
    "The session is kept for another 60 s.",
  ]);
  assert.equal(words(19_500)[1], "The session is kept for another 43 s.");
  // ICE troubles meanwhile: the server's answer decides
  assert.deepEqual(d.on({ type: "ice", state: "failed", now: 3000 }), []);
  assert.equal(d.state.stage, "customer_lost");
  // our socket lost too: the server still counts from the customer's drop
  d.on({ type: "socket_closed", now: 10_000 });
  assert.equal(d.state.stage, "offline");
  assert.equal(d.state.deadline, 62_000);
});

test("the customer never came back and the server never said so: ended a little after its time", () => {
  const d = paired(60);
  d.on({ type: "interrupted", within: 30, now: 0 });
  assert.deepEqual(d.ticks(0, 30_000 + SERVER_GRACE_MS - 1, 250), []);
  assert.deepEqual(d.on({ type: "tick", now: 30_000 + SERVER_GRACE_MS }), [
    { type: "send", msg: { type: "bye", reason: "connection_failed" } },
    { type: "end", reason: "peer_left", words: { key: "status.reconnect.gave_up" } },
  ]);
});

test("the media path lost: after 5 s of disconnected, or at once on failed; a fresh offer or the end", () => {
  const d = paired(20);
  d.on({ type: "ice", state: "disconnected", now: 1000 });
  assert.deepEqual(d.ticks(1000, 1000 + DISCONNECTED_GRACE_MS - 1, 100), []);
  assert.equal(d.state.stage, "live");
  assert.deepEqual(d.on({ type: "tick", now: 1000 + DISCONNECTED_GRACE_MS }), [{ type: "suspend" }]);
  assert.equal(d.state.stage, "media_lost");
  const deadline = 1000 + DISCONNECTED_GRACE_MS + 20_000;
  assert.equal(d.state.deadline, deadline);
  assert.deepEqual(d.ticks(6000, deadline - 1, 100), []);
  assert.deepEqual(d.on({ type: "tick", now: deadline }), [
    { type: "send", msg: { type: "bye", reason: "connection_failed" } },
    { type: "end", reason: "connection_failed", words: null },
  ]);

  // a disconnect that recovers in time is nothing
  const blip = paired(20);
  blip.on({ type: "ice", state: "disconnected", now: 0 });
  blip.on({ type: "ice", state: "connected", now: 4000 });
  assert.deepEqual(blip.ticks(0, 20_000, 100), []);
  assert.equal(blip.state.stage, "live");

  // failed: at once; the same connection back by itself: restored
  const failed = paired(20);
  assert.deepEqual(failed.on({ type: "ice", state: "failed", now: 500 }), [{ type: "suspend" }]);
  assert.equal(failed.state.stage, "media_lost");
  assert.deepEqual(failed.on({ type: "ice", state: "connected", now: 900 }), [{ type: "restore" }]);
  assert.equal(failed.state.stage, "live");

  // a fresh offer in time: the new connection, within the same deadline
  const fresh = paired(20);
  fresh.on({ type: "ice", state: "failed", now: 0 });
  assert.deepEqual(fresh.on({ type: "offer", fresh: true, now: 3000 }), [{ type: "replace", iceServers: STUN }]);
  assert.equal(fresh.state.deadline, 20_000);
  assert.deepEqual(fresh.on({ type: "ice", state: "failed", now: 8000 }), [{ type: "suspend" }]);
  assert.equal(fresh.state.stage, "media_lost", "the new one failed too: wait on for another");
  assert.equal(fresh.state.deadline, 20_000);
});

test("a fresh connection not up yet is held too when something else is lost", () => {
  const d = paired(60);
  d.on({ type: "interrupted", within: 60, now: 0 });
  d.on({ type: "resumed", iceServers: STUN, now: 1000 });
  d.on({ type: "offer", fresh: true, now: 1100 });
  assert.deepEqual(d.on({ type: "interrupted", within: 50, now: 1500 }), [{ type: "suspend" }]);
  assert.equal(d.state.relinked, false);
  d.on({ type: "resumed", iceServers: STUN, now: 2000 });
  // waiting for the next fresh offer: the held one's news changes nothing
  assert.deepEqual(d.on({ type: "ice", state: "connected", now: 2100 }), []);
  assert.equal(d.state.stage, "rejoining");
});

test("a first connection that never came up is not a drop: the caller says as before", () => {
  const d = paired(60, { connected: false });
  assert.deepEqual(d.on({ type: "ice", state: "failed", now: 1000 }), []);
  assert.equal(d.state.stage, "live");
});

test("the verification code: the session's first is kept, a different one raises the alert", () => {
  const d = paired(60);
  assert.deepEqual(d.on({ type: "verification", code: "123 456" }), []);
  d.on({ type: "offer", fresh: true, now: 1000 });
  assert.deepEqual(d.on({ type: "verification", code: "123 456" }), [], "the same certificate, the same code");
  d.on({ type: "offer", fresh: true, now: 2000 });
  assert.deepEqual(d.on({ type: "verification", code: "654 321" }), [{ type: "alert", first: "123 456", code: "654 321" }]);
  assert.equal(d.state.verification, "123 456");
  // a new session starts over
  d.on({ type: "paired", sessionId: SESSION, token: TOKEN, within: 60, iceServers: STUN, now: 0 });
  assert.deepEqual(d.on({ type: "verification", code: "654 321" }), []);
  assert.deepEqual(step(INITIAL, { type: "verification", code: "1" }).actions, []);
});

test("a bye (or the operator ending it) stops everything: no attempt, no timer", () => {
  const d = paired(60);
  d.on({ type: "socket_closed", now: 0 });
  assert.equal(needsTicks(d.state), true);
  d.on({ type: "end" });
  assert.equal(d.state, INITIAL);
  assert.equal(needsTicks(d.state), false);
  assert.deepEqual(d.ticks(0, 60_000, 500), []);
});

test("what #status says at each stage, in English and Japanese; nothing internal", () => {
  const at = (d) => statusOf(d.state, 0);
  const offline = paired(60);
  offline.on({ type: "socket_closed", now: 0 });
  const lost = paired(60);
  lost.on({ type: "interrupted", within: 45, now: 0 });
  const rejoining = paired(60);
  rejoining.on({ type: "resumed", iceServers: STUN, now: 0 });
  const media = paired(60);
  media.on({ type: "ice", state: "failed", now: 0 });
  assert.equal(statusOf(paired(60).state, 0), null);
  assert.equal(statusOf(INITIAL, 0), null);
  const expected = {
    en: [
      "Connection to the server lost — reconnecting…",
      "The customer's connection was lost — waiting up to 45 s for it to come back…",
      "Reconnecting…",
      "Connection lost — reconnecting…",
    ],
    ja: [
      "サーバーとの接続が切れました — 再接続しています…",
      "お客様の接続が切れました — 復帰を最大 45 秒待っています…",
      "再接続しています…",
      "接続が切れました — 再接続しています…",
    ],
  };
  try {
    for (const [lang, texts] of Object.entries(expected)) {
      setLanguage(lang);
      assert.deepEqual([offline, lost, rejoining, media].map((d) => render(at(d).status)), texts, lang);
      for (const d of [offline, lost, rejoining, media]) {
        const shown = at(d);
        const all = render(shown.status) + (shown.detail ? render(shown.detail) : "");
        assert.ok(!all.includes(TOKEN) && !all.includes(SESSION), "no secret, no session id");
      }
    }
  } finally {
    setLanguage("en");
  }
});
