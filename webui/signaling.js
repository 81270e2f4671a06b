// @ts-check
/**
 * The operator's signaling WebSocket (`/ws/operator`, same origin).
 *
 * Messages in and out are checked against the wire protocol. One object is one socket: it says
 * `hello` as it opens, then `onopen` runs. Reconnecting after a drop (a new `Signaling`, then
 * `resume`) is the controller's, decided by `reconnect.js`.
 */

import { PROTOCOL_VERSION, ProtocolError, parse, serialize } from "./protocol.js";

/** @typedef {import("./protocol.js").Message} Message */

export const AGENT = "supportlink-console/0.1";

/**
 * The WebSocket URL for a path on this page's origin (`wss:` under HTTPS).
 * @param {string} path
 * @param {Location | URL} [location]
 */
export function socketUrl(path, location = window.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class Signaling {
  /** @param {string} url */
  constructor(url) {
    this.url = url;
    /** @type {(msg: Message) => void} */
    this.onmessage = () => {};
    /** A frame from the server that is not valid protocol. @type {(err: ProtocolError) => void} */
    this.onprotocolerror = () => {};
    /** @type {(event: {code: number, reason: string, wasOpen: boolean}) => void} */
    this.onclose = () => {};
    /** The socket is open and `hello` sent. @type {() => void} */
    this.onopen = () => {};
    this.ws = new WebSocket(url);
    this.wasOpen = false;
    this.ws.addEventListener("open", () => {
      this.wasOpen = true;
      this.send({ type: "hello", role: "operator", protocol: PROTOCOL_VERSION, agent: AGENT });
      this.onopen();
    });
    this.ws.addEventListener("message", (event) => this.#receive(event.data));
    this.ws.addEventListener("close", (event) => {
      this.onclose({ code: event.code, reason: event.reason, wasOpen: this.wasOpen });
    });
  }

  /** @param {unknown} data */
  #receive(data) {
    if (typeof data !== "string") {
      this.onprotocolerror(new ProtocolError("bad_json", "the server sent a binary frame"));
      return;
    }
    let msg;
    try {
      msg = parse(data, "signaling");
    } catch (err) {
      if (err instanceof ProtocolError) this.onprotocolerror(err);
      else throw err;
      return;
    }
    this.onmessage(msg);
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Send one message; it is checked first (ProtocolError for a message the server would refuse).
   * Returns false when the socket is not open.
   * @param {{type: string, [field: string]: any}} msg
   */
  send(msg) {
    const text = serialize(msg, "signaling");
    if (!this.isOpen) return false;
    this.ws.send(text);
    return true;
  }

  close() {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(1000, "operator closed the console");
    }
  }
}
