// @ts-check
/**
 * Every SupportLink wire message, as the console speaks it.
 *
 * This module mirrors `wire/protocol.py` field for field: the same message tables, the
 * same limits, the same error codes, the same verification code. Golden examples in
 * `tests/data/messages.json` are checked against both (`node --test tests/js/`).
 *
 * To accept and reject exactly what the Python side does, frames are read by a small JSON
 * reader of our own rather than `JSON.parse`: Python tells `1` (an int) from `1.0` (a float),
 * refuses integers longer than 4300 digits and gives up on deep nesting; string lengths count
 * code points, and `\S` / `strip()` use Python's idea of whitespace.
 *
 * Beside the messages it mirrors the protocol's tables: `CHANNELS` (one row per data channel:
 * label, delivery, registry, who may send what) and `CAPABILITY_TABLE` (one row per thing the
 * operator may ask for). `schema()` writes them all out as `wire.schema.schema()` does in
 * Python; a node test compares the two (`tests/data/schema.json`), so a table cannot drift.
 *
 * Errors:
 *
 *     ProtocolError (Error)   .code: bad_json | too_large | unknown_type | bad_message
 */

import { sha256 } from "./sha256.js";

export const PROTOCOL_VERSION = 1;

/** Largest signaling frame accepted, in bytes of UTF-8 text. */
export const MAX_SIGNAL_BYTES = 64 * 1024;
/** Largest control data-channel message accepted, in bytes of UTF-8 text. */
export const MAX_CONTROL_BYTES = 16 * 1024;
/** Largest input data-channel message accepted, in bytes of UTF-8 text. */
export const MAX_INPUT_BYTES = 512;
/** Longest clipboard text carried in one `clipboard` message, in characters. */
export const MAX_CLIPBOARD_CHARS = 4000;

export const ROLES = Object.freeze(["operator", "peer"]);
export const BUTTONS = Object.freeze(["left", "middle", "right"]);
export const MODES = Object.freeze(["screen", "call"]);
/** Largest chat data-channel message accepted, in bytes of UTF-8 text. */
export const MAX_CHAT_BYTES = 64 * 1024;
/** Longest chat message, in characters as a person counts them (grapheme clusters). */
export const MAX_CHAT_CHARS = 4000;
/** Longest chat message in code points: the wire's bound on `MAX_CHAT_CHARS` characters. */
export const MAX_CHAT_CODEPOINTS = 4 * MAX_CHAT_CHARS;
/** Largest annotation data-channel message accepted, in bytes of UTF-8 text. */
export const MAX_ANNOTATE_BYTES = 16 * 1024;
/** Most points one `stroke` message carries (a stroke may take many messages). */
export const MAX_STROKE_POINTS_PER_MESSAGE = 256;
/** Widest line, in thousandths of the picture's height. */
export const MAX_STROKE_WIDTH = 50;
/** The drawing tools: free lines (pen, highlighter) and shapes given by two corners. */
export const ANNOTATION_TOOLS = Object.freeze(["pen", "highlighter", "rect", "ellipse", "arrow"]);
/** Most capabilities one message may name. */
export const MAX_CAPABILITIES = 32;
/** Largest text message on the files channel (offers, answers, ends), in bytes of UTF-8. */
export const MAX_FILES_BYTES = 64 * 1024;
/** Most files (and folders) one transfer may hold. */
export const MAX_FILES_PER_TRANSFER = 10_000;
/** Largest file size and offset the wire carries (what a JavaScript number holds exactly). */
export const MAX_FILE_SIZE = 2 ** 53;

/** Stable error codes, with what they mean. @type {Readonly<Record<string, string>>} */
export const ERROR_CODES = Object.freeze({
  // malformed input (ProtocolError.code)
  bad_json: "the frame is not a JSON object",
  too_large: "the frame is larger than the protocol allows",
  unknown_type: "the message type is not part of the protocol",
  bad_message: "a field is missing, unknown, of the wrong type or out of range",
  // state
  unexpected_message: "the message is not valid from this side in this state",
  not_authenticated: "log in first",
  session_exists: "this connection already has a live session",
  no_session: "there is no session to act on",
  // HTTP (login, WebSocket upgrade)
  bad_credentials: "wrong user name or password",
  bad_request: "the request body is not what this endpoint takes",
  bad_origin: "the request came from another site",
  // codes
  unknown_code: "no session has this code",
  expired_code: "this code has expired",
  used_code: "this code has already been used",
  rate_limited: "too many attempts; retry later",
  // server
  server_busy: "the server cannot take more sessions now",
  // data channels
  not_allowed: "the customer has not allowed what this message needs",
  too_long: "the text is longer than the limit",
  internal: "the server failed; the session was closed",
});

/** Why a session ended, as sent in `bye.reason` by the server. @type {Readonly<Record<string, string>>} */
export const BYE_REASONS = Object.freeze({
  operator_ended: "the operator ended the session",
  peer_ended: "the customer ended the session",
  operator_left: "the operator's connection was lost",
  peer_left: "the customer's connection was lost",
  rejected: "the operator rejected the customer",
  cancelled: "the operator cancelled the session before anyone joined",
  expired: "the code expired before anyone joined",
  server_shutdown: "the server is shutting down",
  connection_failed: "no network path between customer and operator (a TURN relay may help)",
});

/** Which signaling messages each role may send to the server. */
export const FROM_OPERATOR = Object.freeze(
  new Set(["hello", "create_session", "accept", "reject", "answer", "candidate", "bye", "resume"]),
);
export const FROM_PEER = Object.freeze(new Set(["hello", "join", "offer", "candidate", "bye", "granted", "resume"]));

/** A message could not be parsed or built; `code` says how (see `ERROR_CODES`). */
export class ProtocolError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

// ------------------------------------------------------------------------- Python look-alikes

/** The characters Python's `str.isspace()` (and so `\s` in `re`) counts as whitespace. */
const PY_SPACE =
  "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_SPACE_RE = new RegExp(`[${PY_SPACE}]`, "u");

/**
 * Length in code points, as Python's `len(str)`.
 * @param {string} s
 */
export function codePointLength(s) {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Bytes of UTF-8, as Python's `len(s.encode("utf-8", "surrogatepass"))`.
 * @param {string} s
 */
export function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Python's `s.strip()`.
 * @param {string} s
 */
function pyStrip(s) {
  let start = 0;
  let end = s.length;
  while (start < end && PY_SPACE_RE.test(s[start])) start++;
  while (end > start && PY_SPACE_RE.test(s[end - 1])) end--;
  return s.slice(start, end);
}

/**
 * Compare as Python compares `str`: by code point (JS compares UTF-16 code units).
 * @param {string} a
 * @param {string} b
 */
function comparePy(a, b) {
  const x = Array.from(a, (ch) => /** @type {number} */ (ch.codePointAt(0)));
  const y = Array.from(b, (ch) => /** @type {number} */ (ch.codePointAt(0)));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

// ------------------------------------------------------------------------- JSON, as Python reads it

/** A number written with a fraction or exponent: a `float` in Python, never an `int`. */
class JsonFloat {
  /** @param {number} value */
  constructor(value) {
    this.value = value;
  }
}

/** No message nests deeper than this; deeper frames are `bad_json` (as `MAX_JSON_DEPTH` in Python). */
export const MAX_JSON_DEPTH = 32;
/** Python refuses to convert integers with more digits than this (`sys.get_int_max_str_digits`). */
const MAX_INT_DIGITS = 4300;

/** @typedef {null | boolean | number | string | JsonFloat | any[] | Map<string, any>} RawValue */

/**
 * Read one JSON text the way Python's `json.loads(..., parse_constant=reject)` does.
 * Objects come back as `Map`s, numbers with a fraction or exponent as `JsonFloat`.
 * @param {string} text
 * @returns {RawValue}
 */
function readJson(text) {
  let i = 0;
  let depth = 0;
  /** @param {string} why */
  const fail = (why) => {
    throw new ProtocolError("bad_json", `not valid JSON: ${why} at char ${i}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
      else break;
    }
  };
  /** @returns {RawValue} */
  const value = () => {
    const c = text[i];
    if (c === "{") return object();
    if (c === "[") return array();
    if (c === '"') return string();
    if (text.startsWith("null", i)) return (i += 4), null;
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    // NaN, Infinity and anything else
    return fail("expecting value");
  };
  const number = () => {
    const m = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
    m.lastIndex = i;
    const found = m.exec(text);
    if (!found) return fail("expecting value");
    i += found[0].length;
    if (found[1] !== undefined || found[2] !== undefined) return new JsonFloat(Number(found[0]));
    const digits = found[0].replace("-", "");
    if (digits.length > MAX_INT_DIGITS) fail(`integer of more than ${MAX_INT_DIGITS} digits`);
    return Number(found[0]);
  };
  const string = () => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) return fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) return fail("invalid control character");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return fail("invalid \\uXXXX escape");
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e === undefined || !Object.hasOwn(simple, e)) return fail("invalid escape");
        out += simple[/** @type {keyof typeof simple} */ (e)];
        i += 2;
      }
      start = i;
    }
  };
  const enter = () => {
    if (++depth > MAX_JSON_DEPTH) fail("nested too deeply");
    i++;
    ws();
  };
  const array = () => {
    enter();
    /** @type {RawValue[]} */
    const out = [];
    if (text[i] === "]") return i++, depth--, out;
    for (;;) {
      out.push(value());
      ws();
      if (text[i] === ",") {
        i++;
        ws();
      } else if (text[i] === "]") {
        i++;
        depth--;
        return out;
      } else return fail("expecting ',' delimiter");
    }
  };
  const object = () => {
    enter();
    /** @type {Map<string, RawValue>} */
    const out = new Map();
    if (text[i] === "}") return i++, depth--, out;
    for (;;) {
      if (text[i] !== '"') return fail("expecting property name enclosed in double quotes");
      const key = string();
      ws();
      if (text[i] !== ":") return fail("expecting ':' delimiter");
      i++;
      ws();
      out.set(key, value());
      ws();
      if (text[i] === ",") {
        i++;
        ws();
      } else if (text[i] === "}") {
        i++;
        depth--;
        return out;
      } else return fail("expecting ',' delimiter");
    }
  };
  ws();
  const result = value();
  ws();
  if (i !== text.length) fail("extra data");
  return result;
}

// ------------------------------------------------------------------------- field specs

/**
 * @typedef {{kind: "str", maxLen: number, minLen: number, pattern?: RegExp, source?: string, choices?: readonly string[]}} StrSpec
 *   `source` is the pattern as written (Python's `re` syntax), `pattern` its compiled form
 * @typedef {{kind: "int", min: number, max: number}} IntSpec
 * @typedef {{kind: "num", min: number, max: number}} NumSpec
 * @typedef {{kind: "bool"}} BoolSpec
 * @typedef {{kind: "seq", item: Spec, maxItems: number, unique: boolean}} SeqSpec
 * @typedef {{kind: "record", fields: Fields}} RecordSpec
 * @typedef {StrSpec | IntSpec | NumSpec | BoolSpec | SeqSpec | RecordSpec} Spec
 * @typedef {{spec: Spec, optional: boolean}} Field
 * @typedef {Readonly<Record<string, Field>>} Fields
 * @typedef {{name: string, maxBytes: number, messages: Readonly<Record<string, Fields>>}} Registry
 */

/**
 * A Python `re.fullmatch` pattern; `\S` there means "not Python whitespace".
 * @param {string} source
 */
const fullmatch = (source) =>
  new RegExp(`^(?:${source.replaceAll("\\S", `[^${PY_SPACE}]`)})$`, "u");

/** @returns {StrSpec} @param {number} maxLen @param {{minLen?: number, pattern?: string, choices?: readonly string[]}} [opts] */
const Str = (maxLen, opts = {}) => ({
  kind: "str",
  maxLen,
  minLen: opts.minLen ?? 0,
  pattern: opts.pattern === undefined ? undefined : fullmatch(opts.pattern),
  source: opts.pattern,
  choices: opts.choices,
});
/** @returns {IntSpec} @param {number} min @param {number} max */
const Int = (min, max) => ({ kind: "int", min, max });
/** @returns {NumSpec} @param {number} min @param {number} max */
const Num = (min, max) => ({ kind: "num", min, max });
/** @type {BoolSpec} */
const Bool = { kind: "bool" };
/** @returns {SeqSpec} @param {Spec} item @param {number} maxItems */
const Seq = (item, maxItems, unique = false) => ({ kind: "seq", item, maxItems, unique });
/** @returns {RecordSpec} @param {Fields} fields */
const Rec = (fields) => ({ kind: "record", fields });
/** A required field. @param {Spec} spec @returns {Field} */
const req = (spec) => ({ spec, optional: false });
/** A field that may be absent or null. @param {Spec} spec @returns {Field} */
const opt = (spec) => ({ spec, optional: true });

const TOKEN = "[a-z][a-z0-9_]{0,39}";
/** A media section's id in SDP (RFC 8843 allows any token; aiortc and browsers use digits). */
const MID = "[A-Za-z0-9_.-]{1,32}";
const ID = Str(64, { minLen: 8, pattern: "[A-Za-z0-9_-]+" });
const CODE = Str(8, { minLen: 8, pattern: "[0-9]{8}" });
const LABEL = Str(128); // host, user, os, operator names: shown, never trusted
const SDP = Str(60_000, { minLen: 1 });
const MODE = Str(16, { choices: MODES });
const ROLE = Str(16, { choices: ROLES });
/** A capability on the wire: any token, so that a side meeting a new one can name it. */
const CAPABILITY = Str(40, { pattern: TOKEN });
const CAPABILITY_LIST = Seq(CAPABILITY, MAX_CAPABILITIES, true);
/** The `error` message: on signaling and on the chat channel alike. */
const ERROR = Object.freeze({
  code: req(Str(40, { pattern: TOKEN })),
  message: req(Str(500)),
  retry_after: opt(Num(0, 86400)),
});
const FRACTION = Num(0.0, 1.0);

/** One entry of `RTCConfiguration.iceServers`. */
const ICE_SERVER = Rec({
  urls: req(Seq(Str(512, { pattern: "(stun|stuns|turn|turns):\\S+" }), 8)),
  username: opt(Str(256)),
  credential: opt(Str(256)),
});

const MONITOR = Rec({
  index: req(Int(0, 31)),
  x: req(Int(-65536, 65536)),
  y: req(Int(-65536, 65536)),
  width: req(Int(1, 65536)),
  height: req(Int(1, 65536)),
  primary: req(Bool),
});

/** Signaling messages (WebSocket text frames), by type, fields in the Python order. @type {Registry} */
export const SIGNALING = Object.freeze({
  name: "signaling",
  maxBytes: MAX_SIGNAL_BYTES,
  messages: Object.freeze({
    hello: { role: req(ROLE), protocol: req(Int(1, 1000)), agent: opt(Str(64)) },
    welcome: { role: req(ROLE), protocol: req(Int(1, 1000)), operator: opt(LABEL) },
    create_session: { mode: req(MODE) },
    session_created: {
      session_id: req(ID),
      code: req(CODE),
      mode: req(MODE),
      expires_at: req(Num(0, 1e11)),
      ttl: req(Int(1, 7 * 86400)),
    },
    join: { code: req(CODE), host: req(LABEL), user: req(LABEL), os: req(LABEL) },
    join_pending: { operator: req(LABEL), mode: req(MODE), organisation: opt(LABEL) },
    join_request: {
      session_id: req(ID),
      host: req(LABEL),
      user: req(LABEL),
      os: req(LABEL),
      address: req(Str(64)),
    },
    accept: { session_id: req(ID) },
    reject: { session_id: req(ID) },
    paired: {
      session_id: req(ID),
      mode: req(MODE),
      operator: req(LABEL),
      host: req(LABEL),
      user: req(LABEL),
      os: req(LABEL),
      ice_servers: req(Seq(ICE_SERVER, 8)),
      organisation: opt(LABEL),
      resume: opt(ID),
      resume_within: opt(Int(0, 3600)),
    },
    offer: {
      sdp: req(SDP),
      fresh: opt(Bool),
      show_screen_mid: opt(Str(32, { pattern: MID })),
      show_camera_mid: opt(Str(32, { pattern: MID })),
    },
    answer: { sdp: req(SDP) },
    candidate: {
      candidate: req(Str(1024)),
      sdp_mid: opt(Str(64)),
      sdp_mline_index: opt(Int(0, 64)),
    },
    bye: { reason: req(Str(40, { pattern: TOKEN })) },
    resume: { session_id: req(ID), token: req(ID) },
    interrupted: { resume_within: req(Int(0, 3600)) },
    resumed: { ice_servers: req(Seq(ICE_SERVER, 8)) },
    granted: { capabilities: req(CAPABILITY_LIST) },
    error: ERROR,
  }),
});

/** What the customer's side of a call says about its microphone (`voice_state.mic`). */
export const MIC_STATES = Object.freeze(["on", "muted", "no_device", "busy", "lost"]);
/** ... and about its speakers or headset (`voice_state.speaker`). */
export const SPEAKER_STATES = Object.freeze(["on", "no_device", "busy", "lost"]);

/** How the customer's camera is (`camera_state.state`). */
export const CAMERA_STATES = Object.freeze(["on", "off", "no_camera", "busy", "lost", "failed"]);
/** The stream id of the customer's camera track (the screen's is in another stream). */
export const CAMERA_STREAM = "supportlink-camera";

/** Control data-channel messages (operator <-> customer's peer, end to end). @type {Registry} */
export const CONTROL = Object.freeze({
  name: "control",
  maxBytes: MAX_CONTROL_BYTES,
  messages: Object.freeze({
    consent_request: { capability: req(CAPABILITY) },
    consent_reply: { capability: req(CAPABILITY), allowed: req(Bool) },
    consent_state: { granted: req(CAPABILITY_LIST) },
    release: { capability: req(CAPABILITY) },
    view_state: {
      monitors: req(Seq(MONITOR, 32)),
      monitor: req(Int(0, 31)),
      window: opt(Str(256)),
      width: req(Int(0, 65536)),
      height: req(Int(0, 65536)),
    },
    select_monitor: { index: req(Int(0, 31)) },
    view_report: {
      queue_ms: req(Num(0, 60000)),
      loss: req(Num(0, 1)),
      kbps: req(Num(0, 1000000)),
      fps: req(Num(0, 1000)),
    },
    limit_request: {},
    whole_screen_request: {},
    whole_screen_reply: { allowed: req(Bool) },
    clipboard: { text: req(Str(MAX_CLIPBOARD_CHARS)) },
    capabilities: { supported: req(CAPABILITY_LIST) },
    voice_state: { mic: req(Str(16, { choices: MIC_STATES })), speaker: req(Str(16, { choices: SPEAKER_STATES })) },
    camera_state: { state: req(Str(16, { choices: CAMERA_STATES })), name: opt(Str(128)) },
  }),
});

/** Input data-channel messages (operator -> peer; coordinates are fractions of the picture). @type {Registry} */
export const INPUT = Object.freeze({
  name: "input",
  maxBytes: MAX_INPUT_BYTES,
  messages: Object.freeze({
    pointer_move: { x: req(FRACTION), y: req(FRACTION) },
    pointer_button: {
      button: req(Str(8, { choices: BUTTONS })),
      down: req(Bool),
      x: req(FRACTION),
      y: req(FRACTION),
    },
    wheel: { x: req(FRACTION), y: req(FRACTION), dx: req(Int(-50, 50)), dy: req(Int(-50, 50)) },
    key: {
      code: req(Str(32, { pattern: "[A-Za-z0-9]*" })),
      key: req(Str(32, { minLen: 1 })),
      down: req(Bool),
    },
    release_all: {},
  }),
});

/** Chat data-channel messages, both ways: plain text no side ever interprets. @type {Registry} */
export const CHAT = Object.freeze({
  name: "chat",
  maxBytes: MAX_CHAT_BYTES,
  messages: Object.freeze({
    chat: { text: req(Str(MAX_CHAT_CODEPOINTS, { minLen: 1 })) },
    error: ERROR,
  }),
});

const STROKE_ID = Int(1, 2 ** 31 - 1);

/**
 * Annotate data-channel messages: strokes drawn on the customer's screen (fractions of the
 * picture; widths are thousandths of its height). A free line's points are added to its stroke,
 * a shape's two points replace the last ones. @type {Registry}
 */
export const ANNOTATE = Object.freeze({
  name: "annotate",
  maxBytes: MAX_ANNOTATE_BYTES,
  messages: Object.freeze({
    stroke: {
      id: req(STROKE_ID),
      tool: req(Str(12, { choices: ANNOTATION_TOOLS })),
      color: req(Str(7, { minLen: 7, pattern: "#[0-9a-f]{6}" })),
      width: req(Int(1, MAX_STROKE_WIDTH)),
      fade: req(Bool),
      points: req(Seq(FRACTION, 2 * MAX_STROKE_POINTS_PER_MESSAGE)),
      done: req(Bool),
    },
    stroke_undo: { id: req(STROKE_ID) },
    strokes_clear: {},
    laser: { x: req(FRACTION), y: req(FRACTION), shown: req(Bool) },
  }),
});

const TRANSFER = Int(1, 2 ** 32 - 1);
const FILE_INDEX = Int(0, MAX_FILES_PER_TRANSFER - 1);
const PATH = Str(4096);
const SHA256 = Str(64, { minLen: 64, pattern: "[0-9a-f]{64}" });
const FILE_ENTRY = Rec({ path: req(PATH), size: req(Int(0, MAX_FILE_SIZE)), folder: opt(Bool) });
const FILE_RESUME = Rec({ index: req(FILE_INDEX), length: req(Int(1, MAX_FILE_SIZE)), sha256: req(SHA256) });

/**
 * How an operator's file_request ended: "sending" (the customer said yes), the customer said no
 * ("declined"), nothing is there ("not_found"), SupportLink never sends that ("refused": a
 * device, a FIFO, ".."), file transfer is not allowed, or another request is still open ("busy").
 */
export const FILE_REQUEST_RESULTS = Object.freeze(["sending", "declined", "not_found", "refused", "not_allowed", "busy"]);
/**
 * A path as the operator types it: the customer's home ("~", "~/...") or absolute ("/...",
 * "C:\..."). The customer reads it in a question, so nothing in it may hide or reorder what
 * follows: no control characters, line separators or bidi controls.
 */
const REQUEST_PATH = Str(4096, {
  minLen: 1,
  pattern: "~|(?:~[\\\\/]|/|[A-Za-z]:[\\\\/])[^\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069]*",
});

/**
 * Files channel text messages, both ways (file data goes in binary frames: `files/frames.js`);
 * `file_request` only from the operator, `file_request_result` only from the peer.
 * @type {Registry}
 */
export const FILES = Object.freeze({
  name: "files",
  maxBytes: MAX_FILES_BYTES,
  messages: Object.freeze({
    file_offer: {
      transfer: req(TRANSFER),
      name: req(PATH),
      from_folder: req(PATH),
      count: req(Int(1, MAX_FILES_PER_TRANSFER)),
      total: req(Int(0, MAX_FILE_SIZE)),
      entries: req(Seq(FILE_ENTRY, 1000)),
      more: req(Bool),
    },
    file_answer: {
      transfer: req(TRANSFER),
      accept: req(Bool),
      to_folder: opt(PATH),
      skip: req(Seq(FILE_INDEX, MAX_FILES_PER_TRANSFER)),
      resume: req(Seq(FILE_RESUME, 500)),
      reason: opt(Str(40, { pattern: TOKEN })),
    },
    file_start: { transfer: req(TRANSFER), index: req(FILE_INDEX), offset: req(Int(0, MAX_FILE_SIZE)) },
    file_end: { transfer: req(TRANSFER), index: req(FILE_INDEX), sha256: req(SHA256) },
    file_result: {
      transfer: req(TRANSFER),
      index: req(FILE_INDEX),
      ok: req(Bool),
      reason: opt(Str(40, { pattern: TOKEN })),
      saved_as: opt(PATH),
    },
    file_cancel: { transfer: req(TRANSFER), reason: req(Str(40, { pattern: TOKEN })) },
    file_ack: { transfer: req(TRANSFER), received: req(Int(0, MAX_FILE_SIZE)) },
    file_request: { request: req(TRANSFER), path: req(REQUEST_PATH) },
    file_request_result: {
      request: req(TRANSFER),
      result: req(Str(40, { choices: FILE_REQUEST_RESULTS })),
      transfer: opt(TRANSFER),
      reason: opt(Str(40, { pattern: TOKEN })),
    },
    error: ERROR,
  }),
});

/**
 * Which table a frame is read with: the signaling socket's, or a data channel's registry.
 * @typedef {"signaling" | "control" | "input" | "chat" | "files" | "annotate"} RegistryName
 */

/** @type {Readonly<Record<RegistryName, Registry>>} */
const REGISTRIES = Object.freeze({
  signaling: SIGNALING,
  control: CONTROL,
  input: INPUT,
  chat: CHAT,
  files: FILES,
  annotate: ANNOTATE,
});

// ------------------------------------------------------------------------- data channels

/**
 * One data channel: the peer creates every row before its first offer; the console adopts
 * channels by `label` (an unknown label is closed and counted). `max_retransmits` null means
 * reliable; `from_operator` / `from_peer` are the message types each side may send on it.
 * @typedef {Readonly<{
 *   label: string, ordered: boolean, max_retransmits: number | null, binary: boolean,
 *   registry: Registry, from_operator: readonly string[], from_peer: readonly string[],
 * }>} ChannelSpec
 */

/** @param {ChannelSpec} row @returns {ChannelSpec} */
const channelRow = (row) => {
  if (!new RegExp(`^${TOKEN}$`).test(row.label)) throw new Error(`channel label ${row.label} is not a token`);
  for (const type of [...row.from_operator, ...row.from_peer]) {
    if (!Object.hasOwn(row.registry.messages, type)) throw new Error(`channel ${row.label}: ${type} is not in its registry`);
  }
  return Object.freeze({ ...row, from_operator: Object.freeze([...row.from_operator]), from_peer: Object.freeze([...row.from_peer]) });
};

/** Every data channel of a session, as `CHANNELS` in `wire/protocol.py`. @type {readonly ChannelSpec[]} */
export const CHANNELS = Object.freeze([
  channelRow({
    label: "control", ordered: true, max_retransmits: null, binary: false, registry: CONTROL,
    from_operator: ["consent_request", "release", "select_monitor", "view_report", "limit_request", "whole_screen_request", "clipboard"],
    from_peer: ["capabilities", "consent_reply", "consent_state", "view_state", "whole_screen_reply", "clipboard", "voice_state", "camera_state"],
  }),
  channelRow({
    label: "input", ordered: true, max_retransmits: null, binary: false, registry: INPUT,
    from_operator: Object.keys(INPUT.messages),
    from_peer: [],
  }),
  channelRow({
    label: "chat", ordered: true, max_retransmits: null, binary: false, registry: CHAT,
    from_operator: ["chat", "error"],
    from_peer: ["chat", "error"],
  }),
  channelRow({
    label: "files", ordered: true, max_retransmits: null, binary: true, registry: FILES,
    from_operator: Object.keys(FILES.messages).filter((type) => type !== "file_request_result"),
    from_peer: Object.keys(FILES.messages).filter((type) => type !== "file_request"),
  }),
  channelRow({
    label: "annotate", ordered: true, max_retransmits: null, binary: false, registry: ANNOTATE,
    from_operator: Object.keys(ANNOTATE.messages),
    from_peer: ["stroke", "stroke_undo", "strokes_clear"],
  }),
]);

/** @type {ReadonlyMap<string, ChannelSpec>} */
export const CHANNEL_BY_LABEL = new Map(CHANNELS.map((c) => [c.label, c]));

// ------------------------------------------------------------------------- capabilities

/** How a capability is granted: asked at the start, asked on request, or on without a question. */
export const CONSENT_KINDS = Object.freeze(["at_start", "on_request", "none"]);

/**
 * One thing the operator may do in a session. `{operator}` in `question` is the operator's
 * display name; `may_now` completes the customer's "The operator can now ..." line;
 * `operator_name` is what the console calls it; `receives`: media kinds the peer receives for it
 * (the operator's screen or camera).
 * @typedef {Readonly<{
 *   name: string, modes: readonly string[], channels: readonly string[], tracks: readonly string[],
 *   consent: string, question: string, may_now: string, operator_name: string,
 *   receives?: readonly string[],
 * }>} CapabilitySpec
 */

/** @param {CapabilitySpec} row @returns {CapabilitySpec} */
const capabilityRow = (row) => {
  if (!new RegExp(`^${TOKEN}$`).test(row.name)) throw new Error(`capability name ${row.name} is not a token`);
  if (!row.modes.every((m) => MODES.includes(m))) throw new Error(`capability ${row.name}: unknown mode`);
  if (!row.channels.every((c) => CHANNEL_BY_LABEL.has(c))) throw new Error(`capability ${row.name}: unknown channel`);
  if (!CONSENT_KINDS.includes(row.consent)) throw new Error(`capability ${row.name}: consent ${row.consent}`);
  return Object.freeze({
    ...row,
    modes: Object.freeze([...row.modes]),
    channels: Object.freeze([...row.channels]),
    tracks: Object.freeze([...row.tracks]),
    receives: Object.freeze([...(row.receives ?? [])]),
  });
};

/** Every capability this protocol version defines, as `CAPABILITY_TABLE` in `wire/protocol.py`. */
export const CAPABILITY_TABLE = Object.freeze([
  capabilityRow({
    name: "view", modes: ["screen", "call"], channels: ["control"], tracks: ["video"], consent: "at_start",
    question: "Allow {operator} to see your screen?", may_now: "see your screen",
    operator_name: "screen viewing",
  }),
  capabilityRow({
    name: "control", modes: ["screen"], channels: ["input"], tracks: [], consent: "on_request",
    question: "Allow {operator} to use your mouse and keyboard?", may_now: "use your mouse and keyboard",
    operator_name: "remote control",
  }),
  capabilityRow({
    name: "clipboard", modes: ["screen", "call"], channels: ["control"], tracks: [], consent: "on_request",
    question: "Allow {operator} to read and set your clipboard?", may_now: "read and set your clipboard",
    operator_name: "clipboard",
  }),
  capabilityRow({
    name: "files", modes: ["screen", "call"], channels: ["files"], tracks: [], consent: "on_request",
    question: "Allow {operator} to send you files and receive files you choose to send?",
    may_now: "send you files and receive the files you send", operator_name: "file transfer",
  }),
  capabilityRow({
    name: "voice", modes: ["screen", "call"], channels: ["control"], tracks: ["audio"], consent: "on_request",
    question: "Allow {operator} to talk with you over your headset?", may_now: "talk with you over your headset",
    operator_name: "voice",
  }),
  capabilityRow({
    name: "annotate", modes: ["screen"], channels: ["annotate"], tracks: [], consent: "on_request",
    question: "Allow {operator} to draw on your screen to show you things?", may_now: "draw on your screen",
    operator_name: "drawing on the screen",
  }),
  capabilityRow({
    name: "camera", modes: ["screen", "call"], channels: ["control"], tracks: ["video"], consent: "on_request",
    question: "Allow {operator} to see your camera?", may_now: "see your camera",
    operator_name: "the customer's camera",
  }),
  capabilityRow({
    name: "show_screen", modes: ["screen", "call"], channels: ["control"], tracks: [], consent: "on_request",
    question: "{operator} wants to show you their screen. Show it in a window here?",
    may_now: "show you their screen", operator_name: "showing your screen", receives: ["video"],
  }),
  capabilityRow({
    name: "show_camera", modes: ["screen", "call"], channels: ["control"], tracks: [], consent: "on_request",
    question: "{operator} wants to show you their camera picture. Show it in a window here?",
    may_now: "show you their camera picture", operator_name: "showing your camera", receives: ["video"],
  }),
  capabilityRow({
    name: "chat", modes: ["screen", "call"], channels: ["chat"], tracks: [], consent: "none",
    question: "", may_now: "chat with you", operator_name: "chat",
  }),
]);

/** @type {ReadonlyMap<string, CapabilitySpec>} */
export const CAPABILITY_BY_NAME = new Map(CAPABILITY_TABLE.map((c) => [c.name, c]));
/** Every capability this protocol version defines, in table order. */
export const CAPABILITIES = Object.freeze(CAPABILITY_TABLE.map((c) => c.name));
/**
 * How consent for `capability` is given in a session of `mode` (as `CapabilitySpec.consent_in`):
 * `at_start` holds only in the capability's first mode; in its other modes it is asked for
 * `on_request` (screen viewing in a call).
 * @param {CapabilitySpec} capability
 * @param {string} mode
 */
export function consentIn(capability, mode) {
  if (capability.consent === "at_start" && mode !== capability.modes[0]) return "on_request";
  return capability.consent;
}

/**
 * The capabilities a session of `mode` can have, in table order.
 * @param {string} mode
 */
export function capabilitiesOf(mode) {
  return CAPABILITY_TABLE.filter((c) => c.modes.includes(mode)).map((c) => c.name);
}

// ------------------------------------------------------------------------- checking

/** @param {unknown} value */
function kindOf(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return "a boolean";
  if (typeof value === "number" || value instanceof JsonFloat) return "a number";
  if (typeof value === "string") return "a string";
  if (Array.isArray(value)) return "a list";
  return "an object";
}

/** @param {string} message @returns {never} */
function bad(message) {
  throw new ProtocolError("bad_message", message);
}

/** @param {unknown} value */
const isPlainObject = (value) =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JsonFloat);

/**
 * Check one value against its spec and return it as a message holds it. `raw` values come from
 * the JSON reader (Maps, JsonFloats); otherwise from code building a message to send.
 * @param {Spec} spec
 * @param {string} where
 * @param {unknown} value
 * @param {boolean} raw
 * @returns {unknown}
 */
function convert(spec, where, value, raw) {
  switch (spec.kind) {
    case "str": {
      if (typeof value !== "string") return bad(`${where}: expected a string, got ${kindOf(value)}`);
      const n = codePointLength(value);
      if (n < spec.minLen || n > spec.maxLen) {
        return bad(`${where}: length ${n} is outside ${spec.minLen}..${spec.maxLen}`);
      }
      if (spec.choices && !spec.choices.includes(value)) {
        return bad(`${where}: ${JSON.stringify(value.slice(0, 40))} is not one of ${spec.choices.join(", ")}`);
      }
      if (spec.pattern && !spec.pattern.test(value)) {
        return bad(`${where}: ${JSON.stringify(value.slice(0, 40))} is not well formed`);
      }
      if (value.includes("\0")) return bad(`${where}: NUL characters are not allowed`);
      if (/[\ud800-\udfff]/u.test(value)) return bad(`${where}: lone UTF-16 surrogates are not text`);
      return value;
    }
    case "int": {
      // From the JSON reader a plain number was written as an integer (1e400 digits read as
      // Infinity and fail the range check, as in Python); 1.0 arrives as a JsonFloat.
      if (typeof value !== "number" || (!raw && !Number.isInteger(value))) {
        return bad(`${where}: expected an integer, got ${kindOf(value)}`);
      }
      if (!(value >= spec.min && value <= spec.max)) {
        return bad(`${where}: ${value} is outside ${spec.min}..${spec.max}`);
      }
      return value;
    }
    case "num": {
      const n = value instanceof JsonFloat ? value.value : value;
      if (typeof n !== "number") return bad(`${where}: expected a number, got ${kindOf(value)}`);
      if (!(n >= spec.min && n <= spec.max)) {
        return bad(`${where}: ${n} is outside ${spec.min}..${spec.max}`); // also rejects NaN
      }
      return n;
    }
    case "bool":
      if (typeof value !== "boolean") {
        return bad(`${where}: expected true or false, got ${kindOf(value)}`);
      }
      return value;
    case "seq": {
      if (!Array.isArray(value)) return bad(`${where}: expected a list, got ${kindOf(value)}`);
      if (value.length > spec.maxItems) {
        return bad(`${where}: ${value.length} items, at most ${spec.maxItems} allowed`);
      }
      const items = value.map((item, i) => convert(spec.item, `${where}[${i}]`, item, raw));
      if (spec.unique && new Set(items).size !== items.length) {
        return bad(`${where}: items must not repeat`);
      }
      return items;
    }
    case "record": {
      if (raw ? !(value instanceof Map) : !isPlainObject(value)) {
        return bad(`${where}: expected an object, got ${kindOf(value)}`);
      }
      return build(spec.fields, /** @type {any} */ (value), where, raw, null);
    }
  }
}

/**
 * Build a message (or nested record) from its fields, checking every one.
 * Like `_build` in Python, a key named "type" is allowed only at the top (the message type).
 * @param {Fields} fields
 * @param {Map<string, unknown> | Record<string, unknown>} data
 * @param {string} where
 * @param {boolean} raw
 * @param {string | null} type the message type to put first, or null for a nested record
 * @returns {Record<string, unknown>}
 */
function build(fields, data, where, raw, type) {
  const entries = data instanceof Map ? [...data] : Object.entries(data);
  const given = new Map(entries.filter(([, v]) => raw || v !== undefined));
  const unknown = [...given.keys()]
    .filter((k) => (type === null || k !== "type") && !Object.hasOwn(fields, k))
    .sort();
  if (unknown.length) bad(`${where}: unknown field ${JSON.stringify(unknown[0].slice(0, 40))}`);
  /** @type {Record<string, unknown>} */
  const out = type === null ? {} : { type };
  for (const [name, field] of Object.entries(fields)) {
    if (!given.has(name)) {
      if (field.optional) continue;
      bad(`${where}.${name}: missing`);
    }
    const value = given.get(name);
    if (value === null && field.optional) continue;
    out[name] = convert(field.spec, `${where}.${name}`, value, raw);
  }
  return out;
}

/**
 * @param {string} channel
 * @returns {Registry}
 */
function registryOf(channel) {
  const registry = Object.hasOwn(REGISTRIES, channel) ? REGISTRIES[/** @type {RegistryName} */ (channel)] : undefined;
  if (!registry) throw new TypeError(`unknown channel ${JSON.stringify(channel)}`);
  return registry;
}

// ------------------------------------------------------------------------- parse / serialize

/**
 * A parsed message: `type` plus its fields; optional fields that were absent or null are left out.
 * @typedef {{type: string, [field: string]: any}} Message
 */

/**
 * Parse one frame into its message, or throw `ProtocolError` saying what is wrong.
 * @param {string | ArrayBuffer | Uint8Array} text a text frame (or the UTF-8 bytes of one)
 * @param {RegistryName} [channel] whose table and size limit apply
 * @returns {Message}
 */
export function parse(text, channel = "signaling") {
  const registry = registryOf(channel);
  const limit = registry.maxBytes;
  if (typeof text !== "string") {
    const bytes = text instanceof Uint8Array ? text : new Uint8Array(text);
    if (bytes.length > limit) {
      throw new ProtocolError("too_large", `frame of ${bytes.length} bytes exceeds the ${limit}-byte limit`);
    }
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      throw new ProtocolError("bad_json", "not valid JSON: the frame is not UTF-8");
    }
  } else {
    const size = text.length > limit ? text.length : utf8Length(text);
    if (size > limit) {
      throw new ProtocolError("too_large", `frame of ${utf8Length(text)} bytes exceeds the ${limit}-byte limit`);
    }
  }
  const data = readJson(text);
  if (!(data instanceof Map)) {
    throw new ProtocolError("bad_json", `expected a JSON object, got ${kindOf(data)}`);
  }
  const type = data.get("type");
  if (typeof type !== "string") {
    throw new ProtocolError("bad_message", "the 'type' field is missing or not a string");
  }
  if (!Object.hasOwn(registry.messages, type)) {
    throw new ProtocolError("unknown_type", `unknown message type ${JSON.stringify(type.slice(0, 40))}`);
  }
  return /** @type {Message} */ (build(registry.messages[type], data, type, true, type));
}

/**
 * Check `msg` against its channel's table (as building a Python message does) and return it
 * as a fresh object with the fields in table order, absent/null/undefined optional fields left out.
 * @param {{type: string, [field: string]: any}} msg
 * @param {RegistryName} [channel]
 * @returns {Message}
 */
export function validate(msg, channel) {
  const registries = channel ? [registryOf(channel)] : Object.values(REGISTRIES);
  const type = msg?.type;
  if (typeof type !== "string") bad("the 'type' field is missing or not a string");
  const registry = registries.find((r) => Object.hasOwn(r.messages, type));
  if (!registry) throw new ProtocolError("unknown_type", `unknown message type ${JSON.stringify(type)}`);
  return /** @type {Message} */ (build(registry.messages[type], msg, type, false, type));
}

/**
 * The JSON text of `msg` after checking it; fields that are null or undefined are left out.
 * Throws `ProtocolError` (bad_message / unknown_type) for a message Python could not build.
 * @param {{type: string, [field: string]: any}} msg
 * @param {RegistryName} [channel] limit the check to one channel's table
 * @returns {string}
 */
export function serialize(msg, channel) {
  return JSON.stringify(validate(msg, channel));
}

// ------------------------------------------------------------------------- schema

/**
 * One field's check, as data (Python: `wire.schema.describe_spec`).
 * @param {Spec} spec
 * @returns {Record<string, unknown>}
 */
function describeSpec(spec) {
  switch (spec.kind) {
    case "str": {
      /** @type {Record<string, unknown>} */
      const out = { kind: "str", max_len: spec.maxLen, min_len: spec.minLen };
      if (spec.source !== undefined) out.pattern = spec.source;
      if (spec.choices !== undefined) out.choices = [...spec.choices];
      return out;
    }
    case "int":
    case "num":
      return { kind: spec.kind, min: spec.min, max: spec.max };
    case "bool":
      return { kind: "bool" };
    case "seq":
      return { kind: "seq", item: describeSpec(spec.item), max_items: spec.maxItems, unique: spec.unique };
    case "record":
      return { kind: "record", fields: describeFields(spec.fields) };
  }
}

/** @param {Fields} fields */
function describeFields(fields) {
  return Object.fromEntries(
    Object.entries(fields).map(([name, f]) => [name, { spec: describeSpec(f.spec), optional: f.optional }]),
  );
}

/** @param {Registry} registry */
function describeRegistry(registry) {
  return {
    name: registry.name,
    max_bytes: registry.maxBytes,
    messages: Object.fromEntries(
      Object.entries(registry.messages).map(([type, fields]) => [type, describeFields(fields)]),
    ),
  };
}

/** @param {Iterable<string>} items Python's `sorted()` of ASCII tokens */
const sorted = (items) => [...items].sort();

/**
 * Every table of the protocol as plain JSON: the same document as Python's
 * `wire.schema.schema()` (stored in `tests/data/schema.json`).
 */
export function schema() {
  return {
    protocol_version: PROTOCOL_VERSION,
    modes: [...MODES],
    consent_kinds: [...CONSENT_KINDS],
    capabilities: CAPABILITY_TABLE.map((c) => ({
      name: c.name,
      modes: [...c.modes],
      channels: [...c.channels],
      tracks: [...c.tracks],
      receives: [...(c.receives ?? [])],
      consent: c.consent,
      question: c.question,
      may_now: c.may_now,
      operator_name: c.operator_name,
    })),
    channels: CHANNELS.map((c) => ({
      label: c.label,
      ordered: c.ordered,
      max_retransmits: c.max_retransmits,
      binary: c.binary,
      registry: c.registry.name,
      from_operator: sorted(c.from_operator),
      from_peer: sorted(c.from_peer),
    })),
    registries: [SIGNALING, CONTROL, INPUT, CHAT, FILES, ANNOTATE].map(describeRegistry),
    signaling_from_operator: sorted(FROM_OPERATOR),
    signaling_from_peer: sorted(FROM_PEER),
    error_codes: { ...ERROR_CODES },
    bye_reasons: { ...BYE_REASONS },
    limits: {
      max_json_depth: MAX_JSON_DEPTH,
      max_clipboard_chars: MAX_CLIPBOARD_CHARS,
      max_chat_chars: MAX_CHAT_CHARS,
      max_chat_codepoints: MAX_CHAT_CODEPOINTS,
      max_capabilities: MAX_CAPABILITIES,
    },
  };
}

// ------------------------------------------------------------------------- verification code

const FINGERPRINT_RE = new RegExp(
  // Python: ^a=fingerprint:(\S+)[ \t]+([0-9A-Fa-f:]+)[ \t]*$ with re.MULTILINE
  `(?:^|(?<=\\n))a=fingerprint:([^${PY_SPACE}]+)[ \\t]+([0-9A-Fa-f:]+)[ \\t]*(?=\\n|$)`,
  "u",
);

/**
 * The first DTLS fingerprint of an SDP, as `"sha-256 AB:CD:..."` (algorithm lower case, hex
 * upper case). Throws `Error` if the SDP has none.
 * @param {string} sdp
 * @returns {string}
 */
export function sdpFingerprint(sdp) {
  const m = FINGERPRINT_RE.exec(sdp.replaceAll("\r\n", "\n"));
  if (!m) throw new Error("the SDP carries no DTLS fingerprint");
  return `${m[1].toLowerCase()} ${m[2].toUpperCase()}`;
}

/**
 * Six digits, grouped `"123 456"`, that both sides compute from the two DTLS fingerprints.
 * The order of the arguments does not matter; if a server in the middle swapped the
 * fingerprints, the two sides show different codes.
 * @param {string} fingerprintA
 * @param {string} fingerprintB
 * @returns {string}
 */
export function verificationCode(fingerprintA, fingerprintB) {
  const [a, b] = [pyStrip(fingerprintA), pyStrip(fingerprintB)].sort(comparePy);
  const text = `supportlink-verify-v1\n${a}\n${b}`;
  if (/\p{Cs}/u.test(text)) throw new Error("a fingerprint holds a lone surrogate"); // as Python's encode()
  const digest = sha256(text);
  let number = 0n;
  for (let i = 0; i < 8; i++) number = (number << 8n) | BigInt(digest[i]);
  const digits = String(number % 1_000_000n).padStart(6, "0");
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

// ------------------------------------------------------------------------- words for people

/**
 * Words for a `bye.reason`, with a fallback for reasons this console does not know.
 * @param {string} reason
 */
export function byeText(reason) {
  return BYE_REASONS[reason] ?? `the session ended (${reason})`;
}
