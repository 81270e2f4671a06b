// The special-keys menu: combinations the operator's own computer would keep.
import { test } from "node:test";
import assert from "node:assert/strict";

import { parse } from "../../webui/protocol.js";
import { setLanguage } from "../../webui/i18n.js";
import { RemoteControl } from "../../webui/control.js";
import { SPECIAL_KEYS, comboMessages, specialKey } from "../../webui/specialkeys.js";

test("a combination is pressed in order and released in reverse, as valid key messages", () => {
  const msgs = comboMessages(specialKey("ctrl_alt_del").keys);
  assert.deepEqual(msgs.map((m) => `${m.down ? "+" : "-"}${m.code}`),
    ["+ControlLeft", "+AltLeft", "+Delete", "-Delete", "-AltLeft", "-ControlLeft"]);
  for (const special of SPECIAL_KEYS) {
    for (const msg of comboMessages(special.keys)) {
      assert.deepEqual(parse(JSON.stringify(msg), "input"), msg, special.id); // the wire takes it
    }
  }
});

test("every entry has words in both languages", () => {
  for (const lang of ["en", "ja"]) {
    setLanguage(lang);
    for (const special of SPECIAL_KEYS) assert.ok(!special.label().startsWith("keys."), special.id);
  }
  setLanguage("en");
});

test("the menu sends only while the customer allows control, and logs what it sent", () => {
  const element = () => ({
    hidden: false, disabled: false, textContent: "", value: "", dataset: {},
    classList: { toggle() {} }, addEventListener() {}, replaceChildren() {},
  });
  const el = {
    panel: element(), state: element(), hint: element(), requestButton: element(),
    handBackButton: element(), captureBar: element(), keyboardCapture: element(),
    releaseKeyboardButton: element(), specialKeys: element(), videoWrap: element(),
    video: { ...element(), addEventListener() {}, removeEventListener() {}, focus() {} },
  };
  let allowed = false;
  const sent = [];
  const lines = [];
  const control = new RemoteControl(/** @type {any} */ (el), {
    sendControl: () => true,
    sendInput: (msg) => { sent.push(msg); return true; },
    channelOpen: () => true,
    consent: /** @type {any} */ ({ allows: () => allowed, status: () => (allowed ? "granted" : "off") }),
    log: (line) => lines.push(line),
  });
  control.setLive(true);
  assert.equal(el.specialKeys.hidden, true, "no menu without control");
  control.sendSpecial("alt_tab");
  assert.deepEqual(sent, []);
  allowed = true;
  control.update();
  assert.equal(el.specialKeys.hidden, false);
  sent.length = 0;
  control.sendSpecial("alt_tab");
  assert.deepEqual(sent.map((m) => [m.code, m.down]),
    [["AltLeft", true], ["Tab", true], ["Tab", false], ["AltLeft", false]]);
  assert.match(lines.at(-1), /sent Alt\+Tab/);
  control.sendSpecial("no-such-combination");
  assert.equal(sent.length, 4);
});
