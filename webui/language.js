// @ts-check
/**
 * The page in the operator's language: the switch in the header, the choice remembered in
 * localStorage, `<html lang>`, and every word on the page shown anew when it changes — without a
 * reload, so a live session carries on.
 *
 * Words on the page carry their key: index.html's `data-i18n` (text, the attribute naming its key) and
 * `data-i18n-placeholder` / `data-i18n-aria-label` / `data-i18n-title` (attributes); words the
 * modules set with `ui.js`'s `say` carry theirs the same way (with their params). `translatePage`
 * renders all of them; the modules whose words follow from state (consent, panels, chat) listen
 * to `onLanguageChange` and show them again.
 */

import { LANGUAGES, language, onLanguageChange, pickLanguage, setLanguage, t } from "./i18n.js";

/** Where the operator's choice is kept. */
const STORAGE_KEY = "supportlink.language";
/** Attributes that hold words, each with the data attribute naming its key. */
const ATTRIBUTES = Object.freeze(["placeholder", "aria-label", "title"]);

/**
 * Render every word on the page that carries its key.
 * @param {ParentNode} root
 */
export function translatePage(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    const node = /** @type {HTMLElement} */ (el);
    const params = node.dataset.i18nParams ? JSON.parse(node.dataset.i18nParams) : undefined;
    node.textContent = t(node.dataset.i18n ?? "", params);
  }
  for (const name of ATTRIBUTES) {
    for (const el of root.querySelectorAll(`[data-i18n-${name}]`)) {
      el.setAttribute(name, t(el.getAttribute(`data-i18n-${name}`) ?? ""));
    }
  }
}

/** @returns {string | null} */
function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the browser's languages decide
  }
}

/** @param {string} code */
function remember(code) {
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // storage disabled: the choice lasts until the page is left
  }
}

/**
 * Choose the language (stored choice, else the browser's), show the page in it and wire the switch.
 * @param {HTMLSelectElement} select the switch in the header
 */
export function startLanguage(select) {
  select.replaceChildren(...LANGUAGES.map((l) => {
    const option = document.createElement("option");
    option.value = l.code;
    option.lang = l.code;
    option.textContent = l.name;
    return option;
  }));
  onLanguageChange(() => {
    document.documentElement.lang = language();
    select.value = language();
    translatePage(document);
  });
  const code = pickLanguage(navigator.languages ?? [navigator.language], stored());
  if (code === language()) {
    document.documentElement.lang = code;
    select.value = code;
    translatePage(document); // the page's own words are English: render them through the catalogue anyway
  } else {
    setLanguage(code);
  }
  select.addEventListener("change", () => {
    remember(select.value);
    setLanguage(select.value);
  });
}
