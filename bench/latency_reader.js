// Shared page-side reader for bench/latency.py, put in front of each probe's init script
// (latency_probe.js for the console's <video>, latency_novnc.js for noVNC's canvas).
//
// `globalThis.__latencyReader(layout)` returns
// * `read(source, scale)`: the frame counter (bench/latency_code.py) in `source` (a <video> or
//   a <canvas>; `scale` = source pixels per screen pixel) or -1;
// * `sample(code, source, scale)`: when `code` is a multiple of `layout.sampleEvery` seen for
//   the first time, keeps the luma (BT.601, rounded, one byte a pixel, row by row) of
//   `layout.region` ({x, y, w, h}, screen pixels) as `source` shows it, scaled back to screen
//   pixels; `takeSamples()` hands them over as [[code, base64 luma], ...].
(() => {
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

  globalThis.__latencyReader = (layout) => {
    const { screenWidth, block, x0, y0, blocks, dataBits, checkBits } = layout;
    const cell = 4; // each block becomes cell x cell canvas pixels; sample the middle 2 x 2
    const strip = document.createElement("canvas");
    strip.width = blocks * cell;
    strip.height = cell;
    const stripCtx = strip.getContext("2d", { willReadFrequently: true });
    const region = document.createElement("canvas");
    const regionCtx = region.getContext("2d", { willReadFrequently: true });

    /** The counter in `source`, -1 if it does not decode. */
    function read(source, scale) {
      if (!(scale > 0)) return -1;
      stripCtx.drawImage(
        source, x0 * scale, y0 * scale, blocks * block * scale, block * scale,
        0, 0, blocks * cell, cell,
      );
      const data = stripCtx.getImageData(0, 0, blocks * cell, cell).data;
      const levels = [];
      for (let i = 0; i < blocks; i++) {
        let sum = 0;
        for (const [dx, dy] of [[1, 1], [2, 1], [1, 2], [2, 2]]) {
          const at = ((dy * blocks * cell) + i * cell + dx) * 4;
          sum += (data[at] + data[at + 1] + data[at + 2]) / 3;
        }
        levels.push(sum / 4);
      }
      return decode(levels, dataBits, checkBits);
    }

    /** Luma bytes of `rect` ({x, y, w, h} in screen pixels) as `source` shows it. */
    function sampleLuma(source, scale, rect) {
      if (region.width !== rect.w || region.height !== rect.h) {
        region.width = rect.w;
        region.height = rect.h;
      }
      regionCtx.drawImage(
        source, rect.x * scale, rect.y * scale, rect.w * scale, rect.h * scale,
        0, 0, rect.w, rect.h,
      );
      const data = regionCtx.getImageData(0, 0, rect.w, rect.h).data;
      const luma = new Uint8Array(rect.w * rect.h);
      for (let i = 0, j = 0; i < luma.length; i++, j += 4) {
        luma[i] = Math.round(0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2]);
      }
      return luma;
    }

    const samples = [];
    const sampled = new Set();

    function sample(code, source, scale) {
      if (code < 0 || !layout.sampleEvery || code % layout.sampleEvery !== 0) return;
      if (sampled.has(code) || !(scale > 0)) return;
      sampled.add(code);
      const luma = sampleLuma(source, scale, layout.region);
      let text = "";
      for (let i = 0; i < luma.length; i += 0x8000) {
        text += String.fromCharCode(...luma.subarray(i, i + 0x8000));
      }
      samples.push([code, btoa(text)]);
    }

    return { read, sample, takeSamples: () => samples.splice(0), screenWidth };
  };
})();
