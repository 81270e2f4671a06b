// Page-side probe for bench/latency.py's noVNC pipeline, added as an init script after
// latency_reader.js to latency_novnc.html (noVNC's RFB drawing into a canvas at 1:1).
//
// * Counts the bytes of every WebSocket message the page receives (RFB payload, without
//   WebSocket, TCP or IP headers) and stamps the arrival of the latest one.
// * `attach(rfb)` (called by the page) wraps noVNC's Display.flip, which copies a finished
//   FramebufferUpdate to the visible canvas: each flip that draws is counted.
// * `start(layout)` runs a requestAnimationFrame loop: an animation frame after one or more
//   flips is a presented frame; the counter is read from the canvas (same reader as the
//   console's video) and a record is kept in latency_probe.js's format: [counter or -1,
//   display time, -1, receive time (arrival of the WebSocket message that completed the last
//   flip), now, presented frames, width, height]. The display time is the animation frame's
//   time: the canvas change is composited in that frame, as a video frame is in the frame
//   whose requestVideoFrameCallback gets it (whose expectedDisplayTime is within a frame of
//   that frame's time: latency.py prints the median difference).
// * `takeSamples()`: the text region of sampled counter values (latency_reader.js).
// * `stats()` returns {timestamp, bytesReceived, framesReceived (flips)} for apply_stats.
(() => {
  const state = {
    bytes: 0,
    lastMessageAt: -1,
    flips: 0,
    flipsSinceFrame: 0,
    flipReceivedAt: -1,
    presented: 0,
    records: [],
    running: false,
    reader: null,
    canvas: null,
  };

  // A wrapper, not a subclass: noVNC checks the methods on the socket's own prototype.
  const Native = window.WebSocket;
  function CountingWebSocket(...args) {
    const socket = new Native(...args);
    // Registered before noVNC sets onmessage, so it runs first for each message.
    socket.addEventListener("message", (event) => {
      state.lastMessageAt = performance.now();
      const data = event.data;
      state.bytes += typeof data === "string" ? data.length : (data.byteLength ?? data.size ?? 0);
    });
    return socket;
  }
  CountingWebSocket.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) CountingWebSocket[name] = Native[name];
  window.WebSocket = CountingWebSocket;

  function onAnimationFrame(now) {
    if (!state.running) return;
    if (state.flipsSinceFrame > 0 && state.canvas) {
      state.flipsSinceFrame = 0;
      state.presented += 1;
      const canvas = state.canvas;
      const scale = canvas.width / state.reader.screenWidth;
      const code = state.reader.read(canvas, scale);
      state.reader.sample(code, canvas, scale);
      state.records.push([
        code,
        now,
        -1,
        state.flipReceivedAt,
        now,
        state.presented,
        canvas.width,
        canvas.height,
      ]);
    }
    requestAnimationFrame(onAnimationFrame);
  }

  window.__latency = {
    attach(rfb) {
      window.__rfb = rfb;
      const display = rfb._display;
      state.canvas = display._target;
      const flip = display.flip.bind(display);
      display.flip = (fromQueue) => {
        const draws = display._renderQ.length === 0 || fromQueue;
        flip(fromQueue);
        if (draws) {
          state.flips += 1;
          state.flipsSinceFrame += 1;
          state.flipReceivedAt = state.lastMessageAt;
        }
      };
    },
    connected() {
      return Boolean(window.__rfb && window.__rfb._rfbConnectionState === "connected"
        && state.canvas && state.canvas.width > 0 && state.flips > 0);
    },
    start(layout) {
      if (!state.canvas) return false;
      state.reader = globalThis.__latencyReader(layout);
      if (!state.running) {
        state.running = true;
        requestAnimationFrame(onAnimationFrame);
      }
      return true;
    },
    stop() {
      state.running = false;
    },
    take() {
      return state.records.splice(0);
    },
    takeSamples() {
      return state.reader ? state.reader.takeSamples() : [];
    },
    now() {
      return performance.now();
    },
    stats() {
      return {
        timestamp: performance.now(),
        bytesReceived: state.bytes,
        framesReceived: state.flips,
        decoderImplementation: "noVNC",
      };
    },
  };
})();
