// @ts-check
/**
 * The operator console: log in, create a session, admit the customer, watch their screen.
 *
 * One small handler per signaling message (`switch (msg.type)`); the session's phase is one
 * value, and every change of it, of the WebRTC states and of consent goes to the log panel.
 * What rides on the control data channel (consent, remote control, monitors, clipboard) is
 * `channel.js`'s; the chat panel is `chatview.js`'s. The session itself (phase, what the peer
 * supports, what the customer allows) is one value changed by `session.js`'s `reduce`.
 *
 *     idle -> waiting -> joined -> connecting -> connected -> ended
 *               (code)   (accept?)  (paired)     (ICE/DTLS up)
 */

import * as api from "./api.js";
import { ControlChannel } from "./channel.js";
import { ChatPanel } from "./chatview.js";
import { formatCode, formatCountdown, secondsLeft } from "./format.js";
import { BYE_REASONS, MODES, ProtocolError, byeText } from "./protocol.js";
import { PeerLink } from "./rtc.js";
import { INITIAL, offers, reduce } from "./session.js";
import { Signaling, socketUrl } from "./signaling.js";
import { qualityText } from "./stats.js";
import { byId, logLine, setText, show } from "./ui.js";

/**
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {import("./session.js").SessionEvent} SessionEvent
 */

const el = {
  loading: byId("loading"),
  loginView: byId("login-view"),
  loginForm: /** @type {HTMLFormElement} */ (byId("login-form")),
  username: /** @type {HTMLInputElement} */ (byId("username")),
  password: /** @type {HTMLInputElement} */ (byId("password")),
  loginError: byId("login-error"),
  loginButton: /** @type {HTMLButtonElement} */ (byId("login-button")),
  account: byId("account"),
  operatorName: byId("operator-name"),
  logoutButton: /** @type {HTMLButtonElement} */ (byId("logout-button")),
  consoleView: byId("console-view"),
  startPanel: byId("start-panel"),
  newSessionButton: /** @type {HTMLButtonElement} */ (byId("new-session-button")),
  codePanel: byId("code-panel"),
  sessionCode: byId("session-code"),
  countdown: byId("countdown"),
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
  endButton: /** @type {HTMLButtonElement} */ (byId("end-button")),
  videoWrap: byId("video-wrap"),
  video: /** @type {HTMLVideoElement} */ (byId("remote-video")),
  videoPlaceholder: byId("video-placeholder"),
  audio: /** @type {HTMLAudioElement} */ (byId("remote-audio")),
  fullscreenButton: /** @type {HTMLButtonElement} */ (byId("fullscreen-button")),
  qFps: byId("q-fps"),
  qKbps: byId("q-kbps"),
  qRtt: byId("q-rtt"),
  qRoute: byId("q-route"),
  log: byId("log"),
};

const state = {
  /** @type {Signaling | null} */
  signaling: null,
  welcomed: false,
  /** Send create_session as soon as the socket is welcomed. */
  createWhenReady: false,
  /** Phase, mode, what the peer supports and the customer allows (`session.js`). */
  session: INITIAL,
  /** @type {string | null} */
  sessionId: null,
  /** @type {string} */
  mode: "screen",
  /** @type {PeerLink | null} */
  link: null,
  /** @type {ReturnType<typeof setInterval> | null} */
  countdownTimer: null,
  hasVideo: false,
  /** The session's ICE servers include a TURN relay. */
  turn: false,
};

// ------------------------------------------------------------------------- log and status

/**
 * @param {string} text
 * @param {"info" | "error"} [level]
 */
function log(text, level = "info") {
  logLine(el.log, text, level);
}

/** Consent, remote control, monitors and clipboard: the control data channel. */
const channel = new ControlChannel({
  link: () => state.link,
  log,
  onviewchange: () => updateVideo(),
  offers: (capability) => offers(state.session, capability),
  onsession: (event) => {
    state.session = reduce(state.session, event);
    if (event.type === "capabilities") chat.setSupported(event.supported.includes("chat"));
  },
});

/** Chat with the customer, in both modes, from pairing on. */
const chat = new ChatPanel(
  {
    panel: byId("chat-panel"),
    toggle: /** @type {HTMLButtonElement} */ (byId("chat-toggle")),
    toggleLabel: /** @type {HTMLElement} */ (byId("chat-toggle").querySelector(".chat-toggle-label")),
    unread: byId("chat-unread"),
    body: byId("chat-body"),
    state: byId("chat-state"),
    log: byId("chat-log"),
    input: /** @type {HTMLTextAreaElement} */ (byId("chat-input")),
    send: /** @type {HTMLButtonElement} */ (byId("chat-send")),
    counter: byId("chat-counter"),
    problem: byId("chat-problem"),
    download: /** @type {HTMLButtonElement} */ (byId("chat-download")),
  },
  { send: (msg) => state.link?.send("chat", msg) ?? false, log },
);

/**
 * Move the session on by `event` and say where it is now.
 * @param {SessionEvent} event
 * @param {string} words what #status says
 */
function setPhase(event, words) {
  const before = state.session.phase;
  state.session = reduce(state.session, event);
  const phase = state.session.phase;
  if (phase !== before) log(`session: ${before} -> ${phase}`);
  el.status.dataset.phase = phase;
  setText(el.status, words);
  showDetail("");
  const live = phase === "connecting" || phase === "connected";
  show(el.startPanel, phase === "idle" || phase === "ended" || phase === "offline");
  el.newSessionButton.disabled = phase === "creating";
  show(el.codePanel, phase === "waiting" || phase === "joined");
  show(el.endButton, live);
  if (phase !== "joined") show(el.joinRequest, false);
}

/** @param {string} text words under the status line; empty hides it */
function showDetail(text, level = "info") {
  setText(el.statusDetail, text);
  el.statusDetail.classList.toggle("alert", level === "error");
  show(el.statusDetail, text !== "");
}

// ------------------------------------------------------------------------- signaling

function connect() {
  state.welcomed = false;
  const signaling = new Signaling(socketUrl("/ws/operator"));
  state.signaling = signaling;
  log("connecting to the signaling server");
  signaling.onmessage = (msg) => {
    if (state.signaling === signaling) handle(msg);
  };
  signaling.onprotocolerror = (err) => log(`bad frame from the server (${err.code}): ${err.message}`, "error");
  signaling.onclose = (event) => {
    if (state.signaling !== signaling) return;
    state.signaling = null;
    state.welcomed = false;
    void socketClosed(event);
  };
}

/**
 * @param {{type: string, [field: string]: any}} msg
 * @returns {boolean}
 */
function send(msg) {
  if (!state.signaling?.send(msg)) {
    log(`not sent (${msg.type}): no connection to the server`, "error");
    return false;
  }
  return true;
}

/** @param {Message} msg */
function handle(msg) {
  switch (msg.type) {
    case "welcome": return onWelcome(msg);
    case "session_created": return onSessionCreated(msg);
    case "join_request": return onJoinRequest(msg);
    case "paired": return onPaired(msg);
    case "offer": return onOffer(msg);
    case "candidate": return onCandidate(msg);
    case "bye": return onBye(msg);
    case "error": return onError(msg);
    default:
      log(`unexpected ${msg.type} from the server`, "error");
  }
}

/** @param {Message} msg */
function onWelcome(msg) {
  state.welcomed = true;
  log(`signed in to the signaling server${msg.operator ? ` as ${msg.operator}` : ""} (protocol ${msg.protocol})`);
  if (state.createWhenReady) {
    state.createWhenReady = false;
    createSession();
  } else if (state.session.phase === "offline") {
    setPhase({ type: "ready" }, "Ready. Press “New session” to get a code.");
  }
}

/** @param {Message} msg */
function onSessionCreated(msg) {
  state.sessionId = msg.session_id;
  state.mode = msg.mode;
  setText(el.sessionCode, formatCode(msg.code));
  el.sessionCode.dataset.code = msg.code;
  startCountdown(msg.expires_at);
  setPhase({ type: "created", mode: msg.mode }, "Waiting for the customer to enter the code");
  log(`session created (${msg.mode}), the code is valid for ${formatCountdown(msg.ttl)}`);
}

/** @param {Message} msg */
function onJoinRequest(msg) {
  state.sessionId = msg.session_id;
  setText(el.joinHost, msg.host);
  setText(el.joinUser, msg.user);
  setText(el.joinOs, msg.os);
  setText(el.joinAddress, msg.address || "unknown");
  setPhase({ type: "join_request", user: msg.user, host: msg.host }, `Customer joined: ${msg.user} on ${msg.host} (${msg.os})`);
  show(el.joinRequest, true);
  el.acceptButton.disabled = false;
  el.rejectButton.disabled = false;
  el.acceptButton.focus();
  log(`join request from ${msg.user} on ${msg.host}, ${msg.os}, ${msg.address || "address unknown"}`);
}

/** @param {Message} msg */
function onPaired(msg) {
  stopCountdown();
  state.sessionId = msg.session_id;
  state.mode = msg.mode;
  state.hasVideo = false;
  setText(el.peerInfo, `${msg.user} on ${msg.host} (${msg.os})`);
  show(el.peerPanel, true);
  channel.reset();
  updateVideo();
  setPhase({ type: "paired", mode: msg.mode, user: msg.user, host: msg.host, operator: msg.operator },
    "Connecting to the customer…");
  log(`paired with ${msg.user}@${msg.host}, ${msg.ice_servers.length} ICE server(s)`);
  state.turn = msg.ice_servers.some((server) => server.urls.some((url) => url.startsWith("turn")));
  state.link?.close();
  state.link = new PeerLink(msg.ice_servers, {
    send: (m) => void send(m),
    onlog: log,
    ontrack: onTrack,
    onmessage: (label, m) => {
      if (label === "control") channel.handle(m);
      else if (label === "chat") chat.receive(m);
    },
    onchannelchange: (label, channelState) => {
      if (label === "chat") chat.setOpen(channelState === "open");
      else channel.update();
    },
    onstate: onConnectionState,
    onquality: showQuality,
  });
  channel.start(msg.mode);
  chat.start({ operator: msg.operator, user: msg.user, host: msg.host, startedAt: new Date() });
}

/** @param {Message} msg */
function onOffer(msg) {
  const link = state.link;
  if (!link) return log("offer before pairing: ignored", "error");
  log("offer received, answering");
  link.acceptOffer(msg.sdp).catch((err) => {
    log(`could not answer the offer: ${err.message}`, "error");
    showDetail(`Could not answer the customer's offer: ${err.message}`, "error");
  });
}

/** @param {Message} msg */
function onCandidate(msg) {
  if (!state.link) return log("candidate before pairing: ignored", "error");
  void state.link.addCandidate(/** @type {any} */ (msg));
}

/** @param {Message} msg */
function onBye(msg) {
  log(`bye from the server: ${msg.reason}`);
  if (state.session.phase === "ended" || state.session.phase === "idle") return;
  endSession(msg.reason);
}

/** @param {Message} msg */
function onError(msg) {
  const retry = msg.retry_after != null ? ` (retry in ${Math.ceil(msg.retry_after)} s)` : "";
  log(`server error ${msg.code}: ${msg.message}${retry}`, "error");
  if (state.session.phase === "creating") {
    setPhase({ type: "ready" }, "Could not start a session");
    showDetail(`${msg.message}${retry}`, "error");
  } else {
    showDetail(`Server: ${msg.message}${retry}`, "error");
  }
}

// ------------------------------------------------------------------------- session actions

function createSession() {
  const checked = /** @type {HTMLInputElement | null} */ (
    document.querySelector('input[name="mode"]:checked')
  );
  const mode = checked && MODES.includes(checked.value) ? checked.value : "screen";
  resetSessionView();
  if (!state.signaling || !state.welcomed) {
    state.createWhenReady = true;
    if (!state.signaling) connect();
    setPhase({ type: "creating" }, "Connecting to the server…");
    return;
  }
  setPhase({ type: "creating" }, "Creating a session…");
  if (!send({ type: "create_session", mode })) setPhase({ type: "ready" }, "Not connected to the server");
}

function cancelSession() {
  send({ type: "bye", reason: "cancelled" });
  endSession("cancelled");
}

function accept() {
  if (!state.sessionId) return;
  el.acceptButton.disabled = true;
  el.rejectButton.disabled = true;
  log("accepting the customer");
  send({ type: "accept", session_id: state.sessionId });
}

function reject() {
  if (!state.sessionId) return;
  el.acceptButton.disabled = true;
  el.rejectButton.disabled = true;
  log("rejecting the customer");
  send({ type: "reject", session_id: state.sessionId });
  endSession("rejected");
}

function endByOperator() {
  send({ type: "bye", reason: "operator_ended" });
  endSession("operator_ended");
}

/**
 * Tear the session down and say why.
 * @param {string} reason a BYE_REASONS key (or another token from the server)
 * @param {string} [words] instead of the reason's text
 */
function endSession(reason, words) {
  chat.end();
  clearSession();
  const customerGone = reason === "peer_ended" || reason === "peer_left";
  const text = `Ended: ${words ?? byeText(reason)}${customerGone ? ". Customer disconnected." : ""}`;
  setPhase({ type: "ended", reason }, text);
  if (!(reason in BYE_REASONS)) log(`the session ended for an unknown reason: ${reason}`, "error");
}

/** Stop everything of the current session and take its picture, sound and details off the page. */
function clearSession() {
  stopCountdown();
  channel.reset(); // before the link closes: nothing more is sent on it
  state.link?.close();
  state.link = null;
  state.sessionId = null;
  el.video.srcObject = null;
  el.audio.srcObject = null;
  state.hasVideo = false;
  updateVideo();
  showQuality(null);
  show(el.verifyPanel, false);
  show(el.peerPanel, false);
}

function resetSessionView() {
  setText(el.sessionCode, "");
  setText(el.countdown, "--:--");
  setText(el.verificationCode, "");
  show(el.verifyPanel, false);
  channel.reset();
  chat.reset();
  show(el.peerPanel, false);
  showQuality(null);
}

// ------------------------------------------------------------------------- countdown

/** @param {number} expiresAt Unix seconds */
function startCountdown(expiresAt) {
  stopCountdown();
  const tick = () => {
    const left = secondsLeft(expiresAt, Date.now());
    setText(el.countdown, formatCountdown(left));
    el.countdown.classList.toggle("countdown-low", left < 60);
    if (left <= 0) {
      stopCountdown();
      if (state.session.phase === "waiting") showDetail("The code has expired.", "error");
    }
  };
  tick();
  state.countdownTimer = setInterval(tick, 250);
}

function stopCountdown() {
  if (state.countdownTimer) clearInterval(state.countdownTimer);
  state.countdownTimer = null;
}

// ------------------------------------------------------------------------- media and quality

/**
 * A track from the peer: at the start, or added later by a new offer (renegotiation). Each
 * kind gets a stream of its own, so sound coming or going never touches the picture.
 * @param {RTCTrackEvent} event
 */
function onTrack(event) {
  const track = event.track;
  const link = state.link;
  if (track.kind === "video") {
    el.video.srcObject = new MediaStream([track]);
    state.hasVideo = true;
    state.session = reduce(state.session, { type: "track", kind: "video" });
  } else if (track.kind === "audio") {
    el.audio.srcObject = new MediaStream([track]);
    el.audio.play().catch((err) => log(`the customer's sound does not play yet: ${err.message}`, "error"));
  }
  // A transceiver the peer turned off (direction inactive) mutes or ends its track.
  track.addEventListener("mute", () => {
    if (state.link === link) log(`the customer's ${track.kind} track paused`);
  });
  track.addEventListener("unmute", () => {
    if (state.link === link) log(`the customer's ${track.kind} track resumed`);
  });
  track.addEventListener("ended", () => {
    if (state.link !== link) return;
    log(`the customer's ${track.kind} track ended`);
    const media = track.kind === "video" ? el.video : el.audio;
    const current = media.srcObject instanceof MediaStream ? media.srcObject.getTracks()[0] : null;
    if (current === track) {
      media.srcObject = null;
      if (track.kind === "video") state.hasVideo = false;
      updateVideo();
    }
  });
  updateVideo();
}

/** @param {RTCPeerConnectionState} connection */
function onConnectionState(connection) {
  const link = state.link;
  if (!link) return;
  if (connection === "connected") {
    void connectedRoute(link).then((route) => {
      if (state.link !== link) return;
      setPhase({ type: "connected" }, route ? `Connected (${route})` : "Connected");
      if (link.verification) {
        setText(el.verificationCode, link.verification);
        show(el.verifyPanel, true);
        log(`verification code ${link.verification}`);
      }
    });
  } else if (connection === "failed") {
    setPhase({ type: "failed" }, "Connection failed");
    showDetail(
      state.turn
        ? "No network path to the customer, not even through the TURN relay (its errors are in the log)."
        : "No network path to the customer. A TURN relay is needed for customers behind strict firewalls.",
      "error",
    );
  } else if (connection === "disconnected" && state.session.phase === "connected") {
    showDetail("Connection interrupted; waiting for it to recover…", "error");
  }
}

/**
 * Whether the connection runs direct or through the relay, once the browser's stats know its
 * selected candidate pair (they may not at the very moment it connects); null if they never do.
 * @param {PeerLink} link
 * @returns {Promise<string | null>}
 */
async function connectedRoute(link) {
  for (let tries = 0; tries < 10; tries++) {
    const quality = await link.sampleStats();
    if (quality?.route) return quality.route;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return null;
}

/** @param {import("./stats.js").Quality | null} q */
function showQuality(q) {
  setText(el.qFps, q?.fps != null ? String(q.fps) : "–");
  setText(el.qKbps, q?.kbps != null ? String(q.kbps) : "–");
  setText(el.qRtt, q?.rttMs != null ? String(q.rttMs) : "–");
  setText(el.qRoute, q?.route ?? "–");
  el.qRoute.dataset.route = q?.route ?? "";
  if (q) el.videoWrap.title = qualityText(q);
  if (q?.route && state.session.phase === "connected") {
    const words = `Connected (${q.route})`;
    if (el.status.textContent !== words) {
      log(`route: ${q.route} (${q.localType} -> ${q.remoteType})`);
      setText(el.status, words);
    }
  }
}

/** Show the picture only while the customer allows viewing (blank otherwise). */
function updateVideo() {
  const granted = state.session.granted;
  const allowed = granted?.includes("view") ?? false;
  const visible = state.hasVideo && allowed && state.mode === "screen";
  el.videoWrap.classList.toggle("blanked", !visible);
  let words = "No picture";
  if (state.mode === "call" && state.session.phase !== "ended") words = "Voice call: no screen is shared";
  else if (state.link && granted && !allowed) words = "Screen viewing is not allowed";
  else if (state.link && !visible) words = "Waiting for the customer's screen…";
  setText(el.videoPlaceholder, words);
}

// ------------------------------------------------------------------------- socket loss, login

/** @param {{code: number, reason: string, wasOpen: boolean}} event */
async function socketClosed(event) {
  const why = event.reason ? `: ${event.reason}` : "";
  log(`signaling connection closed (code ${event.code}${why})`, "error");
  const live = ["waiting", "joined", "connecting", "connected", "creating"].includes(state.session.phase);
  if (live) endSession("operator_left", "the connection to the server was lost");
  else if (state.session.phase !== "offline") setPhase({ type: "ended", reason: "operator_left" }, "Not connected to the server");
  showDetail("The connection to the server was lost. “New session” connects again.", "error");
  state.createWhenReady = false;
  if (!event.wasOpen || event.code === 1008) {
    // refused before the upgrade: perhaps the web session expired
    const name = await api.me().catch(() => undefined);
    if (name === null) showLogin("Your login has expired. Please log in again.");
  }
}

/** @param {string} [message] shown in the alert */
function showLogin(message = "") {
  show(el.loading, false);
  show(el.consoleView, false);
  show(el.account, false);
  show(el.loginView, true);
  setText(el.loginError, message);
  show(el.loginError, message !== "");
  el.loginButton.disabled = false;
  el.username.focus();
}

/** @param {string} name */
function showConsole(name) {
  show(el.loading, false);
  show(el.loginView, false);
  show(el.consoleView, true);
  show(el.account, true);
  setText(el.operatorName, name);
  el.password.value = "";
  state.session = INITIAL;
  setPhase({ type: "offline" }, "Connecting to the server…");
  connect();
}

/** @param {SubmitEvent} event */
async function onLogin(event) {
  event.preventDefault();
  const username = el.username.value.trim();
  const password = el.password.value;
  if (!username || !password) {
    setText(el.loginError, "Enter your username and password.");
    show(el.loginError, true);
    return;
  }
  el.loginButton.disabled = true;
  try {
    showConsole(await api.login(username, password));
  } catch (err) {
    const e = /** @type {api.ApiError} */ (err);
    const retry = e.retryAfter ? ` Try again in ${Math.ceil(e.retryAfter)} s.` : "";
    setText(el.loginError, `${e.message}${retry}`);
    show(el.loginError, true);
    el.loginButton.disabled = false;
    el.password.select();
  }
}

async function onLogout() {
  if (state.link || state.session.phase === "waiting" || state.session.phase === "joined") {
    send({ type: "bye", reason: state.link ? "operator_ended" : "cancelled" });
  }
  clearSession(); // the last customer's picture must not stay on the page
  const signaling = state.signaling;
  state.signaling = null;
  signaling?.close();
  try {
    await api.logout();
  } catch (err) {
    log(`logout failed: ${/** @type {Error} */ (err).message}`, "error");
  }
  el.log.replaceChildren();
  resetSessionView(); // also forgets the chat: nothing of it stays after logging out
  showLogin();
}

function toggleFullscreen() {
  if (document.fullscreenElement) void document.exitFullscreen();
  else el.videoWrap.requestFullscreen().catch((err) => log(`full screen refused: ${err.message}`, "error"));
}

// ------------------------------------------------------------------------- start

el.loginForm.addEventListener("submit", (event) => void onLogin(/** @type {SubmitEvent} */ (event)));
el.logoutButton.addEventListener("click", () => void onLogout());
el.newSessionButton.addEventListener("click", createSession);
el.cancelButton.addEventListener("click", cancelSession);
el.acceptButton.addEventListener("click", accept);
el.rejectButton.addEventListener("click", reject);
el.endButton.addEventListener("click", endByOperator);
el.fullscreenButton.addEventListener("click", toggleFullscreen);
document.addEventListener("fullscreenchange", () => {
  setText(el.fullscreenButton, document.fullscreenElement ? "Exit full screen" : "Full screen");
});
let pictureSize = "";
el.video.addEventListener("resize", () => {
  const size = `${el.video.videoWidth}×${el.video.videoHeight}`;
  if (el.video.videoWidth && size !== pictureSize) log(`picture size ${size}`);
  pictureSize = size;
});
window.addEventListener("pagehide", () => state.signaling?.close());
updateVideo();

api.me().then(
  (name) => (name === null ? showLogin() : showConsole(name)),
  (err) => showLogin(err instanceof ProtocolError ? err.message : /** @type {Error} */ (err).message),
);
