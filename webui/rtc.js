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
 * reach `ontrack`. After a lost connection the peer offers a fresh one (`offer` with `fresh`):
 * that is a new `PeerLink` (`live.js`), made with the session's certificate
 * (`sessionCertificate`), so the verification code stays the same.
 *
 * The connection is made once the certificate is there: offers and candidates that come
 * before wait for it. While the connection is presumed lost (`hold`) nothing is sent on it.
 *
 * Audio goes both ways on the transceivers the peer offers for it (voice). Who speaks for the
 * operator's side is a hook, `localAudio` (the voice panel's, set by `live.js`): before every
 * answer each audio transceiver gets its direction (`sendrecv` while voice is wanted or allowed,
 * else `recvonly`) and the microphone's track, or none (`audioAnswerPlan`); a microphone found
 * later goes on the transceivers that already send with `refreshLocalAudio`, without a new offer.
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
 * @typedef {{send: boolean, track: MediaStreamTrack | null}} LocalAudio
 *   send: audio transceivers are answered `sendrecv` (the operator's voice is wanted or allowed:
 *   the peer makes its receiving track only for an answer that sends), else `recvonly`; track:
 *   the microphone to send on them, or null (listen-only: the direction still says sendrecv)
 * @typedef {{transceiver: RTCRtpTransceiver, direction: RTCRtpTransceiverDirection, track: MediaStreamTrack | null}} AudioStep
 * @typedef {{urls: string[], username?: string, credential?: string}} WireIceServer
 * @typedef {{
 *   send: (msg: Message) => void,
 *   onlog: (line: string, level?: "info" | "error") => void,
 *   ontrack: (event: RTCTrackEvent) => void,
 *   ontrackstopped?: (track: MediaStreamTrack) => void,
 *   onmessage: (label: string, msg: Message) => void,
 *   onbinary?: (label: string, data: ArrayBuffer) => void,
 *   onchannelchange?: (label: string, state: string) => void,
 *   onstate: (state: RTCPeerConnectionState) => void,
 *   onquality: (quality: Quality) => void,
 *   onverification?: (code: string) => void,
 * }} PeerLinkHandlers
 *   onverification: the verification code, once computed after the first answer
 */

/**
 * The session's certificate: every connection of a session uses it (the customer's peer keeps
 * its own too), so a fresh connection after a drop has the same verification code. Null when
 * the browser cannot make one (then each connection has its own, and its own code).
 * @param {(line: string, level?: "info" | "error") => void} log
 * @returns {Promise<RTCCertificate | null>}
 */
export async function sessionCertificate(log) {
  try {
    return await RTCPeerConnection.generateCertificate(/** @type {EcKeyGenParams} */ ({ name: "ECDSA", namedCurve: "P-256" }));
  } catch (err) {
    log(t("log.rtc.no_certificate", { error: String(/** @type {Error} */ (err)?.message ?? err) }), "error");
    return null;
  }
}

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

/**
 * Whether a transceiver carries audio (and can still be changed).
 * @param {RTCRtpTransceiver} transceiver
 */
function isLiveAudio(transceiver) {
  return transceiver.receiver.track?.kind === "audio" && !(/** @type {{stopped?: boolean}} */ (transceiver).stopped) &&
    transceiver.currentDirection !== "stopped";
}

/**
 * What to do to each audio transceiver before answering an offer: its direction, and the track
 * its sender sends (nothing while the operator's voice is not wanted).
 * @param {readonly RTCRtpTransceiver[]} transceivers after the offer is set
 * @param {LocalAudio} local
 * @returns {AudioStep[]}
 */
export function audioAnswerPlan(transceivers, local) {
  return transceivers.filter(isLiveAudio).map((transceiver) => ({
    transceiver,
    direction: local.send ? "sendrecv" : "recvonly",
    track: local.send ? local.track : null,
  }));
}

/**
 * The audio transceivers that send now (their answer said so), with the track each should
 * send: a microphone found, switched or stopped goes on them without a new offer.
 * @param {readonly RTCRtpTransceiver[]} transceivers
 * @param {LocalAudio} local
 * @returns {{transceiver: RTCRtpTransceiver, track: MediaStreamTrack | null}[]}
 */
export function audioSenders(transceivers, local) {
  return transceivers
    .filter((tr) => isLiveAudio(tr) && (tr.currentDirection === "sendrecv" || tr.currentDirection === "sendonly"))
    .map((transceiver) => ({ transceiver, track: local.send ? local.track : null }));
}

/**
 * What to do to each video transceiver before answering an offer: the m-lines the peer
 * receives the operator's screen or camera on (`mids`, from the offer) send what `local` gives
 * for that capability; a video m-line of ours that the offer no longer names sends nothing
 * (inactive); the customer's own screen and camera (received here) are left as the browser
 * answers them, whatever an offer names.
 * @param {readonly RTCRtpTransceiver[]} transceivers after the offer is set
 * @param {ReadonlyMap<string, string>} mids capability -> mid
 * @param {ReadonlyMap<string, MediaStreamTrack | null>} local capability -> track
 * @returns {{transceiver: RTCRtpTransceiver, direction: RTCRtpTransceiverDirection, track: MediaStreamTrack | null, capability: string | null}[]}
 */
export function videoAnswerPlan(transceivers, mids, local) {
  /** @type {{transceiver: RTCRtpTransceiver, direction: RTCRtpTransceiverDirection, track: MediaStreamTrack | null, capability: string | null}[]} */
  const plan = [];
  for (const transceiver of transceivers) {
    if (transceiver.receiver.track?.kind !== "video" || transceiver.mid === null) continue;
    // a picture the peer sends us (the customer's screen, their camera) is never turned round
    if (transceiver.currentDirection === "recvonly") continue;
    const capability = [...mids].find(([, mid]) => mid === transceiver.mid)?.[0] ?? null;
    if (capability !== null) {
      plan.push({ transceiver, direction: "sendonly", track: local.get(capability) ?? null, capability });
    } else if (transceiver.sender.track) {
      plan.push({ transceiver, direction: "inactive", track: null, capability: null });
    }
  }
  return plan;
}

export class PeerLink {
  /**
   * @param {readonly WireIceServer[]} iceServers from `paired` (or `resumed`)
   * @param {PeerLinkHandlers} handlers
   * @param {Promise<RTCCertificate | null> | null} [certificate] the session's (`sessionCertificate`)
   */
  constructor(iceServers, handlers, certificate = null) {
    this.handlers = handlers;
    /** Made once the certificate is there (`ready`). @type {RTCPeerConnection | null} */
    this.pc = null;
    this.channels = new DataChannels({
      log: handlers.onlog,
      onmessage: (label, msg) => handlers.onmessage(label, msg),
      onbinary: (label, data) => handlers.onbinary?.(label, data),
      onchange: (label, state) => handlers.onchannelchange?.(label, state),
    });
    /** The connection is made. @type {Promise<void>} */
    this.ready = Promise.resolve(certificate).then((cert) => this.#open(iceServers, cert));
    this.ready.catch(() => {}); // a failure shows on the offer that waits for it
    /** Offers are answered one at a time, in the order they came (the first once `ready`). @type {Promise<void>} */
    this.offers = this.ready;
    this.offerCount = 0;
    /** @type {string | null} */
    this.verification = null;
    /** @type {Quality | null} */
    this.quality = null;
    /** Candidates that came before the offer. @type {RTCIceCandidateInit[]} */
    this.pending = [];
    this.closed = false;
    /** The connection is presumed lost: nothing is sent on it (`hold`, `release`). */
    this.held = false;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.statsTimer = null;
    /**
     * The operator's side of the audio, asked before every answer (the voice panel's, via
     * `live.js`); null: audio transceivers are answered as the browser does by default.
     * @type {(() => LocalAudio | null) | null}
     */
    this.localAudio = null;
    /**
     * What the operator shows, asked before every answer (the panels' `videoOut`, via
     * `live.js`): capability -> track.
     * @type {(() => Map<string, MediaStreamTrack | null>) | null}
     */
    this.localVideo = null;
    /** The m-line the peer receives each capability's video on, from the latest offer. @type {Map<string, string>} */
    this.videoMids = new Map();
  }

  /**
   * @param {readonly WireIceServer[]} iceServers
   * @param {RTCCertificate | null} certificate
   */
  #open(iceServers, certificate) {
    if (this.closed) return;
    /** @type {RTCConfiguration} */
    const config = { iceServers: toIceServers([...iceServers]) };
    if (certificate) config.certificates = [certificate];
    const pc = new RTCPeerConnection(config);
    this.pc = pc;
    const handlers = this.handlers;
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

  /**
   * Whether the data channel `label` is open, and the connection not held.
   * @param {string} label
   */
  isOpen(label) {
    return !this.held && this.channels.isOpen(label);
  }

  /** The connection is presumed lost: send nothing on it until `release` (candidates neither). */
  hold() {
    this.held = true;
  }

  /** The same connection is back. */
  release() {
    this.held = false;
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
    if (this.held) return false;
    return this.channels.send(label, msg);
  }

  /** @param {RTCIceCandidate | null} candidate */
  #sendCandidate(candidate) {
    if (this.closed || this.held) return;
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
   * @param {{[capability: string]: string | null | undefined}} [sends] the m-line the peer
   *   receives each capability's video on (`show_screen_mid`, `show_camera_mid` of the offer)
   * @returns {Promise<void>}
   */
  acceptOffer(sdp, sends = {}) {
    const turn = this.offers.then(() => this.#answer(sdp, sends));
    this.offers = turn.catch(() => {}); // a failed offer does not block the next
    return turn;
  }

  /**
   * @param {string} sdp
   * @param {{[capability: string]: string | null | undefined}} sends
   */
  async #answer(sdp, sends) {
    const pc = this.pc;
    if (this.closed || !pc) return;
    const first = this.offerCount++ === 0;
    if (!first) this.handlers.onlog(t("log.rtc.renegotiating", { n: String(this.offerCount) }));
    await pc.setRemoteDescription({ type: "offer", sdp });
    for (const candidate of this.pending.splice(0)) await this.#add(candidate);
    await this.#prepareAudio(pc);
    this.videoMids = new Map(Object.entries(sends).filter(([, mid]) => typeof mid === "string").map(([c, mid]) => [c, String(mid)]));
    await this.#prepareVideo(pc);
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
        this.handlers.onverification?.(this.verification);
      } catch (err) {
        this.handlers.onlog(t("log.rtc.no_verification", { error: String(/** @type {Error} */ (err).message) }), "error");
      }
    }
    this.#startStats();
  }

  /**
   * Before an answer: each audio transceiver's direction and the microphone on its sender.
   * @param {RTCPeerConnection} pc
   */
  async #prepareAudio(pc) {
    const local = this.localAudio?.() ?? null;
    if (!local) return;
    for (const step of audioAnswerPlan(pc.getTransceivers(), local)) {
      step.transceiver.direction = step.direction;
      if (step.transceiver.sender.track !== step.track) await step.transceiver.sender.replaceTrack(step.track);
      this.handlers.onlog(t("log.rtc.audio_answer", {
        mid: String(step.transceiver.mid), direction: step.direction,
        microphone: step.track ? t("log.rtc.audio_microphone") : t("log.rtc.audio_no_microphone"),
      }));
    }
  }

  /**
   * Before an answer: the m-lines the peer receives the operator's screen and camera on send
   * what the panels give (`localVideo`); every other video m-line of ours sends nothing.
   * @param {RTCPeerConnection} pc
   */
  async #prepareVideo(pc) {
    for (const step of videoAnswerPlan(pc.getTransceivers(), this.videoMids, this.localVideo?.() ?? new Map())) {
      step.transceiver.direction = step.direction;
      if (step.transceiver.sender.track !== step.track) await step.transceiver.sender.replaceTrack(step.track);
      if (step.capability !== null) {
        this.handlers.onlog(t("log.rtc.video_answer", {
          mid: String(step.transceiver.mid), capability: step.capability, track: step.track ? "yes" : "no",
        }));
      }
    }
  }

  /**
   * What the operator shows changed (picked, stopped): put it on the m-lines that send now,
   * without a new offer.
   * @returns {Promise<void>}
   */
  async refreshLocalVideo() {
    const pc = this.pc;
    if (!pc || this.closed) return;
    for (const step of videoAnswerPlan(pc.getTransceivers(), this.videoMids, this.localVideo?.() ?? new Map())) {
      if (step.transceiver.sender.track !== step.track) await step.transceiver.sender.replaceTrack(step.track);
    }
  }

  /**
   * The operator's microphone changed (found, switched, stopped): send it on the audio
   * transceivers that send already (no new offer is needed for that).
   * @returns {Promise<number>} how many senders now carry it
   */
  async refreshLocalAudio() {
    const local = this.localAudio?.() ?? null;
    if (!local || !this.pc || this.closed) return 0;
    let count = 0;
    for (const { transceiver, track } of audioSenders(this.pc.getTransceivers(), local)) {
      if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
      count++;
    }
    return count;
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
    if (!this.pc?.remoteDescription) this.pending.push(init);
    else await this.#add(init);
  }

  /** @param {RTCIceCandidateInit} init */
  async #add(init) {
    const pc = /** @type {RTCPeerConnection} */ (this.pc); // there is a remote description
    try {
      if (init.candidate === "") await pc.addIceCandidate();
      else await pc.addIceCandidate(init);
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
    return this.send("control", msg);
  }

  /**
   * Send an input-channel message (checked against the INPUT table first).
   * @param {{type: string, [field: string]: any}} msg
   * @returns {boolean} false when the channel is not open
   */
  sendInput(msg) {
    const input = this.input;
    if (msg.type === "pointer_move" && !this.held && input?.readyState === "open" && input.bufferedAmount > INPUT_BACKLOG_BYTES) {
      return true;
    }
    return this.send("input", msg);
  }

  #startStats() {
    if (this.statsTimer) return;
    this.statsTimer = setInterval(() => void this.sampleStats(), 1000);
  }

  /** Take one quality sample now (also used right when the connection comes up). */
  async sampleStats() {
    if (this.closed || !this.pc) return this.quality;
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
    this.pc?.close();
    this.handlers.onlog(t("log.rtc.closed"));
  }
}
