// @ts-check
/**
 * The operator's side of the WebRTC connection to the customer's peer.
 *
 * The peer offers (media tracks, one data channel per row of `CHANNELS`); this side answers,
 * trickles its own candidates as `candidate{candidate, sdp_mid, sdp_mline_index}` and adds the
 * peer's. Every state change is reported through `onlog`; quality is sampled once a second.
 *
 * The peer may offer again later (renegotiation: a track added or removed mid-session); every
 * offer is answered in turn, the verification code and statistics carry on, and new tracks
 * reach `ontrack`.
 *
 * Data channels are adopted by label (`channels.js`): messages arrive as
 * `onmessage(label, msg)`, go out with `send(label, msg)`. On a thin link a backlog of pointer
 * moves on "input" is dropped (the next move says where the pointer is), never buttons or keys.
 */

/** Bytes queued on "input" beyond which a pointer move is dropped instead of queued. */
export const INPUT_BACKLOG_BYTES = 4096;

import { DataChannels } from "./channels.js";
import { t } from "./i18n.js";
import { sdpFingerprint, verificationCode } from "./protocol.js";
import { computeQuality } from "./stats.js";

/**
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {import("./stats.js").Quality} Quality
 * @typedef {{urls: string[], username?: string, credential?: string}} WireIceServer
 * @typedef {{
 *   send: (msg: Message) => void,
 *   onlog: (line: string, level?: "info" | "error") => void,
 *   ontrack: (event: RTCTrackEvent) => void,
 *   ontrackstopped?: (track: MediaStreamTrack) => void,
 *   onmessage: (label: string, msg: Message) => void,
 *   onchannelchange?: (label: string, state: string) => void,
 *   onstate: (state: RTCPeerConnectionState) => void,
 *   onquality: (quality: Quality) => void,
 * }} PeerLinkHandlers
 */

/**
 * `paired.ice_servers` as `RTCConfiguration.iceServers`.
 * @param {WireIceServer[]} servers
 * @returns {RTCIceServer[]}
 */
export function toIceServers(servers) {
  return servers.map((s) => {
    /** @type {RTCIceServer} */
    const out = { urls: [...s.urls] };
    if (s.username != null) out.username = s.username;
    if (s.credential != null) out.credential = s.credential;
    return out;
  });
}

export class PeerLink {
  /**
   * @param {WireIceServer[]} iceServers from `paired`
   * @param {PeerLinkHandlers} handlers
   */
  constructor(iceServers, handlers) {
    this.handlers = handlers;
    this.pc = new RTCPeerConnection({ iceServers: toIceServers(iceServers) });
    this.channels = new DataChannels({
      log: handlers.onlog,
      onmessage: (label, msg) => handlers.onmessage(label, msg),
      onchange: (label, state) => handlers.onchannelchange?.(label, state),
    });
    /** Offers are answered one at a time, in the order they came. @type {Promise<void>} */
    this.offers = Promise.resolve();
    this.offerCount = 0;
    /** @type {string | null} */
    this.verification = null;
    /** @type {Quality | null} */
    this.quality = null;
    /** Candidates that came before the offer. @type {RTCIceCandidateInit[]} */
    this.pending = [];
    this.closed = false;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.statsTimer = null;

    const pc = this.pc;
    const log = handlers.onlog;
    pc.addEventListener("signalingstatechange", () => log(t("log.rtc.signaling_state", { state: pc.signalingState })));
    pc.addEventListener("iceconnectionstatechange", () => log(t("log.rtc.ice_connection_state", { state: pc.iceConnectionState })));
    pc.addEventListener("icegatheringstatechange", () => log(t("log.rtc.ice_gathering_state", { state: pc.iceGatheringState })));
    pc.addEventListener("connectionstatechange", () => {
      log(t("log.rtc.connection_state", { state: pc.connectionState }), pc.connectionState === "failed" ? "error" : "info");
      handlers.onstate(pc.connectionState);
    });
    pc.addEventListener("icecandidate", (event) => this.#sendCandidate(event.candidate));
    pc.addEventListener("icecandidateerror", (event) => {
      const e = /** @type {RTCPeerConnectionIceErrorEvent} */ (event);
      log(t("log.rtc.candidate_error", { code: String(e.errorCode), url: String(e.url), error: String(e.errorText) }), "error");
    });
    pc.addEventListener("track", (event) => {
      log(t("log.rtc.remote_track", { kind: event.track.kind, mid: event.transceiver?.mid ?? "?" }));
      handlers.ontrack(event);
    });
    pc.addEventListener("datachannel", (event) => this.channels.adopt(event.channel));
  }

  /** The control channel, once the peer opened it. */
  get control() {
    return /** @type {RTCDataChannel | null} */ (this.channels.channel("control"));
  }

  /** The input channel, once the peer opened it. */
  get input() {
    return /** @type {RTCDataChannel | null} */ (this.channels.channel("input"));
  }

  /** Data channels the peer opened with a label this console does not know (closed at once). */
  get unknownChannels() {
    return this.channels.unknown;
  }

  /**
   * The data channel with this label, or null.
   * @param {string} label
   */
  channel(label) {
    return /** @type {RTCDataChannel | null} */ (this.channels.channel(label));
  }

  /**
   * Send a message on the data channel `label` (checked against its table first).
   * @param {string} label
   * @param {{type: string, [field: string]: any}} msg
   * @returns {boolean} false when the channel is not open
   */
  send(label, msg) {
    return this.channels.send(label, msg);
  }

  /** @param {RTCIceCandidate | null} candidate */
  #sendCandidate(candidate) {
    if (this.closed) return;
    if (candidate === null || candidate.candidate === "") {
      this.handlers.send({ type: "candidate", candidate: "" }); // end of candidates
      return;
    }
    this.handlers.send({
      type: "candidate",
      candidate: candidate.candidate,
      sdp_mid: candidate.sdpMid ?? null,
      sdp_mline_index: candidate.sdpMLineIndex ?? null,
    });
  }

  /**
   * An offer from the peer, the first or a later one (renegotiation): answer it and send the
   * answer. Offers are answered one at a time, in order.
   * @param {string} sdp
   * @returns {Promise<void>}
   */
  acceptOffer(sdp) {
    const turn = this.offers.then(() => this.#answer(sdp));
    this.offers = turn.catch(() => {}); // a failed offer does not block the next
    return turn;
  }

  /** @param {string} sdp */
  async #answer(sdp) {
    if (this.closed) return;
    const pc = this.pc;
    const first = this.offerCount++ === 0;
    if (!first) this.handlers.onlog(t("log.rtc.renegotiating", { n: String(this.offerCount) }));
    await pc.setRemoteDescription({ type: "offer", sdp });
    for (const candidate of this.pending.splice(0)) await this.#add(candidate);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    const local = pc.localDescription?.sdp ?? answer.sdp ?? "";
    if (this.closed) return;
    this.handlers.send({ type: "answer", sdp: local });
    for (const transceiver of pc.getTransceivers()) {
      if (first || transceiver.mid === null) continue;
      const direction = transceiver.currentDirection ?? transceiver.direction;
      this.handlers.onlog(t("log.rtc.transceiver", { mid: String(transceiver.mid), kind: transceiver.receiver.track.kind, direction }));
      // The peer stopped sending on it: its track only mutes, so say so, or a picture freezes.
      if (!direction.includes("recv")) this.handlers.ontrackstopped?.(transceiver.receiver.track);
    }
    if (this.verification === null) {
      try {
        this.verification = verificationCode(sdpFingerprint(local), sdpFingerprint(sdp));
      } catch (err) {
        this.handlers.onlog(t("log.rtc.no_verification", { error: String(/** @type {Error} */ (err).message) }), "error");
      }
    }
    this.#startStats();
  }

  /**
   * A candidate from the peer; an empty `candidate` marks the end of its candidates.
   * @param {{candidate: string, sdp_mid?: string, sdp_mline_index?: number}} msg
   */
  async addCandidate(msg) {
    /** @type {RTCIceCandidateInit} */
    const init = {
      candidate: msg.candidate,
      sdpMid: msg.sdp_mid ?? null,
      sdpMLineIndex: msg.sdp_mline_index ?? null,
    };
    if (init.sdpMid == null && init.sdpMLineIndex == null) init.sdpMLineIndex = 0;
    if (!this.pc.remoteDescription) this.pending.push(init);
    else await this.#add(init);
  }

  /** @param {RTCIceCandidateInit} init */
  async #add(init) {
    try {
      if (init.candidate === "") await this.pc.addIceCandidate();
      else await this.pc.addIceCandidate(init);
    } catch (err) {
      this.handlers.onlog(t("log.rtc.candidate_failed", { error: String(/** @type {Error} */ (err).message) }), "error");
    }
  }

  /**
   * Send a control-channel message (checked against the CONTROL table first).
   * @param {{type: string, [field: string]: any}} msg
   * @returns {boolean} false when the channel is not open
   */
  sendControl(msg) {
    return this.channels.send("control", msg);
  }

  /**
   * Send an input-channel message (checked against the INPUT table first).
   * @param {{type: string, [field: string]: any}} msg
   * @returns {boolean} false when the channel is not open
   */
  sendInput(msg) {
    const input = this.input;
    if (msg.type === "pointer_move" && input?.readyState === "open" && input.bufferedAmount > INPUT_BACKLOG_BYTES) {
      return true;
    }
    return this.channels.send("input", msg);
  }

  #startStats() {
    if (this.statsTimer) return;
    this.statsTimer = setInterval(() => void this.sampleStats(), 1000);
  }

  /** Take one quality sample now (also used right when the connection comes up). */
  async sampleStats() {
    if (this.closed) return this.quality;
    try {
      const report = await this.pc.getStats();
      /** @type {import("./stats.js").StatsEntry[]} */
      const entries = [];
      report.forEach((entry) => entries.push(entry));
      this.quality = computeQuality(entries, this.quality?.sample ?? null);
      if (!this.closed) this.handlers.onquality(this.quality);
    } catch (err) {
      this.handlers.onlog(t("log.rtc.stats_failed", { error: String(/** @type {Error} */ (err).message) }), "error");
    }
    return this.quality;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.channels.close();
    this.pc.close();
    this.handlers.onlog(t("log.rtc.closed"));
  }
}
