// @ts-check
/**
 * Getting a paired session back after a short network drop: the decisions, as data (no DOM,
 * no sockets, no timers: node tests it). `step(state, event)` returns the next state and what
 * to do; `statusOf(state, now)` says what #status and #status-detail show meanwhile. Time is
 * given in every event that needs it (`now`, in milliseconds), so the caller owns the clock.
 *
 * `paired` gives each member a secret (`resume`) and the time the server keeps a session whose
 * member lost its signaling socket (`resume_within`). Three things can go wrong:
 *
 *   our socket closes      -> offline: a new socket after 1, 2, 4, then every 5 s (one that
 *                             has not opened by then is given up) until the time is up; on
 *                             open `resume{session_id, token}` -> resuming, and the
 *                             server answers interrupted (customer not back yet), resumed
 *                             (both back) or an error (the session is gone: it ended)
 *   the customer's does    -> `interrupted{resume_within}` -> customer_lost, until `resumed`
 *   the media path fails   -> ICE failed, or disconnected for DISCONNECTED_GRACE_MS, once it
 *                             had been up -> media_lost: wait for the peer's fresh offer
 *
 * Once both sides are back (`resumed`) the peer offers a fresh connection (`offer` with
 * `fresh`): it replaces the lost one, whatever the stage; an offer without `fresh` renegotiates
 * the connection there is. The new connection up (ICE connected) -> live again.
 *
 *   stage               event                          next           actions
 *   (any)               paired                         live
 *   (paired)            socket closed                  offline        suspend, if a connection is in use
 *   offline             tick, at retryAt               offline        connect (the next at +2, +4, +5 s ...)
 *   offline             socket open                    resuming       send resume{session_id, token}
 *   offline             tick, at the deadline          idle           end (gave up)
 *   resuming            socket closed                  offline
 *   resuming            error (refused)                idle           end (gave up)
 *   (not offline)       interrupted{resume_within}     customer_lost  suspend, if a connection is in use
 *   (not offline)       resumed{ice_servers}           rejoining      suspend, if a connection is in use
 *   live (had been up)  ICE failed, disconnected 5 s   media_lost     suspend
 *   media_lost          ICE connected                  live           restore
 *   (paired)            offer with fresh               rejoining      replace
 *   rejoining           ICE connected (the fresh one)  live           restore
 *   rejoining           ICE failed (the fresh one)     media_lost     suspend
 *   media_lost, rejoining  tick, at the deadline       idle           send bye connection_failed, end
 *   customer_lost       tick, SERVER_GRACE_MS after    idle           send bye connection_failed, end
 *   (any)               end                            idle
 *
 * A `bye` from the server, the operator ending the session or logging out: `end` -> idle.
 * Without a secret (a server that does not resume) nothing here reconnects: `canResume` is
 * false and the caller ends the session as before.
 *
 * The verification code is the session's too: the first one is kept, and a fresh connection
 * whose code differs raises an `alert` (both sides keep their certificate, so it should not).
 *
 *   let s = INITIAL, actions;
 *   ({ state: s } = step(s, {type: "paired", sessionId, token, within: 60, iceServers: [], now}));
 *   ({ state: s, actions } = step(s, {type: "socket_closed", now: 0}));   // [suspend]
 *   ({ state: s, actions } = step(s, {type: "tick", now: 1000}));          // [connect]
 *   ({ state: s, actions } = step(s, {type: "socket_open", now: 1200}));   // [send resume]
 */

import { msg } from "./i18n.js";

/**
 * @typedef {import("./rtc.js").WireIceServer} WireIceServer
 * @typedef {import("./i18n.js").Msg} Msg
 * @typedef {"idle" | "live" | "offline" | "resuming" | "customer_lost" | "rejoining" | "media_lost"} Stage
 *   idle: no paired session; live: paired and nothing lost; offline: our signaling socket is
 *   lost, reconnecting; resuming: a socket is open again and `resume` sent; customer_lost: the
 *   server says the customer's socket is lost; rejoining: both are back (or the peer offered a
 *   fresh connection), waiting for that connection; media_lost: the sockets are up but the
 *   media path failed, waiting for the peer's fresh offer
 * @typedef {Readonly<{
 *   stage: Stage,
 *   sessionId: string | null,
 *   token: string | null,
 *   within: number,
 *   iceServers: readonly WireIceServer[],
 *   deadline: number | null,
 *   retryAt: number | null,
 *   attempts: number,
 *   disconnectedSince: number | null,
 *   wasConnected: boolean,
 *   relinked: boolean,
 *   waitFor: number,
 *   verification: string | null,
 * }>} ReconnectState
 *   within: seconds the server keeps the session (0: it does not); deadline, retryAt,
 *   disconnectedSince: milliseconds on the caller's clock; attempts: sockets opened since ours
 *   was lost; wasConnected: the media path has been up in this session; relinked: a fresh
 *   connection replaces the lost one and is not up yet; waitFor: the seconds `interrupted`
 *   announced; verification: the session's first verification code
 * @typedef {{type: "paired", sessionId: string, token?: string | null, within?: number | null,
 *     iceServers: readonly WireIceServer[], now: number}
 *   | {type: "socket_closed", now: number}
 *   | {type: "socket_open", now: number}
 *   | {type: "interrupted", within: number, now: number}
 *   | {type: "resumed", iceServers: readonly WireIceServer[], now: number}
 *   | {type: "refused", code: string}
 *   | {type: "offer", fresh: boolean, now: number}
 *   | {type: "ice", state: string, now: number}
 *   | {type: "verification", code: string}
 *   | {type: "tick", now: number}
 *   | {type: "end"}} ReconnectEvent
 *   socket_*: our signaling socket; refused: the server answered `resume` with an error;
 *   ice: the current connection's `connectionState`; end: the session is over (bye, the
 *   operator ended it, logged out)
 * @typedef {{type: "connect"}
 *   | {type: "send", msg: {type: "resume", session_id: string, token: string} | {type: "bye", reason: string}}
 *   | {type: "suspend"}
 *   | {type: "restore"}
 *   | {type: "replace", iceServers: readonly WireIceServer[]}
 *   | {type: "end", reason: string, words: Msg | null}
 *   | {type: "alert", first: string, code: string}} ReconnectAction
 *   connect: open a new signaling socket (closing one still opening); suspend: the connection is presumed lost, send
 *   nothing on it and release the keyboard, keep the view; restore: the same connection is
 *   back; replace: close the connection, make a new one with these ICE servers (and the
 *   session's certificate), then answer the offer on it; end: the session is over (a `bye`, if
 *   any, is a `send` before it); words: what #status says instead of the reason's words;
 *   alert: the verification code is not the session's first
 * @typedef {{state: ReconnectState, actions: ReconnectAction[]}} Step
 */

/** Seconds before the first reconnect attempts; every later one waits `RETRY_EVERY_S`. */
export const BACKOFF_S = Object.freeze([1, 2, 4]);
export const RETRY_EVERY_S = 5;
/** An ICE `disconnected` this long counts as a lost connection. */
export const DISCONNECTED_GRACE_MS = 5000;
/** After the time `interrupted` announced, how long the server's `bye` may take to come. */
export const SERVER_GRACE_MS = 5000;

/** @type {ReconnectState} */
export const INITIAL = Object.freeze({
  stage: "idle",
  sessionId: null,
  token: null,
  within: 0,
  iceServers: Object.freeze([]),
  deadline: null,
  retryAt: null,
  attempts: 0,
  disconnectedSince: null,
  wasConnected: false,
  relinked: false,
  waitFor: 0,
  verification: null,
});

/**
 * Seconds to wait before the next attempt, after `attempts` of them.
 * @param {number} attempts
 */
export function backoff(attempts) {
  return BACKOFF_S[attempts] ?? RETRY_EVERY_S;
}

/**
 * Whether the session can be resumed: paired, with a secret and a server that waits.
 * @param {ReconnectState} state
 */
export function canResume(state) {
  return state.stage !== "idle" && state.token !== null && state.within > 0;
}

/**
 * Whether the caller should send `tick`s now (a deadline, a retry or a grace is running).
 * @param {ReconnectState} state
 */
export function needsTicks(state) {
  return state.stage !== "idle" && (state.deadline !== null || state.disconnectedSince !== null);
}

/**
 * @param {ReconnectState} state
 * @param {ReconnectAction[]} [actions]
 * @returns {Step}
 */
const stay = (state, actions = []) => ({ state, actions });

/**
 * Something is lost: the connection in use (the one that was live, or a fresh one not up yet)
 * is presumed lost too, and nothing more is sent on it.
 * @param {ReconnectState} state
 * @param {Partial<ReconnectState>} next
 * @param {ReconnectAction[]} [actions]
 * @returns {Step}
 */
function lose(state, next, actions = []) {
  const inUse = state.stage === "live" || state.relinked;
  const suspend = inUse ? [/** @type {ReconnectAction} */ ({ type: "suspend" })] : [];
  return { state: { ...state, disconnectedSince: null, retryAt: null, ...next }, actions: [...suspend, ...actions] };
}

/**
 * The session is over: give up, and say why.
 * @param {string} reason a BYE_REASONS key
 * @param {{bye?: string, words?: Msg | null}} [how] bye: send `bye` with this reason first
 * @returns {Step}
 */
function giveUp(reason, { bye, words = msg("status.reconnect.gave_up") } = {}) {
  /** @type {ReconnectAction[]} */
  const actions = bye ? [{ type: "send", msg: { type: "bye", reason: bye } }] : [];
  actions.push({ type: "end", reason, words });
  return { state: INITIAL, actions };
}

/**
 * The next state after `event`, and what to do.
 * @param {ReconnectState} state
 * @param {ReconnectEvent} event
 * @returns {Step}
 */
export function step(state, event) {
  switch (event.type) {
    case "paired":
      return stay({
        ...INITIAL,
        stage: "live",
        sessionId: event.sessionId,
        token: event.token || null,
        within: Math.max(0, event.within ?? 0),
        iceServers: event.iceServers,
      });
    case "end":
      return stay(INITIAL);
    case "verification": return onVerification(state, event.code);
    case "offer": return onOffer(state, event.fresh, event.now);
    case "ice": return onIce(state, event.state, event.now);
    case "tick": return onTick(state, event.now);
  }
  // what only a server that resumes sessions sends, or lets us do
  if (!canResume(state)) return stay(state);
  switch (event.type) {
    case "socket_closed": return onSocketClosed(state, event.now);
    case "socket_open":
      if (state.stage !== "offline" || state.sessionId === null || state.token === null) return stay(state);
      return stay({ ...state, stage: "resuming", retryAt: null },
        [{ type: "send", msg: { type: "resume", session_id: state.sessionId, token: state.token } }]);
    case "interrupted":
      if (state.stage === "offline" || state.stage === "idle") return stay(state);
      return lose(state, {
        stage: "customer_lost", deadline: event.now + event.within * 1000, waitFor: event.within, relinked: false,
      });
    case "resumed":
      if (state.stage === "offline" || state.stage === "idle") return stay(state);
      return lose(state, {
        stage: "rejoining", iceServers: event.iceServers, deadline: event.now + state.within * 1000, relinked: false,
      });
    case "refused":
      return state.stage === "resuming" ? giveUp("operator_left") : stay(state);
  }
  return stay(state);
}

/**
 * @param {ReconnectState} state
 * @param {number} now
 * @returns {Step}
 */
function onSocketClosed(state, now) {
  // an attempt that failed: the next one is due at retryAt already
  if (state.stage === "offline" || state.stage === "idle") return stay(state);
  const again = state.stage === "resuming";
  // the server's time for the customer's absence runs already; a new absence starts ours
  const deadline = (again || state.stage === "customer_lost") && state.deadline !== null
    ? state.deadline
    : now + state.within * 1000;
  if (now >= deadline) return giveUp("operator_left");
  const attempts = again ? state.attempts : 0;
  const retryAt = now + backoff(attempts) * 1000;
  return lose(state, {
    stage: "offline", deadline, attempts, retryAt: retryAt < deadline ? retryAt : null, relinked: false,
  });
}

/**
 * @param {ReconnectState} state
 * @param {number} now
 * @returns {Step}
 */
function onTick(state, now) {
  const deadline = state.deadline ?? Infinity;
  switch (state.stage) {
    case "live":
      if (state.disconnectedSince === null || !state.wasConnected) return stay(state);
      if (now - state.disconnectedSince < DISCONNECTED_GRACE_MS) return stay(state);
      return lose(state, {
        stage: "media_lost", deadline: state.disconnectedSince + DISCONNECTED_GRACE_MS + state.within * 1000,
      });
    case "offline":
      if (now >= deadline) return giveUp("operator_left");
      if (state.retryAt !== null && now >= state.retryAt) {
        // the next one is due on the schedule even if this one hangs (it is then given up)
        const attempts = state.attempts + 1;
        const next = state.retryAt + backoff(attempts) * 1000;
        return stay({ ...state, attempts, retryAt: next < deadline ? next : null }, [{ type: "connect" }]);
      }
      return stay(state);
    case "customer_lost":
      // the server ends it (bye peer_left); this is for a server that never says so
      if (now >= deadline + SERVER_GRACE_MS) return giveUp("peer_left", { bye: "connection_failed" });
      return stay(state);
    case "media_lost":
    case "rejoining":
      if (now >= deadline) return giveUp("connection_failed", { bye: "connection_failed", words: null });
      return stay(state);
    default:
      return stay(state);
  }
}

/**
 * The current connection's state.
 * @param {ReconnectState} state
 * @param {string} ice
 * @param {number} now
 * @returns {Step}
 */
function onIce(state, ice, now) {
  switch (state.stage) {
    case "live":
      if (ice === "connected") return stay({ ...state, wasConnected: true, disconnectedSince: null });
      // without resume_within there is nothing to wait for: the caller does as before
      if (!canResume(state)) return stay(state);
      if (ice === "disconnected") return stay({ ...state, disconnectedSince: state.disconnectedSince ?? now });
      // a connection that never came up has no path to the customer: that is not a drop
      if (ice === "failed" && state.wasConnected) {
        return lose(state, { stage: "media_lost", deadline: now + state.within * 1000 });
      }
      return stay(state);
    case "media_lost":
      // the same connection recovered by itself
      if (ice === "connected") return stay({ ...state, stage: "live", deadline: null }, [{ type: "restore" }]);
      return stay(state);
    case "rejoining":
      if (!state.relinked) return stay(state); // the old connection: it is being replaced
      if (ice === "connected") {
        return stay({ ...state, stage: "live", deadline: null, relinked: false, wasConnected: true }, [{ type: "restore" }]);
      }
      if (ice === "failed") return lose(state, { stage: "media_lost", relinked: false });
      return stay(state);
    default:
      // our socket or the customer's is lost: the server's answer decides, not ICE
      return stay(state);
  }
}

/**
 * An offer from the peer: a fresh one replaces the connection, any other renegotiates it.
 * @param {ReconnectState} state
 * @param {boolean} fresh
 * @param {number} now
 * @returns {Step}
 */
function onOffer(state, fresh, now) {
  if (state.stage === "idle" || !fresh) return stay(state);
  const keep = state.stage !== "live" && state.deadline !== null;
  const deadline = keep ? state.deadline : state.within > 0 ? now + state.within * 1000 : null;
  return stay({ ...state, stage: "rejoining", relinked: true, deadline, retryAt: null, disconnectedSince: null },
    [{ type: "replace", iceServers: state.iceServers }]);
}

/**
 * A verification code, after an answer: the session's first is kept; another one is an alert.
 * @param {ReconnectState} state
 * @param {string} code
 * @returns {Step}
 */
function onVerification(state, code) {
  if (state.stage === "idle") return stay(state);
  if (state.verification === null) return stay({ ...state, verification: code });
  if (code === state.verification) return stay(state);
  return stay(state, [{ type: "alert", first: state.verification, code }]);
}

/**
 * What #status (and under it #status-detail) says while the session is being got back; null
 * when nothing is lost (the connection's own words stand).
 * @param {ReconnectState} state
 * @param {number} now
 * @returns {{status: Msg, detail: Msg | null} | null}
 */
export function statusOf(state, now) {
  const left = state.deadline === null ? null : String(Math.max(0, Math.ceil((state.deadline - now) / 1000)));
  const kept = left === null ? null : msg("status.reconnect.kept", { seconds: left });
  switch (state.stage) {
    case "offline": return { status: msg("status.reconnect.server_lost"), detail: kept };
    case "resuming": return { status: msg("status.reconnect.server_lost"), detail: null };
    case "customer_lost":
      return { status: msg("status.reconnect.customer_lost", { seconds: String(state.waitFor) }), detail: kept };
    case "media_lost": return { status: msg("status.reconnect.media_lost"), detail: kept };
    case "rejoining": return { status: msg("status.reconnecting"), detail: null };
    default: return null;
  }
}
