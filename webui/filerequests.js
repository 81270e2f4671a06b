// @ts-check
/**
 * The operator's requests for a file or folder on the customer's computer, by its path
 * (`file_request`), as state for the page: what was asked for and how each ended
 * (`file_request_result`), in words. No DOM, no channel: `filespanel.js` sends what `ask`
 * returns and hands over what comes back.
 *
 *   const asks = new FileRequests();
 *   const made = asks.ask("~/report.log");  // {message} to send, or {problem} (a token)
 *   asks.result(msg);                       // the customer's side answered
 *   asks.closed();                          // the channel went: nothing waits any more
 *   asks.list()                             // newest first, for `requestText`
 *
 * One request waits at a time, as the customer's side answers one at a time (and says "busy"
 * to the next). The customer's side shows the customer exactly what is at that path and asks;
 * what they send arrives like any other transfer from the customer.
 */

/**
 * @typedef {"waiting" | "sending" | "declined" | "not_found" | "refused" | "not_allowed" | "busy" | "closed"} AskState
 * @typedef {{request: number, path: string, state: AskState, reason: string | null, transfer: number | null}} Ask
 */

import { t } from "./i18n.js";

/** Longest path the wire carries, in code points. */
export const MAX_PATH_CHARS = 4096;
/** Requests kept for the page (older ones are forgotten). */
export const KEEP = 20;

/** What a path the customer reads must not hold (as `wire/protocol.py`'s request path). */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;
/** The customer's home ("~", "~/…") or an absolute path ("/…", "C:\…"). */
const ROOTED = /^(?:~$|~[\\/]|\/|[A-Za-z]:[\\/])/;

/**
 * Why `path` cannot be asked for, or null: "empty", "too_long", "control", "relative".
 * @param {string} path
 */
export function pathProblem(path) {
  if (path === "") return "empty";
  if ([...path].length > MAX_PATH_CHARS) return "too_long";
  if (HIDDEN.test(path)) return "control";
  if (!ROOTED.test(path)) return "relative";
  return null;
}

export class FileRequests {
  constructor() {
    this.next = 1;
    /** Newest last. @type {Ask[]} */
    this.asks = [];
  }

  /**
   * Ask for `typed` (spaces around it dropped): the message to send, or why not.
   * @param {string} typed
   * @returns {{message: {type: "file_request", request: number, path: string}, ask: Ask} | {problem: string}}
   */
  ask(typed) {
    const path = typed.trim();
    const problem = pathProblem(path);
    if (problem !== null) return { problem };
    if (this.waiting()) return { problem: "waiting" };
    /** @type {Ask} */
    const ask = { request: this.next++, path, state: "waiting", reason: null, transfer: null };
    this.asks.push(ask);
    if (this.asks.length > KEEP) this.asks.shift();
    return { message: { type: "file_request", request: ask.request, path }, ask };
  }

  /** The request still waiting for the customer, if there is one. */
  waiting() {
    return this.asks.find((a) => a.state === "waiting") ?? null;
  }

  /**
   * The customer's side answered a request: the ask it ends, or null (not ours, or over).
   * @param {{request: number, result: string, reason?: string, transfer?: number}} msg
   */
  result(msg) {
    const ask = this.asks.find((a) => a.request === msg.request);
    if (!ask || ask.state !== "waiting") return null;
    ask.state = /** @type {AskState} */ (msg.result);
    ask.reason = msg.reason ?? null;
    ask.transfer = msg.transfer ?? null;
    return ask;
  }

  /** The files channel or the session went: a request still waiting gets no answer now. */
  closed() {
    for (const ask of this.asks) if (ask.state === "waiting") ask.state = "closed";
  }

  /** Every request forgotten (a new session). */
  clear() {
    this.asks = [];
    this.next = 1;
  }

  /** Newest first. */
  list() {
    return [...this.asks].reverse();
  }
}

/**
 * One request in plain words.
 * @param {Ask} ask
 */
export function requestText(ask) {
  const path = ask.path;
  switch (ask.state) {
    case "waiting": return t("files.ask.waiting", { path });
    case "sending": return t("files.ask.sending", { path });
    case "declined":
      if (ask.reason === "no_answer") return t("files.ask.no_answer", { path });
      if (ask.reason === "unattended") return t("files.ask.unattended", { path });
      if (ask.reason === "outside_allowed") return t("files.ask.outside_allowed", { path });
      return t("files.ask.declined", { path });
    case "not_found":
      return ask.reason === "broken_link" ? t("files.ask.broken_link", { path }) : t("files.ask.not_found", { path });
    case "refused": return t("files.ask.refused", { path, reason: refusedText(ask.reason) });
    case "not_allowed": return t("files.ask.not_allowed", { path });
    case "busy": return ask.reason === "too_often" ? t("files.ask.too_often", { path }) : t("files.ask.busy", { path });
    case "closed": return t("files.ask.closed", { path });
  }
}

/**
 * Why SupportLink does not send what is at a path.
 * @param {string | null} reason
 */
export function refusedText(reason) {
  switch (reason) {
    case "special_file": return t("files.ask.reason.special_file");
    case "unreadable": return t("files.ask.reason.unreadable");
    case "dot_dot": return t("files.ask.reason.dot_dot");
    case "relative": return t("files.ask.reason.relative");
    case "control": return t("files.ask.reason.control");
    case "network": return t("files.ask.reason.network");
    case "empty": return t("files.ask.reason.empty");
    case "too_many": return t("files.ask.reason.too_many");
    case "failed": return t("files.ask.reason.failed");
    default: return t("files.reason.other", { token: reason ?? "?" });
  }
}

/**
 * Why a path could not be asked for, in words (`FileRequests.ask`'s and the panel's problems).
 * @param {string} problem
 */
export function askProblemText(problem) {
  switch (problem) {
    case "empty": return t("files.ask.problem.empty");
    case "too_long": return t("files.ask.problem.too_long");
    case "control": return t("files.ask.problem.control");
    case "relative": return t("files.ask.problem.relative");
    case "waiting": return t("files.ask.problem.waiting");
    case "not_allowed": return t("files.problem.not_allowed");
    default: return t("files.ask.problem.closed");
  }
}
