// What the operator shows the customer (show_screen, show_camera) and the customer's camera in
// the console: the words of each state, why a capture gave nothing, which m-line sends what
// before an answer, and the registry's video and camera ports.
import { test } from "node:test";
import assert from "node:assert/strict";

import { cameraStateText } from "../../webui/cameraview.js";
import { setLanguage } from "../../webui/i18n.js";
import { Panels, definePanel } from "../../webui/panels.js";
import { CAPABILITY_BY_NAME, CAMERA_STREAM, parse } from "../../webui/protocol.js";
import { videoAnswerPlan } from "../../webui/rtc.js";
import { captureProblem, showStateText } from "../../webui/showview.js";

/** A transceiver as `videoAnswerPlan` reads it. */
function transceiver(kind, mid, track = null, currentDirection = null) {
  return { mid, receiver: { track: { kind } }, sender: { track }, direction: "recvonly", currentDirection };
}

const SCREEN = { id: "screen-1", kind: "video" };

test("before an answer: the named m-line sends the operator's screen, nothing else is touched", () => {
  const customerScreen = transceiver("video", "0");
  const voice = transceiver("audio", "2");
  const shown = transceiver("video", "3");
  const plan = videoAnswerPlan([customerScreen, voice, shown], new Map([["show_screen", "3"]]), new Map([["show_screen", SCREEN]]));
  assert.deepEqual(plan.map((s) => [s.transceiver.mid, s.direction, s.track, s.capability]), [["3", "sendonly", SCREEN, "show_screen"]]);
  // allowed, but the operator has not picked (or stopped): sendonly, no picture yet
  const none = videoAnswerPlan([shown], new Map([["show_screen", "3"]]), new Map([["show_screen", null]]));
  assert.deepEqual(none.map((s) => [s.direction, s.track]), [["sendonly", null]]);
});

test("an m-line the offer no longer names (taken back) sends nothing", () => {
  const shown = transceiver("video", "3", SCREEN);
  const plan = videoAnswerPlan([shown], new Map(), new Map([["show_screen", SCREEN]]));
  assert.deepEqual(plan.map((s) => [s.transceiver.mid, s.direction, s.track]), [["3", "inactive", null]]);
  // the customer's own screen (received, nothing sent on it) is left as the browser answers it
  assert.deepEqual(videoAnswerPlan([transceiver("video", "0")], new Map(), new Map()), []);
});

test("an offer naming the customer's own screen m-line for show_screen does not turn it round", () => {
  const customerScreen = transceiver("video", "0", null, "recvonly");
  const plan = videoAnswerPlan([customerScreen], new Map([["show_screen", "0"]]), new Map([["show_screen", SCREEN]]));
  assert.deepEqual(plan, [], "the customer's picture keeps coming; the operator's screen goes nowhere");
});

test("the panel's words follow consent and what the browser is doing", () => {
  assert.equal(showStateText("show_screen", "off", "idle", true), "The customer sees nothing of yours. Show them your screen, a window or a tab");
  assert.equal(showStateText("show_screen", "off", "picking", true), "Pick what to show in your browser's window…");
  assert.equal(showStateText("show_screen", "asked", "idle", true), "Asking the customer to look at your screen…");
  assert.equal(showStateText("show_screen", "granted", "idle", true), "The customer sees your screen in a window of their own");
  assert.equal(showStateText("show_screen", "revoked", "idle", true), "The customer closed the window with your screen");
  assert.equal(showStateText("show_camera", "denied", "idle", true), "The customer said not now");
  assert.equal(showStateText("show_camera", "granted", "idle", true), "The customer sees your camera in a window of their own");
  assert.equal(showStateText("show_screen", "granted", "idle", false), "Waiting for the customer…");
});

test("a capture that gives nothing says why in words", () => {
  assert.match(captureProblem("show_screen", { name: "NotAllowedError", message: "Permission denied" }), /cancelled/);
  assert.match(captureProblem("show_camera", { name: "NotFoundError" }), /No camera/);
  assert.match(captureProblem("show_camera", { name: "NotReadableError" }), /in use/);
  assert.match(captureProblem("show_screen", new Error("boom")), /boom/);
  assert.match(captureProblem("show_camera", "insecure"), /https:\/\//);
});

test("the customer's camera: consent first, then the peer's camera_state", () => {
  assert.match(cameraStateText("off", null, true), /Off until the customer allows it/);
  assert.equal(cameraStateText("asked", null, true), "Asking the customer…");
  assert.equal(cameraStateText("granted", null, true), "Allowed: the customer's camera is opening…");
  assert.equal(cameraStateText("granted", { state: "on", name: "USB Camera" }, true), "You see the customer's camera (USB Camera)");
  assert.match(cameraStateText("granted", { state: "busy" }, true), /in use by another program/);
  assert.match(cameraStateText("granted", { state: "lost" }, true), /unplugged/);
  assert.match(cameraStateText("granted", { state: "no_camera" }, true), /no camera/);
  assert.equal(cameraStateText("released", null, true), "You stopped the camera");
  setLanguage("ja");
  try {
    assert.match(cameraStateText("granted", { state: "busy" }, true), /使用中/);
    assert.match(showStateText("show_screen", "revoked", "idle", true), /閉じました/);
  } finally {
    setLanguage("en");
  }
});

test("the wire: camera_state's states and the offer's mids are checked", () => {
  assert.equal(parse('{"type":"camera_state","state":"lost"}', "control").state, "lost");
  assert.throws(() => parse('{"type":"camera_state","state":"smiling"}', "control"));
  assert.equal(parse('{"type":"offer","sdp":"v=0","show_screen_mid":"3"}').show_screen_mid, "3");
  assert.throws(() => parse('{"type":"offer","sdp":"v=0","show_screen_mid":"3 4"}'));
  assert.deepEqual([...(CAPABILITY_BY_NAME.get("show_screen")?.receives ?? [])], ["video"]);
  assert.equal(CAMERA_STREAM, "supportlink-camera");
});

test("the registry: what each showing panel sends, and the camera port", () => {
  const track = { id: "t", kind: "video" };
  const seen = [];
  const specs = [
    definePanel({ capability: "show_screen", create: () => ({ update() {}, reset() {}, video: { local: () => track } }) }),
    definePanel({ capability: "show_camera", create: () => ({ update() {}, reset() {}, video: { local: () => null } }) }),
    definePanel({
      capability: "camera",
      receives: { control: ["camera_state"] },
      create: () => ({ update() {}, reset() {}, camera: { remote: (t) => seen.push(t), stopped: (t) => t === track } }),
    }),
  ];
  const panels = new Panels(specs, /** @type {any} */ ({}));
  assert.deepEqual([...panels.videoOut()], [["show_screen", track], ["show_camera", null]]);
  panels.camera()?.remote(track, () => true);
  assert.deepEqual(seen, [track]);
  assert.equal(panels.camera()?.stopped(track), true);
});
