// @ts-check
/**
 * The call view: what the stage shows in a voice-only session (mode "call") instead of the
 * black picture — who is on the call, how long it has lasted, the voice controls (the voice
 * panel, `voiceview.js`, moved here while there is no picture), how the call sounds
 * (`stats.js`'s `callQuality`) and "Ask to see the screen" (`consent_request{view}`).
 *
 * When the customer lets the operator see their screen, the peer adds the video by a new offer
 * and the picture takes the stage; the call view shrinks to one line above it and the voice
 * panel goes back to the session column, as in a screen session.
 *
 * The pure helpers come first (tested with node); `CallView` is the DOM around them, driven by
 * `live.js`.
 *
 *   const call = new CallView({requestView: () => consent.requestView()});
 *   call.start({mode: "call", user, host, operator, startedAt});
 *   call.update({mode, visible, view, viewOffered, open, voiceOffered, known});
 *   call.quality(q);   // once a second
 *   call.end();        // the session is over
 */

import { formatElapsed } from "./format.js";
import { msg, onLanguageChange } from "./i18n.js";
import { callQuality } from "./stats.js";
import { byId, say, setText, show } from "./ui.js";

/**
 * @typedef {import("./i18n.js").Msg} Msg
 * @typedef {import("./consent.js").Status} Status
 * @typedef {import("./stats.js").CallQuality} CallQuality
 * @typedef {{mode: string, user: string, host: string, operator: string, startedAt: Date}} CallFacts
 * @typedef {{
 *   mode: string | null,
 *   visible: boolean,
 *   view: Status,
 *   viewOffered: boolean,
 *   open: boolean,
 *   voiceOffered: boolean,
 *   known: boolean,
 * }} CallUpdate
 *   visible: the customer's picture is on the stage; view: where screen viewing stands;
 *   viewOffered, voiceOffered: the peer carries them in this session; open: the control channel
 *   is open; known: the peer has said what it carries
 * @typedef {{button: "hidden" | "waiting" | "offered", note: Msg | null, alert: boolean}} SeeScreen
 */

/**
 * "Ask to see the screen" and the words beside it.
 * @param {Status} view where screen viewing stands (`ConsentTracker.status("view")`)
 * @param {{offered: boolean, open: boolean, visible: boolean}} now
 * @returns {SeeScreen}
 */
export function seeScreen(view, { offered, open, visible }) {
  if (!offered || visible) return { button: "hidden", note: null, alert: false };
  switch (view) {
    case "granted": return { button: "hidden", note: msg("call.screen.waiting"), alert: false };
    case "asked": return { button: "waiting", note: msg("call.screen.asked"), alert: false };
    case "denied": return { button: open ? "offered" : "hidden", note: msg("call.screen.denied"), alert: true };
    case "revoked": return { button: open ? "offered" : "hidden", note: msg("call.screen.revoked"), alert: true };
    default: return { button: open ? "offered" : "hidden", note: null, alert: false };
  }
}

/**
 * How the call sounds, in words: a verdict and the figures behind it.
 * @param {CallQuality} q
 * @returns {Msg}
 */
export function callQualityWords(q) {
  const dash = "–";
  const details = msg("call.quality.details", {
    rtt: q.rttMs === null ? dash : String(q.rttMs),
    loss: q.lossPct === null ? dash : String(q.lossPct),
    jitter: q.jitterMs === null ? dash : String(q.jitterMs),
  });
  switch (q.level) {
    case "good": return msg("call.quality.good", { details });
    case "fair": return msg("call.quality.fair", { details });
    case "poor": return msg("call.quality.poor", { details });
    default: return msg("call.quality.measuring");
  }
}

/**
 * The letter in the round badge: the first character of the customer's name, in capitals.
 * @param {string} user
 */
export function initial(user) {
  const first = [...user.trim()][0] ?? "?";
  return first.toLocaleUpperCase();
}

export class CallView {
  /** @param {{requestView: () => void}} hooks */
  constructor(hooks) {
    this.el = {
      stage: byId("stage"),
      stageTitle: byId("stage-title"),
      view: byId("call-view"),
      avatar: byId("call-avatar"),
      customer: byId("call-customer"),
      operator: byId("call-operator"),
      duration: byId("call-duration"),
      voiceSlot: byId("call-voice-slot"),
      voicePanel: byId("voice-panel"),
      voiceHome: byId("voice-home"),
      noVoice: byId("call-no-voice"),
      quality: byId("call-quality"),
      seeScreen: /** @type {HTMLButtonElement} */ (byId("call-see-screen")),
      screenNote: byId("call-screen-note"),
    };
    /** @type {CallFacts | null} */
    this.facts = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
    /** @type {CallQuality} */
    this.sound = callQuality(null);
    this.el.seeScreen.addEventListener("click", () => hooks.requestView());
    onLanguageChange(() => this.#tick());
    this.reset();
  }

  /**
   * Paired: in a call, the call view takes the stage.
   * @param {CallFacts} facts
   */
  start(facts) {
    this.reset();
    if (facts.mode !== "call") return;
    this.facts = { ...facts };
    const el = this.el;
    setText(el.avatar, initial(facts.user));
    say(el.customer, msg("call.customer", { user: facts.user, host: facts.host }));
    say(el.operator, msg("call.operator", { operator: facts.operator }));
    this.#tick();
    this.timer = setInterval(() => this.#tick(), 1000);
  }

  /** @param {CallUpdate} now */
  update(now) {
    const el = this.el;
    const call = this.facts !== null && now.mode === "call";
    el.stage.dataset.mode = call ? "call" : "screen";
    el.stage.classList.toggle("showing-picture", call && now.visible);
    say(el.stageTitle, call ? msg("call.heading") : msg("stage.heading"));
    show(el.view, call);
    el.view.classList.toggle("compact", call && now.visible);
    // the voice controls live in the call view while it has the stage to itself
    const slot = call && !now.visible ? el.voiceSlot : el.voiceHome;
    if (el.voicePanel.parentElement !== slot) slot.append(el.voicePanel);
    show(el.noVoice, call && now.known && !now.voiceOffered && !now.visible);
    const see = seeScreen(now.view, { offered: call && now.viewOffered, open: now.open, visible: now.visible });
    show(el.seeScreen, see.button !== "hidden");
    el.seeScreen.disabled = see.button === "waiting";
    if (see.note) say(el.screenNote, see.note);
    show(el.screenNote, see.note !== null);
    el.screenNote.classList.toggle("alert-text", see.alert);
  }

  /** @param {import("./stats.js").Quality | null} q the latest sample; null: nothing measured */
  quality(q) {
    this.sound = callQuality(q);
    this.el.quality.dataset.level = this.sound.level ?? "";
    say(this.el.quality, callQualityWords(this.sound));
  }

  /** The session is over: the clock stops and the stage is the picture's again. */
  end() {
    this.reset();
  }

  /** No call: nothing shown. */
  reset() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.facts = null;
    setText(this.el.duration, formatElapsed(0));
    this.quality(null);
    this.update({ mode: null, visible: false, view: "unknown", viewOffered: false, open: false, voiceOffered: false, known: false });
  }

  #tick() {
    if (!this.facts) return;
    const seconds = (Date.now() - this.facts.startedAt.getTime()) / 1000;
    setText(this.el.duration, formatElapsed(seconds));
    this.el.duration.setAttribute("datetime", `PT${Math.floor(Math.max(0, seconds))}S`);
  }
}
