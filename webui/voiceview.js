// @ts-check
/**
 * The voice panel: Start voice, Hang up, Mute, where the call stands in one sentence, what the
 * customer's side says about its microphone and speakers, two level meters, the microphone and
 * the output device, and the one `<audio>` that plays the customer's voice.
 *
 * The state machine and the words are `voice.js`'s; this module carries out what it says: the
 * microphone (`getUserMedia` with echo cancellation, noise suppression and gain control), the
 * request and release of consent on the control channel, and the levels (a Web Audio
 * `AnalyserNode` on each side, sampled ten times a second into `data-level`, in dBFS).
 *
 * The connection reaches it through its `AudioPort` (`panels.js`): `local()` before every answer
 * (`PeerLink.localAudio`), `remote(track)` when the customer's sound arrives, `stopped(track)`
 * when the peer stops sending it. A microphone found after the transceiver exists goes on it at
 * once (`PeerLink.refreshLocalAudio`); a fresh connection after a drop asks `local()` again.
 *
 * `VOICE_PANEL` registers it as the panel of the `voice` capability (`panels.js`). In a call
 * it asks for voice by itself once the control channel is open, as Start voice would.
 */

import { msg, onLanguageChange, t } from "./i18n.js";
import { definePanel } from "./panels.js";
import { byId, say, show } from "./ui.js";
import { SILENCE_DB, VoiceCore, levelDb, micProblem, remoteLogLine, voiceView } from "./voice.js";

/**
 * @typedef {import("./voice.js").VoiceAction} VoiceAction
 * @typedef {import("./voice.js").MicProblem} MicProblem
 * @typedef {{
 *   panel: HTMLElement,
 *   state: HTMLElement,
 *   detail: HTMLElement,
 *   customer: HTMLElement,
 *   startButton: HTMLButtonElement,
 *   hangUpButton: HTMLButtonElement,
 *   muteButton: HTMLButtonElement,
 *   levels: HTMLElement,
 *   micLevel: HTMLMeterElement,
 *   outLevel: HTMLMeterElement,
 *   devices: HTMLElement,
 *   micSelect: HTMLSelectElement,
 *   outField: HTMLElement,
 *   outSelect: HTMLSelectElement,
 *   audio: HTMLAudioElement,
 * }} VoiceElements
 * @typedef {{
 *   send: (msg: {type: string, [field: string]: any}) => boolean,
 *   isOpen: () => boolean,
 *   consent: import("./consent.js").ConsentTracker,
 *   link: () => import("./rtc.js").PeerLink | null,
 *   log: (line: string, level?: "info" | "error") => void,
 * }} VoiceHooks
 *   send and isOpen: the control channel
 */

/** How often the meters are read while voice is on (ms). */
const METER_MS = 100;
/** Where the chosen devices are remembered. */
const MIC_KEY = "supportlink.voice.mic";
const OUT_KEY = "supportlink.voice.output";

/** Whether this browser can send sound to a chosen output device (Chromium can; Firefox, Safari not). */
export function canChooseOutput() {
  return typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
}

/** Whether the page may ask for a microphone at all (browsers offer it only to secure pages). */
function hasMicrophoneApi() {
  return typeof navigator.mediaDevices?.getUserMedia === "function";
}

/** @param {string} key */
function recall(key) {
  try {
    return localStorage.getItem(key) ?? "";
  } catch {
    return "";
  }
}

/** @param {string} key @param {string} value */
function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage disabled: the choice lasts until the page is left
  }
}

/** One level meter: an analyser on a stream, its level on the `<meter>` and in `data-level`. */
class LevelMeter {
  /** @param {HTMLMeterElement} el */
  constructor(el) {
    this.el = el;
    /** @type {MediaStreamAudioSourceNode | null} */
    this.source = null;
    /** @type {AnalyserNode | null} */
    this.analyser = null;
    /** @type {Float32Array<ArrayBuffer> | null} */
    this.samples = null;
    this.show(SILENCE_DB);
  }

  /**
   * Measure `stream` from now on.
   * @param {AudioContext} context
   * @param {AudioNode} sink where the analyser's output goes (silent), so the graph runs
   * @param {MediaStream} stream
   */
  attach(context, sink, stream) {
    this.detach();
    this.source = context.createMediaStreamSource(stream);
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = 2048;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
    this.analyser.connect(sink);
  }

  detach() {
    this.source?.disconnect();
    this.analyser?.disconnect();
    this.source = null;
    this.analyser = null;
    this.samples = null;
    this.show(SILENCE_DB);
  }

  sample() {
    if (!this.analyser || !this.samples) return this.show(SILENCE_DB);
    this.analyser.getFloatTimeDomainData(this.samples);
    this.show(levelDb(this.samples));
  }

  /** @param {number} db */
  show(db) {
    this.el.dataset.level = String(db);
    this.el.value = Math.max(this.el.min, db);
  }
}

export class VoicePanel {
  /**
   * @param {VoiceElements} el
   * @param {VoiceHooks} hooks
   */
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.core = new VoiceCore();
    /** The session offers voice now (paired, and the peer carries it). */
    this.live = false;
    /** @type {string | null} */
    this.mode = null;
    /** A call asks for voice by itself, once per session. */
    this.autoStarted = false;
    /** The operator's microphone while there is one. @type {MediaStream | null} */
    this.mic = null;
    /** The customer's sound on the page. @type {MediaStreamTrack | null} */
    this.remoteTrack = null;
    /** Each getUserMedia asked for; an answer to an older one is stale. */
    this.micRequest = 0;
    /** @type {AudioContext | null} */
    this.context = null;
    /** @type {GainNode | null} */
    this.sink = null;
    this.micMeter = new LevelMeter(el.micLevel);
    this.outMeter = new LevelMeter(el.outLevel);
    /** @type {ReturnType<typeof setInterval> | null} */
    this.meterTimer = null;
    /** Sound the browser would not play yet: tried again on the next click. */
    this.blocked = false;

    el.startButton.addEventListener("click", () => this.startVoice());
    el.hangUpButton.addEventListener("click", () => this.hangUp());
    el.muteButton.addEventListener("click", () => this.#run(this.core.toggleMute()));
    el.micSelect.addEventListener("change", () => void this.#micChosen());
    el.outSelect.addEventListener("change", () => void this.#outputChosen());
    navigator.mediaDevices?.addEventListener?.("devicechange", () => void this.#listDevices());
    document.addEventListener("click", () => {
      if (this.blocked) this.#play();
    });
    show(el.outField, canChooseOutput());
    show(el.outSelect, canChooseOutput());
    this.#fill([]);
    this.reset();
    onLanguageChange(() => {
      void this.#listDevices();
      this.update();
    });
  }

  // ------------------------------------------------------------------- the session

  /**
   * Paired: nothing of an earlier session.
   * @param {string} mode
   */
  startSession(mode) {
    this.reset();
    this.mode = mode;
    void this.#listDevices();
  }

  /** The session is over, or a new one is being made: no microphone, no sound, nothing shown. */
  reset() {
    this.micRequest++;
    this.#stopMic();
    this.#clearRemote();
    this.core.reset();
    this.live = false;
    this.mode = null;
    this.autoStarted = false;
    this.update();
  }

  /** A fresh connection replaced a lost one: the customer's sound and state come again on it. */
  relink() {
    this.#clearRemote();
    this.core.remote = null;
    this.update();
  }

  /**
   * What the session offers now.
   * @param {boolean} offered the peer carries voice in this live session
   * @param {string | null} mode
   */
  follow(offered, mode) {
    this.live = offered;
    if (mode !== null) this.mode = mode;
    this.update();
    // a call is a voice call: ask for voice once the customer can be asked, as Start voice does
    if (this.live && this.mode === "call" && !this.autoStarted && this.hooks.isOpen()) {
      this.autoStarted = true;
      this.hooks.log(t("log.voice.call_start"));
      this.#begin();
    }
  }

  // ------------------------------------------------------------------- the operator's buttons

  /** Start voice (or, without a microphone, try it again). */
  startVoice() {
    this.#begin();
  }

  #begin() {
    this.#audioContext()?.resume().catch(() => {});
    this.#run(this.core.start());
  }

  hangUp() {
    const before = this.core.phase();
    this.#run(this.core.hangUp());
    if (this.core.phase() !== before) this.hooks.log(t("log.voice.hung_up"));
  }

  // ------------------------------------------------------------------- from the peer

  /** @param {{mic: string, speaker: string}} state a `voice_state` */
  voiceState(state) {
    if (this.core.remoteState(state)) {
      const line = remoteLogLine(state);
      this.hooks.log(t(line.key, line.params));
    }
    this.update();
  }

  /** @returns {import("./rtc.js").LocalAudio} what the connection sends (asked before every answer) */
  local() {
    const track = this.core.wanted && this.core.mic === "live" ? this.mic?.getAudioTracks()[0] ?? null : null;
    return { send: this.core.sends, track };
  }

  /**
   * The customer's sound arrived (at the start, or with a later offer): play it and measure it.
   * @param {MediaStreamTrack} track
   * @param {() => boolean} current whether the connection it came on is still the current one
   */
  remote(track, current) {
    this.remoteTrack = track;
    const stream = new MediaStream([track]);
    this.el.audio.srcObject = stream;
    this.#play();
    const context = this.#audioContext();
    if (context && this.sink) this.outMeter.attach(context, this.sink, stream);
    track.addEventListener("mute", () => {
      if (current()) this.hooks.log(t("log.media.track_paused", { kind: track.kind }));
    });
    track.addEventListener("unmute", () => {
      if (current()) this.hooks.log(t("log.media.track_resumed", { kind: track.kind }));
    });
    track.addEventListener("ended", () => {
      if (current()) this.stopped(track);
    });
    this.update();
  }

  /**
   * The customer's sound stopped for good (ended, or the peer turned its transceiver off).
   * @param {MediaStreamTrack} track
   */
  stopped(track) {
    if (track !== this.remoteTrack) return;
    this.hooks.log(t("log.media.track_ended", { kind: track.kind }));
    this.#clearRemote();
    this.update();
  }

  // ------------------------------------------------------------------- carrying out

  /** @param {VoiceAction[]} actions */
  #run(actions) {
    for (const action of actions) {
      switch (action.type) {
        case "get_mic": void this.#getMic(); break;
        case "stop_mic": this.#stopMic(); void this.#attach(); break;
        case "attach": void this.#attach(); break;
        case "ask": this.#ask(); break;
        case "release": this.#release(); break;
        case "mute": this.#mute(action.muted); break;
      }
    }
    this.update();
  }

  async #getMic() {
    const request = ++this.micRequest;
    /** @type {"live" | MicProblem} */
    let result = "live";
    try {
      const stream = await this.#openMic(this.el.micSelect.value);
      if (request !== this.micRequest) {
        for (const track of stream.getTracks()) track.stop();
        return;
      }
      this.#useMic(stream);
      this.hooks.log(t("log.voice.mic_on", { label: stream.getAudioTracks()[0]?.label || "?" }));
      void this.#listDevices(); // now the devices have names
    } catch (err) {
      if (request !== this.micRequest) return;
      result = hasMicrophoneApi() ? micProblem(err) : "insecure";
      const error = /** @type {Error} */ (err);
      this.hooks.log(t("log.voice.mic_failed", { error: `${error?.name ?? ""} ${error?.message ?? err}`.trim() }), "error");
    }
    this.#run(this.core.micReady(result));
  }

  /**
   * @param {string} deviceId "" for the browser's default
   * @returns {Promise<MediaStream>}
   */
  #openMic(deviceId) {
    if (!hasMicrophoneApi()) return Promise.reject(new Error("no navigator.mediaDevices (not a secure page)"));
    /** @type {MediaTrackConstraints} */
    const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (deviceId) audio.deviceId = deviceId;
    return navigator.mediaDevices.getUserMedia({ audio, video: false });
  }

  /** @param {MediaStream} stream the new microphone (an old one stops) */
  #useMic(stream) {
    const old = this.mic;
    this.mic = stream;
    const track = stream.getAudioTracks()[0];
    if (track) {
      track.enabled = !this.core.muted;
      track.addEventListener("ended", () => {
        if (this.mic !== stream) return;
        this.hooks.log(t("log.voice.mic_lost"), "error");
        this.#run(this.core.micLost());
      });
    }
    const context = this.#audioContext();
    if (context && this.sink) this.micMeter.attach(context, this.sink, stream);
    if (old) for (const stale of old.getTracks()) stale.stop();
  }

  #stopMic() {
    const stream = this.mic;
    this.mic = null;
    this.micMeter.detach();
    if (stream) for (const track of stream.getTracks()) track.stop();
  }

  /** Tell the connection what the microphone is now. */
  async #attach() {
    try {
      await this.hooks.link()?.refreshLocalAudio();
    } catch (err) {
      this.hooks.log(t("log.voice.attach_failed", { error: String(/** @type {Error} */ (err)?.message ?? err) }), "error");
    }
  }

  #ask() {
    if (!this.hooks.send({ type: "consent_request", capability: "voice" })) {
      this.hooks.log(t("log.voice.ask_closed"), "error");
      return;
    }
    this.hooks.consent.ask("voice");
    this.hooks.log(t("log.consent.asked_voice"));
  }

  #release() {
    this.hooks.consent.release("voice");
    if (!this.hooks.send({ type: "release", capability: "voice" })) this.hooks.log(t("log.voice.release_closed"), "error");
  }

  /** @param {boolean} muted */
  #mute(muted) {
    for (const track of this.mic?.getAudioTracks() ?? []) track.enabled = !muted;
    this.hooks.log(muted ? t("log.voice.muted") : t("log.voice.unmuted"));
  }

  /** Another microphone was chosen: remembered, and used at once if voice is on. */
  async #micChosen() {
    const deviceId = this.el.micSelect.value;
    remember(MIC_KEY, deviceId);
    if (!this.core.wanted || this.core.mic !== "live") return;
    try {
      const stream = await this.#openMic(deviceId);
      if (!this.core.wanted) {
        for (const track of stream.getTracks()) track.stop();
        return;
      }
      this.#useMic(stream);
      this.hooks.log(t("log.voice.mic_on", { label: stream.getAudioTracks()[0]?.label || "?" }));
      await this.#attach();
    } catch (err) {
      this.hooks.log(t("log.voice.mic_failed", { error: String(/** @type {Error} */ (err)?.message ?? err) }), "error");
    }
  }

  /** Another output device was chosen (where the browser can). */
  async #outputChosen() {
    const deviceId = this.el.outSelect.value;
    remember(OUT_KEY, deviceId);
    await this.#setOutput(deviceId);
  }

  /** @param {string} deviceId */
  async #setOutput(deviceId) {
    if (!canChooseOutput()) return;
    const audio = /** @type {HTMLAudioElement & {setSinkId: (id: string) => Promise<void>}} */ (this.el.audio);
    try {
      await audio.setSinkId(deviceId);
      const label = this.el.outSelect.selectedOptions[0]?.textContent ?? deviceId;
      this.hooks.log(t("log.voice.output", { label }));
    } catch (err) {
      this.hooks.log(t("log.voice.output_failed", { error: String(/** @type {Error} */ (err)?.message ?? err) }), "error");
    }
  }

  /** The microphones and outputs the browser names (their names once the microphone was allowed). */
  async #listDevices() {
    if (!navigator.mediaDevices?.enumerateDevices) return this.#fill([]);
    try {
      this.#fill(await navigator.mediaDevices.enumerateDevices());
    } catch {
      this.#fill([]);
    }
  }

  /** @param {MediaDeviceInfo[]} devices */
  #fill(devices) {
    /**
     * @param {HTMLSelectElement} select
     * @param {MediaDeviceInfo[]} list
     * @param {string} fallback the chosen one when the select has none yet
     * @param {(n: number) => string} unnamed
     * @param {string} standard
     */
    const fill = (select, list, fallback, unnamed, standard) => {
      const chosen = select.value || fallback;
      const first = document.createElement("option");
      first.value = "";
      first.textContent = standard;
      const options = list.filter((d) => d.deviceId && d.deviceId !== "default").map((d, i) => {
        const option = document.createElement("option");
        option.value = d.deviceId;
        option.textContent = d.label || unnamed(i + 1);
        return option;
      });
      select.replaceChildren(first, ...options);
      select.value = options.some((o) => o.value === chosen) ? chosen : "";
    };
    fill(this.el.micSelect, devices.filter((d) => d.kind === "audioinput"), recall(MIC_KEY),
      (n) => t("voice.mic_n", { n: String(n) }), t("voice.mic_default"));
    if (canChooseOutput()) {
      const before = this.el.outSelect.value;
      fill(this.el.outSelect, devices.filter((d) => d.kind === "audiooutput"), recall(OUT_KEY),
        (n) => t("voice.out_n", { n: String(n) }), t("voice.out_default"));
      if (this.el.outSelect.value !== before) void this.#setOutput(this.el.outSelect.value);
    }
  }

  #play() {
    this.el.audio.play().then(() => {
      this.blocked = false;
    }, (err) => {
      if (!this.el.audio.srcObject) return;
      this.blocked = true;
      this.hooks.log(t("log.media.sound_blocked", { error: String(err?.message ?? err) }), "error");
    });
  }

  #clearRemote() {
    this.remoteTrack = null;
    this.outMeter.detach();
    this.el.audio.srcObject = null;
    this.blocked = false;
  }

  /** The page's one AudioContext, made on first use (null where there is no Web Audio). */
  #audioContext() {
    if (this.context) return this.context;
    if (typeof AudioContext !== "function") return null;
    this.context = new AudioContext();
    this.sink = this.context.createGain();
    this.sink.gain.value = 0; // the meters only listen: nothing of theirs reaches the speakers
    this.sink.connect(this.context.destination);
    return this.context;
  }

  // ------------------------------------------------------------------- the page

  /** Show what applies now (and follow consent: it may stop the microphone). */
  update() {
    const open = this.live && this.hooks.isOpen();
    if (this.live) {
      const actions = this.core.consentIs(this.hooks.consent.status("voice"));
      if (actions.length) return this.#run(actions);
    }
    const el = this.el;
    const view = voiceView(this.core, open);
    el.panel.hidden = !this.live;
    el.panel.dataset.phase = view.phase;
    el.panel.dataset.trouble = String(view.customer.length > 0); // the customer's side says something is wrong
    say(el.state, view.state);
    el.state.classList.toggle("alert-text", view.alert);
    if (view.detail) say(el.detail, view.detail);
    show(el.detail, view.detail !== null);
    const said = JSON.stringify(view.customer);
    if (el.customer.dataset.said !== said) { // an aria-live list: redrawn only when it changes
      el.customer.dataset.said = said;
      el.customer.replaceChildren(...view.customer.map((words) => {
        const item = document.createElement("li");
        say(item, words);
        return item;
      }));
    }
    show(el.customer, view.customer.length > 0);
    show(el.startButton, !view.start.hidden);
    el.startButton.disabled = view.start.disabled;
    show(el.hangUpButton, view.hangUp);
    show(el.muteButton, !view.mute.hidden);
    say(el.muteButton, view.mute.muted ? msg("voice.unmute") : msg("voice.mute"));
    el.muteButton.setAttribute("aria-pressed", String(view.mute.muted));
    show(el.levels, view.meters);
    this.#meters(this.live && (view.meters || this.remoteTrack !== null));
  }

  /** @param {boolean} on whether the meters are read (ten times a second) */
  #meters(on) {
    if (on && !this.meterTimer) {
      this.meterTimer = setInterval(() => {
        this.micMeter.sample();
        this.outMeter.sample();
      }, METER_MS);
    } else if (!on && this.meterTimer) {
      clearInterval(this.meterTimer);
      this.meterTimer = null;
      this.micMeter.show(SILENCE_DB);
      this.outMeter.show(SILENCE_DB);
    }
  }
}

/** The `voice` capability's panel: `voice_state` from the peer; the customer's sound and the operator's microphone. */
export const VOICE_PANEL = definePanel({
  capability: "voice",
  receives: { control: ["voice_state"] },
  create: (hooks) => {
    const voice = new VoicePanel(
      { panel: byId("voice-panel"), state: byId("voice-state"), detail: byId("voice-detail"),
        customer: byId("voice-customer"), startButton: byId("voice-start"), hangUpButton: byId("voice-hangup"),
        muteButton: byId("voice-mute"), levels: byId("voice-levels"), micLevel: byId("voice-mic-level"),
        outLevel: byId("voice-out-level"), devices: byId("voice-devices"), micSelect: byId("voice-mic-select"),
        outField: byId("voice-out-field"), outSelect: byId("voice-out-select"), audio: byId("voice-audio") },
      { send: (msg) => hooks.send("control", msg), isOpen: () => hooks.isOpen("control"), consent: hooks.consent,
        link: hooks.link, log: hooks.log },
    );
    return {
      start: (facts) => voice.startSession(facts.mode),
      update: (now) => voice.follow(now.offered, now.mode),
      receive: (_label, msg) => voice.voiceState({ mic: msg.mic, speaker: msg.speaker }),
      relink: () => voice.relink(),
      end: () => voice.reset(),
      reset: () => voice.reset(),
      audio: {
        local: () => voice.local(),
        remote: (track, current) => voice.remote(track, current),
        stopped: (track) => voice.stopped(track),
      },
    };
  },
});
