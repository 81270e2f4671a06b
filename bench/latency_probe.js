// Page-side probe for bench/latency.py, added to the console page as an init script.
//
// * Keeps every RTCPeerConnection the console makes (for getStats).
// * `window.__latency.start(layout)` reads the frame counter (bench/latency_code.py) out of
//   every frame the <video> presents, with requestVideoFrameCallback; `take()` hands the
//   records over: [counter or -1, expectedDisplayTime, presentationTime, receiveTime, now,
//   presentedFrames, width, height] (times in ms of performance.now()).
// * `stats()` returns the inbound video RTP counters of the newest connection.
(() => {
  const connections = [];
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      connections.push(this);
    }
  };

  function crc8(value) {
    let crc = 0;
    for (const byte of [(value >> 8) & 0xff, value & 0xff]) {
      crc ^= byte;
      for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    }
    return crc;
  }

  /** Mirror of latency_code.decode. */
  function decode(levels, dataBits, checkBits) {
    const white = levels[0];
    const black = levels[1];
    if (white - black < 80) return -1;
    const middle = (white + black) / 2;
    let value = 0;
    for (let i = 0; i < dataBits; i++) value = (value << 1) | (levels[2 + i] > middle ? 1 : 0);
    let check = 0;
    for (let i = 0; i < checkBits; i++) check = (check << 1) | (levels[2 + dataBits + i] > middle ? 1 : 0);
    return check === crc8(value) ? value : -1;
  }

  const state = { records: [], running: false, layout: null, canvas: null, ctx: null };

  function onFrame(now, meta) {
    if (!state.running) return;
    const video = /** @type {HTMLVideoElement} */ (document.querySelector("video#remote-video"));
    const { screenWidth, block, x0, y0, blocks, dataBits, checkBits } = state.layout;
    const scale = video.videoWidth / screenWidth;
    const cell = 4; // each block becomes cell x cell canvas pixels; sample the middle 2 x 2
    let code = -1;
    if (scale > 0) {
      state.ctx.drawImage(
        video, x0 * scale, y0 * scale, blocks * block * scale, block * scale,
        0, 0, blocks * cell, cell,
      );
      const data = state.ctx.getImageData(0, 0, blocks * cell, cell).data;
      const levels = [];
      for (let i = 0; i < blocks; i++) {
        let sum = 0;
        for (const [dx, dy] of [[1, 1], [2, 1], [1, 2], [2, 2]]) {
          const at = ((dy * blocks * cell) + i * cell + dx) * 4;
          sum += (data[at] + data[at + 1] + data[at + 2]) / 3;
        }
        levels.push(sum / 4);
      }
      code = decode(levels, dataBits, checkBits);
    }
    state.records.push([
      code,
      meta.expectedDisplayTime,
      meta.presentationTime,
      meta.receiveTime ?? -1,
      now,
      meta.presentedFrames,
      meta.width,
      meta.height,
    ]);
    video.requestVideoFrameCallback(onFrame);
  }

  window.__latency = {
    connections,
    start(layout) {
      const video = /** @type {HTMLVideoElement} */ (document.querySelector("video#remote-video"));
      if (!video || !("requestVideoFrameCallback" in video)) return false;
      state.layout = layout;
      state.canvas = document.createElement("canvas");
      state.canvas.width = layout.blocks * 4;
      state.canvas.height = 4;
      state.ctx = state.canvas.getContext("2d", { willReadFrequently: true });
      if (!state.running) {
        state.running = true;
        video.requestVideoFrameCallback(onFrame);
      }
      return true;
    },
    stop() {
      state.running = false;
    },
    take() {
      return state.records.splice(0);
    },
    now() {
      return performance.now();
    },
    async stats() {
      const pc = connections[connections.length - 1];
      if (!pc) return null;
      const report = await pc.getStats();
      let inbound = null;
      let rtt = null;
      report.forEach((entry) => {
        if (entry.type === "inbound-rtp" && (entry.kind ?? entry.mediaType) === "video") inbound = entry;
        if (entry.type === "candidate-pair" && entry.nominated && entry.currentRoundTripTime != null) {
          rtt = entry.currentRoundTripTime;
        }
      });
      if (!inbound) return null;
      const keys = [
        "timestamp", "bytesReceived", "packetsReceived", "packetsLost", "framesReceived",
        "framesDecoded", "framesDropped", "keyFramesDecoded", "framesPerSecond", "frameWidth",
        "frameHeight", "jitterBufferDelay", "jitterBufferTargetDelay", "jitterBufferMinimumDelay",
        "jitterBufferEmittedCount", "totalDecodeTime", "totalProcessingDelay", "totalAssemblyTime",
        "framesAssembledFromMultiplePackets", "freezeCount", "totalFreezesDuration", "nackCount",
        "pliCount", "firCount", "jitter", "decoderImplementation",
      ];
      const out = { rtt };
      for (const key of keys) out[key] = inbound[key] ?? null;
      return out;
    },
  };
})();
