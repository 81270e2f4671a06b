// @ts-check
/**
 * Showing the customer the operator's own screen ("show_screen") or camera ("show_camera").
 *
 * The operator picks what to show first ("Show my screen…": the browser's own picker, which
 * needs the click), then the customer is asked; allowed, the peer offers a receiving m-line
 * for it and names it in the offer (`show_screen_mid`), and the answer sends this track on it
 * (`rtc.js`, through the `video` port). The customer sees it in a window of their own; closing
 * that window takes the capability back, which stops the capture here at once. "Stop showing"
 * (or the browser's own "Stop sharing") hands the capability back.
 *
 * `showStateText` is pure (node tests it); `ShowPanel` is the DOM around it, and
 * `SHOW_SCREEN_PANEL` / `SHOW_CAMERA_PANEL` register it for both capabilities (`panels.js`).
 */

import { onLanguageChange, t } from "./i18n.js";
import { definePanel } from "./panels.js";
import { byId } from "./ui.js";

/**
 * @typedef {import("./consent.js").Status} Status
 * @typedef {"idle" | "picking" | "failed"} Phase
 *   picking: the browser's picker (or camera permission) is open; failed: it gave nothing
 * @typedef {{
 *   panel: HTMLElement,
 *   state: HTMLElement,
 *   start: HTMLButtonElement,
 *   stop: HTMLButtonElement,
 *   preview: HTMLVideoElement,
 * }} ShowElements
 * @typedef {{
 *   sendControl: (msg: {type: string, [field: string]: any}) => boolean,
 *   consent: import("./consent.js").ConsentTracker,
 *   link: () => import("./rtc.js").PeerLink | null,
 *   log: (line: string, level?: "info" | "error") => void,
 * }} ShowHooks
 */

/**
 * What the panel says, for the operator's screen or camera.
 * @param {"show_screen" | "show_camera"} capability
 * @param {Status} status the customer's consent as the console follows it
 * @param {Phase} phase
 * @param {boolean} open whether the control channel is open
 */
export function showStateText(capability, status, phase, open) {
  const screen = capability === "show_screen";
  if (!open) return t("common.waiting_customer");
  if (phase === "picking") return screen ? t("show_screen.state.picking") : t("show_camera.state.picking");
  switch (status) {
    case "asked": return screen ? t("show_screen.state.asked") : t("show_camera.state.asked");
    case "granted": return screen ? t("show_screen.state.granted") : t("show_camera.state.granted");
    case "denied": return screen ? t("show_screen.state.denied") : t("show_camera.state.denied");
    case "revoked": return screen ? t("show_screen.state.revoked") : t("show_camera.state.revoked");
    case "released": return screen ? t("show_screen.state.released") : t("show_camera.state.released");
    default: return screen ? t("show_screen.state.off") : t("show_camera.state.off");
  }
}

/**
 * Why the browser gave no picture, in words for the operator.
 * @param {"show_screen" | "show_camera"} capability
 * @param {unknown} err what getDisplayMedia / getUserMedia threw, or "insecure": a plain-HTTP
 *   page, where the browser offers neither
 */
export function captureProblem(capability, err) {
  if (err === "insecure") return t("show.problem.insecure");
  const name = /** @type {{name?: string}} */ (err)?.name ?? "";
  if (capability === "show_camera") {
    if (name === "NotAllowedError") return t("show_camera.problem.refused");
    if (name === "NotFoundError" || name === "OverconstrainedError") return t("show_camera.problem.none");
    if (name === "NotReadableError") return t("show_camera.problem.busy");
    return t("show_camera.problem.other", { error: String(/** @type {Error} */ (err)?.message ?? err) });
  }
  if (name === "NotAllowedError") return t("show_screen.problem.refused");
  return t("show_screen.problem.other", { error: String(/** @type {Error} */ (err)?.message ?? err) });
}

export class ShowPanel {
  /**
   * @param {"show_screen" | "show_camera"} capability
   * @param {ShowElements} el
   * @param {ShowHooks} hooks
   */
  constructor(capability, el, hooks) {
    this.capability = capability;
    this.el = el;
    this.hooks = hooks;
    this.live = false;
    this.open = false;
    /** @type {Phase} */
    this.phase = "idle";
    /** Why the browser gave no picture (phase "failed"), in words. */
    this.problem = "";
    /** What is shown (or picked, waiting for the customer). @type {MediaStream | null} */
    this.stream = null;
    el.start.addEventListener("click", () => void this.#start());
    el.stop.addEventListener("click", () => this.#stop(true));
    onLanguageChange(() => this.update());
    this.reset();
  }

  /** The track to send, while the customer allows it (the `video` port). */
  get track() {
    if (!this.hooks.consent.allows(this.capability)) return null;
    return this.stream?.getVideoTracks()[0] ?? null;
  }

  reset() {
    this.#drop();
    this.live = false;
    this.phase = "idle";
    this.problem = "";
    this.update();
  }

  update() {
    const consent = this.hooks.consent;
    const status = consent.status(this.capability);
    const usable = this.live && this.open;
    // the customer said no or closed their window, or the session is over: stop capturing
    // (a connection being replaced is not that: consent is "unknown" until the peer says)
    if (this.stream && (!this.live || ["off", "denied", "revoked", "released"].includes(status))) {
      this.#drop();
      this.hooks.link()?.refreshLocalVideo();
    }
    const sending = status === "granted" && this.stream !== null;
    this.el.panel.hidden = !this.live;
    this.el.state.textContent = this.phase === "failed" ? this.problem : showStateText(this.capability, status, this.phase, usable);
    this.el.start.hidden = !usable || sending || status === "unknown";
    this.el.start.disabled = this.phase === "picking" || status === "asked";
    this.el.stop.hidden = !usable || (!sending && status !== "asked");
    this.el.preview.hidden = !this.stream;
  }

  async #start() {
    const screen = this.capability === "show_screen";
    this.phase = "picking";
    this.update();
    /** @type {MediaStream} */
    let stream;
    try {
      if (!navigator.mediaDevices) return this.#failed("insecure"); // a plain-HTTP page
      stream = screen
        ? await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 30 } }, audio: false })
        : await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    } catch (err) {
      return this.#failed(err);
    }
    this.phase = "idle";
    if (!this.live || !this.open) {
      for (const track of stream.getTracks()) track.stop();
      this.update();
      return;
    }
    const track = stream.getVideoTracks()[0];
    // text stays sharp: the browser lowers the frame rate before the resolution
    if (screen) track.contentHint = "detail";
    track.addEventListener("ended", () => {
      if (this.stream === stream) this.#stop(true); // the browser's own "Stop sharing"
    });
    this.stream = stream;
    this.el.preview.srcObject = stream;
    if (this.hooks.consent.allows(this.capability)) {
      await this.hooks.link()?.refreshLocalVideo();
    } else if (this.hooks.sendControl({ type: "consent_request", capability: this.capability })) {
      this.hooks.consent.ask(this.capability);
      this.hooks.log(screen ? t("log.show_screen.asked") : t("log.show_camera.asked"));
    } else {
      this.#drop();
      this.hooks.log(t("log.show.closed"), "error");
    }
    this.update();
  }

  /**
   * The browser gave no picture: say why, in the panel and the log.
   * @param {unknown} err
   */
  #failed(err) {
    this.phase = "failed";
    this.problem = captureProblem(this.capability, err);
    this.hooks.log(this.problem, "error");
    this.update();
  }

  /**
   * Stop showing: the capture ends, and the capability goes back to the customer.
   * @param {boolean} release whether to hand it back (false: the customer already took it back)
   */
  #stop(release) {
    const consent = this.hooks.consent;
    const status = consent.status(this.capability);
    this.#drop();
    if (release && (status === "granted" || status === "asked")) {
      consent.release(this.capability);
      if (!this.hooks.sendControl({ type: "release", capability: this.capability })) {
        this.hooks.log(t("log.show.closed"), "error");
      }
    }
    void this.hooks.link()?.refreshLocalVideo();
    this.update();
  }

  #drop() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.el.preview.srcObject = null;
  }
}

/**
 * @param {"show_screen" | "show_camera"} capability
 * @param {string} prefix the ids' prefix in index.html
 */
function showPanelSpec(capability, prefix) {
  return definePanel({
    capability,
    create: (hooks) => {
      const panel = new ShowPanel(
        capability,
        { panel: byId(`${prefix}-panel`), state: byId(`${prefix}-state`),
          start: /** @type {HTMLButtonElement} */ (byId(`${prefix}-start`)),
          stop: /** @type {HTMLButtonElement} */ (byId(`${prefix}-stop`)),
          preview: /** @type {HTMLVideoElement} */ (byId(`${prefix}-preview`)) },
        { sendControl: (msg) => hooks.send("control", msg), consent: hooks.consent, link: hooks.link, log: hooks.log },
      );
      return {
        reset: () => panel.reset(),
        update: (now) => {
          panel.live = now.offered;
          panel.open = now.isOpen("control");
          panel.update();
        },
        video: { local: () => panel.track },
      };
    },
  });
}

export const SHOW_SCREEN_PANEL = showPanelSpec("show_screen", "show-screen");
export const SHOW_CAMERA_PANEL = showPanelSpec("show_camera", "show-camera");
