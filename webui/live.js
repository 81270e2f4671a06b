// @ts-check
/**
 * Everything of a paired session on the operator's side: the peer connection (`rtc.js`), what
 * the customer allows (`consentview.js`), the capability panels (`panels.js`, listed in
 * `features.js`) and the stage (`media.js`, and `callview.js` in a voice-only call). Each
 * message on a data channel goes to consent or to the one panel that handles its type; after
 * every change of capabilities, consent or a channel, `refresh` shows what applies. The session
 * value and its phase stay the host's (`controller.js`).
 *
 * Tracks: the picture goes to the stage; the customer's sound to the panel whose capability
 * carries audio (voice), through its `AudioPort` — which also says, before every answer, what
 * the operator sends back (`PeerLink.localAudio`), on every connection of the session.
 *
 * After a network drop (`reconnect.js` decides, `controller.js` says) the connection is held
 * (`suspend`: nothing sent on it, input and the keyboard released, the view kept) until it is
 * back (`restore`) or replaced by a fresh one (`relink`): the same certificate, new data
 * channels, and what the customer allows, what is shared and so on learnt anew from the peer.
 *
 *   const live = new LiveSession(host, log);
 *   live.connect(paired);    // a peer connection to the customer, every panel started
 *   live.suspend();          // the connection is presumed lost: nothing more is sent on it
 *   live.relink(servers);    // a fresh connection replaces it (the peer's `offer` with `fresh`)
 *   live.clear();            // the session is over: nothing more is sent
 *   live.forget();           // a new session, or log out: nothing kept (the chat neither)
 */

import { CallView } from "./callview.js";
import { ConsentPanel } from "./consentview.js";
import { PANELS } from "./features.js";
import { msg, onLanguageChange, routeMsg, t } from "./i18n.js";
import { MediaView, connectedRoute } from "./media.js";
import { Panels } from "./panels.js";
import { PeerLink, sessionCertificate } from "./rtc.js";
import { CAMERA_STREAM } from "./protocol.js";
import { offers, picture } from "./session.js";

/**
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {import("./session.js").SessionEvent} SessionEvent
 * @typedef {(line: string, level?: "info" | "error") => void} Log
 * @typedef {{
 *   readonly session: import("./session.js").SessionState,
 *   dispatch: (event: SessionEvent) => void,
 *   setPhase: (event: SessionEvent, words: import("./i18n.js").Msg) => void,
 *   send: (msg: Message) => boolean,
 *   view: import("./sessionview.js").SessionView,
 *   linkState: (state: RTCPeerConnectionState) => boolean,
 *   verified: (code: string) => void,
 * }} LiveHost
 *   the session controller: the session value, the signaling socket and the session card;
 *   linkState: the connection's state, true when a reconnect owns the status line;
 *   verified: the verification code of a connection, once computed
 * @typedef {import("./rtc.js").WireIceServer} WireIceServer
 */

export class LiveSession {
  /**
   * @param {LiveHost} host
   * @param {Log} log
   */
  constructor(host, log) {
    this.host = host;
    this.log = log;
    /** @type {PeerLink | null} */
    this.link = null;
    /** The session's ICE servers include a TURN relay. */
    this.turn = false;
    /** One per session, for every connection of it (`sessionCertificate`). @type {Promise<RTCCertificate | null> | null} */
    this.certificate = null;
    /** The connection is presumed lost: the panels see its channels closed (`suspend`). */
    this.suspended = false;
    this.media = new MediaView(log);
    this.consent = new ConsentPanel({
      log,
      send: (msg) => this.link?.sendControl(msg) ?? false,
      isOpen: () => !this.suspended && (this.link?.isOpen("control") ?? false),
      onsession: (event) => host.dispatch(event),
      onchange: () => this.refresh(),
    });
    this.panels = new Panels(PANELS, {
      log,
      link: () => this.link,
      send: (label, msg) => this.link?.send(label, msg) ?? false,
      isOpen: (label) => !this.suspended && (this.link?.isOpen(label) ?? false),
      consent: this.consent.consent,
    });
    /** The stage in a voice-only call. */
    this.call = new CallView({ requestView: () => this.consent.requestView() });
    this.updatePicture();
    /** The route #status names ("direct", "relay"), once connected. @type {string | null} */
    this.route = null;
    onLanguageChange(() => this.refresh()); // words that follow from state: shown again
  }

  /** Show what applies now: after consent or capabilities change, and when a data channel opens or closes. */
  refresh() {
    const session = this.host.session;
    this.consent.update((capability) => offers(session, capability), session.mode);
    this.updatePicture();
    this.panels.update(session);
  }

  /**
   * Show the picture only while the customer allows viewing (blank otherwise, saying why); in a
   * call, the call view takes the stage while there is no picture.
   */
  updatePicture() {
    const session = this.host.session;
    const view = this.consent.consent.status("view");
    const shown = picture(session, this.link !== null, view);
    this.media.picture(shown);
    this.call.update({
      mode: this.link !== null ? session.mode : null,
      visible: shown.visible,
      view,
      viewOffered: offers(session, "view"),
      open: !this.suspended && (this.link?.isOpen("control") ?? false),
      voiceOffered: offers(session, "voice"),
      known: session.supported !== null || session.granted !== null,
    });
  }

  /** Paired, before the phase changes: nothing of an earlier session is shown. */
  reset() {
    this.route = null;
    this.consent.reset();
    this.panels.reset();
    this.updatePicture();
  }

  /**
   * Paired: connect to the customer's peer and start every panel.
   * @param {Message} msg the `paired` message
   */
  connect(msg) {
    this.link?.close();
    this.certificate = sessionCertificate(this.log); // before the first connection of the session
    this.suspended = false;
    this.link = this.#newLink(msg.ice_servers);
    this.consent.start(msg.mode);
    const startedAt = new Date();
    this.panels.start({
      mode: msg.mode, operator: msg.operator, user: msg.user, host: msg.host, startedAt, sessionId: msg.session_id,
    });
    this.call.start({ mode: msg.mode, operator: msg.operator, user: msg.user, host: msg.host, startedAt });
    this.refresh();
  }

  /**
   * A connection to the customer's peer with the session's certificate; what it reports counts
   * only while it is the current one.
   * @param {readonly WireIceServer[]} iceServers
   */
  #newLink(iceServers) {
    this.turn = iceServers.some((server) => server.urls.some((url) => url.startsWith("turn")));
    const current = () => this.link === link;
    const link = new PeerLink(iceServers, {
      send: (m) => void this.host.send(m),
      onlog: this.log,
      ontrack: (event) => current() && this.onTrack(event),
      ontrackstopped: (track) => current() && this.onTrackStopped(track),
      onmessage: (label, m) => current() && this.receive(label, m),
      onbinary: (label, data) => current() && !this.suspended && this.panels.routeBinary(label, data),
      onchannelchange: () => current() && this.refresh(),
      onstate: (state) => this.onConnectionState(link, state),
      onquality: (q) => current() && this.showQuality(q),
      onverification: (code) => current() && this.host.verified(code),
    }, this.certificate);
    // what the operator sends back on audio transceivers: the voice panel's say, on every connection
    link.localAudio = () => this.panels.audio()?.local() ?? null;
    // what the operator shows the customer (their screen, their camera): the panels' say
    link.localVideo = () => this.panels.videoOut();
    return link;
  }

  /**
   * The connection is presumed lost: input stops (keys held down are let go first, while that
   * may still arrive), nothing more is sent on it; the picture and the panels stay.
   */
  suspend() {
    if (this.suspended) return;
    this.suspended = true;
    this.refresh(); // the panels see closed channels: control lets go (release_all) and frees the keyboard
    this.link?.hold(); // then nothing more goes out on it
  }

  /** The connection is back (the same one, or a fresh one that replaced it). */
  restore() {
    this.suspended = false;
    this.link?.release();
    this.refresh();
  }

  /**
   * A fresh connection replaces the lost one (the peer's `offer` with `fresh`): the old one is
   * closed, and what came on it (consent, what is shared, the picture) is learnt anew from the
   * peer on the new channels. The chat and clipboard keep what they show.
   * @param {readonly WireIceServer[]} iceServers
   */
  relink(iceServers) {
    const old = this.link;
    this.link = null;
    old?.close();
    this.route = null;
    this.media.clear();
    this.showQuality(null);
    this.consent.relink();
    this.host.dispatch({ type: "relink" });
    this.panels.relink();
    this.link = this.#newLink(iceServers);
    this.suspended = false; // the new channels speak for themselves
    this.refresh();
  }

  /**
   * A data-channel message from the peer: to consent, or to the panel that handles its type.
   * @param {string} label
   * @param {Message} msg
   */
  receive(label, msg) {
    if (this.consent.receive(label, msg) || this.panels.route(label, msg)) return;
    this.log(t("log.session.unhandled", { label, type: msg.type }));
  }

  /**
   * A track from the peer: at the start, or added later by a new offer (renegotiation).
   * @param {RTCTrackEvent} event
   */
  onTrack(event) {
    const track = event.track;
    const link = this.link;
    const current = () => this.link === link;
    // the customer's camera is not their screen: it goes to the camera panel, not the stage
    if (event.streams?.[0]?.id === CAMERA_STREAM) {
      const camera = this.panels.camera();
      if (camera) camera.remote(track, current);
      else this.log(t("log.session.unhandled_track", { kind: track.kind }));
      return;
    }
    this.host.dispatch({ type: "track", kind: track.kind });
    if (track.kind === "audio") {
      const audio = this.panels.audio();
      if (audio) audio.remote(track, current);
      else this.log(t("log.session.unhandled_track", { kind: track.kind }));
      return;
    }
    this.media.track(track, current, (kind) => {
      this.host.dispatch({ type: "track_ended", kind });
      this.updatePicture();
    });
    this.updatePicture();
  }

  /**
   * The peer stopped sending a track (a later offer turned its transceiver off).
   * @param {MediaStreamTrack} track
   */
  onTrackStopped(track) {
    if (track.kind === "audio") this.panels.audio()?.stopped(track);
    else if (!this.panels.camera()?.stopped(track)) this.media.stopped(track);
  }

  /**
   * @param {PeerLink} link
   * @param {RTCPeerConnectionState} connection
   */
  onConnectionState(link, connection) {
    const host = this.host;
    if (this.link !== link) return;
    if (host.linkState(connection)) return; // a reconnect says where things stand
    if (connection === "connected") {
      void connectedRoute(link).then((route) => {
        if (this.link !== link || link.held) return; // replaced, or lost again meanwhile
        this.route = route;
        host.setPhase({ type: "connected" }, route ? msg("status.connected_route", { route: routeMsg(route) }) : msg("status.connected"));
        if (link.verification) {
          host.view.verification(link.verification);
          this.log(t("log.session.verification", { code: link.verification }));
        }
      });
    } else if (connection === "failed") {
      host.setPhase({ type: "failed" }, msg("status.failed"));
      host.view.detail(this.turn ? msg("status.no_path_turn") : msg("status.no_path"), "error");
    } else if (connection === "disconnected" && host.session.phase === "connected") {
      host.view.detail(msg("status.interrupted"), "error");
    }
  }

  /** @param {import("./stats.js").Quality | null} q */
  showQuality(q) {
    this.media.quality(q);
    this.call.quality(q);
    if (q?.route && this.host.session.phase === "connected" && q.route !== this.route) {
      this.route = q.route;
      this.log(t("log.session.route", { route: routeMsg(q.route), local: String(q.localType), remote: String(q.remoteType) }));
      this.host.view.status = msg("status.connected_route", { route: routeMsg(q.route) });
    }
  }

  /** The session is over: stop sending, close the connection, take the picture and sound off the page. */
  clear() {
    this.consent.reset(); // first: nothing more goes out on the input channel
    this.panels.end(); // before the link closes: nothing more is sent on it; the chat keeps its transcript
    this.link?.close();
    this.link = null;
    this.certificate = null;
    this.suspended = false;
    this.media.clear();
    this.call.end();
    this.host.dispatch({ type: "track_ended", kind: "video" });
    this.updatePicture();
    this.showQuality(null);
  }

  /** A new session is being made, or the operator logs out: nothing of the last one kept. */
  forget() {
    this.consent.reset();
    this.panels.reset();
    this.call.reset();
    this.showQuality(null);
  }
}
