// The studio's audio output in headless Chromium: web/audio.js (AudioEngine), web/audio-processor.js
// and the wasm player (build-wasm/ddsp_worklet.mjs), rendered through an OfflineAudioContext so the
// output can be checked sample by sample; plus a realtime AudioContext and web/keyboard.js.
// Build first: cmake --build build-wasm --target ddsp_worklet
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';
import { startServer } from './serve.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let site, server, browser, page;
const consoleErrors = [];

before(async () => {
  const worklet = join(repoRoot, 'build-wasm/ddsp_worklet.mjs');
  await stat(worklet).catch(() => {
    throw new Error(`${worklet} is missing: cmake --build build-wasm --target ddsp_worklet`);
  });
  // The site's layout: the page, the modules and the wasm player side by side.
  site = await mkdtemp(join(tmpdir(), 'ddsp-audio-'));
  for (const f of ['audio.js', 'audio-processor.js', 'keyboard.js']) {
    await copyFile(join(repoRoot, 'web', f), join(site, f));
  }
  await copyFile(worklet, join(site, 'ddsp_worklet.mjs'));
  await copyFile(join(repoRoot, 'tests/browser/audio.html'), join(site, 'audio.html'));
  server = await startServer(site);
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${server.url}/audio.html`);
  await page.waitForFunction(() => window.pageReady === true);
  // Signal helpers shared by the tests.
  await page.evaluate(() => {
    window.tone = (n, sr, parts) => {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (const [f, a, ph = 0] of parts) v += a * Math.sin(2 * Math.PI * f * (i / sr) + ph);
        x[i] = v;
      }
      return x;
    };
    window.maxAbsDiff = (a, b, from, to) => {
      let d = 0;
      for (let i = from; i < to; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
      return d;
    };
    window.maxStep = (y, from = 1, to = y.length) => {
      let d = 0;
      for (let i = Math.max(1, from); i < to; i++) d = Math.max(d, Math.abs(y[i] - y[i - 1]));
      return d;
    };
    window.maxAbs = (y, from = 0, to = y.length) => {
      let d = 0;
      for (let i = from; i < to; i++) d = Math.max(d, Math.abs(y[i]));
      return d;
    };
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (site) await rm(site, { recursive: true, force: true });
});

const FADE = 240;  // 5 ms at 48 kHz

test('a loaded buffer plays back unchanged at the context rate', async () => {
  const r = await page.evaluate(async () => {
    const sr = 48000, n = 48000;
    const x = tone(n, sr, [[440, 0.4], [3000, 0.2, 1], [9100, 0.1, 2]]);
    const y = await AudioEngine.renderOffline({ target: { samples: x, sampleRate: sr }, seconds: 1.1, sampleRate: sr });
    return {
      length: y.length,
      middle: maxAbsDiff(x, y, 240, n - 240),
      fadeIn: maxAbs(y, 0, 240) <= 0.71,
      startsAtZero: y[0],
      after: maxAbs(y, n, y.length),
    };
  });
  assert.equal(r.length, 52800);
  assert.ok(r.middle <= 1e-6, `max |y - x| away from the fades: ${r.middle}`);
  assert.equal(r.startsAtZero, 0);
  assert.equal(r.after, 0, 'silence after the buffer ends');
});

test('a 16 kHz buffer is resampled to 48 kHz like an ideal band-limited resampler', async () => {
  const r = await page.evaluate(async () => {
    // Tones below 0.9 x the 8 kHz Nyquist: the ideal resample is the same tones sampled at 48 kHz.
    const parts = [[440, 0.3], [2500, 0.2, 0.5], [7000, 0.1, 1.5]];
    const x = tone(16000, 16000, parts);
    const ref = tone(48000, 48000, parts);
    const y = await AudioEngine.renderOffline({ target: { samples: x, sampleRate: 16000 }, seconds: 1, sampleRate: 48000 });
    const direct = resample(x, 16000, 48000);
    // Not a multiple of the rate: the fine-table path of the resampler, 44.1 kHz -> 48 kHz.
    const x44 = tone(44100, 44100, parts);
    const y44 = resample(x44, 44100, 48000);
    const a = 2400, b = 48000 - 2400;  // away from the edges (the filter ramps in and out)
    return {
      worklet: maxAbsDiff(y, ref, a, b),
      resampler: maxAbsDiff(direct, ref, a, b),
      sameAsResampler: maxAbsDiff(y, direct, a, b),
      length44: y44.length,
      resampler44: maxAbsDiff(y44, ref, a, b),
    };
  });
  assert.ok(r.worklet < 1e-3, `worklet vs ideal: ${r.worklet}`);
  assert.ok(r.resampler < 1e-3, `resample vs ideal: ${r.resampler}`);
  assert.ok(r.sameAsResampler <= 1e-6, `worklet vs resample: ${r.sameAsResampler}`);
  assert.equal(r.length44, 48000);
  assert.ok(r.resampler44 < 1e-3, `44.1 kHz resample vs ideal: ${r.resampler44}`);
});

test('stop mid-buffer fades out without a click; start, A/B switch and loop are smooth too', async () => {
  const r = await page.evaluate(async () => {
    const sr = 48000;
    // Constant signals make any discontinuity show as a step; a hard cut of 0.8 would be a step of 0.8.
    const dc = new Float32Array(sr).fill(0.8);
    const stop = await AudioEngine.renderOffline({
      target: { samples: dc, sampleRate: sr }, seconds: 0.6, sampleRate: sr,
      events: [{ time: 0, type: 'play', slot: 'target' }, { time: 12800 / sr, type: 'stop' }],
    });
    // A/B: target rises, recon falls, so the position after the switch shows in the value.
    const ramp = new Float32Array(sr).map((_, i) => 0.8 * (i / sr));
    const ab = await AudioEngine.renderOffline({
      target: { samples: ramp, sampleRate: sr }, recon: { samples: ramp.map((v) => -v), sampleRate: sr },
      seconds: 0.5, sampleRate: sr,
      events: [{ time: 0, type: 'play', slot: 'target' }, { time: 9600 / sr, type: 'toggle' }],
    });
    // A new buffer loaded into the playing slot continues at the same position.
    const reload = await AudioEngine.renderOffline({
      target: { samples: ramp, sampleRate: sr }, seconds: 0.5, sampleRate: sr,
      events: [{ time: 0, type: 'play', slot: 'target' },
        { time: 9600 / sr, type: 'load', slot: 'target', samples: ramp.map((v) => 0.5 - v), sampleRate: sr }],
    });
    let reloadAfter = 0;
    for (let i = 9600 + 480; i < 24000; i++) reloadAfter = Math.max(reloadAfter, Math.abs(reload[i] - (0.5 - ramp[i])));
    const short = new Float32Array(4800).fill(0.5);  // 0.1 s, looped for 0.35 s
    const loop = await AudioEngine.renderOffline({
      target: { samples: short, sampleRate: sr }, seconds: 0.35, sampleRate: sr,
      events: [{ time: 0, type: 'play', slot: 'target', loop: true }],
    });
    let abAfter = 0;
    for (let i = 9600 + 480; i < 24000; i++) abAfter = Math.max(abAfter, Math.abs(ab[i] + ramp[i]));
    let loopDev = 0;
    for (let i = 240; i < loop.length; i++) loopDev = Math.max(loopDev, Math.abs(loop[i] - 0.5));
    return {
      stopStep: maxStep(stop), stopBefore: maxAbsDiff(stop, dc, 240, 12800),
      stopAfter: maxAbs(stop, 12800 + 480), stopFadeFrames: [...stop].filter((v, i) => i > 12800 && v > 0).length,
      abStep: maxStep(ab), abAfter, loopStep: maxStep(loop), loopDev,
      reloadStep: maxStep(reload), reloadAfter,
    };
  });
  assert.ok(r.stopStep < 0.01, `largest step with stop: ${r.stopStep}`);
  assert.ok(r.stopBefore <= 1e-6, `before the stop: ${r.stopBefore}`);
  assert.equal(r.stopAfter, 0, 'silent once the fade is over');
  assert.ok(r.stopFadeFrames >= 100 && r.stopFadeFrames <= 480, `fade length ${r.stopFadeFrames} frames`);
  assert.ok(r.abStep < 0.01, `largest step with the A/B switch: ${r.abStep}`);
  assert.ok(r.abAfter <= 1e-6, `after the switch, recon plays at the same position: ${r.abAfter}`);
  assert.ok(r.reloadStep < 0.01, `largest step when the playing slot is reloaded: ${r.reloadStep}`);
  assert.ok(r.reloadAfter <= 1e-6, `the reloaded slot plays on from the same position: ${r.reloadAfter}`);
  assert.ok(r.loopStep < 0.01, `largest step while looping: ${r.loopStep}`);
  assert.ok(r.loopDev < 1e-5, `a looped constant stays constant through the wraps: ${r.loopDev}`);
});

test('NaN, infinities and huge samples never reach the output', async () => {
  const r = await page.evaluate(async () => {
    const sr = 48000, n = 24000;
    const x = tone(n, sr, [[220, 0.9]]);
    for (let i = 100; i < n; i += 97) x[i] = [NaN, Infinity, -Infinity, 1e30, -1e30, 3][i % 6];
    // Live notes on top (the synth's streaming kernel; live.test.mjs tests them in depth).
    const preset = { params: JSON.stringify({ synth: 'sine', params: { amplitude: 1 } }) };
    const y = await AudioEngine.renderOffline({
      target: { samples: x, sampleRate: sr }, recon: { samples: x, sampleRate: 16000 }, preset,
      gainDb: 24, seconds: 0.6, sampleRate: sr,
      events: [
        { time: 0, type: 'play', slot: 'target' }, { time: 0, type: 'noteOn', note: 60, velocity: 1 },
        { time: 0.1, type: 'noteOn', note: 61, velocity: 1 }, { time: 0.2, type: 'toggle' },
      ],
    });
    let bad = 0, over = 0;
    for (const v of y) {
      if (!Number.isFinite(v)) bad++;
      else if (Math.abs(v) > 1) over++;
    }
    return { bad, over, peak: maxAbs(y) };
  });
  assert.equal(r.bad, 0, 'non-finite output samples');
  assert.equal(r.over, 0, 'output samples beyond [-1, 1]');
  assert.ok(r.peak > 0.5, `it still plays (peak ${r.peak})`);
});

test('a realtime AudioContext starts and level messages arrive while playing', async () => {
  const r = await page.evaluate(async () => {
    // Calls made before init() finishes wait for it, in order.
    const engine = new AudioEngine();
    const x = tone(24000, 48000, [[440, 0.5]]);
    const loading = engine.loadBuffer('target', x, 48000);
    engine.play('target', { loop: true });
    const levels = [];
    const got = new Promise((resolve) => {
      engine.onLevel = (lv) => {
        levels.push({ ...lv });
        if (levels.length >= 5) resolve();
      };
    });
    await engine.init();
    const state = engine.context.state;
    const loaded = await loading;
    await got;
    engine.stop();
    await engine.close();
    return { state, rate: engine.sampleRate, loaded, levels };
  });
  assert.equal(r.state, 'running');
  assert.ok(r.loaded.frames > 0 && !r.loaded.truncated);
  const playing = r.levels.filter((lv) => lv.slot === 'target' && lv.playing);
  assert.ok(playing.length >= 3, JSON.stringify(r.levels));
  for (const lv of playing.slice(1)) {
    assert.ok(lv.peak > 0.4 && lv.peak <= 0.5 + 1e-6, `peak ${lv.peak}`);
    assert.ok(Math.abs(lv.rms - 0.5 / Math.SQRT2) < 0.02, `rms ${lv.rms}`);
    assert.ok(lv.position >= 0 && lv.position < 0.5, `position ${lv.position}`);
  }
});

test('the computer keyboard plays notes, ignoring repeats and text fields', async () => {
  const r = await page.evaluate(() => {
    const log = [];
    const kb = new Keyboard({
      onNoteOn: (n, v) => log.push(['on', n, v]), onNoteOff: (n) => log.push(['off', n]), midi: false,
    }).attach();
    const key = (type, code, extra = {}, target = window) =>
      target.dispatchEvent(new KeyboardEvent(type, { code, bubbles: true, ...extra }));
    key('keydown', 'KeyA'); key('keydown', 'KeyA', { repeat: true }); key('keyup', 'KeyA');
    key('keydown', 'KeyX'); key('keydown', 'KeyW'); key('keydown', 'KeyZ'); key('keyup', 'KeyW');
    key('keydown', 'KeyK', {}, document.getElementById('text'));
    key('keydown', 'KeyS', { ctrlKey: true });
    key('keydown', 'KeyJ'); window.dispatchEvent(new Event('blur'));
    kb.detach();
    key('keydown', 'KeyA');
    return log;
  });
  assert.deepEqual(r, [
    ['on', 60, 0.8], ['off', 60],
    ['on', 73, 0.8], ['off', 73],  // an octave up; released after the octave changed back
    ['on', 71, 0.8], ['off', 71],  // losing focus releases held notes
  ]);
});

test('no errors on the page', () => {
  assert.deepEqual(consoleErrors, []);
});
