// @ts-check
/**
 * The hands of the reconnect (`reconnect.js` decides): each event goes in with the time, each
 * action goes out to the session controller (a new socket, a message, the end), to the
 * connection (`live.js`: hold, restore, replace) or to the session card; meanwhile #status says
 * where things stand, #status-detail counts down, and a tick runs every `TICK_MS` while a
 * deadline or a retry does.
 *
 *   const reconnector = new Reconnector(host);
 *   reconnector.on({type: "socket_closed"});   // the time is added here
 *   reconnector.stage;                          // "offline"
 *   reconnector.forget();                       // the session is over: no timer, no words
 */

import { t } from "./i18n.js";
import * as reconnect from "./reconnect.js";

/**
 * @typedef {import("./i18n.js").Msg} Msg
 * @typedef {{
 *   log: (line: string, level?: "info" | "error") => void,
 *   view: import("./sessionview.js").SessionView,
 *   live: import("./live.js").LiveSession,
 *   setPhase: (event: import("./session.js").SessionEvent, words: Msg) => void,
 *   send: (msg: {type: string, [field: string]: any}) => boolean,
 *   reopen: () => void,
 *   endLost: (reason: string, words: Msg | null) => void,
 * }} ReconnectHost
 *   the session controller: reopen opens a new signaling socket (giving up one still opening);
 *   endLost ends the session that could not be got back (words: #status, null for the reason's)
 * @typedef {{
 *   now: () => number,
 *   setInterval: (f: () => void, ms: number) => any,
 *   clearInterval: (id: any) => void,
 * }} Clock
 *   monotonic milliseconds, and the ticks (tests give their own)
 */

/** How often a running reconnect looks at the clock (and the countdown is shown anew), in ms. */
export const TICK_MS = 250;

/** @type {Clock} */
const CLOCK = {
  now: () => performance.now(),
  setInterval: (f, ms) => setInterval(f, ms),
  clearInterval: (id) => clearInterval(id),
};

export class Reconnector {
  /**
   * @param {ReconnectHost} host
   * @param {Clock} [clock]
   */
  constructor(host, clock = CLOCK) {
    this.host = host;
    this.clock = clock;
    this.state = reconnect.INITIAL;
    /** @type {any} */
    this.timer = null;
    /** The words #status has while reconnecting, to set them only when they change. */
    this.words = "";
    /** #status-detail holds the countdown. */
    this.countdown = false;
  }

  /** Where getting the session back stands. */
  get stage() {
    return this.state.stage;
  }

  /** Whether a lost signaling socket is worth reconnecting (paired, with a secret). */
  get resumable() {
    return reconnect.canResume(this.state);
  }

  /**
   * Tell the reconnect one event (the time is added), do what it says, show where it stands.
   * @param {{type: string, [field: string]: any}} event a `ReconnectEvent` without `now`
   */
  on(event) {
    const before = this.state;
    const { state, actions } = reconnect.step(before, /** @type {reconnect.ReconnectEvent} */ ({ ...event, now: this.clock.now() }));
    this.state = state;
    if (state.stage !== before.stage) this.host.log(t("log.reconnect.stage", { before: before.stage, stage: state.stage }));
    for (const action of actions) this.#perform(action);
    this.#show();
  }

  /** No session to get back: no timer runs, #status says nothing of it. */
  forget() {
    this.state = reconnect.INITIAL;
    this.words = "";
    this.countdown = false;
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
    this.host.view.reconnecting(null);
  }

  /** @param {reconnect.ReconnectAction} action */
  #perform(action) {
    const host = this.host;
    switch (action.type) {
      case "connect":
        host.log(t("log.reconnect.attempt", { n: String(this.state.attempts) }));
        host.reopen();
        return;
      case "send":
        if (action.msg.type === "resume") host.log(t("log.reconnect.resume")); // never the secret
        host.send(action.msg);
        return;
      case "suspend":
        host.log(t("log.reconnect.suspended"));
        host.live.suspend();
        return;
      case "restore":
        host.live.restore();
        return;
      case "replace":
        host.log(t("log.reconnect.fresh_offer"));
        host.live.relink(action.iceServers);
        return;
      case "alert":
        host.log(t("log.session.verification_changed", { first: action.first, code: action.code }), "error");
        host.view.verificationChanged(action.code);
        return;
      case "end":
        host.log(t("log.reconnect.gave_up", { reason: action.reason }), "error");
        host.endLost(action.reason, action.words); // the session is over: `forget` comes with it
        return;
    }
  }

  /** #status and #status-detail while the session is being got back; the ticks. */
  #show() {
    const state = this.state;
    const view = this.host.view;
    const shown = reconnect.statusOf(state, this.clock.now());
    view.reconnecting(shown ? state.stage : null);
    if (shown) {
      const key = JSON.stringify(shown.status);
      if (key !== this.words) {
        this.words = key;
        this.host.setPhase({ type: "interrupted" }, shown.status);
      }
      if (shown.detail) view.detail(shown.detail);
      else if (this.countdown) view.detail(""); // no deadline to count down any more
      this.countdown = shown.detail !== null;
    } else {
      this.words = "";
      this.countdown = false;
    }
    const ticks = reconnect.needsTicks(state);
    if (ticks && this.timer === null) {
      this.timer = this.clock.setInterval(() => this.on({ type: "tick" }), TICK_MS);
    } else if (!ticks && this.timer !== null) {
      this.clock.clearInterval(this.timer);
      this.timer = null;
    }
  }
}
