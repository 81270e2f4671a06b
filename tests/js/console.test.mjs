// Pure pieces of the console's connection modules (no browser needed).
import { test } from "node:test";
import assert from "node:assert/strict";

import { toIceServers } from "../../webui/rtc.js";
import { AGENT, socketUrl } from "../../webui/signaling.js";
import { parse, serialize } from "../../webui/protocol.js";

test("paired.ice_servers map to RTCIceServer entries", () => {
  const paired = parse(JSON.stringify({
    type: "paired", session_id: "s_12345678", mode: "screen", operator: "alice", host: "h",
    user: "u", os: "o",
    ice_servers: [
      { urls: ["turns:turn.example.com:443?transport=tcp"], username: "1700000000:s_12345678-operator", credential: "c2VjcmV0" },
      { urls: ["stun:stun.example.com:3478"] },
    ],
  }));
  assert.deepEqual(toIceServers(paired.ice_servers), [
    { urls: ["turns:turn.example.com:443?transport=tcp"], username: "1700000000:s_12345678-operator", credential: "c2VjcmV0" },
    { urls: ["stun:stun.example.com:3478"] },
  ]);
});

test("the operator socket URL follows the page's scheme and host", () => {
  assert.equal(socketUrl("/ws/operator", new URL("http://127.0.0.1:8080/")), "ws://127.0.0.1:8080/ws/operator");
  assert.equal(socketUrl("/ws/operator", new URL("https://support.example.com/")), "wss://support.example.com/ws/operator");
});

test("the console's hello is a valid protocol message", () => {
  const text = serialize({ type: "hello", role: "operator", protocol: 1, agent: AGENT });
  assert.deepEqual(parse(text), { type: "hello", role: "operator", protocol: 1, agent: AGENT });
});
