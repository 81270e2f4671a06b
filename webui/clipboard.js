// @ts-check
/**
 * Text clipboard both ways, as its own consent ("clipboard"): off until the customer allows it.
 *
 * Out: the operator types or pastes into a text box and sends it (`clipboard{text}`); the
 * customer's peer puts it on their clipboard. In: what the customer copies arrives as
 * `clipboard{text}`, is shown, and a "Copy" button (a user gesture, as browsers require) puts it
 * on the operator's clipboard — through `navigator.clipboard` in a secure context, else by
 * selecting the text and the browser's copy command.
 *
 * `clipboardProblem` is pure (tested with node); `ClipboardPanel` is the DOM around it, and
 * `CLIPBOARD_PANEL` registers it as the panel of the `clipboard` capability (`panels.js`).
 */

import { onLanguageChange, t } from "./i18n.js";
import { definePanel } from "./panels.js";

import {
  MAX_CLIPBOARD_CHARS,
  MAX_CONTROL_BYTES,
  ProtocolError,
  codePointLength as charCount,
  serialize,
  utf8Length,
} from "./protocol.js";
import { byId } from "./ui.js";

/**
 * Why `text` cannot go out as one clipboard message, in words for the operator; null if it can.
 * @param {string} text
 * @returns {string | null}
 */
export function clipboardProblem(text) {
  if (text === "") return t("clipboard.problem.empty");
  const count = charCount(text);
  if (count > MAX_CLIPBOARD_CHARS) {
    return t("clipboard.problem.too_long", { count: String(count), max: String(MAX_CLIPBOARD_CHARS) });
  }
  let wire;
  try {
    wire = serialize({ type: "clipboard", text }, "control");
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return t("clipboard.problem.invalid", { detail: err.message.replace(/^clipboard\.text: /, "") });
  }
  if (utf8Length(wire) > MAX_CONTROL_BYTES) {
    return t("clipboard.problem.too_large", { bytes: String(utf8Length(wire)), max: String(MAX_CONTROL_BYTES) });
  }
  return null;
}

/**
 * The counter under the text box: "12 / 4000".
 * @param {string} text
 */
export function counterText(text) {
  return `${charCount(text)} / ${MAX_CLIPBOARD_CHARS}`;
}

/**
 * @typedef {{
 *   panel: HTMLElement,
 *   state: HTMLElement,
 *   requestButton: HTMLButtonElement,
 *   area: HTMLElement,
 *   out: HTMLTextAreaElement,
 *   counter: HTMLElement,
 *   problem: HTMLElement,
 *   sendButton: HTMLButtonElement,
 *   received: HTMLElement,
 *   incoming: HTMLElement,
 *   copyButton: HTMLButtonElement,
 * }} ClipboardElements
 * @typedef {{
 *   sendControl: (msg: {type: string, [field: string]: any}) => boolean,
 *   channelOpen: () => boolean,
 *   consent: import("./consent.js").ConsentTracker,
 *   log: (line: string, level?: "info" | "error") => void,
 * }} ClipboardHooks
 */

export class ClipboardPanel {
  /**
   * @param {ClipboardElements} el
   * @param {ClipboardHooks} hooks
   */
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.live = false;
    el.requestButton.addEventListener("click", () => this.#request());
    el.sendButton.addEventListener("click", () => this.#send());
    el.copyButton.addEventListener("click", () => void this.#copy());
    el.out.addEventListener("input", () => this.#edited());
    this.reset();
    onLanguageChange(() => {
      this.#edited();
      this.update();
    });
  }

  /** A session starts or ends: nothing received, nothing shown. */
  reset() {
    this.live = false;
    this.el.out.value = "";
    this.el.incoming.textContent = "";
    this.el.problem.textContent = "";
    this.#edited();
    this.update();
  }

  /** @param {boolean} live whether a session with a control channel is up */
  setLive(live) {
    this.live = live;
    this.update();
  }

  /** Show what applies now. */
  update() {
    const consent = this.hooks.consent;
    const open = this.live && this.hooks.channelOpen();
    const allowed = open && consent.allows("clipboard");
    const status = consent.status("clipboard");
    this.el.panel.hidden = !this.live;
    this.el.state.textContent = clipboardStateText(status, open);
    this.el.requestButton.hidden = !open || allowed || status === "unknown";
    this.el.requestButton.disabled = status === "asked";
    this.el.area.hidden = !allowed;
    this.el.received.hidden = !allowed || this.el.incoming.textContent === "";
  }

  /** @param {{text: string}} msg a clipboard message from the customer */
  receive(msg) {
    if (!this.hooks.consent.allows("clipboard")) {
      this.hooks.log(t("log.clipboard.not_allowed"), "error");
      return;
    }
    this.el.incoming.textContent = msg.text;
    this.hooks.log(t("log.clipboard.received", { count: String(charCount(msg.text)) }));
    this.update();
    // the session column may have scrolled it out of sight: bring what arrived into view
    this.el.received.scrollIntoView?.({ block: "nearest" });
  }

  #edited() {
    const text = this.el.out.value;
    this.el.counter.textContent = counterText(text);
    const over = charCount(text) > MAX_CLIPBOARD_CHARS;
    this.el.counter.classList.toggle("over", over);
    this.el.problem.textContent = over ? /** @type {string} */ (clipboardProblem(text)) : "";
    this.el.problem.hidden = this.el.problem.textContent === "";
    this.el.sendButton.disabled = text === "" || over;
  }

  #request() {
    if (!this.hooks.sendControl({ type: "consent_request", capability: "clipboard" })) {
      this.hooks.log(t("log.clipboard.ask_closed"), "error");
      return;
    }
    this.hooks.consent.ask("clipboard");
    this.hooks.log(t("log.consent.asked_clipboard"));
    this.update();
  }

  #send() {
    const text = this.el.out.value;
    const problem = clipboardProblem(text);
    this.el.problem.textContent = problem ?? "";
    this.el.problem.hidden = problem === null;
    if (problem !== null) return;
    if (!this.hooks.consent.allows("clipboard")) return;
    if (!this.hooks.sendControl({ type: "clipboard", text })) {
      this.hooks.log(t("log.clipboard.send_closed"), "error");
      return;
    }
    this.hooks.log(t("log.clipboard.sent", { count: String(charCount(text)) }));
    this.el.problem.textContent = "";
  }

  async #copy() {
    const text = this.el.incoming.textContent ?? "";
    if (window.isSecureContext && navigator.clipboard?.writeText) {
      try {
        await navigator.clipboard.writeText(text);
        this.hooks.log(t("log.clipboard.copied"));
        return;
      } catch (err) {
        this.hooks.log(t("log.clipboard.refused", { error: String(/** @type {Error} */ (err).message) }), "error");
      }
    }
    const selection = window.getSelection();
    const range = document.createRange();
    range.selectNodeContents(this.el.incoming);
    selection?.removeAllRanges();
    selection?.addRange(range);
    // The only way to copy on a plain-HTTP page (deprecated, still supported for user gestures).
    const copied = document.execCommand("copy");
    if (copied) this.hooks.log(t("log.clipboard.copied"));
    else this.hooks.log(t("log.clipboard.select"), "error");
  }
}

/**
 * The clipboard panel's one line of state.
 * @param {import("./consent.js").Status} status
 * @param {boolean} open whether the control channel is open
 */
export function clipboardStateText(status, open) {
  if (!open) return t("common.waiting_customer");
  switch (status) {
    case "granted": return t("clipboard.state.granted");
    case "asked": return t("clipboard.state.asked");
    case "denied": return t("clipboard.state.denied");
    case "revoked": return t("clipboard.state.revoked");
    case "released": return t("clipboard.state.released");
    case "unknown": return t("common.waiting_customer");
    case "off": return t("clipboard.state.off");
  }
}

/** The `clipboard` capability's panel: `clipboard{text}` from the peer, in both modes. */
export const CLIPBOARD_PANEL = definePanel({
  capability: "clipboard",
  receives: { control: ["clipboard"] },
  create: (hooks) => {
    const clipboard = new ClipboardPanel(
      { panel: byId("clipboard-panel"), state: byId("clipboard-state"),
        requestButton: byId("request-clipboard-button"), area: byId("clipboard-area"),
        out: byId("clipboard-out"), counter: byId("clipboard-counter"), problem: byId("clipboard-problem"),
        sendButton: byId("send-clipboard-button"), received: byId("clipboard-received"),
        incoming: byId("clipboard-in"), copyButton: byId("copy-clipboard-button") },
      { sendControl: (msg) => hooks.send("control", msg), channelOpen: () => hooks.isOpen("control"),
        consent: hooks.consent, log: hooks.log },
    );
    return {
      reset: () => clipboard.reset(),
      update: (now) => {
        clipboard.live = now.offered;
        clipboard.update();
      },
      receive: (_label, msg) => clipboard.receive({ text: msg.text }),
    };
  },
});
