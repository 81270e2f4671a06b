// @ts-check
/**
 * Everything the console does over the `control` data channel, once a session is paired:
 * consent (the "Customer allows" panel, asking again for the screen view), remote control
 * (`control.js`), monitors and the one-application limit (`view.js`) and the clipboard
 * (`clipboard.js`). One `ConsentTracker` (`consent.js`) follows what the customer allows for
 * all of them; `handle(msg)` has one small case per control message.
 *
 * The peer's `capabilities` say what it carries out in this session; only those are offered
 * (`hooks.offers`, from the session reducer): a call has no "Request control". A capability
 * this console does not know is shown by its name and otherwise left alone.
 *
 *   const channel = new ControlChannel({link: () => state.link, log, onviewchange: updateVideo});
 *   channel.start("screen");      // paired
 *   channel.handle(msg);          // PeerLink's oncontrol
 *   channel.update();             // a data channel opened or closed
 *   channel.reset();              // the session is over: nothing more is sent
 */

import { ClipboardPanel } from "./clipboard.js";
import { ConsentTracker, changeText, describeGranted, nameOf, stateLogLine } from "./consent.js";
import { CAPABILITY_BY_NAME } from "./protocol.js";
import { RemoteControl } from "./control.js";
import { byId, setText, show } from "./ui.js";
import { ViewPanel } from "./view.js";

/**
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {{
 *   link: () => import("./rtc.js").PeerLink | null,
 *   log: (line: string, level?: "info" | "error") => void,
 *   onviewchange: () => void,
 *   offers: (capability: string) => boolean,
 *   onsession: (event: import("./session.js").SessionEvent) => void,
 * }} ChannelHooks
 */

/** @template {HTMLElement} T @param {string} id @returns {T} */
const by = (id) => byId(id);

export class ControlChannel {
  /** @param {ChannelHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.consent = new ConsentTracker();
    /** The session's mode while one is live, else null. @type {string | null} */
    this.mode = null;
    this.el = {
      panel: by("consent-panel"),
      consent: by("consent"),
      denied: by("consent-denied"),
      requestView: /** @type {HTMLButtonElement} */ (by("request-view-button")),
    };
    const log = hooks.log;
    const sendControl = (/** @type {{type: string, [f: string]: any}} */ msg) => this.send(msg);
    const channelOpen = () => this.open();
    this.views = new ViewPanel(
      { tools: by("view-tools"), viewState: by("view-state"), note: by("view-note"),
        monitor: by("monitor"), limitButton: by("limit-button") },
      { sendControl, viewAllowed: () => this.consent.allows("view"), log },
    );
    this.control = new RemoteControl(
      { panel: by("control-panel"), state: by("control-state"), hint: by("control-hint"),
        requestButton: by("request-control-button"), handBackButton: by("hand-back-button"),
        captureBar: by("capture-bar"), keyboardCapture: by("keyboard-capture"),
        releaseKeyboardButton: by("release-keyboard-button"),
        videoWrap: by("video-wrap"), video: by("remote-video") },
      { sendControl, sendInput: (msg) => hooks.link()?.sendInput(msg) ?? false, channelOpen,
        consent: this.consent, log },
    );
    this.clipboard = new ClipboardPanel(
      { panel: by("clipboard-panel"), state: by("clipboard-state"),
        requestButton: by("request-clipboard-button"), area: by("clipboard-area"),
        out: by("clipboard-out"), counter: by("clipboard-counter"), problem: by("clipboard-problem"),
        sendButton: by("send-clipboard-button"), received: by("clipboard-received"),
        incoming: by("clipboard-in"), copyButton: by("copy-clipboard-button") },
      { sendControl, channelOpen, consent: this.consent, log },
    );
    this.el.requestView.addEventListener("click", () => this.requestView());
  }

  /** Whether the control channel is open. */
  open() {
    return this.hooks.link()?.control?.readyState === "open";
  }

  /**
   * Send a control message.
   * @param {{type: string, [field: string]: any}} msg
   * @returns {boolean} false when the control channel is not open
   */
  send(msg) {
    return this.hooks.link()?.sendControl(msg) ?? false;
  }

  /**
   * Paired: a fresh session of `mode` ("screen" or "call").
   * @param {string} mode
   */
  start(mode) {
    this.reset();
    this.mode = mode;
    show(this.el.panel, true);
    setText(this.el.consent, "Waiting for the customer's answer…");
    show(this.el.denied, false);
    show(this.el.requestView, false);
    this.update();
  }

  /** The session is over (or never began): nothing allowed, nothing sent, nothing shown. */
  reset() {
    this.mode = null;
    this.consent.reset(); // first: nothing more goes out on the input channel
    this.control.reset();
    this.clipboard.reset();
    this.views.reset();
    show(this.el.panel, false);
  }

  /** @param {Message} msg a CONTROL message from the customer's peer */
  handle(msg) {
    switch (msg.type) {
      case "consent_state": return this.#onState(msg);
      case "consent_reply": return this.#onReply(msg);
      case "view_state":
        this.views.show(/** @type {import("./view.js").ViewState} */ (/** @type {unknown} */ (msg)));
        return;
      case "clipboard":
        this.clipboard.receive({ text: msg.text });
        return;
      case "capabilities": return this.#onCapabilities(msg);
      default:
        this.hooks.log(`control message ${msg.type} not handled by this console`);
    }
  }

  /** @param {Message} msg */
  #onCapabilities(msg) {
    /** @type {string[]} */
    const supported = msg.supported;
    const unknown = supported.filter((c) => !CAPABILITY_BY_NAME.has(c));
    this.hooks.log(`the customer's peer supports ${describeGranted(supported)}` +
      (unknown.length ? ` (not known to this console: ${unknown.join(", ")})` : ""));
    this.hooks.onsession({ type: "capabilities", supported });
    this.update();
  }

  /** @param {Message} msg */
  #onState(msg) {
    this.hooks.onsession({ type: "consent_state", granted: msg.granted });
    const update = this.consent.state(msg.granted);
    const line = stateLogLine(msg.granted, update);
    if (line) this.hooks.log(line);
    for (const change of update.changes) {
      if (change.change === "revoked" || change.change === "released") this.hooks.log(`consent: ${changeText(change)}`);
    }
    if (msg.granted.includes("view")) show(this.el.denied, false);
    this.update();
  }

  /** @param {Message} msg */
  #onReply(msg) {
    this.hooks.log(`consent: the customer ${msg.allowed ? "allowed" : "denied"} ${nameOf(msg.capability)}`);
    this.consent.reply({ capability: msg.capability, allowed: msg.allowed });
    if (msg.capability === "view" && !msg.allowed) show(this.el.denied, true);
    this.update();
  }

  /** Show what applies now (after consent changes and when a data channel opens or closes). */
  update() {
    const granted = this.consent.granted;
    if (granted) {
      const words = describeGranted(granted);
      setText(this.el.consent, words.charAt(0).toUpperCase() + words.slice(1));
    }
    const viewAllowed = granted?.includes("view") ?? false;
    const offers = (/** @type {string} */ capability) => this.mode !== null && this.hooks.offers(capability);
    show(this.el.requestView, this.open() && granted !== null && !viewAllowed && offers("view"));
    this.control.live = this.mode === "screen" && offers("control");
    this.clipboard.live = offers("clipboard");
    this.hooks.onviewchange();
    this.control.update();
    this.views.update();
    this.clipboard.update();
  }

  requestView() {
    if (!this.send({ type: "consent_request", capability: "view" })) {
      this.hooks.log("could not ask for screen viewing: the control channel is not open", "error");
      return;
    }
    this.consent.ask("view");
    show(this.el.denied, false);
    setText(this.el.consent, `${this.el.consent.textContent} (screen view requested…)`);
    this.hooks.log("consent: asked the customer for screen viewing");
  }
}
