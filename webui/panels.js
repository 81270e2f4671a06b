// @ts-check
/**
 * The console's capability panels, one registry for all of them (no DOM: node tests it).
 *
 * Each capability the console can offer has one panel module, and each registers itself the
 * same way, with `definePanel({capability, receives, create})`: its name in `CAPABILITY_TABLE`,
 * the messages from the peer it handles (by data-channel label, checked against `CHANNELS`),
 * and a factory that builds the panel once the page is there. `features.js` lists them, one
 * line per capability. `Panels` creates every one and starts, updates, ends and resets them,
 * and routes each message from the peer by (channel, type) to the one panel that handles it.
 * A panel is offered only what the peer announced (`session.js`'s `offers`), so a capability
 * missing from the peer's `capabilities` keeps its panel hidden.
 *
 *   const panels = new Panels(PANELS, hooks);
 *   panels.start(facts);               // paired: a fresh session
 *   panels.route("control", msg);      // false when no panel handles msg
 *   panels.routeBinary("files", data); // a binary frame, to the panel that claims that channel's
 *   panels.update(session);            // capabilities, consent or a data channel changed
 *   panels.audio();                    // the audio port of the panel whose capability carries audio
 *   panels.videoOut();                 // what goes to the customer for their view of the operator's side
 *   panels.camera();                   // the port of the panel that shows the customer's camera
 *   panels.relink();                   // a fresh connection replaced a lost one
 *   panels.end();                      // the session is over: nothing more is sent
 *   panels.reset();                    // a new session, or log out: nothing kept
 */

import { CAPABILITY_BY_NAME, CHANNEL_BY_LABEL } from "./protocol.js";
import { offers } from "./session.js";

/**
 * @typedef {import("./protocol.js").Message} Message
 * @typedef {import("./session.js").SessionState} SessionState
 * @typedef {{[label: string]: readonly string[]}} Receives
 *   message types from the peer, by data-channel label
 * @typedef {{mode: string, operator: string, user: string, host: string, startedAt: Date, sessionId?: string}} SessionFacts
 * @typedef {{
 *   log: (line: string, level?: "info" | "error") => void,
 *   link: () => import("./rtc.js").PeerLink | null,
 *   send: (label: string, msg: {type: string, [field: string]: any}) => boolean,
 *   isOpen: (label: string) => boolean,
 *   consent: import("./consent.js").ConsentTracker,
 * }} PanelHooks
 *   what every panel gets: `send` is false while that channel is not open
 * @typedef {{
 *   offered: boolean,
 *   mode: string | null,
 *   session: SessionState,
 *   isOpen: (label: string) => boolean,
 * }} PanelUpdate
 *   offered: a session is live and the peer carries this capability in it; mode: null between sessions
 * @typedef {{
 *   local: () => import("./rtc.js").LocalAudio,
 *   remote: (track: MediaStreamTrack, current: () => boolean) => void,
 *   stopped: (track: MediaStreamTrack) => void,
 * }} AudioPort
 *   how the connection reaches the panel of the capability whose `tracks` hold "audio" (voice):
 *   local: what to send, asked before every answer (`PeerLink.localAudio`); remote: a track of
 *   the customer's sound arrived (current: whether the connection it came on is still the
 *   current one); stopped: the peer stopped sending it (a later offer made it inactive)
 * @typedef {{
 *   update: (now: PanelUpdate) => void,
 *   reset: () => void,
 *   start?: (facts: SessionFacts) => void,
 *   receive?: (label: string, msg: Message) => void,
 *   receiveBinary?: (label: string, data: ArrayBuffer) => void,
 *   end?: () => void,
 *   relink?: () => void,
 *   audio?: AudioPort,
 *   video?: VideoPort,
 *   camera?: CameraPort,
 * }} Panel
 *   start defaults to reset; end (the session is over, keep what is worth keeping) defaults to reset;
 *   relink (a fresh connection replaced a lost one: forget what came on the old one, the peer
 *   sends it again) defaults to nothing
 * @typedef {Readonly<{
 *   capability: string,
 *   receives: Readonly<Receives>,
 *   binary: readonly string[],
 *   create: (hooks: PanelHooks) => Panel,
 * }>} PanelSpec
 *   binary: the labels of binary channels whose binary frames this panel takes (`receiveBinary`)
 */

/**
 * Check that every message type in `receives` is one the peer may send on that channel.
 * @param {string} owner who claims them, for the error message
 * @param {Receives} receives
 */
export function checkReceives(owner, receives) {
  for (const [label, types] of Object.entries(receives)) {
    const channel = CHANNEL_BY_LABEL.get(label);
    if (!channel) throw new Error(`${owner}: no data channel is labelled ${JSON.stringify(label)}`);
    for (const type of types) {
      if (!channel.from_peer.includes(type)) {
        throw new Error(`${owner}: ${JSON.stringify(type)} does not come from the peer on the ${label} channel`);
      }
    }
  }
}

/**
 * One capability's panel, checked against the protocol tables.
 * @param {{capability: string, receives?: Receives, binary?: readonly string[], create: (hooks: PanelHooks) => Panel}} spec
 * @returns {PanelSpec}
 */
export function definePanel({ capability, receives = {}, binary = [], create }) {
  if (!CAPABILITY_BY_NAME.has(capability)) {
    throw new Error(`panel for ${JSON.stringify(capability)}: not a capability in CAPABILITY_TABLE`);
  }
  checkReceives(`panel ${capability}`, receives);
  for (const label of binary) {
    if (!CHANNEL_BY_LABEL.get(label)?.binary) {
      throw new Error(`panel ${capability}: ${JSON.stringify(label)} is not a binary data channel`);
    }
  }
  const frozen = Object.fromEntries(Object.entries(receives).map(([label, types]) => [label, Object.freeze([...types])]));
  return Object.freeze({ capability, receives: Object.freeze(frozen), binary: Object.freeze([...binary]), create });
}

/**
 * Which capability handles each (label, type) from the peer; two panels may not claim the same.
 * @param {readonly PanelSpec[]} specs
 * @returns {Map<string, string>} "label type" -> capability
 */
export function routeTable(specs) {
  /** @type {Map<string, string>} */
  const routes = new Map();
  for (const spec of specs) {
    for (const [label, types] of Object.entries(spec.receives)) {
      for (const type of types) {
        const key = `${label} ${type}`;
        const owner = routes.get(key);
        if (owner !== undefined) throw new Error(`${label} message ${type}: claimed by both ${owner} and ${spec.capability}`);
        routes.set(key, spec.capability);
      }
    }
  }
  return routes;
}

/**
 * Which capability takes the binary frames of each binary channel; two panels may not claim one.
 * @param {readonly PanelSpec[]} specs
 * @returns {Map<string, string>} label -> capability
 */
export function binaryRouteTable(specs) {
  /** @type {Map<string, string>} */
  const routes = new Map();
  for (const spec of specs) {
    for (const label of spec.binary ?? []) {
      const owner = routes.get(label);
      if (owner !== undefined) throw new Error(`${label} binary frames: claimed by both ${owner} and ${spec.capability}`);
      routes.set(label, spec.capability);
    }
  }
  return routes;
}

export class Panels {
  /**
   * Create every panel (the page must be there: this is where they find their elements).
   * @param {readonly PanelSpec[]} specs
   * @param {PanelHooks} hooks
   */
  constructor(specs, hooks) {
    const names = specs.map((s) => s.capability);
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice !== undefined) throw new Error(`two panels for ${twice}`);
    this.routes = routeTable(specs);
    this.binaryRoutes = binaryRouteTable(specs);
    this.hooks = hooks;
    /** @type {Map<string, Panel>} capability -> panel, in the order given */
    this.panels = new Map(specs.map((spec) => [spec.capability, spec.create(hooks)]));
    /** Whether a session is live (between `start` and `end` / `reset`). */
    this.live = false;
  }

  /**
   * The panel of `capability`, if one is registered.
   * @param {string} capability
   */
  get(capability) {
    return this.panels.get(capability);
  }

  /**
   * The audio port of the panel whose capability carries audio tracks (`CAPABILITY_TABLE`'s
   * `tracks`), if that panel has one.
   * @returns {AudioPort | null}
   */
  audio() {
    for (const [capability, panel] of this.panels) {
      if (panel.audio && CAPABILITY_BY_NAME.get(capability)?.tracks.includes("audio")) return panel.audio;
    }
    return null;
  }

  /**
   * What the operator sends to the customer for each capability whose `receives` hold
   * "video": capability -> the track (null: nothing now).
   * @returns {Map<string, MediaStreamTrack | null>}
   */
  videoOut() {
    /** @type {Map<string, MediaStreamTrack | null>} */
    const out = new Map();
    for (const [capability, panel] of this.panels) {
      if (panel.video && CAPABILITY_BY_NAME.get(capability)?.receives?.includes("video")) out.set(capability, panel.video.local());
    }
    return out;
  }

  /**
   * The camera port of the panel that takes the customer's camera, if there is one.
   * @returns {CameraPort | null}
   */
  camera() {
    for (const panel of this.panels.values()) if (panel.camera) return panel.camera;
    return null;
  }

  /**
   * Paired: every panel starts afresh.
   * @param {SessionFacts} facts
   */
  start(facts) {
    this.live = true;
    for (const panel of this.panels.values()) {
      if (panel.start) panel.start(facts);
      else panel.reset();
    }
  }

  /**
   * Show what applies now.
   * @param {SessionState} session
   */
  update(session) {
    const isOpen = this.hooks.isOpen;
    for (const [capability, panel] of this.panels) {
      panel.update({
        offered: this.live && offers(session, capability),
        mode: this.live ? session.mode : null,
        session,
        isOpen,
      });
    }
  }

  /**
   * Hand a message from the peer to the panel that handles its type on that channel.
   * @param {string} label
   * @param {Message} msg
   * @returns {boolean} false when no panel handles it
   */
  route(label, msg) {
    const capability = this.routes.get(`${label} ${msg.type}`);
    const panel = capability === undefined ? undefined : this.panels.get(capability);
    if (!panel?.receive) return false;
    panel.receive(label, msg);
    return true;
  }

  /**
   * Hand a binary frame from the peer to the panel that takes that channel's binary frames.
   * @param {string} label
   * @param {ArrayBuffer} data
   * @returns {boolean} false when no panel takes them
   */
  routeBinary(label, data) {
    const capability = this.binaryRoutes.get(label);
    const panel = capability === undefined ? undefined : this.panels.get(capability);
    if (!panel?.receiveBinary) return false;
    panel.receiveBinary(label, data);
    return true;
  }

  /**
   * A fresh connection replaced a lost one, in the same session: each panel forgets what the
   * peer said on the old one and will say again on the new one (what is shared, ...); what the
   * operator still uses (the chat's transcript, received clipboard text) stays.
   */
  relink() {
    for (const panel of this.panels.values()) panel.relink?.();
  }

  /** The session is over: nothing more is sent; a panel may keep what the operator can still use. */
  end() {
    this.live = false;
    for (const panel of this.panels.values()) {
      if (panel.end) panel.end();
      else panel.reset();
    }
  }

  /** A new session is being made, or the operator logs out: nothing shown, nothing kept. */
  reset() {
    this.live = false;
    for (const panel of this.panels.values()) panel.reset();
  }
}
