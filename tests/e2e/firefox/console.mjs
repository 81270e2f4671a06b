// Drives the operator console in headless Firefox ESR over WebDriver BiDi, for
// tests/e2e/test_firefox.py. Run it inside the test's network namespace (Firefox's remote agent
// listens on 127.0.0.1 there):
//
//   ip netns exec NS node console.mjs --firefox /usr/bin/firefox-esr --profile DIR
//
// Once Firefox is up it prints {"ready": true, "version": "..."}; then it reads one command per
// line on stdin, a JSON object {"id": N, "op": ..., ...}, and answers each with one line
// {"id": N, "ok": true, "value": ...} or {"id": N, "ok": false, "error": "..."}, in order. The
// page's console messages and errors are printed as {"event": ...} lines along the way. Every
// assertion stays on the Python side; this only does what a person's browser does.
//
//   goto {url}                 load the page, wait for its load event
//   evaluate {fn, arg}         call the function source `fn` with `arg` in the page; its result
//   click {selector}           click the element (visible, enabled and still) with the mouse
//   fill {selector, text}      replace the field's text (puppeteer's Locator.fill: it types)
//   mouse_move {x, y}          move the mouse to a viewport point
//   mouse_click {x, y}         move there, press and release the left button
//   type {text}                type text on the keyboard, into whatever has the focus
//   screenshot {path}          a PNG of the viewport
//   quit                       close Firefox and exit
//
// Each command may carry `timeout` (ms, default 10000).

import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

import puppeteer from "puppeteer-core";

const { values: opts } = parseArgs({
  options: {
    firefox: { type: "string", default: "/usr/bin/firefox-esr" },
    profile: { type: "string" },
    width: { type: "string", default: "1280" },
    height: { type: "string", default: "800" },
  },
});

// On top of puppeteer's own test profile (no updates, no safe browsing, no telemetry, ...): what
// WebRTC on a closed test network needs, and off with everything that would try to reach out.
const PREFS = {
  // Host candidates as addresses, not <uuid>.local names (aioice cannot resolve Firefox's mDNS
  // names either), although the console never asks for camera or microphone.
  "media.peerconnection.ice.obfuscate_host_addresses": false,
  "media.navigator.permission.disabled": true,
  "media.autoplay.default": 0,
  // No background networking of any kind.
  "app.update.auto": false,
  "app.update.enabled": false,
  "app.normandy.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "network.dns.disablePrefetch": true,
  "network.prefetch-next": false,
  "network.predictor.enabled": false,
  "network.http.speculative-parallel-limit": 0,
  "network.trr.mode": 5,
  "network.proxy.type": 0,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "browser.safebrowsing.downloads.enabled": false,
  "browser.safebrowsing.downloads.remote.enabled": false,
  "browser.safebrowsing.provider.google.updateURL": "",
  "browser.safebrowsing.provider.google4.updateURL": "",
  "browser.newtabpage.enabled": false,
  "browser.newtabpage.activity-stream.feeds.topsites": false,
  "browser.newtabpage.activity-stream.feeds.snippets": false,
  "browser.newtabpage.activity-stream.telemetry": false,
  "browser.ping-centre.telemetry": false,
  "browser.region.network.url": "",
  "browser.region.update.enabled": false,
  "browser.search.geoip.url": "",
  "browser.aboutwelcome.enabled": false,
  "datareporting.healthreport.uploadEnabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false,
  "toolkit.telemetry.unified": false,
  "toolkit.telemetry.server": "",
  "toolkit.telemetry.archive.enabled": false,
  "extensions.update.enabled": false,
  "extensions.getAddons.cache.enabled": false,
  "extensions.blocklist.enabled": false,
  "extensions.systemAddon.update.enabled": false,
  "media.gmp-manager.updateEnabled": false,
  "media.gmp-manager.url": "",
  "services.settings.server": "data:,#remote-settings-dummy/v1",
  "dom.push.connection.enabled": false,
  "dom.push.serverURL": "",
  "geo.provider.network.url": "",
  "security.OCSP.enabled": 0,
  "identity.fxaccounts.enabled": false,
};

/** @param {object} line */
const emit = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const browser = await puppeteer.launch({
  browser: "firefox",
  protocol: "webDriverBiDi",
  executablePath: opts.firefox,
  headless: true,
  userDataDir: opts.profile,
  extraPrefsFirefox: PREFS,
  dumpio: true, // Firefox's own output goes to our stderr, into the test's log
  timeout: 30_000,
  protocolTimeout: 30_000,
});
// A tab of our own: headless Firefox never gives the tab it starts with the focus (there,
// document.hasFocus() stays false and focus() fires no focus events); a new tab has it.
const page = await browser.newPage();
await page.bringToFront();
await page.setViewport({ width: Number(opts.width), height: Number(opts.height) });
page.on("console", (msg) => emit({ event: "console", type: msg.type(), text: msg.text() }));
page.on("pageerror", (error) => emit({ event: "pageerror", text: String(error) }));

/**
 * @param {{op: string, timeout?: number, [field: string]: any}} cmd
 * @returns {Promise<unknown>}
 */
async function run(cmd) {
  const timeout = cmd.timeout ?? 10_000;
  switch (cmd.op) {
    case "goto":
      await page.goto(cmd.url, { timeout, waitUntil: "load" });
      return null;
    case "evaluate":
      return await page.evaluate(`(${cmd.fn})(${JSON.stringify(cmd.arg ?? null)})`);
    case "click":
      await page.locator(cmd.selector).setTimeout(timeout).click();
      return null;
    case "fill":
      await page.locator(cmd.selector).setTimeout(timeout).fill(cmd.text);
      return null;
    case "mouse_move":
      await page.mouse.move(cmd.x, cmd.y);
      return null;
    case "mouse_click":
      await page.mouse.click(cmd.x, cmd.y);
      return null;
    case "type":
      await page.keyboard.type(cmd.text);
      return null;
    case "upload": {
      const input = await page.waitForSelector(cmd.selector, { timeout });
      if (!input) throw new Error(`no ${cmd.selector}`);
      await /** @type {any} */ (input).uploadFile(...cmd.paths);
      return null;
    }
    case "screenshot":
      await page.screenshot({ path: cmd.path });
      return null;
    case "quit":
      await browser.close();
      return null;
    default:
      throw new Error(`unknown op ${JSON.stringify(cmd.op)}`);
  }
}

emit({ ready: true, version: await browser.version() });

// One command at a time, answered in order.
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  /** @type {{id: number, op: string}} */
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (error) {
    emit({ event: "bad-command", text: line, error: String(error) });
    continue;
  }
  try {
    emit({ id: cmd.id, ok: true, value: (await run(cmd)) ?? null });
  } catch (error) {
    const err = /** @type {Error} */ (error);
    emit({ id: cmd.id, ok: false, error: err.stack || String(err) });
  }
  if (cmd.op === "quit") break;
}
// stdin closed (the test is over) or quit: Firefox goes with us.
if (browser.connected) await browser.close().catch(() => undefined);
process.exit(0);
