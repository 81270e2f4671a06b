// @ts-check
/**
 * The sign-in form and the account bar: which of the login view and the console is on the page.
 *
 *   const login = new LoginView({onlogin: (name) => ..., onlogout: () => ...});
 *   login.show(msg("login.expired"));
 *   login.showConsole();
 */

import * as api from "./api.js";
import { errorMsg, msg } from "./i18n.js";
import { byId, say, show } from "./ui.js";

/**
 * @typedef {{onlogin: (name: string) => void, onlogout: () => void}} LoginHooks
 *   onlogin: the server accepted the operator's name and password; onlogout: "Log out" pressed
 */

export class LoginView {
  /** @param {LoginHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.el = {
      loading: byId("loading"),
      loginView: byId("login-view"),
      loginForm: /** @type {HTMLFormElement} */ (byId("login-form")),
      username: /** @type {HTMLInputElement} */ (byId("username")),
      password: /** @type {HTMLInputElement} */ (byId("password")),
      loginError: byId("login-error"),
      loginButton: /** @type {HTMLButtonElement} */ (byId("login-button")),
      account: byId("account"),
      logoutButton: /** @type {HTMLButtonElement} */ (byId("logout-button")),
      consoleView: byId("console-view"),
    };
    this.el.loginForm.addEventListener("submit", (event) => void this.#submit(/** @type {SubmitEvent} */ (event)));
    this.el.logoutButton.addEventListener("click", () => hooks.onlogout());
  }

  /** @param {import("./i18n.js").Msg | string} [message] shown in the alert */
  show(message = "") {
    const el = this.el;
    show(el.loading, false);
    show(el.consoleView, false);
    show(el.account, false);
    show(el.loginView, true);
    say(el.loginError, message);
    show(el.loginError, message !== "");
    el.loginButton.disabled = false;
    el.username.focus();
  }

  /** The operator is signed in: the console (who it is, `profileview.js` shows). */
  showConsole() {
    const el = this.el;
    show(el.loading, false);
    show(el.loginView, false);
    show(el.consoleView, true);
    show(el.account, true);
    el.password.value = "";
  }

  /** @param {SubmitEvent} event */
  async #submit(event) {
    event.preventDefault();
    const el = this.el;
    const username = el.username.value.trim();
    const password = el.password.value;
    if (!username || !password) {
      say(el.loginError, msg("login.missing"));
      show(el.loginError, true);
      return;
    }
    el.loginButton.disabled = true;
    try {
      this.hooks.onlogin(await api.login(username, password));
    } catch (err) {
      const e = /** @type {api.ApiError} */ (err);
      const message = e.code === "unreachable" ? msg("login.unreachable") : errorMsg(e.code, e.message);
      const seconds = String(Math.ceil(e.retryAfter ?? 0));
      const retry = e.code === "rate_limited"
        ? msg("error.rate_limited_retry", { seconds })
        : msg("login.error_retry", { message, seconds });
      say(el.loginError, e.retryAfter ? retry : message);
      show(el.loginError, true);
      el.loginButton.disabled = false;
      el.password.select();
    }
  }
}
