// @ts-check
/**
 * What of the customer's desktop is shown: their monitors (a picker) and whether the session is
 * limited to one application window. The peer reports it in `view_state`; the operator answers
 * with `select_monitor{index}` or `limit_request` (the customer picks the window), and in
 * one-window mode may ask for the whole screen again (`whole_screen_request`): only the customer
 * can say yes, and the peer answers with `whole_screen_reply`.
 *
 * The pure helpers come first (tested with node); `ViewPanel` is the DOM around them, and
 * `VIEW_PANEL` registers it as the panel of the `view` capability (`panels.js`).
 */

import { LinkReporter } from "./linkreport.js";
import { msg, onLanguageChange, t } from "./i18n.js";
import { definePanel } from "./panels.js";
import { byId, say, setText } from "./ui.js";

/**
 * @typedef {{index: number, x: number, y: number, width: number, height: number, primary: boolean}} Monitor
 * @typedef {{monitors: Monitor[], monitor: number, window?: string, width: number, height: number}} ViewState
 * @typedef {{type: string, [field: string]: any}} ControlMessage
 */

/**
 * The picker's words for one of `count` monitors: "Monitor 2 of 3 (1920×1080)". Monitors are
 * counted from 1 for people (the wire counts from 0), as the customer's window counts them.
 * @param {Monitor} monitor
 * @param {number} count how many monitors the customer has
 */
export function monitorLabel(monitor, count) {
  const size = { width: String(monitor.width), height: String(monitor.height) };
  if (count < 2) return t("view.monitor", { n: String(monitor.index + 1), ...size });
  return t("view.monitor_of", { n: String(monitor.index + 1), count: String(count), ...size });
}

/**
 * What is shared, in a few words: "Whole screen" (one monitor), "Whole screen: Monitor 1 of 3"
 * or "One application: TITLE".
 * @param {ViewState} view
 */
export function viewStateText(view) {
  if (view.window != null) return t("view.state_window", { title: view.window || t("view.untitled") });
  const count = view.monitors.length;
  if (count < 2) return t("view.state_screen_one");
  return t("view.state_screen", { n: String(view.monitor + 1), count: String(count) });
}

/**
 * The log line for a new view_state, or null when it says nothing new.
 * @param {ViewState | null} before
 * @param {ViewState} now
 */
export function viewLogLine(before, now) {
  if (before && viewKey(before) === viewKey(now)) return null;
  const size = `${now.width}×${now.height}`;
  if (now.window != null) return t("log.view.window", { title: now.window, size });
  return t("log.view.screen", { n: String(now.monitor + 1), count: String(now.monitors.length), size });
}

/** @param {ViewState} view */
function viewKey(view) {
  const monitors = view.monitors.map((m) => [m.index, m.width, m.height]);
  return JSON.stringify([monitors, view.monitor, view.window ?? null, view.width, view.height]);
}

/**
 * @typedef {{
 *   tools: HTMLElement,
 *   viewState: HTMLElement,
 *   monitor: HTMLSelectElement,
 *   limitButton: HTMLButtonElement,
 *   wholeButton: HTMLButtonElement,
 *   note: HTMLElement,
 * }} ViewElements
 * @typedef {{
 *   sendControl: (msg: ControlMessage) => boolean,
 *   viewAllowed: () => boolean,
 *   log: (line: string, level?: "info" | "error") => void,
 * }} ViewHooks
 */

export class ViewPanel {
  /**
   * @param {ViewElements} el
   * @param {ViewHooks} hooks
   */
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    /** @type {ViewState | null} */
    this.view = null;
    /** Whether the peer carries screen viewing in the live session. */
    this.live = false;
    el.monitor.addEventListener("change", () => this.#select());
    el.limitButton.addEventListener("click", () => this.#limit());
    el.wholeButton.addEventListener("click", () => this.#askWhole());
    /** Whether a whole_screen_request waits for the customer's answer. */
    this.askedWhole = false;
    this.reset();
    onLanguageChange(() => {
      if (this.view) this.#label(this.view);
    });
  }

  /** The session is over (or a new one starts): nothing is shown. */
  reset() {
    this.view = null;
    this.live = false;
    this.askedWhole = false;
    this.el.monitor.replaceChildren();
    this.el.viewState.textContent = "";
    setText(this.el.note, "");
    this.update();
  }

  /** @param {ViewState} state a view_state from the peer */
  show(state) {
    const line = viewLogLine(this.view, state);
    if (line) this.hooks.log(line);
    // one application: the console can only ask for the whole screen back, so say who decides
    if (state.window != null) {
      if (!this.askedWhole) say(this.el.note, msg("view.window_only_customer"));
    } else {
      this.askedWhole = false;
      if (line) setText(this.el.note, "");
    }
    this.view = state;
    this.#label(state);
    this.update();
  }

  /**
   * The picker and the words for what is shared, in the language in use.
   * @param {ViewState} view
   */
  #label(view) {
    const options = view.monitors.map((m) => {
      const option = document.createElement("option");
      option.value = String(m.index);
      option.textContent = monitorLabel(m, view.monitors.length);
      return option;
    });
    const same = options.length === this.el.monitor.options.length &&
      options.every((o, i) => o.value === this.el.monitor.options[i].value && o.textContent === this.el.monitor.options[i].textContent);
    if (!same) this.el.monitor.replaceChildren(...options);
    this.el.monitor.value = String(view.monitor);
    this.el.viewState.textContent = viewStateText(view);
    this.el.viewState.title = view.window != null ? t("view.limited_title", { title: view.window }) : "";
  }

  /** Show what applies: the tools only while the picture may be seen. */
  update() {
    const view = this.view;
    const live = this.live && view !== null && this.hooks.viewAllowed();
    this.el.tools.hidden = !live;
    const windowMode = view?.window != null;
    // one application, or one monitor: no monitor to pick
    this.el.monitor.hidden = !live || windowMode || (view?.monitors.length ?? 0) < 2;
    this.el.limitButton.hidden = !live || windowMode;
    this.el.wholeButton.hidden = !live || !windowMode;
    this.el.wholeButton.disabled = this.askedWhole;
    this.el.note.hidden = !live || this.el.note.textContent === "";
  }

  #select() {
    const index = Number(this.el.monitor.value);
    if (!Number.isInteger(index)) return;
    if (this.hooks.sendControl({ type: "select_monitor", index })) {
      const count = String(this.view?.monitors.length ?? 0);
      this.hooks.log(t("log.view.monitor_asked", { n: String(index + 1), count }));
    } else {
      this.hooks.log(t("log.view.monitor_closed"), "error");
      if (this.view) this.el.monitor.value = String(this.view.monitor);
    }
  }

  /**
   * The customer's answer to a whole_screen_request (a yes is followed by a view_state).
   * @param {{allowed: boolean}} reply
   */
  answered(reply) {
    if (!this.askedWhole) return;
    this.askedWhole = false;
    if (reply.allowed) {
      this.hooks.log(t("log.view.whole_allowed"));
    } else {
      this.hooks.log(t("log.view.whole_declined"));
      say(this.el.note, msg("view.whole_declined"));
    }
    this.update();
  }

  #askWhole() {
    if (this.askedWhole) return;
    if (this.hooks.sendControl({ type: "whole_screen_request" })) {
      this.askedWhole = true;
      this.hooks.log(t("log.view.whole_asked"));
      say(this.el.note, msg("view.whole_asked"));
      this.update();
    } else {
      this.hooks.log(t("log.view.whole_closed"), "error");
    }
  }

  #limit() {
    if (this.hooks.sendControl({ type: "limit_request" })) {
      this.hooks.log(t("log.view.limit_asked"));
      say(this.el.note, msg("view.limit_asked"));
      this.update();
    } else {
      this.hooks.log(t("log.view.limit_closed"), "error");
    }
  }
}

/** The `view` capability's panel: what is shared, from `view_state`. */
export const VIEW_PANEL = definePanel({
  capability: "view",
  receives: { control: ["view_state", "whole_screen_reply"] },
  create: (hooks) => {
    const views = new ViewPanel(
      { tools: byId("view-tools"), viewState: byId("view-state"), note: byId("view-note"),
        monitor: byId("monitor"), limitButton: byId("limit-button"), wholeButton: byId("whole-screen-button") },
      { sendControl: (msg) => hooks.send("control", msg), viewAllowed: () => hooks.consent.allows("view"),
        log: hooks.log },
    );
    // the console's own measure of the picture, for the peer's rate control
    const reporter = new LinkReporter(/** @type {HTMLVideoElement} */ (byId("remote-video")), {
      active: () => views.live && hooks.consent.allows("view") && hooks.isOpen("control"),
      stats: async () => {
        const pc = hooks.link()?.pc;
        if (!pc) return null;
        /** @type {import("./linkreport.js").StatsEntry[]} */
        const entries = [];
        (await pc.getStats()).forEach((entry) => entries.push(entry));
        return entries;
      },
      send: (msg) => hooks.send("control", msg),
    });
    return {
      reset: () => {
        reporter.stop();
        views.reset();
      },
      relink: () => views.reset(), // the peer sends its view_state again on the new channel
      update: (now) => {
        views.live = now.offered;
        views.update();
        if (views.live) reporter.start();
        else reporter.stop();
      },
      receive: (_label, msg) => {
        if (msg.type === "whole_screen_reply") views.answered(/** @type {{allowed: boolean}} */ (/** @type {unknown} */ (msg)));
        else views.show(/** @type {ViewState} */ (/** @type {unknown} */ (msg)));
      },
    };
  },
});
