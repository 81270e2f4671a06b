// @ts-check
/**
 * The customer's page (`/join`, `join.html`): what will happen, the code, and the program for
 * this computer as a real form POST (`/join/download`), so the browser saves it with its own
 * progress. What to offer and the words for it come from `joinpage.js`; this module only puts
 * them on the page. Every state has words: loading, server unreachable, program ready, no
 * program, after the download, a refused download (`/join?error=TOKEN#CODE`).
 *
 * Like `main.js` it starts the page when it is loaded by one; imported without a page (node's
 * module test) it does nothing.
 */

import { formatCode } from "./format.js";
import { msg, onLanguageChange, t } from "./i18n.js";
import {
  chooseProgram, codeFromHash, detectSystem, downloadError, glibcReleases, linuxCommand, megabytes,
  parseDownloads, pythonCommands, readCode, systemName, systemWords,
} from "./joinpage.js";
import { startLanguage } from "./language.js";
import { byId, say, setText, show } from "./ui.js";

/**
 * @typedef {import("./i18n.js").Msg} Msg
 * @typedef {import("./joinpage.js").Downloads} Downloads
 * @typedef {import("./joinpage.js").Program} Program
 * @typedef {import("./joinpage.js").System} System
 */

/** Refusals about the code: the code box is marked until it is changed. */
const CODE_ERRORS = new Set(["unknown_code", "used_code", "expired_code", "bad_code"]);

/** How long the page waits for `/api/downloads` before it says the server cannot be reached. */
const API_TIMEOUT_MS = 15_000;

/**
 * @typedef {object} PageState
 * @property {"loading" | "unreachable" | "ready"} phase
 * @property {Downloads | null} downloads
 * @property {System} system
 * @property {Msg | null} error why the last download was refused
 * @property {{program: Program, withCode: boolean} | null} downloaded what the customer just asked for
 */

/** @type {PageState} */
const state = {
  phase: "loading",
  downloads: null,
  system: { os: "unknown", arch: null },
  error: null,
  downloaded: null,
};

/** The elements, found once. */
function elements() {
  return {
    loading: byId("join-loading"),
    unreachable: byId("join-unreachable"),
    retry: /** @type {HTMLButtonElement} */ (byId("retry-button")),
    content: byId("join-content"),
    error: byId("join-error"),
    stepCheck: byId("step-check"),
    form: /** @type {HTMLFormElement} */ (byId("download-form")),
    codeBox: byId("code-box"),
    codeInput: /** @type {HTMLInputElement} */ (byId("code-input")),
    codeField: /** @type {HTMLInputElement} */ (byId("code-field")),
    codeFromLink: byId("code-from-link"),
    codeProblem: byId("code-problem"),
    ready: byId("program-ready"),
    download: /** @type {HTMLButtonElement} */ (byId("download-button")),
    facts: byId("program-facts"),
    glibc: byId("program-glibc"),
    macWhich: byId("mac-which"),
    sha: byId("program-sha"),
    noProgram: byId("no-program"),
    noProgramText: byId("no-program-text"),
    buildHint: byId("build-hint"),
    after: byId("after-download"),
    started: byId("download-started"),
    nextSteps: byId("next-steps"),
    linuxTerminal: byId("linux-terminal"),
    linuxCommand: byId("linux-command"),
    nextCode: byId("next-code"),
    other: byId("other-systems"),
    otherHeading: byId("other-heading"),
    otherList: byId("other-list"),
    python: /** @type {HTMLDetailsElement} */ (byId("python")),
    pipx: byId("python-pipx"),
    pip: byId("python-pip"),
    pipRun: byId("python-run"),
    footer: byId("join-footer"),
  };
}

/** @type {ReturnType<typeof elements>} */
let el;
/** Whether the Python way was opened for the customer already. */
let pythonOpened = false;

/**
 * A size and version line ("39.8 MB · version 0.1.0").
 * @param {{size: number, version: string}} item
 * @returns {Msg}
 */
function facts(item) {
  const size = megabytes(item.size);
  return item.version ? msg("joinpage.facts", { size, version: item.version }) : msg("joinpage.facts_size", { size });
}

/** The base every address the page shows is built on: the server's own word for itself. */
function serverUrl() {
  return state.downloads?.url || location.origin;
}

/** Show the page for the state it is in (again after a switch of language). */
function render() {
  show(el.loading, state.phase === "loading");
  show(el.unreachable, state.phase === "unreachable");
  show(el.content, state.phase === "ready");
  const downloads = state.downloads;
  show(el.footer, state.phase === "ready" && downloads !== null && downloads.licenses);
  if (state.phase !== "ready" || !downloads) return;

  if (state.error) say(el.error, state.error);
  show(el.error, state.error !== null);
  say(el.stepCheck, msg("joinpage.step_check", { server: downloads.server }));

  const choice = chooseProgram(state.system, downloads.programs);
  show(el.codeBox, downloads.programs.length > 0); // nothing to download: nothing to put a code in
  renderProgram(choice);
  renderNoProgram(choice === null, downloads);
  renderOthers(downloads.programs.filter((p) => p !== choice?.program), choice !== null);
  renderAfter();
  renderPython(downloads, choice === null);
}

/** @param {{program: Program, uncertain: boolean} | null} choice */
function renderProgram(choice) {
  show(el.ready, choice !== null);
  el.download.disabled = choice === null; // Enter in the code box must not submit a hidden button
  if (!choice) return;
  const { program } = choice;
  el.download.value = program.platform;
  say(el.download, msg("joinpage.download", { system: systemName(program.platform) }));
  say(el.facts, facts(program));
  if (program.glibc) {
    const releases = glibcReleases(program.glibc);
    say(el.glibc, releases ? msg("joinpage.glibc", { glibc: program.glibc, releases })
      : msg("joinpage.glibc_plain", { glibc: program.glibc }));
  }
  show(el.glibc, program.glibc !== null);
  show(el.macWhich, choice.uncertain);
  setText(el.sha, program.sha256);
  show(/** @type {HTMLElement} */ (el.sha.parentElement), program.sha256 !== "");
}

/**
 * @param {boolean} missing whether there is no program for this computer
 * @param {Downloads} downloads
 */
function renderNoProgram(missing, downloads) {
  show(el.noProgram, missing);
  if (!missing) return;
  const system = state.system;
  const words = systemWords(system);
  if (system.os === "mobile") {
    say(el.noProgramText, msg("joinpage.mobile", { address: `${downloads.server}/join` }));
    say(el.buildHint, "");
  } else if (words === null) {
    say(el.noProgramText, msg("joinpage.unknown_system"));
    say(el.buildHint, "");
  } else {
    say(el.noProgramText, msg("joinpage.no_program", { system: words }));
    say(el.buildHint, system.os === "linux" ? msg("joinpage.build_hint")
      : msg("joinpage.build_hint_system", { system: words }));
  }
  show(el.buildHint, el.buildHint.textContent !== "");
}

/**
 * The programs for other systems, each its own download button in the same form.
 * @param {Program[]} programs
 * @param {boolean} offered whether one program was offered above (then these are "other systems")
 */
function renderOthers(programs, offered) {
  show(el.other, programs.length > 0);
  say(el.otherHeading, offered ? msg("joinpage.other_heading") : msg("joinpage.all_heading"));
  el.otherList.replaceChildren(...programs.map((program) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "submit";
    button.name = "platform";
    button.value = program.platform;
    button.className = "secondary";
    say(button, msg("joinpage.other_download", { system: systemName(program.platform) }));
    const about = document.createElement("span");
    about.className = "other-facts";
    say(about, facts(program));
    item.append(button, about);
    if (program.sha256) {
      const sum = document.createElement("code");
      sum.className = "sha";
      sum.textContent = `SHA-256 ${program.sha256}`;
      item.append(sum);
    }
    return item;
  }));
}

/** What to do once the browser has the file. */
function renderAfter() {
  const done = state.downloaded;
  show(el.after, done !== null);
  if (!done) return;
  const { program, withCode } = done;
  const file = program.filename;
  say(el.started, msg("joinpage.started", { file }));
  const os = program.platform.split("-")[0];
  say(el.nextSteps, os === "linux" ? msg("joinpage.next.linux", { file })
    : os === "windows" ? msg("joinpage.next.windows", { file })
      : os === "macos" ? msg("joinpage.next.macos", { file }) : msg("joinpage.next.other", { file }));
  show(el.linuxTerminal, os === "linux");
  setText(el.linuxCommand, linuxCommand(t("joinpage.linux_folder"), file));
  say(el.nextCode, withCode ? msg("joinpage.next.with_code") : msg("joinpage.next.without_code"));
}

/**
 * The program from the Python package, for people who have Python: open when nothing else fits.
 * @param {Downloads} downloads
 * @param {boolean} missing
 */
function renderPython(downloads, missing) {
  const wheel = downloads.wheel;
  show(el.python, wheel !== null && state.system.os !== "mobile");
  if (!wheel) return;
  const commands = pythonCommands(new URL(wheel.href, serverUrl()).href, serverUrl());
  setText(el.pipx, commands.pipx);
  setText(el.pip, commands.pipInstall);
  setText(el.pipRun, commands.pipRun);
  if (missing && !pythonOpened) el.python.open = true; // once: a switch of language leaves it as the customer set it
  pythonOpened ||= missing;
}

/**
 * The code box: only digits go to the server; something that is not a code stops the download
 * with words, an empty box downloads without one.
 * @param {SubmitEvent} event
 */
function onSubmit(event) {
  const code = readCode(el.codeInput.value);
  if (code === null) {
    event.preventDefault();
    show(el.codeProblem, true);
    el.codeInput.setAttribute("aria-invalid", "true");
    el.codeInput.focus();
    return;
  }
  el.codeField.value = code; // read by the browser after this handler: the form sends digits only
  const submitter = /** @type {HTMLButtonElement | null} */ (event.submitter);
  const platform = submitter?.value || el.download.value;
  const program = state.downloads?.programs.find((p) => p.platform === platform);
  if (!program) return;
  // The response is the file (the page stays) or a redirect to /join?error=... (the page reloads).
  state.error = null;
  state.downloaded = { program, withCode: code !== "" };
  render();
  requestAnimationFrame(() => {
    el.after.scrollIntoView({ behavior: "smooth", block: "nearest" });
  });
}

function onCodeInput() {
  show(el.codeProblem, false);
  el.codeInput.removeAttribute("aria-invalid");
  show(el.codeFromLink, false);
}

/** Tidy what was typed into "1234 5678" once the box is left (a code only). */
function onCodeBlur() {
  const code = readCode(el.codeInput.value);
  if (code) el.codeInput.value = formatCode(code);
}

/** A code in the link (first load, or a new link opened in the same tab). */
function codeFromLink() {
  const code = codeFromHash(location.hash);
  if (!code) return;
  el.codeInput.value = formatCode(code);
  onCodeInput();
  say(el.codeFromLink, msg("joinpage.code_from_link"));
  show(el.codeFromLink, true);
}

/**
 * Copy a command: the clipboard API where the page may use it, else select it (and try the
 * old way); the button says what happened for a moment.
 * @param {HTMLButtonElement} button
 */
async function copy(button) {
  const target = byId(button.dataset.copy ?? "");
  const text = target.textContent ?? "";
  let done = false;
  if (window.isSecureContext && navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      done = true;
    } catch {
      // refused: select it instead
    }
  }
  if (!done) {
    const range = document.createRange();
    range.selectNodeContents(target);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    try {
      done = document.execCommand("copy");
    } catch {
      done = false;
    }
  }
  say(button, done ? msg("joinpage.copied") : msg("joinpage.copy_selected"));
  setTimeout(() => say(button, msg("joinpage.copy")), done ? 2000 : 5000);
}

/** Ask the server what it offers; the page says so when it cannot be reached. */
async function load() {
  state.phase = "loading";
  render();
  try {
    const response = await fetch("/api/downloads", {
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    state.downloads = parseDownloads(await response.json());
    state.phase = "ready";
  } catch (err) {
    console.warn("[supportlink] /api/downloads:", err);
    state.phase = "unreachable";
  }
  render();
  if (state.phase === "ready" && state.error) el.error.focus();
}

/** What the browser tells about this computer, with the architecture where it gives it. */
async function browserSystem() {
  const data = /** @type {any} */ (navigator).userAgentData;
  /** @type {import("./joinpage.js").BrowserHints} */
  const hints = {
    uaPlatform: data?.platform,
    mobile: data?.mobile,
    platform: navigator.platform,
    userAgent: navigator.userAgent,
    maxTouchPoints: navigator.maxTouchPoints,
  };
  try {
    const high = await data?.getHighEntropyValues?.(["architecture", "bitness"]);
    if (high) Object.assign(hints, { architecture: high.architecture, bitness: high.bitness });
  } catch {
    // not given: the page decides from the rest
  }
  return detectSystem(hints);
}

async function start() {
  el = elements();
  startLanguage(/** @type {HTMLSelectElement} */ (byId("language")));
  onLanguageChange(render);

  // A refused download comes back as /join?error=TOKEN#CODE: say why, and keep no token in the address.
  const token = new URLSearchParams(location.search).get("error");
  state.error = downloadError(token);
  if (location.search) history.replaceState(null, "", `${location.pathname}${location.hash}`);

  codeFromLink();
  if (token !== null && CODE_ERRORS.has(token)) {
    show(el.codeFromLink, false); // the code came back with the refusal: it is the one to check
    el.codeInput.setAttribute("aria-invalid", "true");
  }
  window.addEventListener("hashchange", codeFromLink);
  el.codeInput.addEventListener("input", onCodeInput);
  el.codeInput.addEventListener("blur", onCodeBlur);
  el.form.addEventListener("submit", onSubmit);
  el.retry.addEventListener("click", () => void load());
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", () => void copy(/** @type {HTMLButtonElement} */ (button)));
  }

  state.system = await browserSystem();
  await load();
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => void start(), { once: true });
  else void start();
}
