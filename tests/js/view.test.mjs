// What of the customer's desktop is shown: monitor labels and the shared-view words.
import { test } from "node:test";
import assert from "node:assert/strict";

import { parse } from "../../webui/protocol.js";
import { monitorLabel, viewLogLine, viewStateText } from "../../webui/view.js";

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

test("one picker entry per monitor, counted from 1", () => {
  assert.deepEqual(twoMonitors.monitors.map(monitorLabel), ["Monitor 1 (1920×1080)", "Monitor 2 (1280×1024)"]);
});

test("what is shared: a whole monitor or one application", () => {
  assert.equal(viewStateText(twoMonitors), "Whole screen: Monitor 2");
  assert.equal(viewStateText({ ...twoMonitors, window: "Invoice.pdf - Viewer" }), "One application: Invoice.pdf - Viewer");
  assert.equal(viewStateText({ ...twoMonitors, window: "" }), "One application: (untitled window)");
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
