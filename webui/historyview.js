// @ts-check
/**
 * "Recent sessions" in the session card: the operator's own sessions from the server, shown
 * while no session is live (`sessionview.js` shows and hides the panel with the start panel),
 * fetched at login and again after each session ends. The rows are `history.js`'s; every
 * word from the server or the customer's computer goes on the page as text, never as markup.
 *
 *   const history = new HistoryView({log, onexpired});
 *   history.refresh();     // now
 *   history.afterEnd();    // a session ended: once the server has written its end
 *   history.clear();       // logged out
 */

import * as api from "./api.js";
import { anyRunning, historyRows } from "./history.js";
import { onLanguageChange, t } from "./i18n.js";
import { byId, show } from "./ui.js";

/**
 * @typedef {import("./history.js").SessionRecord} SessionRecord
 * @typedef {import("./history.js").HistoryRow} HistoryRow
 * @typedef {{log: (line: string, level?: "info" | "error") => void, onexpired: () => void}} HistoryHooks
 *   onexpired: the server says nobody is logged in
 * @typedef {Pick<Document, "createElement">} ElementMaker
 */

/** After a session ends: ask this long after, and once more if it still reads as running. */
const AFTER_END_MS = 300;
const RECHECK_MS = 1500;

/**
 * One row of the list, built of text nodes only.
 * @param {ElementMaker} doc
 * @param {HistoryRow} row
 */
export function historyItem(doc, row) {
  /**
   * @param {string} tag
   * @param {string} className
   * @param {string} text
   */
  const part = (tag, className, text) => {
    const el = doc.createElement(tag);
    el.className = className;
    el.textContent = text;
    return el;
  };
  const item = doc.createElement("li");
  item.className = "history-row";
  item.dataset.sessionId = row.id;
  item.dataset.running = String(row.running);
  const when = /** @type {HTMLTimeElement} */ (part("time", "history-when", row.when));
  if (row.whenIso) when.dateTime = row.whenIso;
  const head = part("div", "history-head", "");
  head.append(when, part("span", "history-duration", row.duration));
  item.append(
    head,
    part("div", "history-customer", row.customer),
    part("div", "history-allowed", row.allowed),
  );
  if (row.ended) item.append(part("div", "history-ended", row.ended));
  return item;
}

export class HistoryView {
  /** @param {HistoryHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.el = {
      loading: byId("history-loading"),
      empty: byId("history-empty"),
      error: byId("history-error"),
      retry: /** @type {HTMLButtonElement} */ (byId("history-retry")),
      list: byId("history-list"),
    };
    /** The records last fetched; null before the first answer. @type {SessionRecord[] | null} */
    this.records = null;
    /** Counts requests, so an answer that arrives after a newer request (or a logout) is dropped. */
    this.generation = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.el.retry.addEventListener("click", () => void this.refresh());
    onLanguageChange(() => this.render());
  }

  /**
   * Fetch the sessions and show them; on failure say so, with Retry (rows already shown stay).
   * @param {boolean} [recheck] ask once more a moment later if a session still reads as running
   */
  async refresh(recheck = false) {
    this.stopTimer();
    const generation = ++this.generation;
    show(this.el.loading, this.records === null);
    show(this.el.error, false);
    try {
      const records = await api.sessions();
      if (generation !== this.generation) return;
      this.records = records;
      this.render();
      if (recheck && anyRunning(records)) this.timer = setTimeout(() => void this.refresh(), RECHECK_MS);
    } catch (err) {
      if (generation !== this.generation) return;
      const e = /** @type {api.ApiError} */ (err);
      this.hooks.log(t("log.history.failed", { error: String(e?.message ?? e) }), "error");
      show(this.el.loading, false);
      show(this.el.error, true);
      if (e instanceof api.ApiError && e.status === 401) this.hooks.onexpired();
    }
  }

  /** A session ended: fetch the list once the server has had a moment to write its end. */
  afterEnd() {
    this.stopTimer();
    this.timer = setTimeout(() => void this.refresh(true), AFTER_END_MS);
  }

  /** Show the records in the language in use. */
  render() {
    const el = this.el;
    if (this.records === null) return;
    const rows = historyRows(this.records);
    el.list.replaceChildren(...rows.map((row) => historyItem(document, row)));
    show(el.loading, false);
    show(el.empty, rows.length === 0);
    show(el.list, rows.length > 0);
  }

  /** Logged out: nothing of the last operator's sessions stays; an answer on the way is dropped. */
  clear() {
    this.stopTimer();
    this.generation++;
    this.records = null;
    this.el.list.replaceChildren();
    show(this.el.list, false);
    show(this.el.empty, false);
    show(this.el.error, false);
    show(this.el.loading, true);
  }

  stopTimer() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
