// @ts-check
/**
 * The console's session: the signaling socket with one small handler per message
 * (`switch (msg.type)`) and the operator's actions. The session itself (phase, mode, what the
 * peer supports, what the customer allows, whether a picture is shared) is one value changed
 * by `session.js`'s `reduce`; every change of its phase goes to the log panel. The session
 * card is `sessionview.js`'s; once paired, the connection to the customer, consent and the
 * capability panels are `live.js`'s.
 *
 *     idle -> waiting -> joined -> connecting -> connected -> ended
 *               (code)   (accept?)  (paired)     (ICE/DTLS up)
 *     connecting, connected -> reconnecting (a drop) -> connected (a fresh connection is up)
 *
 * A paired session outlives a short drop (of this socket, the customer's, or the media path):
 * `reconnect.js` decides what to do — open a new socket and `resume`, wait for the customer,
 * replace the connection by the peer's fresh one, or give up — and `reconnector.js` carries
 * that out, through this module for the socket and the end of the session.
 */

import { formatCountdown } from "./format.js";
// `msg` is called `words` here: the handlers' parameter is called msg
import { byeMsg, errorMsg, msg as words, t } from "./i18n.js";
import { LiveSession } from "./live.js";
import { BYE_REASONS } from "./protocol.js";
import { Reconnector } from "./reconnector.js";
import { INITIAL, endedMsg, reduce } from "./session.js";
import { SessionView } from "./sessionview.js";
import { Signaling, socketUrl } from "./signaling.js";

/**
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {import("./session.js").SessionEvent} SessionEvent
 * @typedef {import("./i18n.js").Msg} Msg
 * @typedef {(line: string, level?: "info" | "error") => void} Log
 */

export class SessionController {
  /**
   * Find the page's elements and wire the session card's buttons (the page must be there).
   * @param {{log: Log, onrefused: () => void, onended?: (started: boolean) => void}} hooks
   *   onrefused: the server refused the socket before the upgrade (the login may have expired);
   *   onended: a session ended (started: the customer had been let in, so the server's audit
   *   has it)
   */
  constructor({ log, onrefused, onended = () => {} }) {
    this.log = log;
    this.onrefused = onrefused;
    this.onended = onended;
    /** @type {Signaling | null} */
    this.signaling = null;
    this.welcomed = false;
    /** Send create_session as soon as the socket is welcomed. */
    this.createWhenReady = false;
    /** The mode of the session to create then ("screen", or "call" for a voice-only call). */
    this.createMode = "screen";
    /** Phase, mode, what the peer supports and the customer allows (`session.js`). */
    this.session = INITIAL;
    /** @type {string | null} */
    this.sessionId = null;
    this.view = new SessionView({
      create: (mode) => this.createSession(mode),
      cancel: () => this.cancelSession(),
      accept: () => this.accept(),
      reject: () => this.reject(),
      end: () => this.endByOperator(),
    });
    /** The connection to the customer, consent and the capability panels. */
    this.live = new LiveSession(this, log);
    /** Getting the session back after a drop. */
    this.reconnector = new Reconnector(this);
    /** The last socket was refused before the upgrade (the login may have expired). */
    this.refused = false;
  }

  /**
   * Move the session on by `event` and say where it is now.
   * @param {SessionEvent} event
   * @param {Msg} words what #status says
   */
  setPhase(event, words) {
    const before = this.session.phase;
    this.session = reduce(this.session, event);
    const phase = this.session.phase;
    if (phase !== before) this.log(t("log.session.phase", { before, phase }));
    this.view.phase(phase, words);
  }

  /**
   * Change the session by `event` without a new status line (what the peer says and sends).
   * @param {SessionEvent} event
   */
  dispatch(event) {
    this.session = reduce(this.session, event);
  }

  // ----------------------------------------------------------------------- signaling

  connect() {
    this.welcomed = false;
    const signaling = new Signaling(socketUrl("/ws/operator"));
    this.signaling = signaling;
    this.log(t("log.signaling.connecting"));
    signaling.onmessage = (msg) => {
      if (this.signaling === signaling) this.handle(msg);
    };
    signaling.onopen = () => {
      if (this.signaling === signaling) this.reconnector.on({ type: "socket_open" });
    };
    signaling.onprotocolerror = (err) => this.log(t("log.signaling.bad_frame", { code: err.code, error: err.message }), "error");
    signaling.onclose = (event) => {
      if (this.signaling !== signaling) return;
      this.signaling = null;
      this.welcomed = false;
      this.socketClosed(event);
    };
  }

  /**
   * @param {{type: string, [field: string]: any}} msg
   * @returns {boolean}
   */
  send(msg) {
    if (!this.signaling?.send(msg)) {
      this.log(t("log.signaling.not_sent", { type: String(msg.type) }), "error");
      return false;
    }
    return true;
  }

  /** @param {Message} msg */
  handle(msg) {
    switch (msg.type) {
      case "welcome": return this.onWelcome(msg);
      case "session_created": return this.onSessionCreated(msg);
      case "join_request": return this.onJoinRequest(msg);
      case "paired": return this.onPaired(msg);
      case "offer": return this.onOffer(msg);
      case "candidate": return this.onCandidate(msg);
      case "bye": return this.onBye(msg);
      case "interrupted": return this.onInterrupted(msg);
      case "resumed": return this.onResumed(msg);
      case "error": return this.onError(msg);
      default:
        this.log(t("log.signaling.unexpected", { type: String(msg.type) }), "error");
    }
  }

  /** @param {Message} msg */
  onWelcome(msg) {
    this.welcomed = true;
    this.log(t("log.signaling.signed_in", {
      as: msg.operator ? t("log.signaling.signed_in_as", { operator: String(msg.operator) }) : "",
      protocol: String(msg.protocol),
    }));
    if (this.createWhenReady) {
      this.createWhenReady = false;
      this.createSession(this.createMode);
    } else if (this.session.phase === "offline") {
      this.setPhase({ type: "ready" }, words("status.ready"));
    }
  }

  /** @param {Message} msg */
  onSessionCreated(msg) {
    this.sessionId = msg.session_id;
    this.view.code(msg.code, msg.expires_at, () => {
      if (this.session.phase === "waiting") this.view.detail(words("status.code_expired"), "error");
    });
    this.setPhase({ type: "created", mode: msg.mode }, words("status.waiting_for_code"));
    this.log(t("log.session.created", { mode: String(msg.mode), ttl: formatCountdown(msg.ttl) }));
  }

  /** @param {Message} msg */
  onJoinRequest(msg) {
    this.view.stopCountdown(); // the code is used up: it can no longer expire
    this.sessionId = msg.session_id;
    this.setPhase({ type: "join_request", user: msg.user, host: msg.host },
      words("status.customer_joined", { user: msg.user, host: msg.host, os: msg.os }));
    this.view.joinRequest({ host: msg.host, user: msg.user, os: msg.os, address: msg.address });
    this.log(t("log.session.join_request", {
      user: String(msg.user), host: String(msg.host), os: String(msg.os),
      address: msg.address ? String(msg.address) : t("log.session.address_unknown"),
    }));
  }

  /** @param {Message} msg */
  onPaired(msg) {
    this.view.stopCountdown();
    this.sessionId = msg.session_id;
    this.view.peer(words("peer.info", { user: msg.user, host: msg.host, os: msg.os }));
    this.live.reset();
    this.setPhase({ type: "paired", mode: msg.mode, user: msg.user, host: msg.host, operator: msg.operator },
      words("status.connecting_customer"));
    this.log(t("log.session.paired", { user: String(msg.user), host: String(msg.host), count: String(msg.ice_servers.length) }));
    this.reconnector.on({
      type: "paired", sessionId: msg.session_id, token: msg.resume ?? null, within: msg.resume_within ?? null,
      iceServers: msg.ice_servers,
    });
    this.live.connect(msg);
  }

  /** @param {Message} msg */
  onOffer(msg) {
    if (!this.live.link) return this.log(t("log.session.offer_before_pairing"), "error");
    // a fresh offer: a new connection replaces the lost one (`replace`); any other renegotiates
    this.reconnector.on({ type: "offer", fresh: msg.fresh === true });
    const link = /** @type {import("./rtc.js").PeerLink} */ (this.live.link);
    this.log(t("log.session.offer_received"));
    const sends = { show_screen: msg.show_screen_mid, show_camera: msg.show_camera_mid };
    link.acceptOffer(msg.sdp, sends).catch((err) => {
      this.log(t("log.session.offer_failed", { error: String(err.message) }), "error");
      this.view.detail(words("status.offer_failed", { error: String(err?.message ?? err) }), "error");
    });
  }

  /** @param {Message} msg */
  onCandidate(msg) {
    const link = this.live.link;
    if (!link) return this.log(t("log.session.candidate_before_pairing"), "error");
    void link.addCandidate(/** @type {any} */ (msg));
  }

  /** @param {Message} msg */
  onBye(msg) {
    this.log(t("log.signaling.bye", { reason: String(msg.reason) }));
    if (this.session.phase === "ended" || this.session.phase === "idle") return;
    this.endSession(msg.reason);
  }

  /**
   * The customer's signaling connection is lost; the server keeps the session for a while.
   * @param {Message} msg
   */
  onInterrupted(msg) {
    this.log(t("log.reconnect.interrupted", { seconds: String(msg.resume_within) }), "error");
    this.reconnector.on({ type: "interrupted", within: msg.resume_within });
  }

  /**
   * Both sides are connected to the server again: the peer offers a fresh connection next.
   * @param {Message} msg
   */
  onResumed(msg) {
    this.log(t("log.reconnect.resumed", { count: String(msg.ice_servers.length) }));
    this.reconnector.on({ type: "resumed", iceServers: msg.ice_servers });
  }

  /** @param {Message} msg */
  onError(msg) {
    if (this.reconnector.stage === "resuming") {
      // the answer to `resume`: the session is gone
      this.log(t("log.reconnect.refused", { code: String(msg.code), message: String(msg.message) }), "error");
      return this.reconnector.on({ type: "refused", code: msg.code });
    }
    const retry = msg.retry_after != null ? t("log.signaling.server_error_retry", { seconds: String(Math.ceil(msg.retry_after)) }) : "";
    this.log(t("log.signaling.server_error", { code: String(msg.code), message: String(msg.message), retry }), "error");
    // the console's own words for a code it knows; the server's for one it does not
    const text = errorMsg(msg.code, msg.message);
    const seconds = String(Math.ceil(msg.retry_after ?? 0));
    const again = msg.code === "rate_limited"
      ? words("error.rate_limited_retry", { seconds })
      : words("status.retry", { message: text, seconds });
    const shown = msg.retry_after != null ? again : text;
    if (this.session.phase === "creating") {
      this.setPhase({ type: "ready" }, words("status.start_failed"));
      this.view.detail(shown, "error");
    } else {
      this.view.detail(words("status.server_error", { message: shown }), "error");
    }
  }

  /**
   * @param {{code: number, reason: string, wasOpen: boolean}} event
   */
  socketClosed(event) {
    const why = event.reason ? t("log.signaling.closed_reason", { reason: event.reason }) : "";
    this.log(t("log.signaling.closed", { code: String(event.code), why }), "error");
    if (this.reconnector.resumable) {
      this.refused = !event.wasOpen || event.code === 1008;
      return this.reconnector.on({ type: "socket_closed" });
    }
    const phase = this.session.phase;
    const live = ["waiting", "joined", "connecting", "connected", "creating"].includes(phase);
    if (live) this.endSession("operator_left", words("status.lost_reason"));
    else if (phase !== "offline") this.setPhase({ type: "ended", reason: "operator_left" }, words("status.not_connected_server"));
    this.view.detail(words("status.connection_lost"), "error");
    this.createWhenReady = false;
    if (!event.wasOpen || event.code === 1008) this.onrefused(); // perhaps the web session expired
  }

  // ----------------------------------------------------------------------- after a drop

  /** A new signaling socket to get the session back (one still opening is given up). */
  reopen() {
    const stale = this.signaling;
    this.signaling = null;
    stale?.close();
    this.connect();
  }

  /**
   * The session could not be got back: end it, and say why.
   * @param {string} reason a BYE_REASONS key
   * @param {Msg | null} shown what #status says (null: the reason's words)
   */
  endLost(reason, shown) {
    const turn = this.live.turn;
    this.endSession(reason, undefined, shown ?? undefined);
    if (reason === "connection_failed") {
      this.view.detail(turn ? words("status.no_path_turn") : words("status.no_path"), "error");
    } else if (!this.signaling) {
      this.view.detail(words("status.connection_lost"), "error");
      this.createWhenReady = false;
      if (this.refused) this.onrefused(); // perhaps the web session expired
    }
  }

  /**
   * The current connection's state (`live.js`): true when a reconnect says where things stand
   * (then the connection's own words are not shown).
   * @param {RTCPeerConnectionState} connection
   */
  linkState(connection) {
    this.reconnector.on({ type: "ice", state: connection });
    const stage = this.reconnector.stage;
    return stage !== "live" && stage !== "idle";
  }

  /**
   * A connection's verification code, once computed (after its first answer).
   * @param {string} code
   */
  verified(code) {
    this.reconnector.on({ type: "verification", code });
  }

  // ----------------------------------------------------------------------- the operator's actions

  /** Logged in: connect to the signaling server. */
  online() {
    this.session = INITIAL;
    this.setPhase({ type: "offline" }, words("status.connecting_server"));
    this.connect();
  }

  /**
   * New session (the mode chosen), or New call ("call": voice only, no screen until asked).
   * @param {string} [mode]
   */
  createSession(mode = this.view.chosenMode()) {
    this.createMode = mode;
    this.resetSessionView();
    if (!this.signaling || !this.welcomed) {
      this.createWhenReady = true;
      if (!this.signaling) this.connect();
      this.setPhase({ type: "creating" }, words("status.connecting_server"));
      return;
    }
    this.setPhase({ type: "creating" }, words("status.creating"));
    if (!this.send({ type: "create_session", mode })) this.setPhase({ type: "ready" }, words("status.not_connected_server"));
  }

  cancelSession() {
    this.send({ type: "bye", reason: "cancelled" });
    this.endSession("cancelled");
  }

  accept() {
    if (!this.sessionId) return;
    this.view.answered();
    this.log(t("log.session.accepting"));
    this.send({ type: "accept", session_id: this.sessionId });
  }

  reject() {
    if (!this.sessionId) return;
    this.view.answered();
    this.log(t("log.session.rejecting"));
    this.send({ type: "reject", session_id: this.sessionId });
    this.endSession("rejected");
  }

  endByOperator() {
    this.send({ type: "bye", reason: "operator_ended" });
    this.endSession("operator_ended");
  }

  /** Log out: end the session, forget it (the chat too) and close the socket. */
  leave() {
    const linked = this.live.link !== null;
    if (linked || this.session.phase === "waiting" || this.session.phase === "joined") {
      this.send({ type: "bye", reason: linked ? "operator_ended" : "cancelled" });
    }
    this.live.forget(); // nothing of the chat stays after logging out
    this.clearSession(); // the last customer's picture must not stay on the page
    const signaling = this.signaling;
    this.signaling = null;
    signaling?.close();
  }

  /**
   * Tear the session down and say why.
   * @param {string} reason a BYE_REASONS key (or another token from the server)
   * @param {Msg} [why] instead of the reason's words
   * @param {Msg} [shown] what #status says, instead of "Ended: <why>"
   */
  endSession(reason, why, shown) {
    const before = this.session;
    this.clearSession();
    this.setPhase({ type: "ended", reason }, shown ?? endedMsg(before, reason, why ?? byeMsg(reason)));
    if (!(reason in BYE_REASONS)) this.log(t("log.session.unknown_reason", { reason }), "error");
    this.onended(before.started);
  }

  /** Stop everything of the current session and take its picture, sound and details off the page. */
  clearSession() {
    this.reconnector.forget();
    this.view.stopCountdown();
    this.live.clear();
    this.sessionId = null;
    this.view.verification(null);
    this.view.peer(null);
  }

  /** A new session is being made, or the operator logged out: no code, no customer, no chat. */
  resetSessionView() {
    this.view.clear();
    this.live.forget();
  }
}
