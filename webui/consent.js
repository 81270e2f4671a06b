// @ts-check
/**
 * What the customer allows, as the console follows it (no DOM).
 *
 * The customer's peer is the only authority: its `consent_state` says what is granted now, its
 * `consent_reply` answers one request. This tracker adds what the console itself knows — what
 * the operator asked for and what they handed back — so that a capability that disappears from
 * `consent_state` reads as "the customer took it back" or "you handed it back", as it was.
 * What the peer asks the customer as soon as the session is paired (`at_start` in
 * CAPABILITY_TABLE: screen viewing) counts as asked from `start`: a `consent_state` without it
 * means "not answered yet" until a `consent_reply` says no.
 *
 *   const consent = new ConsentTracker();
 *   consent.start("screen");                      // paired: "view" is being asked
 *   consent.ask("control");                       // consent_request sent
 *   consent.reply({capability: "control", allowed: false});   // -> "denied"
 *   consent.state(["view", "control"]);           // -> {changes: [{capability: "control", change: "granted"}]}
 *   consent.release("control");                   // release sent: stop using it at once
 *   consent.state(["view"]);                      // -> change "released" (else "revoked")
 *   consent.status("control");                    // "released"
 */

import { capabilityList, capabilityText, t } from "./i18n.js";
import { CAPABILITY_TABLE, consentIn } from "./protocol.js";

/**
 * @typedef {"unknown" | "off" | "asked" | "granted" | "denied" | "revoked" | "released"} Status
 *   unknown: no consent_state yet; off: not granted and nothing happened to it yet;
 *   asked: the customer has the question and has not answered
 * @typedef {"granted" | "revoked" | "released" | "denied"} Change
 * @typedef {{capability: string, change: Change}} ConsentEvent
 * @typedef {{first: boolean, added: string[], removed: string[], changes: ConsentEvent[]}} StateUpdate
 */

export class ConsentTracker {
  constructor() {
    /** What the latest consent_state grants; null before the first one. @type {string[] | null} */
    this.granted = null;
    /** @type {Map<string, Status>} what last happened to each capability */
    this.last = new Map();
    /** Capabilities handed back whose consent_state has not come yet. @type {Set<string>} */
    this.releasing = new Set();
  }

  /** No session, or a new one: nothing known yet. */
  reset() {
    this.granted = null;
    this.last.clear();
    this.releasing.clear();
  }

  /**
   * Paired in `mode`: nothing known yet, except that the peer asks the customer at once for
   * what the table asks `at_start` (screen viewing in a screen session).
   * @param {string} mode
   */
  start(mode) {
    this.reset();
    for (const row of CAPABILITY_TABLE) {
      if (consentIn(row, mode) === "at_start" && row.modes.includes(mode)) this.last.set(row.name, "asked");
    }
  }

  /**
   * The peer's `capabilities`: it asks nothing about a capability it does not carry out.
   * @param {readonly string[]} supported
   */
  supports(supported) {
    for (const [capability, status] of this.last) {
      if (status === "asked" && !supported.includes(capability)) this.last.delete(capability);
    }
  }

  /**
   * Whether the operator may use `capability` now: granted, and not being handed back.
   * @param {string} capability
   */
  allows(capability) {
    return (this.granted?.includes(capability) ?? false) && !this.releasing.has(capability);
  }

  /**
   * @param {string} capability
   * @returns {Status}
   */
  status(capability) {
    if (this.releasing.has(capability)) return "released";
    if (this.granted === null) return this.last.get(capability) === "asked" ? "asked" : "unknown";
    if (this.granted.includes(capability)) return "granted";
    return this.last.get(capability) ?? "off";
  }

  /**
   * The operator sent `consent_request{capability}`.
   * @param {string} capability
   */
  ask(capability) {
    if (!this.allows(capability)) this.last.set(capability, "asked");
  }

  /**
   * The operator sent `release{capability}`; from now on the console stops using it.
   * @param {string} capability
   */
  release(capability) {
    if (this.granted?.includes(capability)) this.releasing.add(capability);
    this.last.set(capability, "released");
  }

  /**
   * A `consent_reply`: a denial is final for this request; a grant waits for consent_state.
   * @param {{capability: string, allowed: boolean}} msg
   * @returns {ConsentEvent | null}
   */
  reply(msg) {
    if (msg.allowed) return null;
    this.last.set(msg.capability, "denied");
    return { capability: msg.capability, change: "denied" };
  }

  /**
   * A `consent_state`: what is granted now, and how each capability got there.
   * @param {readonly string[]} granted
   * @returns {StateUpdate}
   */
  state(granted) {
    const first = this.granted === null;
    const before = this.granted ?? [];
    const now = [...granted];
    this.granted = now;
    const added = now.filter((c) => !before.includes(c));
    const removed = before.filter((c) => !now.includes(c));
    /** @type {ConsentEvent[]} */
    const changes = [];
    for (const capability of added) {
      this.last.set(capability, "granted");
      changes.push({ capability, change: "granted" });
    }
    for (const capability of removed) {
      const change = this.releasing.has(capability) ? "released" : "revoked";
      this.last.set(capability, change);
      changes.push({ capability, change });
    }
    // A release is settled once the capability is gone (or was never there).
    for (const capability of [...this.releasing]) {
      if (!now.includes(capability)) this.releasing.delete(capability);
    }
    return { first, added, removed, changes };
  }
}

/**
 * What the log calls `capability`, in the language in use (in English the table's words,
 * `CAPABILITY_TABLE`); an unknown token is shown as itself.
 * @param {string} capability
 */
export function nameOf(capability) {
  return capabilityText(capability);
}

/**
 * What the customer allows, for the log ("screen viewing, chat", or "nothing").
 * @param {readonly string[]} granted
 */
export function describeGranted(granted) {
  return capabilityList(granted);
}

/**
 * The log line for a consent_state, or null when nothing the customer allows changed.
 * @param {readonly string[]} granted
 * @param {StateUpdate} update
 */
export function stateLogLine(granted, update) {
  if (!update.first && !update.added.length && !update.removed.length) return null;
  const list = (/** @type {string[]} */ tokens) => tokens.join(t("list.separator"));
  return t("log.consent.allows", {
    granted: describeGranted(granted),
    added: update.added.length ? t("log.consent.added", { list: list(update.added) }) : "",
    removed: update.removed.length ? t("log.consent.removed", { list: list(update.removed) }) : "",
  });
}

/**
 * What one change means, in words for the log.
 * @param {ConsentEvent} event
 */
export function changeText(event) {
  const capability = nameOf(event.capability);
  switch (event.change) {
    case "granted": return t("log.consent.granted", { capability });
    case "denied": return t("log.consent.denied", { capability });
    case "revoked": return t("log.consent.revoked", { capability });
    case "released": return t("log.consent.released", { capability });
  }
}

/**
 * The words of `#control-state` for a status of the "control" capability.
 * @param {Status} status
 */
export function controlStateText(status) {
  switch (status) {
    case "granted": return t("control.state.granted");
    case "asked": return t("control.state.asked");
    case "denied": return t("control.state.denied");
    case "revoked": return t("control.state.revoked");
    case "released": return t("control.state.released");
    case "unknown": return t("common.waiting_customer");
    case "off": return t("control.state.off");
  }
}

/**
 * @typedef {{
 *   allows: string,
 *   view: {text: string, alert: boolean} | null,
 *   request: "hidden" | "waiting" | "offered",
 * }} ConsentPanelState
 *   allows: what the customer allows now, as a sentence; view: where screen viewing stands when
 *   that needs saying (asked, denied, taken back); request: the Request screen view button
 *   (waiting: shown but disabled while the customer has the question; offered: the thing to do)
 */

/**
 * What the "Customer allows" panel shows, in the language in use.
 * @param {ConsentTracker} consent
 * @param {{offered: boolean, open: boolean}} view
 *   offered: the session offers screen viewing; open: a consent_request can be sent now
 * @returns {ConsentPanelState}
 */
export function consentPanelState(consent, { offered, open }) {
  const granted = consent.granted;
  const status = offered ? consent.status("view") : "unknown";
  let allows = t("common.waiting_customer");
  if (granted !== null) {
    const asked = [...consent.last.values()].includes("asked");
    const words = granted.length === 0 && asked ? t("consent.nothing_yet") : capabilityList(granted);
    allows = words.charAt(0).toUpperCase() + words.slice(1);
  }
  /** @type {ConsentPanelState["view"]} */
  let view = null;
  if (status === "asked") view = { text: t("consent.view_asked"), alert: false };
  else if (status === "denied") view = { text: t("consent.view_denied"), alert: true };
  else if (status === "revoked") view = { text: t("consent.view_revoked"), alert: true };
  /** @type {ConsentPanelState["request"]} */
  let request = "hidden";
  if (open && status === "asked") request = "waiting";
  else if (open && ["off", "denied", "revoked", "released"].includes(status)) request = "offered";
  return { allows, view, request };
}
