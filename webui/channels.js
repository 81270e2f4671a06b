// @ts-check
/**
 * The data channels of one session, adopted by label from the `CHANNELS` table (no DOM, no
 * RTCPeerConnection: anything shaped like an `RTCDataChannel` will do, so node tests it).
 *
 * The customer's peer creates one channel per row of `CHANNELS`. Here each known label is kept;
 * text frames are parsed with that row's registry, and a message type the peer may not send on
 * it (`from_peer`) is dropped with a log line. A channel with a label the table lacks is closed
 * at once and counted; a binary frame on a text channel is dropped. A binary channel (`binary` in
 * its row) delivers ArrayBuffers (`binaryType` is set when it is adopted: Firefox defaults to
 * Blobs) to `onbinary`. Nothing the peer sends can throw out of here.
 *
 *   const channels = new DataChannels({log, onmessage: (label, msg) => ..., onchange: (label) => ...});
 *   pc.addEventListener("datachannel", (e) => channels.adopt(e.channel));
 *   channels.send("chat", {type: "chat", text: "hello"});   // false while not open
 */

import { t } from "./i18n.js";
import { CHANNEL_BY_LABEL, ProtocolError, parse, serialize } from "./protocol.js";

/**
 * What this module needs of an `RTCDataChannel`.
 * @typedef {{
 *   label: string,
 *   readyState: string,
 *   bufferedAmount: number,
 *   binaryType?: string,
 *   send: (data: string) => void,
 *   close: () => void,
 *   addEventListener: (type: string, listener: (event: any) => void) => void,
 * }} ChannelLike
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {import("./protocol.js").RegistryName} RegistryName
 * @typedef {{
 *   log: (line: string, level?: "info" | "error") => void,
 *   onmessage: (label: string, msg: Message) => void,
 *   onbinary?: (label: string, data: ArrayBuffer) => void,
 *   onchange?: (label: string, state: string) => void,
 * }} ChannelHooks
 */

export class DataChannels {
  /** @param {ChannelHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {Map<string, ChannelLike>} */
    this.byLabel = new Map();
    /** Channels the peer opened with a label the table lacks (each closed at once). */
    this.unknown = 0;
    this.closed = false;
  }

  /**
   * The channel with this label, or null when the peer has not opened it.
   * @param {string} label
   */
  channel(label) {
    return this.byLabel.get(label) ?? null;
  }

  /** @param {string} label */
  isOpen(label) {
    return this.byLabel.get(label)?.readyState === "open";
  }

  /**
   * A data channel the peer opened.
   * @param {ChannelLike} channel
   */
  adopt(channel) {
    const log = this.hooks.log;
    const spec = CHANNEL_BY_LABEL.get(channel.label);
    if (!spec || this.closed) {
      this.unknown += spec ? 0 : 1;
      log(t("log.channel.not_protocol", { label: JSON.stringify(channel.label.slice(0, 40)) }), "error");
      try {
        channel.close();
      } catch {
        // already closed
      }
      return;
    }
    const label = spec.label;
    if (spec.binary) channel.binaryType = "arraybuffer";
    const previous = this.byLabel.get(label);
    if (previous && previous !== channel) {
      log(t("log.channel.replaced", { label }), "error");
      previous.close();
    }
    this.byLabel.set(label, channel);
    let reported = "";
    const changed = () => {
      if (channel.readyState === reported) return; // the browser may say "open" twice
      reported = channel.readyState;
      this.hooks.onchange?.(label, reported);
    };
    channel.addEventListener("open", () => {
      log(t("log.channel.open", { label }));
      changed();
    });
    channel.addEventListener("close", () => {
      if (!this.closed) log(t("log.channel.closed", { label }));
      changed();
    });
    channel.addEventListener("message", (event) => this.#receive(label, event.data));
    if (channel.readyState === "open") changed();
  }

  /**
   * @param {string} label
   * @param {unknown} data
   */
  #receive(label, data) {
    if (this.closed) return;
    const log = this.hooks.log;
    const spec = /** @type {import("./protocol.js").ChannelSpec} */ (CHANNEL_BY_LABEL.get(label));
    if (typeof data !== "string") {
      if (!spec.binary) log(t("log.channel.binary", { label }), "error");
      else if (data instanceof ArrayBuffer) this.hooks.onbinary?.(label, data);
      else log(t("log.channel.binary", { label }), "error"); // a Blob: binaryType was not kept
      return;
    }
    let msg;
    try {
      msg = parse(data, /** @type {RegistryName} */ (spec.registry.name));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      log(t("log.channel.bad_message", { label, code: err.code, error: err.message }), "error");
      return;
    }
    if (!spec.from_peer.includes(msg.type)) {
      log(t("log.channel.not_from_peer", { type: msg.type, label }), "error");
      return;
    }
    this.hooks.onmessage(label, msg);
  }

  /**
   * Send `msg` on the channel `label`, checked against that row's registry and `from_operator`.
   * Throws `ProtocolError` for a message the table does not allow (a bug here, not the peer's).
   * @param {string} label
   * @param {{type: string, [field: string]: any}} msg
   * @returns {boolean} false when that channel is not open
   */
  send(label, msg) {
    const spec = CHANNEL_BY_LABEL.get(label);
    if (!spec) throw new TypeError(`unknown channel ${JSON.stringify(label)}`);
    if (!spec.from_operator.includes(msg.type)) {
      throw new ProtocolError("unexpected_message", `${msg.type} is not sent on the ${label} channel`);
    }
    const text = serialize(msg, /** @type {RegistryName} */ (spec.registry.name));
    const channel = this.byLabel.get(label);
    if (!channel || channel.readyState !== "open") return false;
    channel.send(text);
    return true;
  }

  /** Close every channel; nothing more is sent or delivered. */
  close() {
    this.closed = true;
    for (const channel of this.byLabel.values()) channel.close();
  }
}
