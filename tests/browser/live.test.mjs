// The live engine in headless Chromium: the synths' streaming kernels and the DDSP decoder on the
// audio thread (web/audio-processor.js + build-wasm/ddsp_worklet.mjs), driven through AudioEngine
// in an OfflineAudioContext (deterministic, checked sample by sample), and the studio's
// window.ddsp.live with Chromium's fake microphone singing a known tone into live timbre transfer.
// Build first: cmake --build build-wasm --target site
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openStudio } from './browser.mjs';
import { makeAudioSite, pcm16Wav } from './live_fixtures.mjs';
import { startServer } from './serve.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const siteDir = join(repoRoot, 'build-wasm', 'site');
let tmp, server, studioServer, browser, micBrowser, page;
const consoleErrors = [];
const MIC_F0_HZ = 220;

// A sung-like tone (harmonics, 5 Hz vibrato of 5 cents, 10 ms attack) as 16-bit mono WAV: the
// fake microphone's input. (The vibrato is small so that a snapshot's pitch is the tone's within
// 1 %; the decoder follows it.)
function sungWav(f0, seconds, sr) {
  let phase = 0;
  return pcm16Wav(Math.round(seconds * sr), sr, (i) => {
    const t = i / sr;
    phase += (2 * Math.PI * f0 * 2 ** ((0.05 / 12) * Math.sin(2 * Math.PI * 5 * t))) / sr;
    let v = 0;
    for (let k = 1; k <= 8; k++) v += Math.sin(k * phase) / k ** 1.5;
    return 0.3 * Math.min(1, t / 0.01) * v;
  });
}

before(async () => {
  await stat(join(siteDir, 'ddsp_worklet.mjs')).catch(() => {
    throw new Error(`${siteDir} is missing: cmake --build build-wasm --target site`);
  });
  // The audio engine's test page beside the site's audio modules and the model.
  tmp = makeAudioSite(siteDir, repoRoot, 'ddsp-live-');
  const micWav = join(tmp, 'sung.wav');
  await writeFile(micWav, sungWav(MIC_F0_HZ, 20, 48000));
  server = await startServer(tmp);
  studioServer = await startServer(siteDir);
  browser = await launchBrowser();
  micBrowser = await launchBrowser({ extraArgs: [`--use-file-for-fake-audio-capture=${micWav}`] });
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${server.url}/audio.html`);
  await page.waitForFunction(() => window.pageReady === true);
  await page.evaluate(() => {
    // YIN (cumulative mean normalised difference, threshold 0.1, parabolic refinement) on x[from, to).
    window.yinHz = (x, sr, from, to, fmin = 50, fmax = 2000) => {
      const maxLag = Math.floor(sr / fmin), minLag = Math.floor(sr / fmax), w = Math.min(maxLag, to - from - maxLag - 2);
      const d = new Float64Array(maxLag + 2);
      for (let tau = 1; tau <= maxLag + 1; tau++) {
        let s = 0;
        for (let i = from; i < from + w; i++) s += (x[i] - x[i + tau]) ** 2;
        d[tau] = s;
      }
      let run = 0;
      const dn = new Float64Array(maxLag + 2);
      dn[0] = 1;
      for (let tau = 1; tau <= maxLag + 1; tau++) { run += d[tau]; dn[tau] = run > 0 ? (d[tau] * tau) / run : 1; }
      let tau = minLag;
      while (tau < maxLag && !(dn[tau] < 0.1 && dn[tau] <= dn[tau + 1])) tau++;
      if (tau >= maxLag) { tau = minLag; for (let t = minLag; t <= maxLag; t++) if (dn[t] < dn[tau]) tau = t; }
      const den = dn[tau - 1] - 2 * dn[tau] + dn[tau + 1];
      const shift = den !== 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (dn[tau - 1] - dn[tau + 1])) / den)) : 0;
      return sr / (tau + shift);
    };
    window.maxAbs = (y, from = 0, to = y.length) => { let m = 0; for (let i = from; i < to; i++) m = Math.max(m, Math.abs(y[i])); return m; };
    window.rmsDb = (y, from, to) => { let s = 0; for (let i = from; i < to; i++) s += y[i] * y[i]; return 10 * Math.log10(s / (to - from) + 1e-20); };
    window.preset = (synth, params = {}, seconds = 1, sampleRate = 16000) =>
      ({ params: JSON.stringify({ synth, sample_rate: sampleRate, seconds, params }) });
    window.modelBytes = () => fetch('assets/models/ddsp_gm8.safetensors').then((r) => r.arrayBuffer());
    window.sung = (f0, seconds, onset, sr, level = 0.3) => {
      const x = new Float32Array(Math.round(seconds * sr));
      let phase = 0;
      for (let i = 0; i < x.length; i++) {
        const t = i / sr;
        if (t < onset) continue;
        phase += (2 * Math.PI * f0 * 2 ** ((0.05 / 12) * Math.sin(2 * Math.PI * 5 * t))) / sr;
        let v = 0;
        for (let k = 1; k <= 8; k++) v += Math.sin(k * phase) / k ** 1.5;
        x[i] = level * Math.min(1, (t - onset) / 0.01) * v;
      }
      return x;
    };
  });
});

after(async () => {
  await browser?.close();
  await micBrowser?.close();
  await server?.close();
  await studioServer?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(consoleErrors, [], 'no console errors');
});

test('notes from noteOn play at the requested pitch (YIN within 1 %), for every pitched synth', async () => {
  const r = await page.evaluate(async () => {
    const sr = 48000, out = [];
    for (const [synth, params] of [['ks', {}], ['sine', { amplitude: 0.5 }], ['drum808', { osc1_pitch_mod: 0, osc2_gain_db: -60,
      noise_gain_db: -60, osc1_decay_ms: 1500 }]]) {
      for (const midi of [45, 57, 69, 76]) {
        const y = await AudioEngine.renderOffline({
          seconds: 0.5, sampleRate: sr, preset: preset(synth, params, 1, synth === 'drum808' ? 44100 : 16000),
          events: [{ time: 0, type: 'noteOn', note: midi, velocity: 1 }],
        });
        // A drum key transposes the preset's tuning (180 Hz, nearest MIDI 54, plays unchanged there).
        const want = synth === 'drum808' ? 180 * 2 ** ((midi - 54) / 12) : 440 * 2 ** ((midi - 69) / 12);
        out.push({ synth, midi, want, got: yinHz(y, sr, 4800, 4800 + 9600), peak: maxAbs(y) });
      }
    }
    return out;
  });
  for (const n of r) {
    assert.ok(n.peak > 0.01, `${n.synth} note ${n.midi} is heard (peak ${n.peak})`);
    assert.ok(Math.abs(n.got / n.want - 1) < 0.01, `${n.synth} note ${n.midi}: ${n.got.toFixed(2)} Hz, want ${n.want.toFixed(2)}`);
  }
});

test('unusual device rates (8, 22.05, 96 and 192 kHz): notes still play at their pitch', async () => {
  const r = await page.evaluate(async () => {
    const out = [];
    for (const sr of [8000, 22050, 96000, 192000]) {
      const y = await AudioEngine.renderOffline({ seconds: 0.4, sampleRate: sr, preset: preset('ks'),
        events: [{ time: 0, type: 'noteOn', note: 57, velocity: 1 }] });
      out.push({ sr, got: yinHz(y, sr, Math.round(0.1 * sr), Math.round(0.35 * sr), 50, Math.min(2000, sr / 4)), peak: maxAbs(y) });
    }
    return out;
  });
  for (const n of r) {
    assert.ok(n.peak > 0.01 && n.peak <= 1, `${n.sr} Hz: peak ${n.peak}`);
    assert.ok(Math.abs(n.got / 220 - 1) < 0.01, `${n.sr} Hz: ${n.got} Hz`);
  }
});

test('a slider move changes the output within 10 ms, gliding (no click)', async () => {
  const r = await page.evaluate(async () => {
    const sr = 48000, at = 0.2;
    const { output: y, stats } = await AudioEngine.renderOffline({
      seconds: 0.4, sampleRate: sr, preset: preset('sine', { amplitude: 0.8 }), withStats: true,
      events: [{ time: 0, type: 'noteOn', note: 57, velocity: 1 }, { time: at, type: 'liveParams', params: { amplitude: 0.2 } }],
    });
    const i = Math.round((at * sr) / 128) * 128;
    let step = 0;
    for (let k = i - 480; k < i + 960; k++) step = Math.max(step, Math.abs(y[k + 1] - y[k]));
    return { before: maxAbs(y, i - 480, i), after: maxAbs(y, i + 480, i + 720), step, allocations: stats.allocations };
  });
  assert.ok(Math.abs(r.before - 0.8) < 0.02, `before: ${r.before}`);
  assert.ok(Math.abs(r.after - 0.2) < 0.02, `10 ms after the move: ${r.after}`);
  // A 220 Hz sine of amplitude 0.8 moves at most 0.023 per sample at 48 kHz; the glide adds little.
  assert.ok(r.step < 0.03, `largest step around the move: ${r.step}`);
  assert.equal(r.allocations, 0, 'process() allocated');
});

test('NaN and absurd values: clear errors, nothing non-finite or beyond 1 reaches the output', async () => {
  const r = await page.evaluate(async () => {
    const engine = new AudioEngine();
    const errors = [];
    const expectError = (p) => p.then(() => errors.push(null), (e) => errors.push(e.message));
    await engine.livePreset(preset('ks'));
    await expectError(engine.liveParams({ decay_s: NaN }));
    await expectError(engine.liveParams({ decay_s: Infinity }));
    await expectError(engine.liveParams({ no_such_parameter: 1 }));
    await expectError(engine.liveParams({ decay_s: [1, 2, 3] }));
    await expectError(engine.livePreset({ params: '{"synth": "ks", "params": {' }));
    await expectError(engine.livePreset({ params: '{"synth": "organ", "params": {}}' }));
    await expectError(engine.liveSource('input'));  // no model yet
    await expectError(engine.liveModel(new TextEncoder().encode('this is not a model').buffer));
    await expectError(engine.liveModel(new ArrayBuffer(0)));
    const clampedOk = await engine.liveParams({ decay_s: 1e300, f0_hz: -5, exc_gain_db: 1e9 }).then(() => true, () => false);
    await engine.close();
    const events = [{ time: 0, type: 'liveParams', params: { decay_s: 1e300, exc_gain_db: 1e9 } }];
    for (let k = 0; k < 12; k++) events.push({ time: 0.01 * k, type: 'noteOn', note: 30 + 7 * k, velocity: k === 5 ? 1e9 : 1 });
    events.push({ time: 0.2, type: 'noteOn', note: 64, velocity: NaN }, { time: 0.2, type: 'noteOn', note: -4, velocity: 1 });
    const { output: y, stats } = await AudioEngine.renderOffline({ seconds: 1, sampleRate: 44100, preset: preset('ks'), events, withStats: true });
    let bad = 0, over = 0;
    for (const v of y) { if (!Number.isFinite(v)) bad++; else if (Math.abs(v) > 1) over++; }
    return { errors, clampedOk, bad, over, peak: maxAbs(y), stats };
  });
  assert.match(r.errors[0], /decay_s/);
  assert.match(r.errors[1], /decay_s/);
  assert.match(r.errors[2], /unknown parameter 'no_such_parameter'/);
  assert.match(r.errors[3], /decay_s.*takes 1 or 16 values/);
  assert.match(r.errors[4], /^params: /);
  assert.match(r.errors[5], /organ/);
  assert.match(r.errors[6], /no decoder model/);
  assert.match(r.errors[7], /safetensors|model/);
  assert.match(r.errors[8], /model/);
  assert.ok(r.clampedOk, 'finite absurd values are clamped, not refused');
  assert.equal(r.bad, 0, 'non-finite output samples');
  assert.equal(r.over, 0, 'output samples beyond [-1, 1]');
  assert.ok(r.peak > 0.1, `it plays (peak ${r.peak})`);
  assert.equal(r.stats.nonFinite, 0);
  assert.ok(r.stats.steals >= 4, `the 9th..12th notes stole voices (${r.stats.steals})`);
  assert.equal(r.stats.allocations, 0, 'process() allocated');
});

test('live timbre transfer in the worklet: a sung tone comes out at its pitch, within 30 ms, no underrun', async () => {
  const r = await page.evaluate(async () => {
    const sr = 48000, onset = 0.3, f0 = 196;
    const { output: y, stats } = await AudioEngine.renderOffline({
      seconds: 1.5, sampleRate: sr, model: await modelBytes(), withStats: true,
      input: { samples: sung(f0, 1.5, onset, sr), sampleRate: sr },
      events: [{ time: 0, type: 'liveSource', source: 'input' }, { time: 0, type: 'liveZ', z: new Array(8).fill(0) }],
    });
    const steady = rmsDb(y, 0.8 * sr, 1.3 * sr);
    const win = 96;
    let onsetOut = -1;
    for (let i = 0; i + win < y.length && onsetOut < 0; i += win / 2) if (rmsDb(y, i, i + win) > steady - 20) onsetOut = i;
    return { f0, got: yinHz(y, sr, 0.8 * sr, 1.3 * sr), silentBefore: rmsDb(y, 0, 0.25 * sr), steady,
      delayMs: 1000 * (onsetOut / sr - onset), stats };
  });
  console.log(`# live transfer in the worklet: ${r.got.toFixed(1)} Hz for ${r.f0} Hz, algorithmic latency ` +
    `${r.stats.inputLatencyMs.toFixed(1)} ms, measured onset delay ${r.delayMs.toFixed(1)} ms, ` +
    `${r.stats.decoderFrames} decoder frames, process() mean ${r.stats.processMsMean.toFixed(3)} ms (${r.stats.clock})`);
  assert.ok(Math.abs(r.got / r.f0 - 1) < 0.01, `pitch ${r.got}`);
  assert.ok(r.silentBefore < -60, `silence in, silence out: ${r.silentBefore} dB`);
  assert.ok(r.steady > -40, `the tone comes out: ${r.steady} dB`);
  assert.ok(r.stats.inputLatencyMs <= 30, `latency ${r.stats.inputLatencyMs} ms`);
  assert.ok(r.delayMs > r.stats.inputLatencyMs - 12 && r.delayMs < r.stats.inputLatencyMs + 25, `onset delay ${r.delayMs} ms`);
  assert.equal(r.stats.underruns, 0);
  assert.equal(r.stats.allocations, 0, 'process() allocated');
  assert.equal(r.stats.source, 'input');
});

test('the keyboard plays the decoder: a held note at its pitch, silence after note-off', async () => {
  const r = await page.evaluate(async () => {
    const sr = 48000;
    const y = await AudioEngine.renderOffline({
      seconds: 1.2, sampleRate: sr, model: await modelBytes(),
      events: [{ time: 0, type: 'liveSource', source: 'keys' }, { time: 0, type: 'noteOn', note: 57, velocity: 0.9 },
        { time: 0.8, type: 'noteOff', note: 57 }],
    });
    return { got: yinHz(y, sr, 0.3 * sr, 0.7 * sr), level: rmsDb(y, 0.3 * sr, 0.7 * sr), tail: rmsDb(y, 1.05 * sr, 1.2 * sr) };
  });
  assert.ok(Math.abs(r.got / 220 - 1) < 0.01, `pitch ${r.got}`);
  assert.ok(r.level > -40, `level ${r.level}`);
  assert.ok(r.tail < -55, `after note-off ${r.tail}`);
});

test('the studio: window.ddsp.live plays notes, and the fake microphone sings through the decoder', async () => {
  const studio = await openStudio(micBrowser, `${studioServer.url}/index.html`, { consoleErrors });
  // Keyboard notes: the default synth's live preset, heard at once.
  await studio.evaluate(() => window.ddsp.live.refresh());
  const notes = await studio.evaluate(async () => {
    await window.ddsp.audio.resume();
    window.ddsp.live.noteOn(60, 0.9);
    await new Promise((r) => setTimeout(r, 400));
    const st = await window.ddsp.live.stats();
    window.ddsp.live.noteOff(60);
    return st;
  });
  for (const k of ['sampleRate', 'quanta', 'xruns', 'processMsMean', 'processMsMax', 'budgetMs', 'outputPeak', 'latencyMs'])
    assert.ok(Number.isFinite(notes[k]), `stats().${k} = ${notes[k]}`);
  assert.ok(notes.outputPeak > 0.01, `a note is heard (peak ${notes.outputPeak})`);
  assert.ok(notes.hasPreset && notes.voices >= 1);
  const bad = await studio.evaluate(() => window.ddsp.live.setParams({ decay_s: NaN }).then(() => 'accepted', (e) => e.message));
  assert.match(bad, /decay_s/);
  // MIDI: a note from a MIDI message, then CC 22 (the sine's second parameter, amplitude) to 0.
  const cc = await studio.evaluate(async () => {
    const live = window.ddsp.live, wait = (ms) => new Promise((r) => setTimeout(r, ms));
    window.ddsp.setSynth('sine');
    await live.refresh();
    live.midi([0x90, 69, 100]);
    await wait(300);
    const before = (await live.stats({ reset: true })).outputPeak;
    await live.stats({ reset: true });
    live.midi([0xb0, 22, 0]);
    await wait(150);
    await live.stats({ reset: true });
    await wait(250);
    const after = (await live.stats()).outputPeak;
    live.midi([0x80, 69, 0]);
    window.ddsp.setSynth('ks');
    await live.refresh();
    return { before, after };
  });
  assert.ok(cc.before > 0.1, `a MIDI note sounds (peak ${cc.before})`);
  assert.ok(cc.after < 1e-3, `CC 22 at 0 silences the sine's amplitude (peak ${cc.after})`);

  // Live input: the fake microphone sings MIC_F0_HZ; tap the output with an analyser.
  await studio.evaluate(() => window.ddsp.latent.load());
  const live = await studio.evaluate(async () => {
    const audio = window.ddsp.audio;
    const analyser = audio.context.createAnalyser();
    analyser.fftSize = 8192;
    audio.node.connect(analyser);
    await window.ddsp.live.input('mic');
    await new Promise((r) => setTimeout(r, 1500));
    const snaps = [];
    for (let k = 0; k < 6; k++) {
      const x = new Float32Array(analyser.fftSize);
      analyser.getFloatTimeDomainData(x);
      snaps.push(Array.from(x));
      await new Promise((r) => setTimeout(r, 150));
    }
    const st = await window.ddsp.live.stats();
    await window.ddsp.live.input(null);
    audio.node.disconnect(analyser);
    return { snaps, st, sampleRate: audio.context.sampleRate };
  });
  const got = await page.evaluate(({ snaps, sr }) => snaps.map((x) => ({ f: yinHz(x, sr, 0, x.length), level: rmsDb(x, 0, x.length) })),
    { snaps: live.snaps, sr: live.sampleRate });
  console.log(`# fake microphone at ${MIC_F0_HZ} Hz -> ${got.map((g) => `${g.f.toFixed(1)} Hz (${g.level.toFixed(0)} dB)`).join(', ')}; ` +
    `latency ${live.st.latencyMs.toFixed(1)} ms, audio thread ${(100 * live.st.processMsMean / live.st.budgetMs).toFixed(1)} % ` +
    `(max ${(100 * live.st.processMsMax / live.st.budgetMs).toFixed(0)} %), xruns ${live.st.xruns}, underruns ${live.st.underruns}`);
  assert.equal(live.st.source, 'input');
  assert.ok(live.st.input.voiced, 'the input is analysed as voiced');
  const voiced = got.filter((g) => g.level > -45);
  assert.ok(voiced.length >= 3, 'the decoder answers the microphone');
  const near = voiced.filter((g) => Math.abs(g.f / MIC_F0_HZ - 1) < 0.01);
  assert.ok(near.length >= voiced.length - 1, `the tone's pitch comes out: ${voiced.map((g) => g.f.toFixed(1)).join(', ')}`);
  await studio.close();
});
