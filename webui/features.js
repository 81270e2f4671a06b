// @ts-check
/**
 * Every capability panel this console has, one line each (as `peer/features/__init__.py` lists
 * the peer's features). A panel module registers itself with `definePanel` (`panels.js`); adding
 * a capability to the console is that module and one line here. Listed in table order.
 */

import { ANNOTATE_PANEL } from "./annotateview.js";
import { CAMERA_PANEL } from "./cameraview.js";
import { CHAT_PANEL } from "./chatview.js";
import { CLIPBOARD_PANEL } from "./clipboard.js";
import { CONTROL_PANEL } from "./control.js";
import { FILES_PANEL } from "./filespanel.js";
import { SHOW_CAMERA_PANEL, SHOW_SCREEN_PANEL } from "./showview.js";
import { VIEW_PANEL } from "./view.js";
import { VOICE_PANEL } from "./voiceview.js";

/** @type {readonly import("./panels.js").PanelSpec[]} */
export const PANELS = Object.freeze([
  VIEW_PANEL,
  CONTROL_PANEL,
  CLIPBOARD_PANEL,
  FILES_PANEL,
  VOICE_PANEL,
  ANNOTATE_PANEL,
  CAMERA_PANEL,
  SHOW_SCREEN_PANEL,
  SHOW_CAMERA_PANEL,
  CHAT_PANEL,
]);
