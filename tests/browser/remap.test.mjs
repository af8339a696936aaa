// Timbre remapping in headless Chromium (the built site, build-wasm/site): a drum performance trains
// a mapping in the worker while the UI keeps drawing (window.ddsp.remap and the Remap panel), the
// performance is rendered on the 808 (the same samples as the native `ddsp remap` with the exported
// model), the worklet's live path plays a hit for every onset of its input (OfflineAudioContext,
// deterministic), and Chromium's fake microphone, playing the performance, triggers 808 hits.
// Build first: cmake --build build --target ddsp && cmake --build build-wasm --target site
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openStudio } from './browser.mjs';
import { makeAudioSite, pcm16Wav } from './live_fixtures.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
const cli = join(repo, 'build', 'ddsp');
const RATE = 44100, HITS = 16, SPACING_S = 0.35, FIRST_S = 0.1;
let tmp, server, studioServer, browser, page, audioPage;
const consoleErrors = [];

// [SECTION] the performance and an onset counter

// HITS drum-like hits (a decaying 180 Hz body and noise through a one-pole low-pass whose cutoff
// rises with the hit's strength: a harder hit is louder and brighter), SPACING_S apart, seeded.
function performanceWav() {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const n = Math.round((FIRST_S + HITS * SPACING_S + 0.3) * RATE);
  const x = new Float64Array(n);
  for (let k = 0; k < HITS; k++) {
    const hard = rnd(), gain = 0.08 + 0.8 * hard, a = Math.exp((-2 * Math.PI * (800 + 6000 * hard)) / RATE);
    const at = Math.round((FIRST_S + k * SPACING_S) * RATE);
    let lp = 0;
    for (let i = 0; i < 0.3 * RATE && at + i < n; i++) {
      lp = (1 - a) * (2 * rnd() - 1) + a * lp;
      x[at + i] += gain * Math.exp(-i / (0.05 * RATE)) * (0.6 * Math.sin((2 * Math.PI * 180 * i) / RATE) + 2 * lp);
    }
  }
  return pcm16Wav(n, RATE, (i) => 0.9 * x[i]);
}

// Onset times (s) in x: a 2 ms energy envelope jumping 12 dB above its level 10 ms before and
// above -45 dBFS, at most one per 100 ms.
function onsetsOf(x, sr) {
  const hop = Math.round(0.002 * sr), back = 5, db = [];
  for (let s = 0; s + hop <= x.length; s += hop) {
    let e = 0;
    for (let i = s; i < s + hop; i++) e += x[i] * x[i];
    db.push(10 * Math.log10(e / hop + 1e-12));
  }
  const out = [];
  for (let f = back; f < db.length; f++) {
    const t = (f * hop) / sr;
    if (db[f] > -45 && db[f] - db[f - back] > 12 && (!out.length || t - out[out.length - 1] > 0.1)) out.push(t);
  }
  return out;
}

// [SECTION] set-up

before(async () => {
  assert.ok(existsSync(join(site, 'index.html')), `${site} is missing: build the 'site' target first`);
  tmp = makeAudioSite(site, repo, 'ddsp-remap-');
  writeFileSync(join(tmp, 'performance.wav'), performanceWav());
  server = await startServer(tmp);
  studioServer = await startServer(site);
  // The fake microphone plays the performance (looped).
  browser = await launchBrowser({ extraArgs: [`--use-file-for-fake-audio-capture=${join(tmp, 'performance.wav')}`] });
  page = await openStudio(browser, `${studioServer.url}/index.html`, { viewport: { width: 1400, height: 1000 }, consoleErrors });
  audioPage = await browser.newPage();
  audioPage.on('pageerror', (e) => consoleErrors.push(String(e)));
  await audioPage.goto(`${server.url}/audio.html`);
  await audioPage.waitForFunction(() => window.pageReady === true);
});

after(async () => {
  await browser?.close();
  await server?.close();
  await studioServer?.close();
});

const perfBytes = () => [...readFileSync(join(tmp, 'performance.wav'))];
const truth = () => Array.from({ length: HITS }, (_, k) => FIRST_S + k * SPACING_S);

// [SECTION] tests

test('a mapping trains in the worker while the UI draws, beats no modulation on held-out hits, and stops on request', async () => {
  // The panel open (a click on its header), so its loss curve and progress are drawn as it trains.
  const header = (await page.evaluate(() => window.ddsp.ui.remapLayout())).buttons.header;
  const box = await page.locator('#canvas').boundingBox();
  await page.mouse.click(box.x + (header[0] + header[2]) / 2, box.y + (header[1] + header[3]) / 2);
  await page.waitForFunction(() => window.ddsp.ui.remapLayout().open);

  const perf = await page.evaluate((bytes) => window.ddsp.remap.performance(new Uint8Array(bytes).buffer, 'performance.wav'),
    perfBytes());
  assert.equal(perf.hits, HITS, `the performance's ${HITS} hits are found`);

  const runs = {};
  for (const model of ['linear', 'mlp', 'mlp-large']) {
    runs[model] = await page.evaluate(async (model) => {
      const f0 = window.ddsp.ui.frames(), t0 = performance.now();
      const r = await window.ddsp.remap.train({ preset: 'snare_1', model, steps: 300 });
      return { ...r, seconds: (performance.now() - t0) / 1000, frames: window.ddsp.ui.frames() - f0 };
    }, model);
    const r = runs[model];
    console.log(`# ${model}: 300 steps in ${r.seconds.toFixed(1)} s in the worker (${(r.frames / r.seconds).toFixed(1)} UI frames/s); ` +
      `held-out loudness ${r.heldOut.model.loudness_db.toFixed(2)} dB (none ${r.heldOut.none.loudness_db.toFixed(2)}), ` +
      `centroid ${r.heldOut.model.centroid_oct.toFixed(3)} oct (none ${r.heldOut.none.centroid_oct.toFixed(3)})`);
    assert.equal(r.step, 300);
    assert.equal(r.stopped, false);
    assert.ok(r.heldOut.model.loudness_db < r.heldOut.none.loudness_db, `${model} beats no modulation on loudness`);
    assert.ok(r.frames >= 2 * r.seconds, `the UI kept drawing while ${model} trained (${r.frames} frames in ${r.seconds} s)`);
  }
  const st = await page.evaluate(() => window.ddsp.remap.state());
  assert.equal(st.info.model, 'mlp-large');
  assert.equal(st.info.trained, true);

  // Stop: a long run ends early, as stopped, and its weights so far are the model.
  const stopped = await page.evaluate(async () => {
    const run = window.ddsp.remap.train({ preset: 'tom', model: 'linear', steps: 100000 });
    await new Promise((r) => setTimeout(r, 800));
    await window.ddsp.remap.stop();
    return run;
  });
  assert.equal(stopped.stopped, true);
  assert.ok(stopped.step > 0 && stopped.step < 100000, `stopped at step ${stopped.step}`);
  assert.equal(stopped.info.model, 'linear');

  // A bad preset and a bad model file: one-line errors, the model stays.
  const errors = await page.evaluate(async () => {
    const r = window.ddsp.remap;
    const e1 = await r.train({ preset: 'cowbell' }).then(() => 'accepted', (e) => e.message);
    const e2 = await r.load(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer).then(() => 'accepted', (e) => e.message);
    return { e1, e2, model: r.state().info.model };
  });
  assert.match(errors.e1, /unknown preset 'cowbell'/);
  assert.match(errors.e2, /remap model file/);
  for (const e of [errors.e1, errors.e2]) assert.ok(!e.includes('\n'));
  assert.equal(errors.model, 'linear');
});

test('the performance rendered on the 808: a hit at every onset, the same samples as `ddsp remap` with the exported model', async () => {
  const r = await page.evaluate(async () => {
    await window.ddsp.remap.train({ preset: 'snare_2', model: 'mlp', steps: 150 });
    const blob = await window.ddsp.remap.export();
    const y = await window.ddsp.remap.render();
    return { model: [...new Uint8Array(await blob.arrayBuffer())], y: Array.from(y) };
  });
  const got = onsetsOf(r.y, RATE);
  assert.equal(got.length, HITS, `${HITS} hits rendered, found at ${got.map((t) => t.toFixed(3)).join(', ')}`);
  truth().forEach((t, k) => assert.ok(Math.abs(got[k] - t) < 0.010, `hit ${k} at ${got[k]} s, onset at ${t} s`));

  if (!existsSync(cli)) return;  // the CLI cross-check needs the native build
  writeFileSync(join(tmp, 'page-model.safetensors'), Buffer.from(r.model));
  execFileSync(cli, ['remap', '--model', join(tmp, 'page-model.safetensors'), '--input', join(tmp, 'performance.wav'),
    '-o', join(tmp, 'native.wav')]);
  const wav = readFileSync(join(tmp, 'native.wav'));
  const at = wav.indexOf('data') + 8, n = (wav.length - at) / 4;
  assert.equal(n, r.y.length, 'the page and the CLI render the same length');
  let maxDiff = 0, peak = 0;
  for (let i = 0; i < n; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(wav.readFloatLE(at + 4 * i) - r.y[i]));
    peak = Math.max(peak, Math.abs(r.y[i]));
  }
  console.log(`# page render vs native \`ddsp remap\`: max difference ${maxDiff.toExponential(2)} (peak ${peak.toFixed(3)})`);
  assert.ok(maxDiff < 1e-4 * Math.max(1, peak), `the page renders what the CLI does (max diff ${maxDiff})`);
});

test('the worklet plays an 808 hit for every onset of its input (OfflineAudioContext), within 10 ms plus a quantum', async () => {
  const model = await page.evaluate(async () => [...new Uint8Array(await (await window.ddsp.remap.export()).arrayBuffer())]);
  const r = await audioPage.evaluate(async ({ model, wav }) => {
    const ctx = new OfflineAudioContext(1, 1, 44100);
    const b = await ctx.decodeAudioData(new Uint8Array(wav).buffer);
    const { output, stats } = await window.AudioEngine.renderOffline({
      seconds: b.duration, sampleRate: 48000, remap: new Uint8Array(model).buffer,
      input: { samples: b.getChannelData(0), sampleRate: b.sampleRate },
      events: [{ time: 0, type: 'liveSource', source: 'remap' }], withStats: true });
    return { y: Array.from(output), stats };
  }, { model, wav: perfBytes() });
  const got = onsetsOf(r.y, 48000);
  console.log(`# worklet: ${r.stats.onsets} onsets detected, ${got.length} hits heard; onset to sound ${r.stats.remapLatencyMs.toFixed(1)} ms ` +
    `(+ the output's), allocations ${r.stats.allocations}`);
  assert.equal(r.stats.onsets, HITS);
  assert.equal(got.length, HITS, `hits heard at ${got.map((t) => t.toFixed(3)).join(', ')}`);
  truth().forEach((t, k) => assert.ok(got[k] - t > 0 && got[k] - t < 0.010 + 128 / 48000 + 0.004,
    `hit ${k} heard ${(1000 * (got[k] - t)).toFixed(1)} ms after its onset`));
  assert.ok(r.stats.remapLatencyMs <= 10, `the algorithmic onset-to-sound latency ${r.stats.remapLatencyMs} ms`);
  assert.equal(r.stats.nonFinite, 0);
});

test('Play live: the fake microphone, playing the performance, triggers 808 hits in the studio', async () => {
  const r = await page.evaluate(async () => {
    await window.ddsp.audio.resume();
    const remap = window.ddsp.remap;
    const before = await remap.stats();
    await remap.live(true);
    await window.ddsp.audio.liveStats({ reset: true });
    await new Promise((res) => setTimeout(res, 3000));
    const during = await remap.stats();
    const peak = (await window.ddsp.audio.liveStats()).outputPeak;
    const off = await remap.live(false);
    return { before, during, peak, off };
  });
  const hits = r.during.onsets - r.before.onsets;
  console.log(`# live: ${hits} onsets from the fake microphone in 3 s (the performance has one every ${SPACING_S} s), ` +
    `output peak ${r.peak.toFixed(3)}, onset to sound ${r.during.latencyMs.toFixed(1)} ms + output ${r.during.outputLatencyMs.toFixed(1)} ms`);
  assert.equal(r.during.source, 'remap');
  assert.ok(hits >= 4, `the microphone's hits are detected (${hits})`);
  assert.ok(r.peak > 0.01, `the 808 is heard (peak ${r.peak})`);
  assert.equal(r.off.live, false);
  assert.equal(r.off.source, 'synth');
  assert.deepEqual(consoleErrors, []);
});
