// Every console module loads: a syntax error or a bad import anywhere fails here, not only in
// a browser. main.js is left out: it starts the page, and there is no page here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";

const dir = new URL("../../webui/", import.meta.url);

test("every console module imports without a page", async () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".js") && f !== "main.js");
  assert.ok(files.length > 10);
  for (const file of files) {
    await assert.doesNotReject(import(new URL(file, dir).href), file);
  }
});
