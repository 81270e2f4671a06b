// The console's layout rules that keep controls from covering each other (issue 9): the session
// column scrolls inside itself, End session stays outside the scrolling part, and the page is
// exactly as tall as the window whatever the header's height (no fixed guess of it).
// Screenshots at 1280×720, 1600×860 and 1920×1080 checked the result; this holds the rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const WEBUI = new URL("../../webui/", import.meta.url);
const html = readFileSync(new URL("index.html", WEBUI), "utf8");
const css = readFileSync(new URL("style.css", WEBUI), "utf8");

/** The declarations of the first rule whose selector is exactly `selector`. */
function rule(selector) {
  const at = css.indexOf(`\n${selector} {`);
  assert.ok(at >= 0, `no rule for ${selector}`);
  return css.slice(at, css.indexOf("}", at));
}

test("End session is below the scrolling panels, never inside them", () => {
  const scroll = html.indexOf('<div class="session-scroll">');
  const end = html.indexOf('id="end-button"');
  assert.ok(scroll > 0 && end > scroll);
  const inner = html.slice(scroll, end);
  const opened = inner.split("<div").length - 1;
  const closed = inner.split("</div>").length - 1;
  assert.equal(opened, closed, "the scrolling part is closed before End session");
  for (const id of ["clipboard-panel", "clipboard-received", "consent-panel", "control-panel"]) {
    assert.ok(inner.includes(`id="${id}"`), `${id} scrolls`);
  }
});

test("the session column scrolls inside itself and says so", () => {
  const scroll = rule(".session-scroll");
  assert.match(scroll, /overflow-y: auto/);
  assert.match(scroll, /min-height: 0/);
  assert.match(scroll, /background-attachment|local/, "a shadow shows there is more to scroll to");
  assert.match(rule(".session-card"), /min-height: 0/);
  assert.match(rule(".end-button"), /flex: none/);
});

test("the console takes what the header leaves: no guessed header height", () => {
  assert.doesNotMatch(css, /calc\(100vh - /);
  assert.match(rule(".console"), /flex: 1 1 0/);
});
