// @ts-check
/**
 * The console's session as one value, changed only by `reduce(state, event)` (no DOM, no I/O).
 *
 *     offline -> idle -> creating -> waiting -> joined -> connecting -> connected -> ended
 *                                    (code)    (accept?)  (paired)     (ICE/DTLS up)
 *     connecting, connected -> reconnecting (a drop: `reconnect.js`) -> connected
 *
 * While `reconnecting` (`interrupted`) the session and its view stay as they were; a fresh
 * connection that replaces the lost one (`relink`) forgets what the customer allowed and the
 * picture, which the peer says again on it. What the peer supports stays until its next
 * `capabilities` (the same peer program, the same session), so the panels do not vanish and
 * come back meanwhile.
 *
 * Besides the phase it holds what the customer's peer said about this session: what it
 * `supported` (its `capabilities` message: the console offers only these) and what the
 * customer `granted` (its latest `consent_state`). Both are null until the peer says so, and
 * forgotten when the session ends. An older peer that never sends `capabilities` is taken to
 * support what the protocol table lists for the mode, once its first `consent_state` arrives.
 * Whether the peer's picture is `shared` (a video track on the page), with the mode and consent,
 * says what the stage shows (`picture`). A session has `started` once paired (the server's
 * audit too starts it there); one that ends before is cancelled, expired or rejected, never
 * "ended" (`endedMsg`).
 *
 *   let s = INITIAL;
 *   s = reduce(s, {type: "paired", mode: "call", user: "bob", host: "pc1", operator: "alice"});
 *   s = reduce(s, {type: "capabilities", supported: ["clipboard", "chat"]});
 *   offers(s, "control");   // false: a call has no remote control
 */

import { msg, t } from "./i18n.js";
import { CAPABILITY_BY_NAME, capabilitiesOf } from "./protocol.js";

/**
 * @typedef {"offline" | "idle" | "creating" | "waiting" | "joined" | "connecting" | "connected" | "reconnecting" | "ended"} Phase
 * @typedef {Readonly<{
 *   phase: Phase,
 *   mode: string,
 *   user: string,
 *   host: string,
 *   operator: string,
 *   supported: readonly string[] | null,
 *   granted: readonly string[] | null,
 *   shared: boolean,
 *   started: boolean,
 *   reason: string | null,
 * }>} SessionState
 *   shared: the peer's picture (a video track) is on the page; started: paired (the customer was
 *   let in); reason: why the session ended
 * @typedef {{type: "offline"}
 *   | {type: "ready"}
 *   | {type: "creating"}
 *   | {type: "created", mode: string}
 *   | {type: "join_request", user: string, host: string}
 *   | {type: "paired", mode: string, user: string, host: string, operator: string}
 *   | {type: "capabilities", supported: readonly string[]}
 *   | {type: "consent_state", granted: readonly string[]}
 *   | {type: "track", kind: string}
 *   | {type: "track_ended", kind: string}
 *   | {type: "connected"}
 *   | {type: "failed"}
 *   | {type: "interrupted"}
 *   | {type: "relink"}
 *   | {type: "ended", reason: string}} SessionEvent
 */

/** @type {SessionState} */
export const INITIAL = Object.freeze({
  phase: "offline",
  mode: "screen",
  user: "",
  host: "",
  operator: "",
  supported: null,
  granted: null,
  shared: false,
  started: false,
  reason: null,
});

/** Phases in which a peer connection exists (or is being made, or got back). */
const LINKED = new Set(["connecting", "connected", "reconnecting"]);

/**
 * The state after `event`. Events that do not fit the phase (say a `consent_state` after the
 * session ended) leave the state as it was.
 * @param {SessionState} state
 * @param {SessionEvent} event
 * @returns {SessionState}
 */
export function reduce(state, event) {
  switch (event.type) {
    case "offline":
      return INITIAL;
    case "ready":
      return { ...INITIAL, phase: "idle", mode: state.mode };
    case "creating":
      return { ...INITIAL, phase: "creating", mode: state.mode };
    case "created":
      return { ...INITIAL, phase: "waiting", mode: event.mode };
    case "join_request":
      if (state.phase !== "waiting" && state.phase !== "joined") return state;
      return { ...state, phase: "joined", user: event.user, host: event.host };
    case "paired":
      return {
        ...INITIAL,
        phase: "connecting",
        mode: event.mode,
        user: event.user,
        host: event.host,
        operator: event.operator,
        started: true,
      };
    case "capabilities":
      if (!LINKED.has(state.phase)) return state;
      return { ...state, supported: Object.freeze([...event.supported]) };
    case "consent_state":
      if (!LINKED.has(state.phase)) return state;
      return { ...state, granted: Object.freeze([...event.granted]) };
    case "track":
      if (!LINKED.has(state.phase) || event.kind !== "video") return state;
      return { ...state, shared: true };
    case "track_ended":
      if (!state.shared || event.kind !== "video") return state;
      return { ...state, shared: false };
    case "connected":
      if (!LINKED.has(state.phase)) return state;
      return { ...state, phase: "connected" };
    case "failed":
      if (!LINKED.has(state.phase)) return state;
      return { ...state, phase: "connecting" };
    case "interrupted":
      if (!LINKED.has(state.phase)) return state;
      return { ...state, phase: "reconnecting" };
    case "relink":
      if (!LINKED.has(state.phase)) return state;
      return { ...state, granted: null, shared: false };
    case "ended":
      return { ...state, phase: "ended", supported: null, granted: null, shared: false, reason: event.reason };
  }
}

/**
 * What the peer carries out in this session: its `capabilities`, or (from an older peer that
 * never sent them) the table's list for the mode once consent is known; else nothing yet.
 * @param {SessionState} state
 * @returns {readonly string[]}
 */
export function supportedNow(state) {
  if (state.supported !== null) return state.supported;
  return state.granted !== null ? capabilitiesOf(state.mode) : [];
}

/**
 * Whether the console should offer `capability` now: the peer supports it, and this console
 * knows it and knows it exists in the session's mode. An unknown capability is never offered
 * (the console has no button for it), only shown by its name when the customer allows it.
 * @param {SessionState} state
 * @param {string} capability
 */
export function offers(state, capability) {
  if (!LINKED.has(state.phase)) return false;
  const row = CAPABILITY_BY_NAME.get(capability);
  return row !== undefined && row.modes.includes(state.mode) && supportedNow(state).includes(capability);
}

/**
 * Whether the customer allows `capability` now (the peer's latest `consent_state`).
 * @param {SessionState} state
 * @param {string} capability
 */
export function allows(state, capability) {
  return LINKED.has(state.phase) && (state.granted?.includes(capability) ?? false);
}

/**
 * Capabilities the peer announced that this console does not know (shown by name, never offered).
 * @param {SessionState} state
 */
export function unknownCapabilities(state) {
  return (state.supported ?? []).filter((c) => !CAPABILITY_BY_NAME.has(c));
}

/**
 * What the stage shows: the picture only while the customer allows viewing and a video track
 * is on the page (in a call too, once the customer agreed to show their screen); otherwise the
 * words over the blank picture, saying why: the customer has not answered yet, said no, or
 * took it back — or, in a call, that no screen is shared (the call view covers it).
 * @param {SessionState} state
 * @param {boolean} linked whether a peer connection exists
 * @param {import("./consent.js").Status} [view] where screen viewing stands (`ConsentTracker.status("view")`)
 * @returns {{visible: boolean, words: string}}
 */
export function picture(state, linked, view = "unknown") {
  const granted = state.granted;
  const allowed = granted?.includes("view") ?? false;
  const visible = state.shared && allowed;
  if (state.mode === "call" && state.phase !== "ended" && !visible) return { visible, words: t("picture.call") };
  if (!linked || visible) return { visible, words: t("picture.none") };
  if (allowed || (granted === null && view !== "asked")) return { visible, words: t("picture.waiting") };
  switch (view) {
    case "asked": return { visible, words: t("picture.asked") };
    case "denied": return { visible, words: t("picture.denied") };
    case "revoked": return { visible, words: t("picture.revoked") };
    default: return { visible, words: t("picture.not_allowed") };
  }
}

/**
 * What #status says once the session is over: a session that never started (nobody was let
 * in) was cancelled, expired or turned away; one that started ended.
 * @param {SessionState} state the state before the end
 * @param {string} reason the `bye` reason (BYE_REASONS, or a token this console does not know)
 * @param {import("./i18n.js").Msg} why the reason in words
 * @returns {import("./i18n.js").Msg}
 */
export function endedMsg(state, reason, why) {
  if (!state.started) {
    switch (reason) {
      case "cancelled": return msg("status.cancelled");
      case "expired": return msg("status.expired");
      case "rejected": return msg("status.rejected");
      case "peer_ended": case "peer_left": return msg("status.left_before_start");
      default: return msg("status.not_started", { reason: why });
    }
  }
  const customerGone = reason === "peer_ended" || reason === "peer_left";
  return customerGone ? msg("status.ended_customer_gone", { reason: why }) : msg("status.ended", { reason: why });
}
