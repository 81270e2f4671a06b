// What of the customer's desktop is shown: monitor labels and the shared-view words.
import { test } from "node:test";
import assert from "node:assert/strict";

import { setLanguage } from "../../webui/i18n.js";
import { parse } from "../../webui/protocol.js";
import { ViewPanel, monitorLabel, viewLogLine, viewStateText } from "../../webui/view.js";

const twoMonitors = parse(JSON.stringify({
  type: "view_state",
  monitors: [
    { index: 0, x: 0, y: 0, width: 1920, height: 1080, primary: true },
    { index: 1, x: 1920, y: 0, width: 1280, height: 1024, primary: false },
  ],
  monitor: 1,
  width: 1280,
  height: 1024,
}), "control");

const oneMonitor = { ...twoMonitors, monitors: twoMonitors.monitors.slice(0, 1), monitor: 0 };
const threeMonitors = {
  ...twoMonitors,
  monitors: [...twoMonitors.monitors, { index: 2, x: 3200, y: 0, width: 2560, height: 1440, primary: false }],
  monitor: 0,
};

test("one picker entry per monitor, counted from 1 (the wire counts from 0), out of how many", () => {
  assert.deepEqual(twoMonitors.monitors.map((m) => monitorLabel(m, 2)), ["Monitor 1 of 2 (1920×1080)", "Monitor 2 of 2 (1280×1024)"]);
  assert.deepEqual(threeMonitors.monitors.map((m) => monitorLabel(m, 3)),
    ["Monitor 1 of 3 (1920×1080)", "Monitor 2 of 3 (1280×1024)", "Monitor 3 of 3 (2560×1440)"]);
  assert.equal(monitorLabel(oneMonitor.monitors[0], 1), "Monitor 1 (1920×1080)");
});

test("what is shared: the whole screen (which monitor of how many), or one application", () => {
  assert.equal(viewStateText(twoMonitors), "Whole screen: Monitor 2 of 2");
  assert.equal(viewStateText(threeMonitors), "Whole screen: Monitor 1 of 3");
  assert.equal(viewStateText(oneMonitor), "Whole screen", "one monitor needs no number");
  assert.equal(viewStateText({ ...twoMonitors, window: "Invoice.pdf - Viewer" }), "One application: Invoice.pdf - Viewer");
  assert.equal(viewStateText({ ...twoMonitors, window: "" }), "One application: (untitled window)");
});

test("monitors in Japanese: counted the same way", () => {
  try {
    setLanguage("ja");
    assert.equal(viewStateText(threeMonitors), "画面全体: モニター 1/3");
    assert.equal(viewStateText(oneMonitor), "画面全体");
    assert.equal(monitorLabel(threeMonitors.monitors[2], 3), "モニター 3/3（2560×1440）");
  } finally {
    setLanguage("en");
  }
});

test("a view_state is logged when something in it changed", () => {
  const first = viewLogLine(null, twoMonitors);
  assert.equal(first, "view: whole screen, monitor 2 of 2 (1280×1024)");
  assert.equal(viewLogLine(twoMonitors, { ...twoMonitors }), null);
  assert.equal(
    viewLogLine(twoMonitors, { ...twoMonitors, window: "Mail", width: 800, height: 600 }),
    "view: limited to one application: Mail (800×600)",
  );
  assert.equal(viewLogLine(twoMonitors, { ...twoMonitors, monitor: 0 }), "view: whole screen, monitor 1 of 2 (1280×1024)");
});

test("the monitor picker: every monitor named out of how many; none to pick with one monitor", () => {
  globalThis.document ??= /** @type {any} */ ({ createElement: () => ({ value: "", textContent: "" }) });
  const element = () => ({ hidden: false, disabled: false, textContent: "", title: "", dataset: {}, addEventListener() {} });
  const monitor = {
    ...element(), value: "", options: [],
    replaceChildren(...options) { this.options = options; },
  };
  const el = { tools: element(), viewState: element(), monitor, limitButton: element(), wholeButton: element(), note: element() };
  const panel = new ViewPanel(/** @type {any} */ (el), { sendControl: () => true, viewAllowed: () => true, log: () => {} });
  panel.live = true;
  panel.show(threeMonitors);
  assert.equal(el.tools.hidden, false);
  assert.equal(monitor.hidden, false);
  assert.deepEqual(monitor.options.map((o) => o.textContent),
    ["Monitor 1 of 3 (1920×1080)", "Monitor 2 of 3 (1280×1024)", "Monitor 3 of 3 (2560×1440)"]);
  assert.equal(el.viewState.textContent, "Whole screen: Monitor 1 of 3");
  panel.show(oneMonitor);
  assert.equal(monitor.hidden, true, "nothing to pick");
  assert.equal(el.viewState.textContent, "Whole screen");
  assert.equal(el.limitButton.hidden, false);
  assert.equal(el.note.hidden, true);
  // one application: nothing to pick, no limit button, and the note says who can undo it
  panel.show({ ...oneMonitor, window: "Ledger" });
  assert.equal(el.viewState.textContent, "One application: Ledger");
  assert.equal(el.limitButton.hidden, true);
  assert.equal(el.note.hidden, false);
  assert.match(el.note.textContent, /Only the customer can share the whole screen again/);
  assert.equal(el.wholeButton.hidden, false, "the operator can ask for the whole screen");
  panel.show(oneMonitor);  // back to the whole screen: the note goes
  assert.equal(el.note.hidden, true);
  assert.equal(el.wholeButton.hidden, true);
});

test("asking for the whole screen: sent once, the customer's no is said, a yes clears it", () => {
  globalThis.document ??= /** @type {any} */ ({ createElement: () => ({ value: "", textContent: "" }) });
  let onClick = () => {};
  const element = () => ({ hidden: false, disabled: false, textContent: "", title: "", dataset: {}, addEventListener() {} });
  const monitor = { ...element(), value: "", options: [], replaceChildren(...options) { this.options = options; } };
  const wholeButton = { ...element(), addEventListener(_type, fn) { onClick = fn; } };
  const el = { tools: element(), viewState: element(), monitor, limitButton: element(), wholeButton, note: element() };
  const sent = [];
  const logged = [];
  const panel = new ViewPanel(/** @type {any} */ (el), {
    sendControl: (m) => { sent.push(m); return true; }, viewAllowed: () => true, log: (line) => logged.push(line),
  });
  panel.live = true;
  panel.show({ ...oneMonitor, window: "Ledger" });
  onClick();
  onClick();  // a second click while waiting sends nothing more
  assert.deepEqual(sent, [{ type: "whole_screen_request" }]);
  assert.equal(wholeButton.disabled, true);
  assert.match(el.note.textContent, /Asked the customer to share the whole screen again/);
  panel.answered({ allowed: false });
  assert.match(el.note.textContent, /The customer keeps sharing one application/);
  assert.equal(wholeButton.disabled, false);
  assert.ok(logged.includes("view: the customer keeps sharing one application"));
  panel.answered({ allowed: true });  // no question open: ignored
  assert.ok(!logged.includes("view: the customer shares the whole screen again"));
  onClick();
  panel.answered({ allowed: true });
  panel.show(oneMonitor);
  assert.equal(wholeButton.hidden, true);
  assert.equal(el.note.hidden, true);
  assert.ok(logged.includes("view: the customer shares the whole screen again"));
});
