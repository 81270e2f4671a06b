// @ts-check
/**
 * Chat with the customer, without the DOM (`chatview.js` draws it; node tests this).
 *
 * Text goes both ways on the `chat` data channel as `chat{text}`; the peer answers a message
 * it refuses with `error{code, message}` there. Nothing is stored on the server: the transcript
 * lives in this page only, bounded (`MAX_TRANSCRIPT` messages; older ones are trimmed and the
 * download says so), and can be saved as a `.txt` once the session ends.
 *
 * Lengths are counted as a person counts characters: grapheme clusters (`Intl.Segmenter`), so
 * "👍🏽" or "é" written with a combining accent is one character, as the peer counts them.
 *
 *   chatProblem(text)        -> null, or why it cannot be sent (in words for the operator)
 *   const t = new Transcript();  t.add({who: "customer", name: "bob", text, at: new Date()})
 *   const r = new RenderQueue(500);  r.push(entry); r.take(domCount) -> {clear, remove, add}
 */

import {
  MAX_CHAT_BYTES,
  MAX_CHAT_CHARS,
  MAX_CHAT_CODEPOINTS,
  ProtocolError,
  codePointLength,
  serialize,
  utf8Length,
} from "./protocol.js";
import { locale, t } from "./i18n.js";

/** Messages kept in memory for the transcript; older ones are trimmed. */
export const MAX_TRANSCRIPT = 5000;
/** UTF-16 code units of text kept for the transcript (about 8 MB); older messages go first. */
export const MAX_TRANSCRIPT_UNITS = 4_000_000;
/** Message elements kept on the page; older ones leave the top of the list. */
export const MAX_RENDERED = 500;

/**
 * @typedef {"operator" | "customer" | "note"} Who
 * @typedef {{who: Who, name: string, text: string, at: Date}} ChatEntry
 */

/** @type {Intl.Segmenter | null} */
let segmenter = null;

/**
 * Characters as a person counts them: grapheme clusters.
 * @param {string} text
 */
export function graphemeCount(text) {
  if (text === "") return 0;
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
}

/** @param {number} n "4,000", grouped as the language in use groups digits */
const grouped = (n) => n.toLocaleString(locale());

/**
 * The counter under the text box: "12 / 4,000".
 * @param {string} text
 */
export function counterText(text) {
  return `${grouped(graphemeCount(text))} / ${grouped(MAX_CHAT_CHARS)}`;
}

/**
 * Why `text` cannot go out as one chat message, in words for the operator; null if it can.
 * Text that is only spaces and new lines is "empty" (nothing worth sending).
 * @param {string} text
 * @returns {string | null}
 */
export function chatProblem(text) {
  if (text.trim() === "") return t("chat.problem.empty");
  const count = graphemeCount(text);
  if (count > MAX_CHAT_CHARS) return t("chat.problem.too_long", { count: grouped(count), max: grouped(MAX_CHAT_CHARS) });
  if (codePointLength(text) > MAX_CHAT_CODEPOINTS) {
    return t("chat.problem.too_many_codepoints", { max: grouped(MAX_CHAT_CODEPOINTS) });
  }
  let wire;
  try {
    wire = serialize({ type: "chat", text }, "chat");
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return t("chat.problem.invalid", { detail: err.message.replace(/^chat\.text: /, "") });
  }
  if (utf8Length(wire) > MAX_CHAT_BYTES) {
    return t("chat.problem.too_large", { bytes: grouped(utf8Length(wire)), max: grouped(MAX_CHAT_BYTES) });
  }
  return null;
}

/**
 * A clock time for the transcript file, `HH:MM`, in local time (the page shows `i18n.js`'s `timeOfDay`).
 * @param {Date} date
 */
export function shortTime(date) {
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}

/**
 * A date for the transcript's header, `YYYY-MM-DD`, in local time.
 * @param {Date} date
 */
export function localDate(date) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The messages of one session, the last `limit` of them. */
export class Transcript {
  /**
   * @param {number} [limit] most messages kept
   * @param {number} [units] most UTF-16 code units of text kept (long messages count for more)
   */
  constructor(limit = MAX_TRANSCRIPT, units = MAX_TRANSCRIPT_UNITS) {
    this.limit = limit;
    this.units = units;
    /** @type {ChatEntry[]} */
    this.entries = [];
    /** Code units of text in `entries`. */
    this.size = 0;
    /** How many older messages were dropped to stay within the limits. */
    this.trimmed = 0;
  }

  /** @param {ChatEntry} entry */
  add(entry) {
    this.entries.push(entry);
    this.size += entry.text.length;
    // trim in batches, not per message
    if (this.entries.length > this.limit * 1.1 || this.size > this.units) this.kept();
  }

  /** The entries within the limits (trimming is batched, so this is exact). */
  kept() {
    let over = Math.max(0, this.entries.length - this.limit);
    let size = this.size;
    for (let i = 0; i < over; i++) size -= this.entries[i].text.length;
    while (size > this.units && over < this.entries.length - 1) {
      size -= this.entries[over].text.length;
      over++;
    }
    if (over > 0) {
      this.entries.splice(0, over);
      this.trimmed += over;
      this.size = size;
    }
    return this.entries;
  }

  clear() {
    this.entries = [];
    this.size = 0;
    this.trimmed = 0;
  }
}

/**
 * @typedef {{
 *   operator: string,
 *   user: string,
 *   host: string,
 *   startedAt: Date,
 *   endedAt?: Date | null,
 * }} SessionFacts
 */

/**
 * The transcript as a `.txt`: a header (date, who, where), then one line per message,
 * `HH:MM Name: text` (the lines of a multi-line message after the first are indented).
 * @param {SessionFacts} facts
 * @param {Transcript} transcript
 */
export function transcriptText(facts, transcript) {
  const entries = transcript.kept();
  const lines = [
    t("transcript.title", { date: localDate(facts.startedAt) }),
    t("transcript.customer", { user: isolated(facts.user), host: isolated(facts.host) }),
    t("transcript.operator", { operator: isolated(facts.operator) }),
    t("transcript.started", { date: localDate(facts.startedAt), time: shortTime(facts.startedAt) }) +
      (facts.endedAt ? t("transcript.ended", { date: localDate(facts.endedAt), time: shortTime(facts.endedAt) }) : ""),
    "",
  ];
  if (transcript.trimmed) {
    lines.push(t("transcript.trimmed", { count: String(transcript.trimmed), limit: String(transcript.limit) }), "");
  }
  for (const e of entries) {
    const body = isolated(e.text.replace(/\r\n?/g, "\n")).split("\n").join("\n      ");
    lines.push(e.who === "note" ? `${shortTime(e.at)} -- ${body}` : `${shortTime(e.at)} ${isolated(e.name)}: ${body}`);
  }
  return lines.join("\n") + "\n";
}

/** Bidi formatting characters: embeddings, overrides, isolates and marks. */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * `text` as it may stand in a line of the plain-text transcript: text holding bidi controls is
 * wrapped in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE (each line of it), so an
 * override in a message cannot reorder the time, the name or the lines after it. Other text is
 * left exactly as it was.
 * @param {string} text
 */
export function isolated(text) {
  if (!BIDI_CONTROLS.test(text)) return text;
  return text.split("\n").map((line) => `\u2068${line}\u2069`).join("\n");
}

/**
 * The download's file name: `supportlink-chat-<user>-<date>-<HHMM>.txt`, safe on every system.
 * @param {SessionFacts} facts
 */
export function transcriptFileName(facts) {
  const user = facts.user.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 40) || "customer";
  const time = shortTime(facts.startedAt).replace(":", "");
  return `supportlink-chat-${user}-${localDate(facts.startedAt)}-${time}.txt`;
}

/**
 * Messages waiting to be drawn. The view takes them once per animation frame; in a burst only
 * the last `max` can be on the page, so earlier ones are never drawn at all.
 */
export class RenderQueue {
  /** @param {number} [max] */
  constructor(max = MAX_RENDERED) {
    this.max = max;
    /** @type {ChatEntry[]} */
    this.waiting = [];
  }

  /** @param {ChatEntry} entry */
  push(entry) {
    this.waiting.push(entry);
    if (this.waiting.length > this.max * 2) this.waiting.splice(0, this.waiting.length - this.max);
  }

  /**
   * What to do to the list now, given how many message elements it holds.
   * @param {number} shown
   * @returns {{clear: boolean, remove: number, add: ChatEntry[]}}
   */
  take(shown) {
    const add = this.waiting.length > this.max ? this.waiting.slice(-this.max) : this.waiting;
    this.waiting = [];
    if (add.length >= this.max) return { clear: true, remove: 0, add };
    return { clear: false, remove: Math.max(0, shown + add.length - this.max), add };
  }

  get size() {
    return this.waiting.length;
  }

  clear() {
    this.waiting = [];
  }
}
