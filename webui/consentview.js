// @ts-check
/**
 * What the customer allows: the "Customer allows" panel, asking again for the screen view after
 * a deny, and the one `ConsentTracker` (`consent.js`) every capability panel reads. It handles
 * the control messages that belong to the session rather than to one panel (`CONSENT_RECEIVES`:
 * the peer's `capabilities`, `consent_state` and `consent_reply`), each through
 * `hooks.onsession` into the session reducer, then `hooks.onchange` so every panel follows.
 *
 * A capability this console does not know is shown by its name and otherwise left alone.
 *
 *   const consent = new ConsentPanel({log, send, isOpen, onsession, onchange});
 *   consent.start();                     // paired
 *   consent.receive("control", msg);     // false: not one of CONSENT_RECEIVES
 *   consent.update(offers);              // show what applies now
 *   consent.reset();                     // the session is over: nothing allowed any more
 */

import { ConsentTracker, changeText, describeGranted, nameOf, stateLogLine } from "./consent.js";
import { capabilityList, msg, t } from "./i18n.js";
import { checkReceives } from "./panels.js";
import { CAPABILITY_BY_NAME } from "./protocol.js";
import { byId, say, setText, show } from "./ui.js";

/**
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {{
 *   log: (line: string, level?: "info" | "error") => void,
 *   send: (msg: {type: string, [field: string]: any}) => boolean,
 *   isOpen: () => boolean,
 *   onsession: (event: import("./session.js").SessionEvent) => void,
 *   onchange: () => void,
 * }} ConsentHooks
 *   send and isOpen: the control channel
 */

/** The control messages this panel handles (every other one goes to a capability's panel). */
export const CONSENT_RECEIVES = Object.freeze({
  control: Object.freeze(["capabilities", "consent_reply", "consent_state"]),
});
checkReceives("consent panel", CONSENT_RECEIVES);

export class ConsentPanel {
  /** @param {ConsentHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.consent = new ConsentTracker();
    /** Whether a session is live (between `start` and `reset`). */
    this.live = false;
    this.el = {
      panel: byId("consent-panel"),
      consent: byId("consent"),
      denied: byId("consent-denied"),
      requestView: /** @type {HTMLButtonElement} */ (byId("request-view-button")),
    };
    /** What #consent says now. @type {import("./i18n.js").Msg | string} */
    this.words = msg("consent.waiting");
    this.el.requestView.addEventListener("click", () => this.requestView());
  }

  /** Paired: nothing is known yet of what the customer allows. */
  start() {
    this.reset();
    this.live = true;
    show(this.el.panel, true);
    this.words = msg("consent.waiting");
    say(this.el.consent, this.words);
    show(this.el.denied, false);
    show(this.el.requestView, false);
  }

  /** The session is over (or never began): nothing allowed, nothing shown. */
  reset() {
    this.live = false;
    this.consent.reset(); // first: nothing more goes out on the input channel
    show(this.el.panel, false);
  }

  /**
   * @param {string} label
   * @param {Message} msg from the customer's peer
   * @returns {boolean} false when it is not one of `CONSENT_RECEIVES`
   */
  receive(label, msg) {
    if (label !== "control") return false;
    switch (msg.type) {
      case "capabilities": this.#onCapabilities(msg); return true;
      case "consent_state": this.#onState(msg); return true;
      case "consent_reply": this.#onReply(msg); return true;
      default: return false;
    }
  }

  /** @param {Message} msg */
  #onCapabilities(msg) {
    /** @type {string[]} */
    const supported = msg.supported;
    const unknown = supported.filter((c) => !CAPABILITY_BY_NAME.has(c));
    this.hooks.log(t("log.consent.supports", {
      supported: describeGranted(supported),
      unknown: unknown.length ? t("log.consent.supports_unknown", { list: unknown.join(t("list.separator")) }) : "",
    }));
    this.hooks.onsession({ type: "capabilities", supported });
    this.hooks.onchange();
  }

  /** @param {Message} msg */
  #onState(msg) {
    this.hooks.onsession({ type: "consent_state", granted: msg.granted });
    const update = this.consent.state(msg.granted);
    const line = stateLogLine(msg.granted, update);
    if (line) this.hooks.log(line);
    for (const change of update.changes) {
      if (change.change === "revoked" || change.change === "released") this.hooks.log(t("log.consent.change", { change: changeText(change) }));
    }
    if (msg.granted.includes("view")) show(this.el.denied, false);
    this.hooks.onchange();
  }

  /** @param {Message} msg */
  #onReply(msg) {
    const capability = nameOf(msg.capability);
    this.hooks.log(msg.allowed ? t("log.consent.reply_allowed", { capability }) : t("log.consent.reply_denied", { capability }));
    this.consent.reply({ capability: msg.capability, allowed: msg.allowed });
    if (msg.capability === "view" && !msg.allowed) show(this.el.denied, true);
    this.hooks.onchange();
  }

  /**
   * Show what applies now (after consent changes and when a data channel opens or closes).
   * @param {(capability: string) => boolean} offers whether the session offers a capability
   */
  update(offers) {
    const granted = this.consent.granted;
    if (granted) {
      const words = capabilityList(granted);
      this.words = words.charAt(0).toUpperCase() + words.slice(1);
      setText(this.el.consent, this.words);
    }
    const viewAllowed = granted?.includes("view") ?? false;
    show(this.el.requestView, this.hooks.isOpen() && granted !== null && !viewAllowed && this.live && offers("view"));
  }

  requestView() {
    if (!this.hooks.send({ type: "consent_request", capability: "view" })) {
      this.hooks.log(t("log.consent.view_closed"), "error");
      return;
    }
    this.consent.ask("view");
    show(this.el.denied, false);
    this.words = msg("consent.view_requested", { allowed: this.words });
    say(this.el.consent, this.words);
    this.hooks.log(t("log.consent.asked_view"));
  }
}
