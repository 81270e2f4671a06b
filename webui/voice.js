// @ts-check
/**
 * Voice for headsets, the console's side, without the DOM (`voiceview.js` draws it; node tests
 * this): the operator's state machine, the words for what happens, and the level of a meter.
 *
 * The customer's peer decides (consent "voice", asked on request). While voice is allowed the
 * peer offers one `sendrecv` audio transceiver; the console answers it with the operator's
 * microphone, or without one (listen-only: the browser refused the microphone, or there is none).
 *
 *   Start voice  -> get_mic; then, unless the customer allows voice already, ask (consent_request)
 *   granted      -> on: both hear each other (or listening only, without a microphone)
 *   Mute         -> the microphone's track is disabled: the customer hears silence
 *   Hang up      -> stop_mic, and release{voice} when it was allowed
 *   denied, revoked by the customer -> stop_mic, and say so
 *
 * `VoiceCore` takes what happens (the operator's buttons, the microphone's outcome, consent)
 * and returns what to do (`VoiceAction`s); `voiceView` says what the panel shows.
 *
 *   const core = new VoiceCore();
 *   core.start();                       // [{type: "get_mic"}]
 *   core.micReady("live");              // [{type: "attach"}, {type: "ask"}]
 *   core.consentIs("asked");            // []            (after the tracker's ask)
 *   core.consentIs("granted");          // []            phase() === "on"
 *   core.toggleMute();                  // [{type: "mute", muted: true}]
 *   core.hangUp();                      // [{type: "stop_mic"}, {type: "release"}]
 */

import { msg } from "./i18n.js";

/**
 * @typedef {import("./i18n.js").Msg} Msg
 * @typedef {import("./consent.js").Status} Status
 * @typedef {"blocked" | "missing" | "busy" | "insecure" | "failed" | "lost"} MicProblem
 *   blocked: the browser (or the operator) refused it; missing: no microphone; busy: another
 *   program holds it; insecure: no microphone on a plain-HTTP page; lost: unplugged during the call
 * @typedef {"none" | "pending" | "live" | MicProblem} MicState
 * @typedef {{type: "get_mic"}
 *   | {type: "stop_mic"}
 *   | {type: "attach"}
 *   | {type: "ask"}
 *   | {type: "release"}
 *   | {type: "mute", muted: boolean}} VoiceAction
 *   attach: tell the connection what the microphone is now (`PeerLink.refreshLocalAudio`)
 * @typedef {"off" | "hung_up" | "denied" | "revoked" | "allowed" | "starting" | "asking" | "listening" | "on" | "muted"} VoicePhase
 *   off: nothing asked yet; hung_up, denied, revoked: how voice last stopped; allowed: the customer
 *   allows voice but the operator has not started it; starting: waiting for the browser's
 *   microphone; asking: the customer has the question; listening: allowed, without a microphone
 * @typedef {{mic: string, speaker: string}} RemoteVoice  the peer's latest `voice_state`
 */

/** dBFS for silence, and for a meter with nothing to measure. */
export const SILENCE_DB = -100;

/**
 * The level of a block of samples (-1..1), in dBFS rounded to an integer: 0 is full scale,
 * `SILENCE_DB` silence (or anything quieter).
 * @param {ArrayLike<number>} samples
 */
export function levelDb(samples) {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  const rms = samples.length ? Math.sqrt(sum / samples.length) : 0;
  if (!(rms > 0)) return SILENCE_DB;
  return Math.max(SILENCE_DB, Math.min(0, Math.round(20 * Math.log10(rms))));
}

/**
 * What went wrong when asking the browser for the microphone (`getUserMedia`'s error).
 * @param {unknown} err
 * @returns {MicProblem}
 */
export function micProblem(err) {
  const name = /** @type {{name?: unknown}} */ (err ?? {}).name;
  switch (name) {
    case "NotAllowedError": case "SecurityError": case "PermissionDeniedError": return "blocked";
    case "NotFoundError": case "OverconstrainedError": case "DevicesNotFoundError": return "missing";
    case "NotReadableError": case "TrackStartError": case "AbortError": return "busy";
    default: return "failed";
  }
}

export class VoiceCore {
  constructor() {
    this.reset();
  }

  /** A new session (or none): nothing wanted, nothing known. */
  reset() {
    /** The operator wants to talk: from Start voice until they hang up or the customer says no. */
    this.wanted = false;
    /** @type {MicState} */
    this.mic = "none";
    this.muted = false;
    /** How voice last stopped; null while it has not, or since Start voice. @type {"hung_up" | "denied" | "revoked" | null} */
    this.stopped = null;
    /** Hung up while the customer had the question: a late yes is handed back at once. */
    this.cancelAsk = false;
    /** Where consent for voice stands, as last seen (`ConsentTracker.status("voice")`). @type {Status} */
    this.consent = "unknown";
    /** @type {RemoteVoice | null} */
    this.remote = null;
  }

  /**
   * Whether audio transceivers are answered `sendrecv`: unless the operator hung up or the
   * customer said no or took voice back. The peer offers one only while voice is allowed, so
   * this is "while voice is wanted or allowed", and holds before consent is known (an offer can
   * come before the customer's consent_state, as it does when voice was allowed beforehand).
   */
  get sends() {
    return this.wanted || this.stopped === null;
  }

  /** @returns {VoicePhase} */
  phase() {
    if (this.wanted) {
      if (this.mic === "pending") return "starting";
      if (this.consent !== "granted") return "asking";
      if (this.mic !== "live") return "listening";
      return this.muted ? "muted" : "on";
    }
    if (this.consent === "granted") return "allowed";
    return this.stopped ?? "off";
  }

  /**
   * The microphone's problem while the operator wants to talk without one, else null.
   * @returns {MicProblem | null}
   */
  micProblem() {
    if (!this.wanted || this.mic === "none" || this.mic === "pending" || this.mic === "live") return null;
    return this.mic;
  }

  /**
   * The operator pressed Start voice (or a call began): the microphone first. Pressed again
   * without a microphone, it tries the microphone again.
   * @returns {VoiceAction[]}
   */
  start() {
    if (this.wanted && (this.mic === "pending" || this.mic === "live")) return [];
    this.wanted = true;
    this.stopped = null;
    this.cancelAsk = false;
    this.muted = false;
    this.mic = "pending";
    return [{ type: "get_mic" }];
  }

  /**
   * The browser answered: a microphone ("live") or why not. Either way the customer is asked
   * next, unless voice is allowed already or the question is open.
   * @param {"live" | MicProblem} result
   * @returns {VoiceAction[]}
   */
  micReady(result) {
    if (!this.wanted || this.mic !== "pending") return result === "live" ? [{ type: "stop_mic" }] : [];
    this.mic = result;
    /** @type {VoiceAction[]} */
    const actions = [{ type: "attach" }];
    if (this.consent !== "granted" && this.consent !== "asked") actions.push({ type: "ask" });
    return actions;
  }

  /**
   * The microphone stopped by itself (unplugged): listening only from now on.
   * @returns {VoiceAction[]}
   */
  micLost() {
    if (this.mic !== "live") return [];
    this.mic = "lost";
    this.muted = false;
    return [{ type: "stop_mic" }];
  }

  /**
   * Where consent for voice stands now; a change may stop the microphone or hand voice back.
   * @param {Status} status
   * @returns {VoiceAction[]}
   */
  consentIs(status) {
    const before = this.consent;
    // a fresh connection after a drop: nothing is known until the peer's next consent_state,
    // which says voice again (the customer's peer keeps it); meanwhile the call goes on
    if (status === "unknown" && before === "granted") return [];
    // ... and if that consent_state leaves voice out, it is gone as if taken back
    if (status === "off" && before === "granted") status = "revoked";
    this.consent = status;
    if (status === before) return [];
    /** @type {VoiceAction[]} */
    const actions = [];
    if (status === "granted") {
      if (this.cancelAsk && !this.wanted) actions.push({ type: "release" });
      this.cancelAsk = false;
      return actions;
    }
    if (before === "granted" || status === "denied" || status === "revoked") this.remote = null;
    if (status === "denied" || status === "revoked") {
      this.cancelAsk = false;
      if (this.wanted || before === "granted") {
        this.stopped = status;
        this.wanted = false;
        this.muted = false;
        if (this.mic !== "none") actions.push({ type: "stop_mic" });
        this.mic = "none";
      }
    }
    return actions;
  }

  /**
   * The operator hangs up: the microphone stops; voice is handed back if it was allowed (if the
   * customer still has the question, a late yes is handed back when it comes).
   * @returns {VoiceAction[]}
   */
  hangUp() {
    if (!this.wanted && this.consent !== "granted") return [];
    /** @type {VoiceAction[]} */
    const actions = [];
    if (this.mic !== "none") actions.push({ type: "stop_mic" });
    if (this.consent === "granted") {
      actions.push({ type: "release" });
      this.consent = "released"; // as the tracker says from now on (`ConsentTracker.release`)
    } else if (this.consent === "asked") {
      this.cancelAsk = true;
    }
    this.wanted = false;
    this.mic = "none";
    this.muted = false;
    this.stopped = "hung_up";
    this.remote = null;
    return actions;
  }

  /** @returns {VoiceAction[]} */
  toggleMute() {
    if (!this.wanted || this.mic !== "live") return [];
    this.muted = !this.muted;
    return [{ type: "mute", muted: this.muted }];
  }

  /**
   * The peer's `voice_state`.
   * @param {RemoteVoice} state
   * @returns {boolean} whether it says something new
   */
  remoteState(state) {
    const same = this.remote?.mic === state.mic && this.remote?.speaker === state.speaker;
    this.remote = { mic: state.mic, speaker: state.speaker };
    return !same;
  }
}

/**
 * What the customer's side says about its microphone and speakers, in words: one sentence for
 * each that is not simply working ("on").
 * @param {RemoteVoice | null} state
 * @returns {Msg[]}
 */
export function customerVoiceWords(state) {
  if (!state) return [];
  /** @type {Msg[]} */
  const words = [];
  switch (state.mic) {
    case "muted": words.push(msg("voice.customer.mic_muted")); break;
    case "no_device": words.push(msg("voice.customer.mic_no_device")); break;
    case "busy": words.push(msg("voice.customer.mic_busy")); break;
    case "lost": words.push(msg("voice.customer.mic_lost")); break;
  }
  switch (state.speaker) {
    case "no_device": words.push(msg("voice.customer.speaker_no_device")); break;
    case "busy": words.push(msg("voice.customer.speaker_busy")); break;
    case "lost": words.push(msg("voice.customer.speaker_lost")); break;
  }
  return words;
}

/**
 * What the operator's microphone problem means, in one sentence.
 * @param {MicProblem} problem
 * @returns {Msg}
 */
export function micProblemWords(problem) {
  switch (problem) {
    case "blocked": return msg("voice.mic.blocked");
    case "missing": return msg("voice.mic.missing");
    case "busy": return msg("voice.mic.busy");
    case "insecure": return msg("voice.mic.insecure");
    case "lost": return msg("voice.mic.lost");
    case "failed": return msg("voice.mic.failed");
  }
}

/**
 * @typedef {{
 *   phase: VoicePhase,
 *   state: Msg,
 *   detail: Msg | null,
 *   alert: boolean,
 *   start: {hidden: boolean, disabled: boolean},
 *   hangUp: boolean,
 *   mute: {hidden: boolean, muted: boolean},
 *   meters: boolean,
 *   customer: Msg[],
 * }} VoiceView
 *   state: #voice-state's one sentence; detail: a second one when both need saying (asking the
 *   customer while the microphone is missing); alert: the sentence says something went wrong;
 *   hangUp: the button is shown; meters: the level meters are shown; customer: what the
 *   customer's side says about its microphone and speakers
 */

/** Phases in which there is a call to hang up, and levels to show. */
const CALLING = new Set(["starting", "asking", "listening", "on", "muted", "allowed"]);

/**
 * What the voice panel shows.
 * @param {VoiceCore} core
 * @param {boolean} open whether the control channel is open (a request can be sent)
 * @returns {VoiceView}
 */
export function voiceView(core, open) {
  const phase = core.phase();
  const problem = core.micProblem();
  /** @type {Msg} */
  let state = msg("voice.state.off");
  /** @type {Msg | null} */
  let detail = null;
  switch (phase) {
    case "off": state = msg("voice.state.off"); break;
    case "hung_up": state = msg("voice.state.hung_up"); break;
    case "denied": state = msg("voice.state.denied"); break;
    case "revoked": state = msg("voice.state.revoked"); break;
    case "allowed": state = msg("voice.state.allowed"); break;
    case "starting": state = msg("voice.state.starting"); break;
    case "asking": state = msg("voice.state.asking"); break;
    case "listening": state = msg("voice.state.listening"); break;
    case "on": state = msg("voice.state.on"); break;
    case "muted": state = msg("voice.state.muted"); break;
  }
  const calling = CALLING.has(phase);
  const customer = calling && phase !== "starting" ? customerVoiceWords(core.remote) : [];
  // "both hear each other" only while the customer's side says nothing against it
  if (phase === "on" && customer.length) state = msg("voice.state.on_trouble");
  if (problem) {
    detail = state;
    state = micProblemWords(problem);
  }
  if (!open && !calling) state = msg("common.waiting_customer");
  return {
    phase,
    state,
    detail,
    alert: problem !== null || phase === "denied" || phase === "revoked",
    // to start, or (without a microphone) to try the microphone again
    start: { hidden: calling && problem === null && phase !== "allowed", disabled: !open || phase === "starting" },
    hangUp: calling,
    mute: { hidden: phase !== "on" && phase !== "muted", muted: phase === "muted" },
    meters: calling,
    customer,
  };
}

/**
 * A log line for a new `voice_state`.
 * @param {RemoteVoice} state
 * @returns {Msg}
 */
export function remoteLogLine(state) {
  return msg("log.voice.customer_state", { mic: state.mic, speaker: state.speaker });
}
