// @ts-check
/**
 * The customer's camera ("camera"): to see a cable, a device, a paper.
 *
 * "Ask to see the camera" asks the customer; allowed, the peer opens the camera they pick and
 * adds its track by a new offer, in a stream of its own (`CAMERA_STREAM`), which `live.js`
 * hands to this panel (the `camera` port) instead of the stage. The picture shows beside the
 * customer's screen (below it; alone in a call). `camera_state` says how the camera is: none
 * there, in use by another program, unplugged. "Stop the camera" hands the capability back:
 * the customer's peer releases the device at once.
 *
 * `cameraStateText` is pure (node tests it); `CameraPanel` is the DOM around it.
 */

import { onLanguageChange, t } from "./i18n.js";
import { definePanel } from "./panels.js";
import { byId } from "./ui.js";

/**
 * @typedef {import("./consent.js").Status} Status
 * @typedef {{state: string, name?: string | null}} CameraState
 * @typedef {{
 *   panel: HTMLElement,
 *   state: HTMLElement,
 *   request: HTMLButtonElement,
 *   stop: HTMLButtonElement,
 *   box: HTMLElement,
 *   video: HTMLVideoElement,
 *   caption: HTMLElement,
 * }} CameraElements
 * @typedef {{
 *   sendControl: (msg: {type: string, [field: string]: any}) => boolean,
 *   consent: import("./consent.js").ConsentTracker,
 *   log: (line: string, level?: "info" | "error") => void,
 * }} CameraHooks
 */

/**
 * What the panel says.
 * @param {Status} status the customer's consent as the console follows it
 * @param {CameraState | null} camera the peer's latest `camera_state` while allowed
 * @param {boolean} open whether the control channel is open
 */
export function cameraStateText(status, camera, open) {
  if (!open) return t("common.waiting_customer");
  if (status === "granted") {
    switch (camera?.state) {
      case "on": return camera.name ? t("camera.state.on_named", { name: camera.name }) : t("camera.state.on");
      case "no_camera": return t("camera.state.no_camera");
      case "busy": return t("camera.state.busy");
      case "lost": return t("camera.state.lost");
      case "failed": return t("camera.state.failed");
      default: return t("camera.state.opening");
    }
  }
  switch (status) {
    case "asked": return t("camera.state.asked");
    case "denied": return t("camera.state.denied");
    case "revoked": return t("camera.state.revoked");
    case "released": return t("camera.state.released");
    default: return t("camera.state.off");
  }
}

export class CameraPanel {
  /**
   * @param {CameraElements} el
   * @param {CameraHooks} hooks
   */
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.live = false;
    this.open = false;
    /** @type {CameraState | null} */
    this.camera = null;
    /** The camera's track from the peer. @type {MediaStreamTrack | null} */
    this.track = null;
    el.request.addEventListener("click", () => this.#request());
    el.stop.addEventListener("click", () => this.#release());
    onLanguageChange(() => this.update());
    this.reset();
  }

  reset() {
    this.live = false;
    this.camera = null;
    this.#detach();
    this.update();
  }

  /** A fresh connection: the peer says again how the camera is and sends a new track. */
  relink() {
    this.camera = null;
    this.#detach();
    this.update();
  }

  update() {
    const consent = this.hooks.consent;
    const status = consent.status("camera");
    const usable = this.live && this.open;
    const allowed = usable && consent.allows("camera");
    if (!allowed) this.camera = null;
    this.el.panel.hidden = !this.live;
    this.el.state.textContent = cameraStateText(status, this.camera, usable);
    this.el.request.hidden = !usable || allowed || status === "unknown";
    this.el.request.disabled = status === "asked";
    this.el.stop.hidden = !allowed;
    const showing = allowed && this.track !== null && this.camera?.state === "on";
    this.el.box.hidden = !showing;
    this.el.caption.textContent = showing ? this.el.state.textContent : "";
  }

  /** @param {CameraState} msg the peer's `camera_state` */
  state(msg) {
    if (!this.hooks.consent.allows("camera")) return;
    const before = this.camera?.state;
    this.camera = { state: msg.state, name: msg.name ?? null };
    if (msg.state !== before) this.hooks.log(t("log.camera.state", { state: msg.state }));
    this.update();
  }

  /**
   * The camera's track arrived (at the start of the camera, or on a fresh connection).
   * @param {MediaStreamTrack} track
   * @param {() => boolean} current whether the connection it came on is still the current one
   */
  remote(track, current) {
    this.track = track;
    this.el.video.srcObject = new MediaStream([track]);
    track.addEventListener("ended", () => {
      if (current() && this.track === track) this.#detach();
      this.update();
    });
    this.hooks.log(t("log.camera.track"));
    this.update();
  }

  /**
   * The peer stopped sending `track` (the camera was stopped).
   * @param {MediaStreamTrack} track
   * @returns {boolean} whether it was the camera's
   */
  stopped(track) {
    if (track !== this.track) return false;
    this.#detach();
    this.update();
    return true;
  }

  #detach() {
    this.track = null;
    this.el.video.srcObject = null;
  }

  #request() {
    if (!this.hooks.sendControl({ type: "consent_request", capability: "camera" })) {
      this.hooks.log(t("log.camera.closed"), "error");
      return;
    }
    this.hooks.consent.ask("camera");
    this.hooks.log(t("log.camera.asked"));
    this.update();
  }

  #release() {
    this.hooks.consent.release("camera");
    if (!this.hooks.sendControl({ type: "release", capability: "camera" })) this.hooks.log(t("log.camera.closed"), "error");
    this.update();
  }
}

export const CAMERA_PANEL = definePanel({
  capability: "camera",
  receives: { control: ["camera_state"] },
  create: (hooks) => {
    const panel = new CameraPanel(
      { panel: byId("camera-panel"), state: byId("camera-state"),
        request: /** @type {HTMLButtonElement} */ (byId("camera-request")),
        stop: /** @type {HTMLButtonElement} */ (byId("camera-stop")), box: byId("camera-box"),
        video: /** @type {HTMLVideoElement} */ (byId("camera-video")), caption: byId("camera-caption") },
      { sendControl: (msg) => hooks.send("control", msg), consent: hooks.consent, log: hooks.log },
    );
    return {
      reset: () => panel.reset(),
      relink: () => panel.relink(),
      update: (now) => {
        panel.live = now.offered;
        panel.open = now.isOpen("control");
        panel.update();
      },
      receive: (_label, msg) => panel.state(/** @type {CameraState} */ (/** @type {unknown} */ (msg))),
      camera: { remote: (track, current) => panel.remote(track, current), stopped: (track) => panel.stopped(track) },
    };
  },
});
