// @ts-check
/**
 * Remote control from the console: asking for it, the operator's pointer and keyboard going to
 * the customer while it is granted, handing it back, and what the operator sees of all that.
 *
 * The customer's peer decides (consent "control"); this module follows its `consent_state`
 * through the shared `ConsentTracker`. While control is granted, `input.js` turns pointer and
 * key events on the video into INPUT messages; they go out on the `input` data channel only
 * while control is granted and that channel is open — never before, never after a revoke.
 *
 *   Request control  -> consent_request{control}        (answer: consent_reply + consent_state)
 *   granted          -> input enabled; a click on the picture focuses it and captures the keyboard
 *   Hand back        -> input disabled (release_all), then release{control}
 *   revoked          -> input disabled at once: "The customer took back control"
 *
 * `CONTROL_PANEL` registers it as the panel of the `control` capability (`panels.js`).
 */

import { controlStateText } from "./consent.js";
import { onLanguageChange, t } from "./i18n.js";
import { attachInput } from "./input.js";
import { definePanel } from "./panels.js";
import { SPECIAL_KEYS, comboMessages, specialKey } from "./specialkeys.js";
import { byId } from "./ui.js";

/**
 * @typedef {import("./consent.js").ConsentTracker} ConsentTracker
 * @typedef {import("./input.js").InputMessage} InputMessage
 * @typedef {{
 *   panel: HTMLElement,
 *   state: HTMLElement,
 *   hint: HTMLElement,
 *   requestButton: HTMLButtonElement,
 *   handBackButton: HTMLButtonElement,
 *   captureBar: HTMLElement,
 *   keyboardCapture: HTMLElement,
 *   releaseKeyboardButton: HTMLButtonElement,
 *   specialKeys: HTMLSelectElement,
 *   videoWrap: HTMLElement,
 *   video: HTMLVideoElement,
 * }} ControlElements
 * @typedef {{
 *   sendControl: (msg: {type: string, [field: string]: any}) => boolean,
 *   sendInput: (msg: InputMessage) => boolean,
 *   channelOpen: () => boolean,
 *   consent: ConsentTracker,
 *   log: (line: string, level?: "info" | "error") => void,
 * }} ControlHooks
 */

/**
 * The Request control button: hidden while control is granted (or nothing is known yet),
 * disabled while the customer has the question, and the primary action only while the
 * customer lets the operator see the screen: control without the picture is not the first
 * thing to offer (after a deny of screen viewing, asking for that again is).
 * @param {import("./consent.js").Status} control where control stands
 * @param {import("./consent.js").Status} view where screen viewing stands
 * @param {{open: boolean, allowed: boolean}} now open: the control channel is open; allowed: input goes out now
 * @returns {{hidden: boolean, disabled: boolean, primary: boolean}}
 */
export function requestControlButton(control, view, { open, allowed }) {
  return {
    hidden: !open || allowed || control === "unknown",
    disabled: control === "asked",
    primary: view === "granted",
  };
}

export class RemoteControl {
  /**
   * @param {ControlElements} el
   * @param {ControlHooks} hooks
   */
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    /** Whether a screen session with a peer connection is up. */
    this.live = false;
    this.enabled = false;
    /** Said once per grant when the input channel cannot carry input. */
    this.warnedClosed = false;
    this.input = attachInput(el.video, (msg) => this.#sendInput(msg), {
      onActiveChange: (active) => this.#captured(active),
    });
    el.requestButton.addEventListener("click", () => this.request());
    el.handBackButton.addEventListener("click", () => this.handBack());
    el.releaseKeyboardButton.addEventListener("click", () => this.input.releaseKeyboard());
    el.specialKeys.addEventListener("change", () => this.sendSpecial(el.specialKeys.value));
    el.captureBar.hidden = true;
    el.keyboardCapture.hidden = true;
    this.update();
    onLanguageChange(() => this.update());
  }

  /** @param {boolean} live whether a screen session's peer connection exists */
  setLive(live) {
    this.live = live;
    this.update();
  }

  /** Follow consent and the channels: enable or disable input, show what applies. */
  update() {
    const consent = this.hooks.consent;
    const open = this.live && this.hooks.channelOpen();
    const allowed = open && consent.allows("control");
    if (allowed && !this.enabled) {
      this.enabled = true;
      this.warnedClosed = false;
      this.input.enable();
      this.hooks.log(t("log.control.enabled"));
    } else if (!allowed && this.enabled) {
      this.enabled = false;
      this.input.disable(); // sends release_all while that is still allowed (hand back)
      this.hooks.log(t("log.control.stopped"));
    }
    const status = this.live ? consent.status("control") : "unknown";
    const el = this.el;
    el.panel.hidden = !this.live;
    el.state.textContent = open ? controlStateText(status) : t("common.waiting_customer");
    el.state.dataset.status = open ? status : "unknown";
    const request = requestControlButton(status, this.live ? consent.status("view") : "unknown", { open, allowed });
    el.requestButton.hidden = request.hidden;
    el.requestButton.disabled = request.disabled;
    el.requestButton.classList.toggle("primary", request.primary);
    el.requestButton.classList.toggle("secondary", !request.primary);
    el.handBackButton.hidden = !allowed;
    el.specialKeys.hidden = !allowed;
    this.#specialOptions();
    el.hint.hidden = !allowed || this.input.active;
    el.videoWrap.classList.toggle("controlling", allowed);
  }

  /**
   * Press a combination the operator's own computer would keep (Ctrl+Alt+Del ...).
   * @param {string} id a SPECIAL_KEYS id
   */
  sendSpecial(id) {
    this.el.specialKeys.value = "";
    const special = specialKey(id);
    if (!special || !this.hooks.consent.allows("control")) return;
    for (const msg of comboMessages(special.keys)) this.#sendInput(msg);
    this.hooks.log(t("log.keys.sent", { keys: special.label() }));
  }

  /** The menu's entries, in the language in use; the first one is its title. */
  #specialOptions() {
    if (typeof document === "undefined") return;
    const title = document.createElement("option");
    title.value = "";
    title.textContent = t("keys.label");
    const options = SPECIAL_KEYS.map((k) => {
      const option = document.createElement("option");
      option.value = k.id;
      option.textContent = k.label();
      return option;
    });
    this.el.specialKeys.replaceChildren(title, ...options);
    this.el.specialKeys.value = "";
  }

  request() {
    if (!this.hooks.sendControl({ type: "consent_request", capability: "control" })) {
      this.hooks.log(t("log.control.ask_closed"), "error");
      return;
    }
    this.hooks.consent.ask("control");
    this.hooks.log(t("log.consent.asked_control"));
    this.update();
  }

  handBack() {
    if (!this.hooks.consent.allows("control")) return;
    this.enabled = false;
    this.input.disable(); // release_all first, while control is still granted
    this.hooks.consent.release("control");
    if (!this.hooks.sendControl({ type: "release", capability: "control" })) {
      this.hooks.log(t("log.control.hand_back_closed"), "error");
    } else {
      this.hooks.log(t("log.control.handed_back"));
    }
    this.update();
  }

  /** The session is over: stop sending at once. */
  reset() {
    this.live = false;
    this.update();
  }

  /** @param {InputMessage} msg */
  #sendInput(msg) {
    if (!this.hooks.consent.allows("control")) return; // the peer would drop it anyway
    if (this.hooks.sendInput(msg)) return;
    if (!this.warnedClosed) {
      this.warnedClosed = true;
      this.hooks.log(t("log.control.input_closed"), "error");
    }
  }

  /** @param {boolean} active whether key presses go to the customer now */
  #captured(active) {
    this.el.captureBar.hidden = !active;
    this.el.keyboardCapture.hidden = !active;
    this.el.videoWrap.classList.toggle("capturing", active);
    this.el.hint.hidden = !this.enabled || active;
    this.hooks.log(active ? t("log.control.keyboard_captured") : t("log.control.keyboard_released"));
  }
}

/** The `control` capability's panel: only in a screen session whose peer carries it. */
export const CONTROL_PANEL = definePanel({
  capability: "control",
  create: (hooks) => {
    const control = new RemoteControl(
      { panel: byId("control-panel"), state: byId("control-state"), hint: byId("control-hint"),
        requestButton: byId("request-control-button"), handBackButton: byId("hand-back-button"),
        captureBar: byId("capture-bar"), keyboardCapture: byId("keyboard-capture"),
        releaseKeyboardButton: byId("release-keyboard-button"), specialKeys: byId("special-keys"),
        videoWrap: byId("video-wrap"), video: byId("remote-video") },
      { sendControl: (msg) => hooks.send("control", msg),
        sendInput: (msg) => hooks.link()?.sendInput(msg) ?? false,
        channelOpen: () => hooks.isOpen("control"), consent: hooks.consent, log: hooks.log },
    );
    return {
      reset: () => control.reset(),
      update: (now) => {
        control.live = now.mode === "screen" && now.offered;
        control.update();
      },
    };
  },
});
