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
 *   media.js        picture, sound, quality strip, full screen
 *   consentview.js  "Customer allows", and the consent every capability panel reads
 *   language.js     the language switch; every word is the catalogue's (`i18n.js`, `i18n/`)
 *   panels.js       the capability panels' registry; `features.js` lists them (view, control,
 *                   clipboard, chat), each registered by its own module
 */

import * as api from "./api.js";
import { SessionController } from "./controller.js";
import { errorMsg, msg, t } from "./i18n.js";
import { startLanguage } from "./language.js";
import { LoginView } from "./login.js";
import { ProtocolError } from "./protocol.js";
import { byId, logLine } from "./ui.js";

let started = false;

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
      login.showConsole(name);
      session.online();
    },
    onlogout: () => void logout(),
  });

  const session = new SessionController({
    log,
    onrefused: () => {
      // refused before the upgrade: perhaps the web session expired
      void api.me().catch(() => undefined).then((name) => {
        if (name === null) login.show(msg("login.expired"));
      });
    },
  });

  async function logout() {
    session.leave();
    try {
      await api.logout();
    } catch (err) {
      log(t("log.logout_failed", { error: String(/** @type {Error} */ (err).message) }), "error");
    }
    logList.replaceChildren();
    session.resetSessionView();
    login.show();
  }

  window.addEventListener("pagehide", () => session.signaling?.close());

  api.me().then(
    (name) => {
      if (name === null) return login.show();
      login.showConsole(name);
      session.online();
    },
    (err) => login.show(
      err instanceof api.ApiError ? (err.code === "unreachable" ? msg("login.unreachable") : errorMsg(err.code, err.message))
        : err instanceof ProtocolError ? err.message : /** @type {Error} */ (err).message,
    ),
  );
}
