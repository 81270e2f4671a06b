// @ts-check
/**
 * The session card's DOM: the status line and its detail, the start and code panels with the
 * countdown and the link to the customer's page (`/join#<code>`), the customer's join request,
 * who the customer is, the verification code and the end button. It holds no session state:
 * `controller.js` says what to show.
 *
 *   const view = new SessionView({create, cancel, accept, reject, end});
 *   view.phase("waiting", msg("status.waiting_for_code"));
 *   view.code("123456789", expiresAt, () => ...);   // shown with its countdown
 *   view.reconnecting("customer_lost");             // #status[data-reconnect]; null when nothing is lost
 *   view.verificationChanged();                      // the alert in the verification panel
 */

import { formatCode, formatCountdown, secondsLeft } from "./format.js";
import { msg } from "./i18n.js";
import { joinUrl } from "./joinpage.js";
import { MODES } from "./protocol.js";
import { byId, say, setText, show } from "./ui.js";

/**
 * @typedef {import("./session.js").Phase} Phase
 * @typedef {import("./i18n.js").Msg} Msg
 * @typedef {{create: (mode: string) => void, cancel: () => void, accept: () => void, reject: () => void, end: () => void}} SessionActions
 *   what the buttons do: create a session of the mode chosen (New session) or a voice-only call (New call)
 */

/**
 * Which parts of the session card belong to `phase`. The code, its countdown and Cancel only
 * while nobody has entered it: a customer who did used it up (it can no longer expire), and
 * Accept / Reject answer them. The recent sessions (`historyview.js`) with the start panel,
 * while no session is under way.
 * @param {Phase} phase
 * @returns {{start: boolean, history: boolean, code: boolean, joinRequest: boolean, end: boolean}}
 */
export function cardPanels(phase) {
  const start = phase === "idle" || phase === "ended" || phase === "offline";
  return {
    start,
    history: start,
    code: phase === "waiting",
    joinRequest: phase === "joined",
    end: phase === "connecting" || phase === "connected" || phase === "reconnecting",
  };
}

export class SessionView {
  /** @param {SessionActions} actions */
  constructor(actions) {
    this.el = {
      startPanel: byId("start-panel"),
      newSessionButton: /** @type {HTMLButtonElement} */ (byId("new-session-button")),
      newCallButton: /** @type {HTMLButtonElement} */ (byId("new-call-button")),
      historyPanel: byId("history-panel"),
      codePanel: byId("code-panel"),
      sessionCode: byId("session-code"),
      countdown: byId("countdown"),
      joinUrl: byId("join-url"),
      copyLinkButton: /** @type {HTMLButtonElement} */ (byId("copy-link-button")),
      copyLinkNote: byId("copy-link-note"),
      cancelButton: /** @type {HTMLButtonElement} */ (byId("cancel-button")),
      status: byId("status"),
      statusDetail: byId("status-detail"),
      joinRequest: byId("join-request"),
      joinHost: byId("join-host"),
      joinUser: byId("join-user"),
      joinOs: byId("join-os"),
      joinAddress: byId("join-address"),
      acceptButton: /** @type {HTMLButtonElement} */ (byId("accept-button")),
      rejectButton: /** @type {HTMLButtonElement} */ (byId("reject-button")),
      peerPanel: byId("peer-panel"),
      peerInfo: byId("peer-info"),
      verifyPanel: byId("verify-panel"),
      verificationCode: byId("verification-code"),
      verifyChanged: byId("verify-changed"),
      endButton: /** @type {HTMLButtonElement} */ (byId("end-button")),
    };
    /** @type {ReturnType<typeof setInterval> | null} */
    this.countdownTimer = null;
    /** What #status says now. @type {Msg} */
    this.words = msg("status.not_connected");
    /** The customer's page with this session's code, for Copy link. */
    this.link = "";
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.noteTimer = null;
    const el = this.el;
    el.newSessionButton.addEventListener("click", () => actions.create(this.chosenMode()));
    el.newCallButton.addEventListener("click", () => actions.create("call"));
    el.cancelButton.addEventListener("click", actions.cancel);
    el.acceptButton.addEventListener("click", actions.accept);
    el.rejectButton.addEventListener("click", actions.reject);
    el.endButton.addEventListener("click", actions.end);
    el.copyLinkButton.addEventListener("click", () => void this.copyLink());
  }

  /**
   * The session is in `phase`: show the panels that belong to it and say so.
   * @param {Phase} phase
   * @param {Msg} words what #status says
   */
  phase(phase, words) {
    const el = this.el;
    el.status.dataset.phase = phase;
    this.status = words;
    this.detail("");
    const shown = cardPanels(phase);
    show(el.startPanel, shown.start);
    show(el.historyPanel, shown.history);
    el.newSessionButton.disabled = phase === "creating";
    el.newCallButton.disabled = phase === "creating";
    show(el.codePanel, shown.code);
    show(el.endButton, shown.end);
    if (!shown.joinRequest) show(el.joinRequest, false);
  }

  /** The mode picked for a new session ("screen" unless the page offers a choice). */
  chosenMode() {
    const checked = /** @type {HTMLInputElement | null} */ (
      document.querySelector('input[name="mode"]:checked')
    );
    return checked && MODES.includes(checked.value) ? checked.value : "screen";
  }

  /** What #status says now (in any language). */
  get status() {
    return this.words;
  }

  /** @param {Msg} words what #status says, in the same phase */
  set status(words) {
    this.words = words;
    say(this.el.status, words);
  }

  /**
   * @param {Msg | string} text words under the status line; empty hides it
   * @param {"info" | "error"} [level]
   */
  detail(text, level = "info") {
    say(this.el.statusDetail, text);
    this.el.statusDetail.classList.toggle("alert", level === "error");
    show(this.el.statusDetail, text !== "");
  }

  /**
   * The session's code, counting down to `expiresAt`.
   * @param {string} code
   * @param {number} expiresAt Unix seconds
   * @param {() => void} onexpired once, when the countdown reaches zero
   */
  code(code, expiresAt, onexpired) {
    setText(this.el.sessionCode, formatCode(code));
    this.el.sessionCode.dataset.code = code;
    this.link = joinUrl(location.origin, code);
    setText(this.el.joinUrl, joinUrl(location.origin)); // read out on the phone: the code is above
    this.note(null);
    this.stopCountdown();
    const tick = () => {
      const left = secondsLeft(expiresAt, Date.now());
      setText(this.el.countdown, formatCountdown(left));
      this.el.countdown.classList.toggle("countdown-low", left < 60);
      if (left <= 0) {
        this.stopCountdown();
        onexpired();
      }
    };
    tick();
    this.countdownTimer = setInterval(tick, 250);
  }

  /**
   * Copy the customer's link with the code: the clipboard API where the page may use it (a
   * secure context), else the link is shown whole and selected (and copied the old way if the
   * browser still allows it).
   */
  async copyLink() {
    const link = this.link;
    if (!link) return;
    if (window.isSecureContext && navigator.clipboard?.writeText) {
      try {
        await navigator.clipboard.writeText(link);
        this.note(msg("code.link_copied"));
        return;
      } catch {
        // refused: select it instead
      }
    }
    setText(this.el.joinUrl, link);
    const range = document.createRange();
    range.selectNodeContents(this.el.joinUrl);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    let copied = false;
    try {
      copied = document.execCommand("copy"); // deprecated, the only way on a plain-HTTP page
    } catch {
      copied = false;
    }
    this.note(copied ? msg("code.link_copied") : msg("code.link_selected"));
  }

  /** @param {Msg | null} words under the Copy link button for a few seconds; null hides them */
  note(words) {
    if (this.noteTimer) clearTimeout(this.noteTimer);
    this.noteTimer = null;
    if (words) {
      say(this.el.copyLinkNote, words);
      this.noteTimer = setTimeout(() => this.note(null), 4000);
    }
    show(this.el.copyLinkNote, words !== null);
  }

  stopCountdown() {
    if (this.countdownTimer) clearInterval(this.countdownTimer);
    this.countdownTimer = null;
  }

  /**
   * A customer entered the code: who they are, and Accept / Reject (after `phase("joined", ...)`).
   * @param {{host: string, user: string, os: string, address?: string | null}} request
   */
  joinRequest(request) {
    const el = this.el;
    setText(el.joinHost, request.host);
    setText(el.joinUser, request.user);
    setText(el.joinOs, request.os);
    say(el.joinAddress, request.address || msg("join.address_unknown"));
    show(el.joinRequest, true);
    el.acceptButton.disabled = false;
    el.rejectButton.disabled = false;
    el.acceptButton.focus();
  }

  /** The join request was answered: no second answer. */
  answered() {
    this.el.acceptButton.disabled = true;
    this.el.rejectButton.disabled = true;
  }

  /** @param {Msg | null} text who the customer is; null hides it */
  peer(text) {
    if (text !== null) say(this.el.peerInfo, text);
    show(this.el.peerPanel, text !== null);
  }

  /** @param {string | null} code the verification code; null hides it (and its alert) */
  verification(code) {
    if (code !== null) setText(this.el.verificationCode, code);
    else show(this.el.verifyChanged, false);
    show(this.el.verifyPanel, code !== null);
  }

  /**
   * The verification code is not the one the session started with (after a reconnect): say so
   * until the session ends.
   * @param {string} code the new code
   */
  verificationChanged(code) {
    this.verification(code);
    show(this.el.verifyChanged, true);
  }

  /**
   * Where getting the session back stands, on #status as `data-reconnect` (for tests and
   * styles); null when nothing is lost.
   * @param {import("./reconnect.js").Stage | null} stage
   */
  reconnecting(stage) {
    if (stage === null) delete this.el.status.dataset.reconnect;
    else this.el.status.dataset.reconnect = stage;
  }

  /** A new session is being made (or the operator logs out): no code, no customer. */
  clear() {
    setText(this.el.sessionCode, "");
    setText(this.el.countdown, "--:--");
    setText(this.el.joinUrl, "");
    this.link = "";
    this.note(null);
    setText(this.el.verificationCode, "");
    show(this.el.verifyChanged, false);
    show(this.el.verifyPanel, false);
    show(this.el.peerPanel, false);
  }
}
