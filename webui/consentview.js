// @ts-check
/**
 * What the customer allows: the "Customer allows" panel (what is allowed now, and where screen
 * viewing stands: asked, denied, taken back), asking for the screen view again, and the one
 * `ConsentTracker` (`consent.js`) every capability panel reads. What the panel says is
 * `consent.js`'s `consentPanelState`; this module only puts it on the page. It handles
 * the control messages that belong to the session rather than to one panel (`CONSENT_RECEIVES`:
 * the peer's `capabilities`, `consent_state` and `consent_reply`), each through
 * `hooks.onsession` into the session reducer, then `hooks.onchange` so every panel follows.
 *
 * A capability this console does not know is shown by its name and otherwise left alone.
 *
 *   const consent = new ConsentPanel({log, send, isOpen, onsession, onchange});
 *   consent.start("screen");             // paired: screen viewing is being asked
 *   consent.receive("control", msg);     // false: not one of CONSENT_RECEIVES
 *   consent.update(offers, mode);        // show what applies now
 *   consent.relink();                    // a fresh connection: nothing allowed until the peer says
 *   consent.reset();                     // the session is over: nothing allowed any more
 */

import { ConsentTracker, changeText, consentPanelState, describeGranted, nameOf, stateLogLine } from "./consent.js";
import { t } from "./i18n.js";
import { checkReceives } from "./panels.js";
import { CAPABILITY_BY_NAME } from "./protocol.js";
import { byId, setText, show } from "./ui.js";

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
      asked: byId("consent-asked"),
      denied: byId("consent-denied"),
      requestView: /** @type {HTMLButtonElement} */ (byId("request-view-button")),
    };
    this.el.requestView.addEventListener("click", () => this.requestView());
  }

  /**
   * Paired: nothing is known yet of what the customer allows; the peer asks for what the
   * session asks at once (screen viewing in a screen session).
   * @param {string} mode
   */
  start(mode) {
    this.reset();
    this.consent.start(mode);
    this.live = true;
    show(this.el.panel, true);
    this.update(() => false);
  }

  /**
   * A fresh connection replaces a lost one: what the customer allows is learnt anew from the
   * peer's next `consent_state` (nothing is allowed meanwhile); the panel stays.
   */
  relink() {
    this.consent.reset();
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
    this.consent.supports(supported);
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
    this.hooks.onchange();
  }

  /** @param {Message} msg */
  #onReply(msg) {
    const capability = nameOf(msg.capability);
    this.hooks.log(msg.allowed ? t("log.consent.reply_allowed", { capability }) : t("log.consent.reply_denied", { capability }));
    this.consent.reply({ capability: msg.capability, allowed: msg.allowed });
    this.hooks.onchange();
  }

  /**
   * Show what applies now (after consent changes and when a data channel opens or closes).
   * @param {(capability: string) => boolean} offers whether the session offers a capability
   * @param {string} [mode] the session's; in a call, asking to see the screen is the call view's
   *   button (`callview.js`), not this panel's
   */
  update(offers, mode = "screen") {
    const el = this.el;
    const now = consentPanelState(this.consent, {
      offered: this.live && offers("view"),
      open: this.live && this.hooks.isOpen(),
    });
    setText(el.consent, now.allows);
    setText(el.asked, now.view && !now.view.alert ? now.view.text : "");
    show(el.asked, now.view !== null && !now.view.alert);
    setText(el.denied, now.view?.alert ? now.view.text : "");
    show(el.denied, now.view?.alert ?? false);
    show(el.requestView, now.request !== "hidden" && mode !== "call");
    el.requestView.disabled = now.request === "waiting";
    // after a deny, asking again is the thing to do (remote control is no use without the picture)
    el.requestView.classList.toggle("primary", now.request === "offered");
    el.requestView.classList.toggle("secondary", now.request !== "offered");
  }

  requestView() {
    if (!this.hooks.send({ type: "consent_request", capability: "view" })) {
      this.hooks.log(t("log.consent.view_closed"), "error");
      return;
    }
    this.consent.ask("view");
    this.hooks.log(t("log.consent.asked_view"));
    this.hooks.onchange();
  }
}
