// The voice panel's core (webui/voice.js): the operator's state machine from Start voice to Hang
// up, a refused microphone (listen-only), the customer's answers and voice_state, what the
// answer to an audio offer says (sendrecv or recvonly), and the words for all of it.
import { test } from "node:test";
import assert from "node:assert/strict";

import { render, setLanguage, t } from "../../webui/i18n.js";
import { MIC_STATES, SPEAKER_STATES, parse } from "../../webui/protocol.js";
import {
  SILENCE_DB, VoiceCore, customerVoiceWords, levelDb, micProblem, micProblemWords, voiceView,
} from "../../webui/voice.js";

/** @param {import("../../webui/voice.js").VoiceAction[]} actions */
const types = (actions) => actions.map((a) => a.type);

/** What #voice-state says (and the second line), in English. */
function words(core, open = true) {
  const view = voiceView(core, open);
  return { state: render(view.state), detail: view.detail && render(view.detail) };
}

test("Start voice -> asking -> on -> muted -> hang up, with what is done at each step", () => {
  const core = new VoiceCore();
  core.consentIs("off");
  assert.equal(core.phase(), "off");
  assert.equal(voiceView(core, true).start.hidden, false);
  assert.equal(voiceView(core, true).hangUp, false);

  assert.deepEqual(types(core.start()), ["get_mic"]);
  assert.equal(core.phase(), "starting");
  assert.deepEqual(core.start(), [], "pressed twice: one microphone asked for");
  assert.equal(words(core).state, "Waiting for your browser's microphone…");

  // the microphone first, then the customer is asked
  assert.deepEqual(types(core.micReady("live")), ["attach", "ask"]);
  assert.deepEqual(core.consentIs("asked"), []);
  assert.equal(core.phase(), "asking");
  assert.equal(words(core).state, "Asking the customer to allow voice…");
  assert.equal(voiceView(core, true).start.hidden, true);
  assert.equal(voiceView(core, true).hangUp, true);

  assert.deepEqual(core.consentIs("granted"), []);
  assert.equal(core.phase(), "on");
  assert.equal(words(core).state, "On the call: you and the customer hear each other.");
  assert.deepEqual(voiceView(core, true).mute, { hidden: false, muted: false });

  assert.deepEqual(core.toggleMute(), [{ type: "mute", muted: true }]);
  assert.equal(core.phase(), "muted");
  assert.equal(words(core).state, "You are muted: the customer hears silence.");
  assert.deepEqual(voiceView(core, true).mute, { hidden: false, muted: true });
  assert.deepEqual(core.toggleMute(), [{ type: "mute", muted: false }]);

  assert.deepEqual(types(core.hangUp()), ["stop_mic", "release"]);
  assert.equal(core.phase(), "hung_up");
  assert.equal(core.sends, false, "after hanging up, an audio offer is answered recvonly");
  assert.equal(words(core).state, "You hung up. Press Start voice to talk again.");
  assert.deepEqual(core.consentIs("released"), []);
  assert.equal(voiceView(core, true).start.hidden, false);
  assert.equal(voiceView(core, true).mute.hidden, true);

  // and again: asked anew
  assert.deepEqual(types(core.start()), ["get_mic"]);
  assert.equal(core.sends, true);
  assert.deepEqual(types(core.micReady("live")), ["attach", "ask"]);
});

test("the browser refuses the microphone: said plainly, listen-only, the customer still asked", () => {
  const core = new VoiceCore();
  core.consentIs("off");
  core.start();
  assert.deepEqual(types(core.micReady("blocked")), ["attach", "ask"]);
  core.consentIs("asked");
  assert.deepEqual(words(core), {
    state: "Your browser did not allow the microphone: the customer will not hear you; you can still hear them. " +
      "Allow the microphone in the address bar and press Start voice again.",
    detail: "Asking the customer to allow voice…",
  });
  assert.equal(voiceView(core, true).alert, true);
  core.consentIs("granted");
  assert.equal(core.phase(), "listening");
  assert.equal(words(core).detail, "Listening only: you hear the customer, they do not hear you.");
  assert.equal(voiceView(core, true).mute.hidden, true, "nothing to mute");
  assert.equal(voiceView(core, true).start.hidden, false, "Start voice tries the microphone again");
  assert.equal(core.sends, true, "sendrecv all the same: a microphone found later needs no new offer");

  // allowed in the address bar, Start voice again: the microphone only, no second question
  assert.deepEqual(types(core.start()), ["get_mic"]);
  assert.deepEqual(types(core.micReady("live")), ["attach"]);
  assert.equal(core.phase(), "on");
});

test("every way getUserMedia fails has its own words", () => {
  assert.equal(micProblem(Object.assign(new Error("x"), { name: "NotAllowedError" })), "blocked");
  assert.equal(micProblem({ name: "NotFoundError" }), "missing");
  assert.equal(micProblem({ name: "OverconstrainedError" }), "missing");
  assert.equal(micProblem({ name: "NotReadableError" }), "busy");
  assert.equal(micProblem(new TypeError("nope")), "failed");
  assert.equal(micProblem(null), "failed");
  const texts = ["blocked", "missing", "busy", "insecure", "failed", "lost"].map((p) => render(micProblemWords(p)));
  assert.equal(new Set(texts).size, 6);
  for (const text of texts) assert.match(text, /hear/);
});

test("the customer says no, or takes voice back: the microphone stops and the panel says so", () => {
  const denied = new VoiceCore();
  denied.consentIs("off");
  denied.start();
  denied.micReady("live");
  denied.consentIs("asked");
  assert.deepEqual(types(denied.consentIs("denied")), ["stop_mic"]);
  assert.equal(denied.phase(), "denied");
  assert.equal(denied.sends, false);
  assert.equal(words(denied).state, "The customer said no to voice.");
  assert.equal(voiceView(denied, true).alert, true);
  assert.equal(voiceView(denied, true).start.hidden, false, "asking again is offered");

  const revoked = new VoiceCore();
  revoked.consentIs("off");
  revoked.start();
  revoked.micReady("live");
  revoked.consentIs("asked");
  revoked.consentIs("granted");
  revoked.remoteState({ mic: "muted", speaker: "on" });
  assert.deepEqual(types(revoked.consentIs("revoked")), ["stop_mic"]);
  assert.equal(revoked.phase(), "revoked");
  assert.equal(words(revoked).state, "The customer turned voice off.");
  assert.deepEqual(voiceView(revoked, true).customer, [], "nothing said about devices no longer in use");
  assert.equal(revoked.mic, "none");
});

test("hanging up while the customer has the question: a late yes is handed back at once", () => {
  const core = new VoiceCore();
  core.consentIs("off");
  core.start();
  core.micReady("live");
  core.consentIs("asked");
  assert.deepEqual(types(core.hangUp()), ["stop_mic"], "nothing granted yet, nothing to release");
  assert.deepEqual(types(core.consentIs("granted")), ["release"]);
  assert.deepEqual(core.consentIs("released"), []);
  assert.equal(core.phase(), "hung_up");
});

test("the microphone's answer after hanging up is thrown away", () => {
  const core = new VoiceCore();
  core.consentIs("off");
  core.start();
  core.hangUp();
  assert.deepEqual(types(core.micReady("live")), ["stop_mic"]);
  assert.deepEqual(core.micReady("blocked"), []);
  assert.equal(core.mic, "none");
});

test("voice allowed beforehand: the customer is heard at once; Start voice only gets the microphone", () => {
  const core = new VoiceCore();
  assert.equal(core.sends, true, "an audio offer before consent is known is answered sendrecv");
  core.consentIs("granted");
  assert.equal(core.phase(), "allowed");
  assert.equal(words(core).state, "The customer allows voice: you can hear them. Press Start voice to talk.");
  const view = voiceView(core, true);
  assert.equal(view.start.hidden, false);
  assert.equal(view.hangUp, true, "the operator can hang up what the customer allowed");
  assert.deepEqual(types(core.start()), ["get_mic"]);
  assert.deepEqual(types(core.micReady("live")), ["attach"], "no question: it is allowed already");
  assert.equal(core.phase(), "on");
  // hanging up hands it back
  assert.deepEqual(types(core.hangUp()), ["stop_mic", "release"]);
});

test("a fresh connection after a drop: the call goes on until the peer says otherwise", () => {
  const core = new VoiceCore();
  core.consentIs("off");
  core.start();
  core.micReady("live");
  core.consentIs("asked");
  core.consentIs("granted");
  // consent is forgotten with the old connection (`ConsentTracker.reset`)
  assert.deepEqual(core.consentIs("unknown"), []);
  assert.equal(core.phase(), "on");
  assert.equal(core.sends, true, "the new connection's answer carries the microphone");
  assert.deepEqual(core.consentIs("granted"), [], "said again: nothing to do");
  // a consent_state on the new connection without voice: gone, as taken back
  assert.deepEqual(types(core.consentIs("unknown")), []);
  assert.deepEqual(types(core.consentIs("off")), ["stop_mic"]);
  assert.equal(core.phase(), "revoked");
});

test("an unplugged microphone: listening only, and it says how to go on", () => {
  const core = new VoiceCore();
  core.consentIs("granted");
  core.start();
  core.micReady("live");
  core.toggleMute();
  assert.deepEqual(types(core.micLost()), ["stop_mic"]);
  assert.equal(core.phase(), "listening");
  assert.equal(core.muted, false);
  assert.match(words(core).state, /^Your microphone was disconnected/);
  assert.deepEqual(core.micLost(), []);
});

test("voice_state in words: only what is not simply working", () => {
  assert.deepEqual(customerVoiceWords(null), []);
  assert.deepEqual(customerVoiceWords({ mic: "on", speaker: "on" }), []);
  const said = (mic, speaker) => customerVoiceWords({ mic, speaker }).map(render);
  assert.deepEqual(said("muted", "on"), ["The customer has muted their microphone."]);
  assert.deepEqual(said("no_device", "on"), ["The customer has no microphone: they can hear you but you cannot hear them."]);
  assert.deepEqual(said("busy", "on"), ["Another program is using the customer's microphone: you cannot hear them for now."]);
  assert.deepEqual(said("lost", "on"), ["The customer's microphone was unplugged; the call goes on."]);
  assert.deepEqual(said("on", "no_device"), ["The customer cannot hear you: they have no speakers or headset."]);
  assert.deepEqual(said("on", "busy"), ["The customer cannot hear you: another program is using their speakers."]);
  assert.deepEqual(said("lost", "lost"), [
    "The customer's microphone was unplugged; the call goes on.",
    "The customer cannot hear you: their headset or speakers were unplugged; the call goes on.",
  ]);
  // every state the protocol allows is covered: "on" says nothing, every other one something
  for (const mic of MIC_STATES) assert.equal(said(mic, "on").length, mic === "on" ? 0 : 1, mic);
  for (const speaker of SPEAKER_STATES) assert.equal(said("on", speaker).length, speaker === "on" ? 0 : 1, speaker);
});

test("voice_state from the wire reaches the panel while voice is on, not before or after", () => {
  const msg = parse(JSON.stringify({ type: "voice_state", mic: "no_device", speaker: "on" }), "control");
  const core = new VoiceCore();
  assert.equal(core.remoteState(msg), true);
  assert.equal(core.remoteState(msg), false, "the same state again is nothing new");
  assert.deepEqual(voiceView(core, true).customer, [], "voice is off: nothing shown");
  core.consentIs("granted");
  core.start();
  core.micReady("live");
  assert.deepEqual(voiceView(core, true).customer.map(render),
    ["The customer has no microphone: they can hear you but you cannot hear them."]);
  core.hangUp();
  assert.deepEqual(voiceView(core, true).customer, []);
});

test("before the control channel opens nothing can be asked", () => {
  const core = new VoiceCore();
  const view = voiceView(core, false);
  assert.equal(view.start.disabled, true);
  assert.equal(render(view.state), "Waiting for the customer…");
});

test("a meter's level: dBFS rounded, -100 for silence", () => {
  assert.equal(levelDb(new Float32Array(512)), SILENCE_DB);
  assert.equal(levelDb([]), SILENCE_DB);
  assert.equal(levelDb(new Float32Array(512).fill(1)), 0);
  assert.equal(levelDb(new Float32Array(512).fill(-0.5)), -6);
  const sine = Float32Array.from({ length: 4800 }, (_, i) => 0.1 * Math.sin((2 * Math.PI * 440 * i) / 48000));
  assert.equal(levelDb(sine), -23); // 0.1 peak: -20 dB, a sine's RMS 3 dB under its peak
  assert.equal(levelDb(new Float32Array(512).fill(1e-7)), SILENCE_DB, "below -100 is silence");
});

test("the panel's words in Japanese", () => {
  setLanguage("ja");
  try {
    const core = new VoiceCore();
    core.consentIs("off");
    core.start();
    core.micReady("blocked");
    assert.match(render(voiceView(core, true).state), /マイク/);
    assert.equal(render(customerVoiceWords({ mic: "muted", speaker: "on" })[0]), "お客様がマイクをミュートしています。");
    assert.equal(t("voice.start"), "通話を開始");
    assert.equal(t("capability.voice"), "音声通話");
  } finally {
    setLanguage("en");
  }
});
