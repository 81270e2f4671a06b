// @ts-check
/**
 * The name customers see, on the page: who is signed in (the display name, the login in
 * smaller text), the "Your name for customers" form under the header, and the hint in the
 * start panel while no name is set. The rules are `profile.js`'s; the server's answer is the
 * profile shown (never the text typed).
 *
 *   const profile = new ProfileView({log, onexpired});
 *   profile.signedIn("admin");   // the login, until the profile is known
 *   profile.set(await api.me());
 *   profile.open();              // the form, as the header's button does
 *   profile.clear();             // logged out
 */

import * as api from "./api.js";
import { msg, t } from "./i18n.js";
import { displayNameProblem, saveProblem, shownName } from "./profile.js";
import { byId, say, setText, show } from "./ui.js";

/**
 * @typedef {import("./profile.js").Profile} Profile
 * @typedef {{log: (line: string, level?: "info" | "error") => void, onexpired: () => void}} ProfileHooks
 *   onexpired: the server says nobody is logged in
 */

/** Where a dismissed hint is remembered, per login. */
const HINT_KEY = "supportlink.name_hint_dismissed.";

export class ProfileView {
  /** @param {ProfileHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.el = {
      name: byId("operator-name"),
      login: byId("operator-login"),
      button: /** @type {HTMLButtonElement} */ (byId("profile-button")),
      form: /** @type {HTMLFormElement} */ (byId("profile-form")),
      input: /** @type {HTMLInputElement} */ (byId("display-name")),
      customersSee: byId("customers-see"),
      error: byId("profile-error"),
      save: /** @type {HTMLButtonElement} */ (byId("profile-save")),
      cancel: /** @type {HTMLButtonElement} */ (byId("profile-cancel")),
      hint: byId("name-hint"),
      hintText: byId("name-hint-text"),
      hintButton: /** @type {HTMLButtonElement} */ (byId("name-hint-button")),
      hintDismiss: /** @type {HTMLButtonElement} */ (byId("name-hint-dismiss")),
    };
    /** The profile as the server last said it; null until known. @type {Profile | null} */
    this.profile = null;
    /** The login signed in ("" when nobody). */
    this.operator = "";
    /** Logins whose hint was dismissed on this page (storage may be disabled). @type {Set<string>} */
    this.dismissed = new Set();
    /** What had the focus before the form opened, to go back to. @type {HTMLElement | null} */
    this.opener = null;
    const el = this.el;
    el.button.addEventListener("click", () => (el.form.hidden ? this.open(el.button) : this.close()));
    el.hintButton.addEventListener("click", () => this.open(el.hintButton));
    el.hintDismiss.addEventListener("click", () => this.dismissHint());
    el.cancel.addEventListener("click", () => this.close());
    el.form.addEventListener("submit", (event) => {
      event.preventDefault(); // Enter in the field saves too
      void this.save();
    });
    el.form.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.isComposing) return;
      event.preventDefault();
      this.close();
    });
    el.input.addEventListener("input", () => {
      show(el.error, false);
      this.preview();
    });
  }

  /** @param {string} operator the login: shown until the profile is known */
  signedIn(operator) {
    this.operator = operator;
    this.profile = null;
    this.render();
  }

  /** @param {Profile} profile as the server says it */
  set(profile) {
    this.operator = profile.operator;
    this.profile = profile;
    this.render();
  }

  /** Logged out: nothing of the operator stays on the page. */
  clear() {
    this.close(false);
    this.operator = "";
    this.profile = null;
    this.render();
  }

  /** Ask the server who is signed in, and show it (a failure leaves the login shown). */
  async load() {
    try {
      const profile = await api.me();
      if (profile === null) return this.hooks.onexpired();
      this.set(profile);
    } catch (err) {
      this.hooks.log(t("log.profile.load_failed", { error: String(/** @type {Error} */ (err).message) }), "error");
    }
  }

  render() {
    const el = this.el;
    const shown = this.profile?.displayName || this.operator;
    setText(el.name, shown);
    el.name.title = shown; // whole, where a long name is cut short
    setText(el.login, this.profile?.displayName ? this.operator : "");
    show(el.login, Boolean(this.profile?.displayName));
    const unset = this.profile !== null && this.profile.displayName === "";
    if (unset) say(el.hintText, msg("profile.hint_login", { login: this.operator }));
    show(el.hint, unset && !this.hintDismissed());
    this.preview();
  }

  /** "Customers see: …" for the text in the field while the form is open, else for the name saved. */
  preview() {
    const profile = this.profile ?? { operator: this.operator, displayName: "", organisation: null };
    const typed = this.el.form.hidden ? profile.displayName : this.el.input.value;
    say(this.el.customersSee, msg("profile.customers_see", { name: shownName(profile, typed) }));
  }

  /**
   * Open the form with the name as saved.
   * @param {HTMLElement} [opener] where the focus goes back when it closes
   */
  open(opener) {
    const el = this.el;
    this.opener = opener ?? null;
    el.input.value = this.profile?.displayName ?? "";
    show(el.error, false);
    this.busy(false);
    show(el.form, true);
    el.button.setAttribute("aria-expanded", "true");
    this.preview();
    el.input.focus();
    el.input.select();
    if (this.profile === null && this.operator) void this.load(); // not known yet: ask again
  }

  /** @param {boolean} [refocus] give the focus back to what opened the form */
  close(refocus = true) {
    const el = this.el;
    if (el.form.hidden) return;
    show(el.form, false);
    el.button.setAttribute("aria-expanded", "false");
    if (refocus && this.opener?.isConnected && !this.opener.closest("[hidden]")) this.opener.focus();
    else if (refocus) el.button.focus();
    this.opener = null;
  }

  /** Send the name in the field; the form closes once the server took it. */
  async save() {
    const el = this.el;
    if (el.save.disabled) return;
    const name = el.input.value.trim();
    const problem = displayNameProblem(name);
    if (problem) return this.problem(problem);
    this.busy(true);
    try {
      const profile = await api.saveDisplayName(name);
      this.set(profile);
      this.hooks.log(t("log.profile.saved", { name: shownName(profile) }));
      this.close();
    } catch (err) {
      const e = /** @type {api.ApiError} */ (err);
      this.busy(false);
      if (!(e instanceof api.ApiError)) return this.problem(msg("profile.save_failed", { message: String(e?.message ?? e) }));
      this.problem(saveProblem(e.status, e.code, e.message));
      if (e.status === 401) this.hooks.onexpired();
    }
  }

  /** @param {import("./i18n.js").Msg | string} words why the name was not saved */
  problem(words) {
    say(this.el.error, words);
    show(this.el.error, true);
    this.el.input.focus();
  }

  /** @param {boolean} busy a save is under way */
  busy(busy) {
    this.el.input.readOnly = busy;
    this.el.save.disabled = busy;
  }

  hintDismissed() {
    if (this.dismissed.has(this.operator)) return true;
    try {
      return localStorage.getItem(HINT_KEY + this.operator) === "1";
    } catch {
      return false;
    }
  }

  dismissHint() {
    this.dismissed.add(this.operator);
    try {
      localStorage.setItem(HINT_KEY + this.operator, "1");
    } catch {
      // storage disabled: hidden until the page is left
    }
    show(this.el.hint, false);
    this.el.button.focus(); // the same form stays a click away, in the header
  }
}
