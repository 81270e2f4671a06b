// @ts-check
/** The page's entry point: start the console once the document is parsed. */

import { start } from "./app.js";

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => start(), { once: true });
else start();
