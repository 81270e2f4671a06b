// @ts-check
/**
 * The chat panel: the transcript, the text box, the unread badge and the download.
 *
 * Shown once the peer announces chat in a paired session (its `capabilities`), in both modes,
 * whatever the customer allows for the screen; after the session the transcript stays until the
 * next one. Every text is put on the page with `textContent`, each message in its own
 * direction-isolated element (`dir="auto"`), so markup, scripts and bidi override marks in a
 * message show literally and cannot reorder the rest of the line.
 *
 * A burst of messages is drawn once per animation frame, at most `MAX_RENDERED` on the page;
 * the transcript in memory keeps the last `MAX_TRANSCRIPT` (see `chat.js`).
 *
 *   const chat = new ChatPanel(elements, {send: (msg) => link.send("chat", msg), log});
 *   chat.start({operator, user, host, startedAt});   // paired
 *   chat.setSupported(true);                          // the peer carries chat: shown
 *   chat.setOpen(true);                               // the chat channel opened
 *   chat.receive(msg);                                // chat / error from the peer
 *   chat.end();                                       // session over: offer the download
 *   chat.reset();                                     // a new session, or log out
 *
 * `CHAT_PANEL` registers it as the panel of the `chat` capability (`panels.js`).
 */

import {
  RenderQueue,
  Transcript,
  chatProblem,
  counterText,
  graphemeCount,
  transcriptFileName,
  transcriptText,
} from "./chat.js";
// `words` is `msg` where a parameter is called msg
import { errorMsg, msg, msg as words, onLanguageChange, render, t, timeOfDay } from "./i18n.js";
import { definePanel } from "./panels.js";
import { MAX_CHAT_CHARS } from "./protocol.js";
import { byId, say } from "./ui.js";

/**
 * @typedef {import("./chat.js").ChatEntry} ChatEntry
 * @typedef {import("./chat.js").SessionFacts} SessionFacts
 * @typedef {import("./i18n.js").Msg} Msg
 * @typedef {ChatEntry & {words?: Msg}} ShownEntry
 *   words: a note or the operator's name, as the catalogue's (shown anew after a switch of language)
 * @typedef {{
 *   panel: HTMLElement,
 *   toggle: HTMLButtonElement,
 *   toggleLabel: HTMLElement,
 *   unread: HTMLElement,
 *   body: HTMLElement,
 *   state: HTMLElement,
 *   log: HTMLElement,
 *   input: HTMLTextAreaElement,
 *   send: HTMLButtonElement,
 *   counter: HTMLElement,
 *   problem: HTMLElement,
 *   download: HTMLButtonElement,
 * }} ChatElements
 * @typedef {{
 *   send: (msg: {type: "chat", text: string}) => boolean,
 *   log: (line: string, level?: "info" | "error") => void,
 *   onlayout?: () => void,
 * }} ChatHooks
 */

/** Within this many pixels of the bottom, the list counts as "at the end" (and follows new lines). */
const AT_END_PX = 24;

export class ChatPanel {
  /**
   * @param {ChatElements} el
   * @param {ChatHooks} hooks
   */
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.transcript = new Transcript();
    this.queue = new RenderQueue();
    /** @type {SessionFacts | null} */
    this.facts = null;
    /** Whether the chat channel is open. */
    this.open = false;
    /** Whether the session is over (the transcript stays until the next one). */
    this.ended = false;
    /** The peer does not carry chat in this session (or has not said so yet). */
    this.unsupported = true;
    this.collapsed = false;
    this.unread = 0;
    /** Whether the message list is on screen (not scrolled away). */
    this.inView = true;
    /** @type {number | null} */
    this.frame = null;
    /** The customer's messages received, for the log's occasional summary. */
    this.received = 0;

    el.input.addEventListener("input", () => this.#edited());
    el.input.addEventListener("keydown", (event) => this.#keydown(event));
    el.send.addEventListener("click", () => this.#send());
    el.toggle.addEventListener("click", () => this.setCollapsed(!this.collapsed));
    el.download.addEventListener("click", () => this.download());
    el.log.addEventListener("scroll", () => this.#seen(), { passive: true });
    document.addEventListener("visibilitychange", () => this.#seen());
    if (typeof IntersectionObserver === "function") {
      new IntersectionObserver((entries) => {
        this.inView = entries.some((e) => e.isIntersecting);
        this.#seen();
      }).observe(el.log);
    }
    this.reset();
    onLanguageChange(() => {
      this.el.toggleLabel.textContent = this.collapsed ? t("chat.show") : t("chat.hide");
      this.#setUnread(this.unread);
      this.#update();
    });
  }

  /** Log out, or a new session is being made: nothing shown, nothing kept. */
  reset() {
    this.facts = null;
    this.open = false;
    this.ended = false;
    this.unsupported = true;
    this.received = 0;
    this.transcript.clear();
    this.queue.clear();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    this.el.log.replaceChildren();
    this.el.input.value = "";
    this.#setProblem("");
    this.#setUnread(0);
    this.el.panel.hidden = true;
    this.el.download.hidden = true;
    this.#edited();
    this.#update();
  }

  /**
   * Paired: a new chat with the customer.
   * @param {SessionFacts} facts
   */
  start(facts) {
    this.reset();
    this.facts = { ...facts };
    this.#update();
  }

  /**
   * Whether the peer carries chat in this session (from its `capabilities`): the panel shows
   * only then. Once the session has ended the transcript stays as it is.
   * @param {boolean} supported
   */
  setSupported(supported) {
    if (this.ended) return;
    this.unsupported = !supported;
    const hidden = this.facts === null || !supported;
    if (hidden !== this.el.panel.hidden) {
      this.el.panel.hidden = hidden;
      this.hooks.onlayout?.();
    }
    this.#update();
  }

  /** @param {boolean} open whether the chat data channel is open */
  setOpen(open) {
    if (open === this.open) return;
    this.open = open;
    this.#update();
  }

  /**
   * A message from the customer's peer on the chat channel.
   * @param {import("./protocol.js").Message} msg
   */
  receive(msg) {
    if (!this.facts || this.ended) return;
    if (msg.type === "chat") {
      this.received++;
      if (this.received <= 3 || this.received % 1000 === 0) {
        this.hooks.log(t("log.chat.received", { count: String(graphemeCount(msg.text)), total: String(this.received) }));
      }
      this.#add({ who: "customer", name: this.facts.user, text: msg.text, at: new Date() });
      if (!this.#watching()) this.#setUnread(this.unread + 1);
    } else if (msg.type === "error") {
      this.hooks.log(t("log.chat.refused", { code: msg.code, message: msg.message }), "error");
      const note = words("chat.not_delivered", { message: errorMsg(msg.code, msg.message) });
      this.#setProblem(note);
      this.#add({ who: "note", name: "", text: render(note), at: new Date(), words: note });
    }
  }

  /** The session is over: no more sending; the transcript can be saved. */
  end() {
    if (!this.facts || this.ended) return;
    this.ended = true;
    this.open = false;
    this.facts.endedAt = new Date();
    const note = msg("chat.session_ended_note");
    this.#add({ who: "note", name: "", text: render(note), at: new Date(), words: note });
    this.el.download.hidden = false;
    this.#update();
  }

  /** @param {boolean} collapsed */
  setCollapsed(collapsed) {
    this.collapsed = collapsed;
    this.el.body.hidden = collapsed;
    this.el.panel.classList.toggle("collapsed", collapsed);
    this.el.toggle.setAttribute("aria-expanded", String(!collapsed));
    say(this.el.toggleLabel, collapsed ? msg("chat.show") : msg("chat.hide"));
    this.hooks.onlayout?.();
    if (!collapsed) {
      this.#render();
      this.el.log.scrollTop = this.el.log.scrollHeight;
      if (document.visibilityState === "visible") this.#setUnread(0); // opened: now in sight
    }
  }

  /** Save the transcript as a `.txt` file (nothing is kept on the server). */
  download() {
    if (!this.facts) return;
    const text = transcriptText(this.facts, this.transcript);
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = transcriptFileName(this.facts);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    this.hooks.log(t("log.chat.saved", { count: String(this.transcript.kept().length) }));
  }

  // ------------------------------------------------------------------- sending

  /** @param {KeyboardEvent} event */
  #keydown(event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    this.#send();
  }

  #send() {
    const text = this.el.input.value;
    if (!this.#canSend()) return;
    const problem = chatProblem(text);
    if (problem !== null) {
      this.#setProblem(problem, "length");
      return;
    }
    if (!this.hooks.send({ type: "chat", text })) {
      this.#setProblem(msg("chat.not_sent"));
      this.hooks.log(t("log.chat.not_open"), "error");
      return;
    }
    const you = msg("chat.you");
    this.#add({ who: "operator", name: render(you), text, at: new Date(), words: you });
    this.el.input.value = "";
    this.#setProblem("");
    this.#edited();
    this.el.log.scrollTop = this.el.log.scrollHeight;
  }

  #canSend() {
    return this.facts !== null && this.open && !this.ended && !this.unsupported;
  }

  #edited() {
    const text = this.el.input.value;
    const count = graphemeCount(text);
    const over = count > MAX_CHAT_CHARS;
    this.el.counter.textContent = counterText(text);
    this.el.counter.classList.toggle("over", over);
    if (over) this.#setProblem(/** @type {string} */ (chatProblem(text)), "length");
    else if (this.el.problem.dataset.kind === "length") this.#setProblem("");
    this.el.send.disabled = !this.#canSend() || text.trim() === "" || over;
  }

  /**
   * @param {Msg | string} text empty hides the notice
   * @param {"" | "length"} [kind] "length": it goes away once the text fits again
   */
  #setProblem(text, kind = "") {
    say(this.el.problem, text);
    this.el.problem.hidden = text === "";
    this.el.problem.dataset.kind = kind;
  }

  #update() {
    const el = this.el;
    let state = "";
    if (this.ended) state = t("chat.state.ended");
    else if (!this.open) state = t("chat.state.connecting");
    el.state.textContent = state;
    el.state.hidden = state === "";
    el.input.disabled = !this.#canSend();
    el.input.placeholder = this.#canSend() ? t("chat.placeholder") : "";
    this.#edited();
  }

  // ------------------------------------------------------------------- the list

  /** @param {ShownEntry} entry */
  #add(entry) {
    this.transcript.add(entry);
    this.queue.push(entry);
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.#render());
  }

  /** Draw what is waiting: once per animation frame, whatever the burst. */
  #render() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    if (this.queue.size === 0) return;
    const list = this.el.log;
    const follow = this.#atEnd();
    const plan = this.queue.take(list.childElementCount);
    const fragment = document.createDocumentFragment();
    for (const entry of plan.add) fragment.append(messageElement(entry));
    if (plan.clear) list.replaceChildren(fragment);
    else {
      for (let i = 0; i < plan.remove; i++) list.firstElementChild?.remove();
      list.append(fragment);
    }
    if (follow) list.scrollTop = list.scrollHeight;
  }

  #atEnd() {
    const list = this.el.log;
    return list.scrollHeight - list.scrollTop - list.clientHeight <= AT_END_PX;
  }

  /** Whether the operator can see new messages arrive now. */
  #watching() {
    return !this.collapsed && !this.el.panel.hidden && document.visibilityState === "visible" && this.inView && this.#atEnd();
  }

  #seen() {
    if (this.unread && this.#watching()) this.#setUnread(0);
  }

  /** @param {number} n */
  #setUnread(n) {
    this.unread = n;
    this.el.unread.textContent = n > 999 ? "999+" : String(n);
    this.el.unread.hidden = n === 0;
    this.el.unread.setAttribute("aria-label", t("chat.unread", { n: String(n) }));
  }
}

/**
 * One message on the page: time, who, and the text — each its own isolated run of text. The
 * catalogue's words (a note, "You") keep their key, so a switch of language shows them anew.
 * @param {ShownEntry} entry
 */
function messageElement(entry) {
  const item = document.createElement("li");
  item.className = "chat-msg";
  item.dataset.who = entry.who;
  const time = document.createElement("time");
  time.className = "chat-time";
  time.dateTime = entry.at.toISOString();
  time.textContent = timeOfDay(entry.at);
  item.append(time);
  if (entry.who !== "note") {
    const who = document.createElement("span");
    who.className = "chat-who";
    who.dir = "auto";
    if (entry.who === "operator" && entry.words) say(who, entry.words);
    else who.textContent = entry.name;
    item.append(who);
  }
  const text = document.createElement("span");
  text.className = "chat-text";
  text.dir = "auto";
  if (entry.who === "note" && entry.words) say(text, entry.words);
  else text.textContent = entry.text;
  item.append(text);
  return item;
}

/** The `chat` capability's panel: `chat` and `error` from the peer on the chat channel. */
export const CHAT_PANEL = definePanel({
  capability: "chat",
  receives: { chat: ["chat", "error"] },
  create: (hooks) => {
    const toggle = /** @type {HTMLButtonElement} */ (byId("chat-toggle"));
    const chat = new ChatPanel(
      { panel: byId("chat-panel"), toggle,
        toggleLabel: /** @type {HTMLElement} */ (toggle.querySelector(".chat-toggle-label")),
        unread: byId("chat-unread"), body: byId("chat-body"), state: byId("chat-state"), log: byId("chat-log"),
        input: byId("chat-input"), send: byId("chat-send"), counter: byId("chat-counter"),
        problem: byId("chat-problem"), download: byId("chat-download") },
      { send: (msg) => hooks.send("chat", msg), log: hooks.log },
    );
    return {
      start: ({ operator, user, host, startedAt }) => chat.start({ operator, user, host, startedAt }),
      update: (now) => {
        if (chat.ended) return; // the transcript stays as it is until the next session
        chat.setSupported(now.offered);
        chat.setOpen(now.isOpen("chat"));
      },
      receive: (_label, msg) => chat.receive(msg),
      end: () => chat.end(),
      reset: () => chat.reset(),
    };
  },
});
