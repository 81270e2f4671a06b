// @ts-check
/**
 * The operator's side of the WebRTC connection to the customer's peer.
 *
 * The peer offers (video track, data channels "control" and "input"); this side answers,
 * trickles its own candidates as `candidate{candidate, sdp_mid, sdp_mline_index}` and adds the
 * peer's. Every state change is reported through `onlog`; quality is sampled once a second.
 *
 * "control" carries CONTROL messages both ways; "input" carries the operator's INPUT messages
 * to the peer only. On a thin link a backlog of pointer moves is dropped (the next move says
 * where the pointer is), never buttons or keys.
 */

/** Bytes queued on "input" beyond which a pointer move is dropped instead of queued. */
export const INPUT_BACKLOG_BYTES = 4096;

import { ProtocolError, parse, sdpFingerprint, serialize, verificationCode } from "./protocol.js";
import { computeQuality } from "./stats.js";

/**
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {import("./stats.js").Quality} Quality
 * @typedef {{urls: string[], username?: string, credential?: string}} WireIceServer
 * @typedef {{
 *   send: (msg: Message) => void,
 *   onlog: (line: string, level?: "info" | "error") => void,
 *   ontrack: (event: RTCTrackEvent) => void,
 *   oncontrol: (msg: Message) => void,
 *   oncontrolopen: () => void,
 *   onchannelchange?: () => void,
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
    /** @type {RTCDataChannel | null} */
    this.control = null;
    /** @type {RTCDataChannel | null} */
    this.input = null;
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
    pc.addEventListener("signalingstatechange", () => log(`signaling state: ${pc.signalingState}`));
    pc.addEventListener("iceconnectionstatechange", () => log(`ICE connection state: ${pc.iceConnectionState}`));
    pc.addEventListener("icegatheringstatechange", () => log(`ICE gathering state: ${pc.iceGatheringState}`));
    pc.addEventListener("connectionstatechange", () => {
      log(`connection state: ${pc.connectionState}`, pc.connectionState === "failed" ? "error" : "info");
      handlers.onstate(pc.connectionState);
    });
    pc.addEventListener("icecandidate", (event) => this.#sendCandidate(event.candidate));
    pc.addEventListener("icecandidateerror", (event) => {
      const e = /** @type {RTCPeerConnectionIceErrorEvent} */ (event);
      log(`ICE candidate error ${e.errorCode} at ${e.url}: ${e.errorText}`, "error");
    });
    pc.addEventListener("track", (event) => {
      log(`remote ${event.track.kind} track`);
      handlers.ontrack(event);
    });
    pc.addEventListener("datachannel", (event) => this.#adoptChannel(event.channel));
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

  /** @param {RTCDataChannel} channel */
  #adoptChannel(channel) {
    const log = this.handlers.onlog;
    const changed = () => this.handlers.onchannelchange?.();
    if (channel.label === "input") {
      this.input = channel;
      channel.addEventListener("open", () => {
        log("input channel open");
        changed();
      });
      channel.addEventListener("close", () => {
        if (!this.closed) log("input channel closed");
        changed();
      });
      channel.addEventListener("message", () => log("unexpected message from the peer on the input channel", "error"));
      return;
    }
    if (channel.label !== "control") {
      log(`data channel "${channel.label}" opened by the peer (not used by this console)`);
      return;
    }
    this.control = channel;
    channel.addEventListener("open", () => {
      log("control channel open");
      this.handlers.oncontrolopen();
    });
    channel.addEventListener("close", () => {
      if (!this.closed) log("control channel closed");
      changed();
    });
    channel.addEventListener("message", (event) => {
      let msg;
      try {
        msg = parse(event.data, "control");
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        log(`bad control message (${err.code}): ${err.message}`, "error");
        return;
      }
      this.handlers.oncontrol(msg);
    });
    if (channel.readyState === "open") this.handlers.oncontrolopen();
  }

  /**
   * The peer's offer: answer it and send the answer.
   * @param {string} sdp
   */
  async acceptOffer(sdp) {
    const pc = this.pc;
    await pc.setRemoteDescription({ type: "offer", sdp });
    for (const candidate of this.pending.splice(0)) await this.#add(candidate);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    const local = pc.localDescription?.sdp ?? answer.sdp ?? "";
    this.handlers.send({ type: "answer", sdp: local });
    try {
      this.verification = verificationCode(sdpFingerprint(local), sdpFingerprint(sdp));
    } catch (err) {
      this.handlers.onlog(`no verification code: ${/** @type {Error} */ (err).message}`, "error");
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
      this.handlers.onlog(`could not add a candidate: ${/** @type {Error} */ (err).message}`, "error");
    }
  }

  /**
   * Send a control-channel message (checked against the CONTROL table first).
   * @param {{type: string, [field: string]: any}} msg
   * @returns {boolean} false when the channel is not open
   */
  sendControl(msg) {
    const text = serialize(msg, "control");
    if (!this.control || this.control.readyState !== "open") return false;
    this.control.send(text);
    return true;
  }

  /**
   * Send an input-channel message (checked against the INPUT table first).
   * @param {{type: string, [field: string]: any}} msg
   * @returns {boolean} false when the channel is not open
   */
  sendInput(msg) {
    const text = serialize(msg, "input");
    if (!this.input || this.input.readyState !== "open") return false;
    if (msg.type === "pointer_move" && this.input.bufferedAmount > INPUT_BACKLOG_BYTES) return true;
    this.input.send(text);
    return true;
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
      this.handlers.onlog(`stats failed: ${/** @type {Error} */ (err).message}`, "error");
    }
    return this.quality;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.control?.close();
    this.input?.close();
    this.pc.close();
    this.handlers.onlog("peer connection closed");
  }
}
