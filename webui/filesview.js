// @ts-check
/**
 * The file transfer panel on the page: asking for it, "Send files…", "Send a folder…", dropping
 * files on the page, asking the customer for a file or folder by its path (and how each request
 * ended), the list of transfers with their progress, Cancel and Save, and the transfer log with
 * its CSV download. The protocol is `filespanel.js`'s; this module only draws it and hands it
 * what the operator picks. Every name from the customer is put on the page with `textContent`
 * (`dir="auto"`), never as markup.
 *
 * Element ids for each transfer row (`<li data-transfer data-direction data-state>`), with
 * `<dir>` "in" (from the customer) or "out" and `<n>` the wire number:
 *   transfer-<dir>-<n>                 the row              transfer-<dir>-<n>-cancel      Cancel
 *   transfer-<dir>-<n>-save            Save / Save as .zip  transfer-<dir>-<n>-save-folder Save into a folder…
 *   transfer-<dir>-<n>-file-<i>        one file's row       transfer-<dir>-<n>-file-<i>-result / -save
 */

import { askProblemText, requestText } from "./filerequests.js";
import { TransferLog, toCsv } from "./files/log.js";
import { freeNameAsync, nameProblem } from "./files/names.js";
import { zipParts } from "./files/zip.js";
import { locale, onLanguageChange, t } from "./i18n.js";
import { formatBytes, formatDuration, isOver, stats } from "./transfers.js";
import { byId } from "./ui.js";

/**
 * @typedef {import("./filespanel.js").FilesPanel} FilesPanel
 * @typedef {import("./filespanel.js").Outgoing} Outgoing
 * @typedef {import("./transfers.js").Transfer} Transfer
 * @typedef {import("./files/log.js").TransferRecord} TransferRecord
 * @typedef {{row: HTMLLIElement, state: HTMLElement, bar: HTMLProgressElement, stats: HTMLElement,
 *   cancel: HTMLButtonElement, save: HTMLButtonElement, saveFolder: HTMLButtonElement,
 *   files: {row: HTMLLIElement, result: HTMLElement, save: HTMLButtonElement | null}[]}} Row
 */

/** File rows drawn per transfer (the rest are counted). */
const MAX_FILE_ROWS = 200;
/** Log entries shown under "Transfer log". */
const LOG_SHOWN = 20;

export class FilesView {
  /**
   * @param {FilesPanel} files
   * @param {import("./panels.js").PanelHooks} hooks
   */
  constructor(files, hooks) {
    this.files = files;
    this.hooks = hooks;
    this.el = {
      panel: byId("files-panel"),
      state: byId("files-state"),
      request: /** @type {HTMLButtonElement} */ (byId("request-files-button")),
      send: byId("files-send"),
      sendFiles: /** @type {HTMLButtonElement} */ (byId("send-files-button")),
      sendFolder: /** @type {HTMLButtonElement} */ (byId("send-folder-button")),
      filesInput: /** @type {HTMLInputElement} */ (byId("send-files-input")),
      folderInput: /** @type {HTMLInputElement} */ (byId("send-folder-input")),
      problem: byId("files-problem"),
      askForm: /** @type {HTMLFormElement} */ (byId("files-ask-form")),
      askPath: /** @type {HTMLInputElement} */ (byId("files-ask-path")),
      askButton: /** @type {HTMLButtonElement} */ (byId("files-ask-button")),
      askProblem: byId("files-ask-problem"),
      askList: byId("files-ask-list"),
      list: byId("transfer-list"),
      drop: byId("files-drop"),
      logCsv: /** @type {HTMLButtonElement} */ (byId("transfer-log-csv")),
      logList: byId("transfer-log-list"),
      logEmpty: byId("transfer-log-empty"),
    };
    this.live = false;
    /** @type {Map<string, Row>} by transfer key */
    this.rows = new Map();
    /** @type {number | null} */
    this.frame = null;
    this.log = typeof indexedDB === "undefined" ? null : new TransferLog(indexedDB);
    /** Records kept here when IndexedDB is not there (a private window may refuse it). @type {TransferRecord[]} */
    this.memoryLog = [];
    /** dragenter/dragleave pairs over the page. */
    this.dragDepth = 0;

    const el = this.el;
    el.request.addEventListener("click", () => this.#request());
    el.sendFiles.addEventListener("click", () => el.filesInput.click());
    el.sendFolder.addEventListener("click", () => el.folderInput.click());
    el.filesInput.addEventListener("change", () => this.#picked(el.filesInput, false));
    el.folderInput.addEventListener("change", () => this.#picked(el.folderInput, true));
    el.list.addEventListener("click", (event) => this.#clicked(event));
    el.askForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#askForPath();
    });
    el.logCsv.addEventListener("click", () => void this.#downloadLog());
    document.addEventListener("dragenter", (e) => this.#dragEnter(e));
    document.addEventListener("dragover", (e) => this.#dragOver(e));
    document.addEventListener("dragleave", () => this.#dragLeave());
    document.addEventListener("drop", (e) => void this.#drop(e));
    onLanguageChange(() => {
      this.update(this.live);
      this.#draw(true);
      void this.#showLog();
    });
    void this.#showLog();
    this.update(false);
  }

  /**
   * Show what applies now.
   * @param {boolean} offered the session carries file transfer
   */
  update(offered) {
    this.live = offered && this.files.facts !== null;
    const consent = this.hooks.consent;
    const open = this.live && this.hooks.isOpen("files");
    const allowed = open && consent.allows("files");
    const status = consent.status("files");
    const el = this.el;
    el.panel.hidden = !this.live && this.files.transfers.byId.size === 0;
    el.state.textContent = filesStateText(status, open);
    el.request.hidden = !open || allowed || status === "unknown";
    el.request.disabled = status === "asked";
    el.send.hidden = !allowed;
    if (!allowed) this.#hideDrop();
    this.changed();
  }

  /** The transfers changed: draw them once this frame. */
  changed() {
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.#draw(false);
    });
  }

  /**
   * A file ended: into the log.
   * @param {TransferRecord} record
   */
  record(record) {
    const done = this.log ? this.log.add(record) : Promise.reject(new Error("no IndexedDB"));
    void done.catch((err) => {
      this.memoryLog.unshift(record);
      this.hooks.log(t("log.files.log_failed", { error: String(err?.message ?? err) }), "error");
    }).then(() => this.#showLog());
  }

  // ------------------------------------------------------------------- sending

  #request() {
    if (!this.hooks.send("control", { type: "consent_request", capability: "files" })) {
      this.hooks.log(t("log.files.ask_closed"), "error");
      return;
    }
    this.hooks.consent.ask("files");
    this.hooks.log(t("log.files.asked"));
    this.update(this.live);
  }

  /**
   * @param {HTMLInputElement} input
   * @param {boolean} folder
   */
  #picked(input, folder) {
    const list = [...(input.files ?? [])];
    input.value = ""; // the same file may be picked again
    if (list.length === 0) return;
    const items = list.map((file) => ({ path: (folder && file.webkitRelativePath) || file.name, file }));
    const name = folder ? items[0].path.split("/")[0] : list[0].name;
    this.#offer(items, name);
  }

  /**
   * @param {Outgoing[]} items
   * @param {string} name
   */
  #offer(items, name) {
    const result = this.files.send(items, { name });
    if ("problem" in result) this.#problem(problemText(result.problem));
    else this.#problem("");
  }

  /** @param {string} text */
  #problem(text) {
    this.el.problem.textContent = text;
    this.el.problem.hidden = text === "";
  }

  // ------------------------------------------------------------------- asking for a path

  #askForPath() {
    const result = this.files.ask(this.el.askPath.value);
    const problem = "problem" in result ? askProblemText(result.problem) : "";
    this.el.askProblem.textContent = problem;
    this.el.askProblem.hidden = problem === "";
    if (!("problem" in result)) this.el.askPath.value = "";
  }

  /** Every request, newest first, in words; Ask waits while one waits for the customer. */
  #drawAsks() {
    const items = this.files.requests.list().map((ask) => {
      const item = document.createElement("li");
      item.dataset.request = String(ask.request);
      item.dataset.state = ask.state;
      item.textContent = requestText(ask);
      return item;
    });
    this.el.askList.replaceChildren(...items);
    this.el.askButton.disabled = this.files.requests.waiting() !== null;
  }

  #canDrop() {
    return this.live && this.hooks.isOpen("files") && this.hooks.consent.allows("files");
  }

  /** @param {DragEvent} event */
  #dragEnter(event) {
    if (!this.#canDrop() || !event.dataTransfer?.types.includes("Files")) return;
    this.dragDepth++;
    this.el.drop.hidden = false;
  }

  /** @param {DragEvent} event */
  #dragOver(event) {
    if (!this.#canDrop() || !event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }

  #dragLeave() {
    if (this.dragDepth > 0 && --this.dragDepth === 0) this.el.drop.hidden = true;
  }

  #hideDrop() {
    this.dragDepth = 0;
    this.el.drop.hidden = true;
  }

  /** @param {DragEvent} event */
  async #drop(event) {
    if (!event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault(); // never let the browser open a dropped file in place of the console
    this.#hideDrop();
    if (!this.#canDrop()) return;
    const dropped = await droppedItems(event.dataTransfer);
    if (dropped.items.length === 0) return;
    this.#offer(dropped.items, dropped.name);
  }

  // ------------------------------------------------------------------- the list

  /** @param {boolean} all redraw every word (the language changed) */
  #draw(all) {
    const transfers = this.files.transfers.list();
    const now = Date.now();
    for (const tr of transfers) {
      let row = this.rows.get(tr.key);
      if (!row) {
        row = this.#newRow(tr);
        this.rows.set(tr.key, row);
        this.el.list.prepend(row.row);
      }
      this.#fill(row, tr, now, all);
    }
    for (const [key, row] of this.rows) {
      if (!this.files.transfers.get(key)) {
        row.row.remove();
        this.rows.delete(key);
      }
    }
    this.el.panel.hidden = !this.live && transfers.length === 0;
    this.#drawAsks();
  }

  /** @param {Transfer} tr */
  #newRow(tr) {
    const id = rowId(tr);
    document.getElementById(id)?.removeAttribute("id"); // a number the customer used again
    const row = document.createElement("li");
    row.className = "transfer";
    row.id = id;
    row.dataset.key = tr.key;
    row.dataset.transfer = String(tr.transfer);
    row.dataset.direction = tr.direction;
    const head = document.createElement("div");
    head.className = "transfer-head";
    const arrow = document.createElement("span");
    arrow.className = "transfer-dir";
    arrow.textContent = tr.direction === "to_customer" ? "↑" : "↓";
    const name = document.createElement("span");
    name.className = "transfer-name";
    name.dir = "auto";
    name.textContent = tr.name;
    const cancel = button(`${id}-cancel`, "cancel", "secondary transfer-cancel");
    head.append(arrow, name, cancel);
    const state = document.createElement("p");
    state.className = "transfer-state";
    const bar = document.createElement("progress");
    bar.className = "transfer-bar";
    bar.max = 1;
    const statsLine = document.createElement("p");
    statsLine.className = "transfer-stats";
    const saves = document.createElement("div");
    saves.className = "transfer-saves";
    const save = button(`${id}-save`, "save", "primary");
    const saveFolder = button(`${id}-save-folder`, "save-folder", "secondary");
    saves.append(save, saveFolder);
    const list = document.createElement("ol");
    list.className = "transfer-files";
    /** @type {Row["files"]} */
    const files = [];
    tr.files.slice(0, MAX_FILE_ROWS).forEach((f, index) => {
      const item = document.createElement("li");
      item.className = "transfer-file";
      item.id = `${id}-file-${index}`;
      item.dataset.index = String(index);
      const path = document.createElement("span");
      path.className = "file-name";
      path.dir = "auto";
      path.textContent = f.folder ? `${f.path}/` : f.path;
      const result = document.createElement("span");
      result.className = "file-result";
      result.id = `${id}-file-${index}-result`;
      item.append(path, result);
      let saveOne = null;
      if (tr.direction === "from_customer" && !f.folder && tr.files.length > 1) {
        saveOne = button(`${id}-file-${index}-save`, "save-file", "link-button file-save");
        saveOne.dataset.index = String(index);
        item.append(saveOne);
      }
      list.append(item);
      files.push({ row: item, result, save: saveOne });
    });
    if (tr.files.length > MAX_FILE_ROWS) {
      const more = document.createElement("li");
      more.className = "transfer-file more";
      more.textContent = t("files.more_files", { count: String(tr.files.length - MAX_FILE_ROWS) });
      list.append(more);
    }
    row.append(head, state, bar, statsLine, saves, list);
    return { row, state, bar, stats: statsLine, cancel, save, saveFolder, files };
  }

  /**
   * @param {Row} row
   * @param {Transfer} tr
   * @param {number} now
   * @param {boolean} all
   */
  #fill(row, tr, now, all) {
    const s = stats(tr, now);
    row.row.dataset.state = tr.state;
    row.state.textContent = transferStateText(tr, s);
    row.bar.value = s.fraction;
    row.bar.hidden = isOver(tr) && tr.state !== "failed";
    row.stats.textContent = statsText(s, tr);
    row.cancel.hidden = isOver(tr);
    row.cancel.textContent = t("files.cancel");
    const received = tr.direction === "from_customer" ? this.files.received(tr.key) : new Map();
    const saveable = received.size > 0 && isOver(tr);
    row.save.hidden = !saveable;
    row.saveFolder.hidden = !saveable || received.size < 2 || typeof window.showDirectoryPicker !== "function";
    row.save.textContent = received.size > 1 || tr.files.length > 1 ? t("files.save_zip") : t("files.save");
    row.saveFolder.textContent = t("files.save_folder");
    tr.files.slice(0, MAX_FILE_ROWS).forEach((f, index) => {
      const cells = row.files[index];
      if (cells.row.dataset.state === f.state && !all && f.state !== "moving") return;
      cells.row.dataset.state = f.state;
      cells.result.textContent = fileResultText(tr, f, this.files.resumedBytes(tr.key, index));
      if (cells.save) {
        cells.save.hidden = !received.has(index);
        cells.save.textContent = t("files.save");
      }
    });
  }

  /** @param {MouseEvent} event */
  #clicked(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const action = target.closest("button")?.dataset.action;
    const key = /** @type {HTMLElement | null} */ (target.closest("li.transfer"))?.dataset.key;
    if (!action || !key) return;
    if (action === "cancel") this.files.cancel(key);
    else if (action === "save") void this.#save(key);
    else if (action === "save-folder") void this.#saveFolder(key);
    else if (action === "save-file") void this.#saveFile(key, Number(target.closest("button")?.dataset.index));
  }

  /** @param {string} key */
  async #save(key) {
    const tr = this.files.transfers.get(key);
    const received = this.files.received(key);
    if (!tr || received.size === 0) return;
    if (received.size === 1 && tr.files.length === 1) {
      const [index] = received.keys();
      return this.#saveFile(key, index);
    }
    /** @type {import("./files/zip.js").ZipEntry[]} */
    const entries = [];
    tr.files.forEach((f, index) => {
      const got = received.get(index);
      if (got) entries.push({ path: f.path, data: got.blob, crc32: got.crc32 ?? undefined });
      else if (f.folder && f.state === "ok") entries.push({ path: f.path, folder: true });
    });
    try {
      const zip = new Blob(await zipParts(entries), { type: "application/zip" });
      download(zip, `${safeName(tr.name, "files")}.zip`);
      this.hooks.log(t("log.files.saved_zip", { count: String(received.size) }));
    } catch (err) {
      this.hooks.log(t("log.files.save_failed", { error: String(/** @type {Error} */ (err)?.message ?? err) }), "error");
    }
  }

  /**
   * @param {string} key
   * @param {number} index
   */
  async #saveFile(key, index) {
    const tr = this.files.transfers.get(key);
    const got = this.files.received(key).get(index);
    if (!tr || !got) return;
    const name = tr.files[index].path.split("/").at(-1) ?? "file";
    download(got.blob, safeName(name, "file"));
    this.hooks.log(t("log.files.saved", { name }));
  }

  /** Write the received tree into a folder the operator picks (Chromium: `showDirectoryPicker`). @param {string} key */
  async #saveFolder(key) {
    const tr = this.files.transfers.get(key);
    const received = this.files.received(key);
    if (!tr || received.size === 0 || typeof window.showDirectoryPicker !== "function") return;
    let root;
    try {
      root = await window.showDirectoryPicker({ mode: "readwrite" });
    } catch {
      return; // the operator closed the picker
    }
    let written = 0;
    try {
      for (const [index, f] of tr.files.entries()) {
        const got = received.get(index);
        if (!got && !(f.folder && f.state === "ok")) continue;
        const parts = f.path.split("/");
        let dir = root;
        for (const part of f.folder ? parts : parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create: true });
        if (!got) continue;
        const here = dir;
        const name = await freeNameAsync(async (n) => {
          try {
            await here.getFileHandle(n);
            return true;
          } catch {
            return false;
          }
        }, /** @type {string} */ (parts.at(-1)));
        const handle = await here.getFileHandle(name, { create: true });
        const writable = await handle.createWritable();
        await writable.write(got.blob);
        await writable.close();
        written++;
      }
      this.hooks.log(t("log.files.saved_folder", { count: String(written) }));
    } catch (err) {
      this.hooks.log(t("log.files.save_failed", { error: String(/** @type {Error} */ (err)?.message ?? err) }), "error");
    }
  }

  // ------------------------------------------------------------------- the log

  async #records(limit = Infinity) {
    /** @type {TransferRecord[]} */
    let stored = [];
    try {
      stored = this.log ? await this.log.list(limit) : [];
    } catch {
      stored = [];
    }
    return [...this.memoryLog, ...stored].slice(0, limit);
  }

  async #showLog() {
    const records = await this.#records(LOG_SHOWN);
    const items = records.map((r) => {
      const item = document.createElement("li");
      item.className = "log-entry";
      item.dataset.result = r.result;
      const time = document.createElement("time");
      time.dateTime = new Date(r.ended_at ?? r.started_at).toISOString();
      time.textContent = new Date(r.ended_at ?? r.started_at).toLocaleString(locale());
      const what = document.createElement("span");
      what.dir = "auto";
      what.textContent = `${r.direction === "to_customer" ? "↑" : "↓"} ${r.name}`;
      const result = document.createElement("span");
      result.className = "log-result";
      result.textContent = `${formatBytes(r.size, locale())} · ${logResultText(r)}`;
      item.append(time, " ", what, " ", result);
      return item;
    });
    this.el.logList.replaceChildren(...items);
    this.el.logEmpty.hidden = items.length > 0;
  }

  async #downloadLog() {
    const records = await this.#records();
    const day = new Date().toISOString().slice(0, 10);
    download(new Blob([toCsv(records, { bom: true })], { type: "text/csv;charset=utf-8" }), `supportlink-transfers-${day}.csv`);
  }
}

// ------------------------------------------------------------------- words

/**
 * The panel's one line of state.
 * @param {import("./consent.js").Status} status
 * @param {boolean} open whether the files channel is open
 */
export function filesStateText(status, open) {
  if (!open) return t("common.waiting_customer");
  switch (status) {
    case "granted": return t("files.state.granted");
    case "asked": return t("files.state.asked");
    case "denied": return t("files.state.denied");
    case "revoked": return t("files.state.revoked");
    case "released": return t("files.state.off");
    case "unknown": return t("common.waiting_customer");
    case "off": return t("files.state.off");
  }
}

/**
 * Why a file or a transfer did not make it, in words.
 * @param {string | null} token
 */
export function reasonText(token) {
  switch (token) {
    case "hash_mismatch": return t("files.reason.hash_mismatch");
    case "short": return t("files.reason.short");
    case "out_of_order": case "past_end": case "finished": case "bad_start": case "bad_offer":
      return t("files.reason.protocol", { token });
    case "cancelled": return t("files.reason.cancelled");
    case "closed": return t("files.reason.closed");
    case "declined": return t("files.reason.declined");
    case "too_large": return t("files.reason.too_large");
    case "duplicate": return t("files.reason.duplicate");
    case "not_a_folder": return t("files.reason.not_a_folder");
    case "short_read": return t("files.reason.short_read");
    case "skipped": return t("files.reason.skipped");
    case "exists": return t("files.reason.exists");
    case "no_space": return t("files.reason.no_space");
    case "stopped_by_customer": return t("files.reason.stopped_by_customer");
    case null: return t("files.reason.unknown");
    default:
      return nameTokens.has(token) ? t("files.reason.unsafe_name", { token }) : t("files.reason.other", { token });
  }
}

const nameTokens = new Set(["empty", "absolute", "dot", "dot_dot", "nul", "backslash", "slash", "drive", "control",
  "not_unicode", "trailing", "reserved", "too_long", "lookalike", "too_deep"]);

/**
 * @param {Transfer} tr
 * @param {import("./transfers.js").Stats} s
 */
export function transferStateText(tr, s) {
  const out = tr.direction === "to_customer";
  switch (tr.state) {
    case "offering": return out ? t("files.state.waiting_answer") : t("files.state.receiving");
    case "active": return out ? t("files.state.sending") : t("files.state.receiving");
    case "done": return out ? t("files.state.sent", { count: String(s.ok) }) : t("files.state.received", { count: String(s.ok) });
    case "failed": return t("files.state.failed", { ok: String(s.ok), failed: String(s.failed), reason: reasonText(tr.reason) });
    case "cancelled": return t("files.state.cancelled", { reason: reasonText(tr.reason) });
    case "declined": return t("files.state.declined", { reason: reasonText(tr.reason) });
  }
}

/**
 * "1.5 MB of 12 MB · 800 KB/s · 12 s left"
 * @param {import("./transfers.js").Stats} s
 * @param {Transfer} tr
 */
export function statsText(s, tr) {
  const where = locale();
  const bytes = t("files.bytes_of", { done: formatBytes(s.bytes, where), total: formatBytes(s.total, where) });
  if (tr.state !== "active") return bytes;
  const speed = s.speed === null ? "" : t("files.speed", { speed: formatBytes(s.speed, where) });
  const left = s.eta === null ? "" : t("files.time_left", { time: formatDuration(s.eta) });
  return [bytes, speed, left].filter(Boolean).join(" · ");
}

/**
 * @param {Transfer} tr
 * @param {import("./transfers.js").FileRow} f
 * @param {number} [resumed] bytes of it already here from an earlier try
 */
export function fileResultText(tr, f, resumed = 0) {
  switch (f.state) {
    case "waiting": return f.folder ? "" : t("files.file.waiting");
    case "moving": {
      const percent = `${f.size === 0 ? 100 : Math.floor((f.done / f.size) * 100)}%`;
      if (resumed <= 0) return percent;
      return `${percent} · ${t("files.file.resumed", { size: formatBytes(resumed, locale()) })}`;
    }
    case "ok":
      if (f.folder) return t("files.file.folder");
      if (tr.direction === "to_customer" && f.savedAs) return t("files.file.saved_as", { name: f.savedAs });
      return t("files.file.verified");
    case "failed": return t("files.file.failed", { reason: reasonText(f.reason) });
    case "skipped": return t("files.file.skipped", { reason: reasonText(f.reason) });
    case "cancelled": return t("files.file.cancelled");
  }
}

/** @param {TransferRecord} r */
function logResultText(r) {
  switch (r.result) {
    case "ok": return t("files.log.ok");
    case "cancelled": return t("files.log.cancelled");
    case "declined": return t("files.log.declined");
    case "skipped": return t("files.log.skipped", { reason: reasonText(r.error ?? null) });
    case "failed": return t("files.log.failed", { reason: reasonText(r.error ?? null) });
  }
}

/** @param {string} problem */
function problemText(problem) {
  switch (problem) {
    case "not_allowed": return t("files.problem.not_allowed");
    case "empty": return t("files.problem.empty");
    case "too_many": return t("files.problem.too_many");
    default: return t("files.problem.closed");
  }
}

// ------------------------------------------------------------------- helpers

/** @param {Transfer} tr */
function rowId(tr) {
  return `transfer-${tr.direction === "to_customer" ? "out" : "in"}-${tr.transfer}`;
}

/**
 * @param {string} id
 * @param {string} action
 * @param {string} className
 */
function button(id, action, className) {
  const b = document.createElement("button");
  b.type = "button";
  b.id = id;
  b.className = className;
  b.dataset.action = action;
  return b;
}

/**
 * `name` if it is safe as one file name, else `fallback`.
 * @param {string} name
 * @param {string} fallback
 */
function safeName(name, fallback) {
  return nameProblem(name) === null ? name : fallback;
}

/**
 * Offer `blob` as a download named `name`.
 * @param {Blob} blob
 * @param {string} name
 */
function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * What was dropped: files, and folders walked (with their empty folders), as paths relative to
 * the drop. The offer's name is the one thing dropped, or the first of several.
 * @param {DataTransfer} data
 * @returns {Promise<{items: Outgoing[], name: string}>}
 */
async function droppedItems(data) {
  /** @type {Outgoing[]} */
  const items = [];
  const entries = [...data.items].map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.some((e) => e === null)) {
    const files = [...data.files];
    return { items: files.map((file) => ({ path: file.name, file })), name: files[0]?.name ?? "" };
  }
  /** @param {FileSystemEntry} entry @param {string} path */
  const walk = async (entry, path) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => /** @type {FileSystemFileEntry} */ (entry).file(resolve, reject));
      items.push({ path, file });
      return;
    }
    const reader = /** @type {FileSystemDirectoryEntry} */ (entry).createReader();
    /** @type {FileSystemEntry[]} */
    const children = [];
    for (;;) {
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      children.push(...batch);
    }
    if (children.length === 0) items.push({ path, folder: true });
    for (const child of children) await walk(child, `${path}/${child.name}`);
  };
  for (const entry of /** @type {FileSystemEntry[]} */ (entries)) await walk(entry, entry.name);
  return { items, name: entries[0]?.name ?? "" };
}
