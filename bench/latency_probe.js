// Page-side probe for bench/latency.py, added to the console page as an init script after
// latency_reader.js (which reads the counter).
//
// * Keeps every RTCPeerConnection the console makes (for getStats).
// * `window.__latency.start(layout)` reads the frame counter (bench/latency_code.py) out of
//   every frame the <video> presents, with requestVideoFrameCallback; `take()` hands the
//   records over: [counter or -1, expectedDisplayTime, presentationTime, receiveTime, now,
//   presentedFrames, width, height] (times in ms of performance.now()); `takeSamples()` the
//   text region of sampled counter values (latency_reader.js).
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

  const state = { records: [], running: false, reader: null };

  function onFrame(now, meta) {
    if (!state.running) return;
    const video = /** @type {HTMLVideoElement} */ (document.querySelector("video#remote-video"));
    const scale = video.videoWidth / state.reader.screenWidth;
    const code = state.reader.read(video, scale);
    state.reader.sample(code, video, scale);
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
      state.reader = globalThis.__latencyReader(layout);
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
    takeSamples() {
      return state.reader ? state.reader.takeSamples() : [];
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
