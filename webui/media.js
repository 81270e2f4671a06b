// @ts-check
/**
 * The stage: the customer's picture, the placeholder over a blank picture, the quality strip
 * and full screen. (The customer's sound is the voice panel's: `voiceview.js`.) What to show comes from `controller.js` (the placeholder's
 * words from `session.js`'s `picture`).
 *
 *   const media = new MediaView(log);
 *   media.track(track, () => link === current, (kind) => ...);   // a video track from the peer
 *   media.picture({visible: true, words: "No picture"});
 *   media.quality(q);                                             // once a second; null clears
 */

import { msg, routeMsg, t } from "./i18n.js";
import { qualityText } from "./stats.js";
import { byId, say, setText } from "./ui.js";

/**
 * @typedef {import("./stats.js").Quality} Quality
 * @typedef {(line: string, level?: "info" | "error") => void} Log
 */

export class MediaView {
  /** @param {Log} log */
  constructor(log) {
    this.log = log;
    /** What to do when a track on the page goes. @type {WeakMap<MediaStreamTrack, () => void>} */
    this.gone = new WeakMap();
    this.el = {
      videoWrap: byId("video-wrap"),
      video: /** @type {HTMLVideoElement} */ (byId("remote-video")),
      videoPlaceholder: byId("video-placeholder"),
      fullscreenButton: /** @type {HTMLButtonElement} */ (byId("fullscreen-button")),
      qFps: byId("q-fps"),
      qKbps: byId("q-kbps"),
      qRtt: byId("q-rtt"),
      qRoute: byId("q-route"),
    };
    const el = this.el;
    el.fullscreenButton.addEventListener("click", () => this.toggleFullscreen());
    document.addEventListener("fullscreenchange", () => {
      say(el.fullscreenButton, document.fullscreenElement ? msg("media.exit_fullscreen") : msg("media.fullscreen"));
    });
    let pictureSize = "";
    el.video.addEventListener("resize", () => {
      const size = `${el.video.videoWidth}×${el.video.videoHeight}`;
      if (el.video.videoWidth && size !== pictureSize) log(t("log.media.picture_size", { size }));
      pictureSize = size;
    });
  }

  /**
   * A video track from the peer: at the start, or added later by a new offer (renegotiation).
   * It gets a stream of its own, so sound coming or going never touches the picture.
   * @param {MediaStreamTrack} track
   * @param {() => boolean} current whether the session it came with is still the current one
   * @param {(kind: string) => void} ongone the track on the page ended and was taken off it
   */
  track(track, current, ongone) {
    const el = this.el;
    if (track.kind !== "video") return;
    el.video.srcObject = new MediaStream([track]);
    // A transceiver the peer turned off (direction inactive) mutes or ends its track.
    track.addEventListener("mute", () => {
      if (current()) this.log(t("log.media.track_paused", { kind: track.kind }));
    });
    track.addEventListener("unmute", () => {
      if (current()) this.log(t("log.media.track_resumed", { kind: track.kind }));
    });
    const gone = () => {
      if (!current()) return;
      this.log(t("log.media.track_ended", { kind: track.kind }));
      const shown = el.video.srcObject instanceof MediaStream ? el.video.srcObject.getTracks()[0] : null;
      if (shown === track) {
        el.video.srcObject = null;
        ongone(track.kind);
      }
    };
    this.gone.set(track, gone);
    track.addEventListener("ended", gone);
  }

  /**
   * The peer stopped sending `track` for good (a later offer made its transceiver inactive):
   * take it off the page as if it had ended.
   * @param {MediaStreamTrack} track
   */
  stopped(track) {
    const gone = this.gone.get(track);
    this.gone.delete(track);
    gone?.();
  }

  /** No picture. */
  clear() {
    this.el.video.srcObject = null;
  }

  /**
   * Show the picture, or blank it with these words over it.
   * @param {{visible: boolean, words: string}} picture
   */
  picture({ visible, words }) {
    this.el.videoWrap.classList.toggle("blanked", !visible);
    setText(this.el.videoPlaceholder, words);
  }

  /** @param {Quality | null} q the latest sample; null clears the strip */
  quality(q) {
    const el = this.el;
    setText(el.qFps, q?.fps != null ? String(q.fps) : "–");
    setText(el.qKbps, q?.kbps != null ? String(q.kbps) : "–");
    setText(el.qRtt, q?.rttMs != null ? String(q.rttMs) : "–");
    say(el.qRoute, q?.route ? routeMsg(q.route) : "–");
    el.qRoute.dataset.route = q?.route ?? "";
    if (q) el.videoWrap.title = qualityText(q);
  }

  toggleFullscreen() {
    if (document.fullscreenElement) void document.exitFullscreen();
    else this.el.videoWrap.requestFullscreen().catch((err) => this.log(t("log.media.fullscreen_refused", { error: String(err.message) }), "error"));
  }
}

/**
 * Whether the connection runs direct or through the relay, once the browser's stats know its
 * selected candidate pair (they may not at the very moment it connects); null if they never do.
 * @param {import("./rtc.js").PeerLink} link
 * @returns {Promise<string | null>}
 */
export async function connectedRoute(link) {
  for (let tries = 0; tries < 10; tries++) {
    const quality = await link.sampleStats();
    if (quality?.route) return quality.route;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return null;
}
