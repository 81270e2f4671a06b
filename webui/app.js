// @ts-check
/**
 * The operator console: log in, create a session, admit the customer, watch their screen.
 *
 * `start()` is called once, by `main.js`, when the page is there: it finds the elements and
 * wires the login view (`login.js`) to the session controller (`controller.js`). No module of
 * the console touches the page when it is imported, so node tests import the pure ones as they
 * are. Who owns what:
 *
 *   controller.js   the signaling socket, one handler per message, the operator's actions;
 *                   the session as one value (`session.js`'s `reduce`)
 *   sessionview.js  status, code and countdown, join request, customer, verification code
 *   live.js         once paired: the peer connection, consent, the capability panels, the stage
 *   reconnect.js    after a short drop: reconnect, resume, a fresh connection, or give up
 *                   (`reconnector.js` carries it out: timers, #status)
 *   media.js        picture, quality strip, full screen
 *   callview.js     the stage in a voice-only call: who, how long, how it sounds
 *   consentview.js  "Customer allows", and the consent every capability panel reads
 *   language.js     the language switch; every word is the catalogue's (`i18n.js`, `i18n/`)
 *   profileview.js  who is signed in, and the name customers see (`profile.js`)
 *   historyview.js  the operator's recent sessions, while none is live (`history.js`)
 *   panels.js       the capability panels' registry; `features.js` lists them (view, control,
 *                   clipboard, files, voice, chat), each registered by its own module
 */

import * as api from "./api.js";
import { SessionController } from "./controller.js";
import { errorMsg, msg, t } from "./i18n.js";
import { HistoryView } from "./historyview.js";
import { startLanguage } from "./language.js";
import { LoginView } from "./login.js";
import { ProfileView } from "./profileview.js";
import { ProtocolError } from "./protocol.js";
import { byId, logLine } from "./ui.js";

let started = false;

/** Phases in which a session is under way (`session.js`). */
const UNDER_WAY = new Set(["creating", "waiting", "joined", "connecting", "connected", "reconnecting"]);

/** Wire the console to the page and find out whether the operator is logged in. */
export function start() {
  if (started) throw new Error("the console is already started");
  started = true;
  startLanguage(/** @type {HTMLSelectElement} */ (byId("language"))); // first: the views' words follow it
  const logList = byId("log");

  /**
   * @param {string} text
   * @param {"info" | "error"} [level]
   */
  const log = (text, level = "info") => logLine(logList, text, level);

  const login = new LoginView({
    onlogin: (name) => {
      login.showConsole();
      profile.signedIn(name);
      void profile.load(); // the name customers see
      signedIn();
    },
    onlogout: () => void logout(),
  });

  const profile = new ProfileView({ log, onexpired: () => expired() });
  const history = new HistoryView({ log, onexpired: () => expired() });

  const session = new SessionController({
    log,
    onrefused: () => {
      // refused before the upgrade: perhaps the web session expired
      void api.me().catch(() => undefined).then((who) => {
        if (who === null) expired();
      });
    },
    onended: (started) => {
      if (started) history.afterEnd(); // the server's audit has it: show how it ended
    },
  });

  /** The console is on the page and knows who is signed in: its sessions, then the server. */
  function signedIn() {
    void history.refresh();
    session.online();
  }

  /** Nothing of the operator stays on the page (and the socket is closed). */
  function signedOut() {
    session.leave();
    session.resetSessionView();
    profile.clear();
    history.clear();
  }

  async function logout() {
    session.leave();
    try {
      await api.logout();
    } catch (err) {
      log(t("log.logout_failed", { error: String(/** @type {Error} */ (err).message) }), "error");
    }
    signedOut();
    logList.replaceChildren();
    login.show();
  }

  /**
   * The server says nobody is logged in any more: ask for the login again (the log stays, for
   * support staff). A session under way is left to end on its own: its socket is still signed in.
   */
  function expired() {
    if (!login.el.loginView.hidden || UNDER_WAY.has(session.session.phase)) return;
    signedOut();
    login.show(msg("login.expired"));
  }

  // Closing or leaving the page ends the session on purpose (a bye), so the customer is told at
  // once instead of waiting for a reconnect that cannot come (the page's secret goes with it).
  window.addEventListener("pagehide", () => session.leave());

  api.me().then(
    (who) => {
      if (who === null) return login.show();
      login.showConsole();
      profile.set(who);
      signedIn();
    },
    (err) => login.show(
      err instanceof api.ApiError ? (err.code === "unreachable" ? msg("login.unreachable") : errorMsg(err.code, err.message))
        : err instanceof ProtocolError ? err.message : /** @type {Error} */ (err).message,
    ),
  );
}
