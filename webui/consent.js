// @ts-check
/**
 * What the customer allows, as the console follows it (no DOM).
 *
 * The customer's peer is the only authority: its `consent_state` says what is granted now, its
 * `consent_reply` answers one request. This tracker adds what the console itself knows — what
 * the operator asked for and what they handed back — so that a capability that disappears from
 * `consent_state` reads as "the customer took it back" or "you handed it back", as it was.
 *
 *   const consent = new ConsentTracker();
 *   consent.ask("control");                       // consent_request sent
 *   consent.reply({capability: "control", allowed: false});   // -> "denied"
 *   consent.state(["view", "control"]);           // -> {changes: [{capability: "control", change: "granted"}]}
 *   consent.release("control");                   // release sent: stop using it at once
 *   consent.state(["view"]);                      // -> change "released" (else "revoked")
 *   consent.status("control");                    // "released"
 */

import { capabilityList, capabilityText, t } from "./i18n.js";

/**
 * @typedef {"unknown" | "off" | "asked" | "granted" | "denied" | "revoked" | "released"} Status
 *   unknown: no consent_state yet; off: not granted and nothing happened to it yet
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

  /** A new session: nothing known yet. */
  reset() {
    this.granted = null;
    this.last.clear();
    this.releasing.clear();
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
