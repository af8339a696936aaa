// The studio's worker (web/worker.js) in headless Chromium, driven through its message protocol
// (web/README.md) exactly as studio.js drives it: a recording decoded by the browser, gradient
// matching of the Karplus-Strong string on a nylon pluck, genetic matching of the 808 drum on a
// snare with stop and resume, renders that agree with the native `ddsp render`, pitch overrides
// for the keyboard, a loss landscape that agrees with `ddsp landscape`, and bad inputs that get
// one-line errors while the worker keeps working.
//
// Needs build-wasm/ddsp_engine.{js,wasm} (cmake --build build-wasm --target ddsp_engine_wasm) and
// build/ddsp. The site is assembled in a temporary folder (worker.js next to the engine, as in
// build-wasm/site), so the test does not depend on the UI module building.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';
import { startServer } from './serve.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const ddsp = join(repoRoot, 'build', 'ddsp');
const NYLON = 'assets/sounds/pluck_nylon_e3.wav';
const SNARE = 'assets/sounds/snare_audiophob_1.wav';
let site, work, server, browser, page;
const consoleErrors = [];

before(async () => {
  for (const f of ['build-wasm/ddsp_engine.js', 'build-wasm/ddsp_engine.wasm', 'build/ddsp'])
    assert.ok(existsSync(join(repoRoot, f)), `${f} is missing: build it first (cmake --build build-wasm --target ddsp_engine_wasm; cmake --build build --target ddsp)`);
  site = mkdtempSync(join(tmpdir(), 'ddsp-worker-site-'));
  work = mkdtempSync(join(tmpdir(), 'ddsp-worker-native-'));
  copyFileSync(join(repoRoot, 'web/worker.js'), join(site, 'worker.js'));
  copyFileSync(join(repoRoot, 'build-wasm/ddsp_engine.js'), join(site, 'ddsp_engine.js'));
  copyFileSync(join(repoRoot, 'build-wasm/ddsp_engine.wasm'), join(site, 'ddsp_engine.wasm'));
  copyFileSync(join(repoRoot, 'tests/browser/worker.html'), join(site, 'worker.html'));
  cpSync(join(repoRoot, 'assets/sounds'), join(site, 'assets/sounds'), { recursive: true });
  server = await startServer(site);
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${server.url}/worker.html`);
  await page.evaluate(() => { window.w = makeWorker(); });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (site) rmSync(site, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

// [SECTION] helpers (node side)

// Float32 (or 16-bit PCM) mono WAV -> Float32Array.
function readWav(path) {
  const b = readFileSync(path);
  assert.equal(b.toString('ascii', 0, 4), 'RIFF');
  let format = 0, bits = 0, channels = 1;
  for (let o = 12; o + 8 <= b.length;) {
    const id = b.toString('ascii', o, o + 4), size = b.readUInt32LE(o + 4);
    if (id === 'fmt ') {
      format = b.readUInt16LE(o + 8);
      channels = b.readUInt16LE(o + 10);
      bits = b.readUInt16LE(o + 22);
      if (format === 0xFFFE) format = b.readUInt16LE(o + 32);
    } else if (id === 'data') {
      assert.equal(channels, 1);
      const n = Math.floor(size / (bits / 8));
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++)
        out[i] = format === 3 ? b.readFloatLE(o + 8 + 4 * i) : b.readInt16LE(o + 8 + 2 * i) / 32768;
      return out;
    }
    o += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

function nativeRender(paramsJson, name, extra = []) {
  const p = join(work, `${name}.json`), out = join(work, `${name}.wav`);
  writeFileSync(p, paramsJson);
  execFileSync(ddsp, ['render', '--params', p, ...extra, '-o', out], { stdio: 'pipe' });
  return readWav(out);
}

// Iterations per second of `ddsp match` with these options (compute time, as the worker reports it).
function nativeMatchSpeed(args, name) {
  const dir = join(work, name);
  execFileSync(ddsp, ['match', ...args, '-q', '-o', dir], { stdio: 'pipe' });
  const r = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  return { itersPerS: r.iterations_run / r.compute_time_s, iterations: r.iterations_run, bestLoss: r.best_loss,
           initialLoss: r.initial_loss };
}

// Pitch by normalised autocorrelation: the first lag whose peak reaches 0.9 of the highest,
// refined by a parabola through it and its neighbours.
function pitchHz(x, sampleRate, fromS = 0.1, toS = 0.6) {
  const a = x.subarray(Math.floor(fromS * sampleRate), Math.floor(toS * sampleRate));
  const minLag = Math.floor(sampleRate / 2000), maxLag = Math.ceil(sampleRate / 40);
  const n = a.length - maxLag;
  const r = new Float64Array(maxLag + 2);
  let e0 = 0;
  for (let i = 0; i < n; i++) e0 += a[i] * a[i];
  for (let lag = minLag - 1; lag <= maxLag + 1; lag++) {
    let s = 0, e1 = 0;
    for (let i = 0; i < n; i++) { s += a[i] * a[i + lag]; e1 += a[i + lag] * a[i + lag]; }
    r[lag] = s / Math.sqrt(e0 * e1 + 1e-30);
  }
  let best = 0;
  for (let lag = minLag; lag <= maxLag; lag++) best = Math.max(best, r[lag]);
  for (let lag = minLag; lag <= maxLag; lag++) {
    if (r[lag] >= 0.9 * best && r[lag] >= r[lag - 1] && r[lag] >= r[lag + 1]) {
      const d = (r[lag - 1] - r[lag + 1]) / (2 * (r[lag - 1] - 2 * r[lag] + r[lag + 1]));
      return sampleRate / (lag + (Number.isFinite(d) ? d : 0));
    }
  }
  return 0;
}

const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const rmsDiff = (a, b) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length);
const allFinite = (a) => a.every(Number.isFinite);
const isOneLine = (s) => typeof s === 'string' && s.length > 5 && !/[\n\r]/.test(s);

// [SECTION] page-side calls (typed arrays come back as plain arrays)

const setTarget = (url) => page.evaluate(async (u) => {
  const { samples, sampleRate } = await decodeSound(u);
  return w.request({ type: 'setTarget', samples, sampleRate, name: u }, [samples.buffer]);
}, url);

const render = (msg) => page.evaluate(async (m) => {
  const r = await w.request({ type: 'render', ...m });
  return r.samples ? { ...r, samples: Array.from(r.samples) } : r;
}, msg).then((r) => (r.samples ? { ...r, samples: Float32Array.from(r.samples) } : r));

// Starts a match and returns its first reply (a progress message carrying the request's id, or an error).
const start = (settings) => page.evaluate((s) => w.request({ type: 'start', ...s }), settings);

// The run's messages once its `done` has arrived (it may have already).
const runMessages = (run) => page.evaluate(async (r) => {
  await w.waitFor((m) => m.type === 'done' && m.run === r, 0);
  return w.log.filter((m) => m.run === r).map((m) => ({
    ...m, recon: m.recon ? Array.from(m.recon) : undefined, history: m.history ? Array.from(m.history) : undefined,
  }));
}, run);

// [SECTION] tests

let ksDone, ksSettings;

test('the worker loads the engine and lists the synths', async () => {
  const r = await page.evaluate(() => w.request({ type: 'init' }));
  assert.equal(r.type, 'ready');
  const names = JSON.parse(r.synths).map((s) => s.name);
  for (const n of ['ks', 'drum808', 'ddsp', 'sine']) assert.ok(names.includes(n), `${n} listed`);
  assert.match(r.version, /ddsp\.cpp/);
});

test('the engine\'s defaults reach the page and agree with the CLI\'s help', async () => {
  const r = await page.evaluate(() => w.request({ type: 'init' }));
  const d = JSON.parse(r.defaults);
  const help = execFileSync(ddsp, ['match', '--help'], { encoding: 'utf8' });
  const lr = Number(/--lr X\s+.*\(default ([0-9.e-]+)\)/.exec(help)?.[1]);
  const steps = Number(/--steps N\s+.*\(default ([0-9]+)\)/.exec(help)?.[1]);
  assert.equal(d.learning_rate, lr, `page ${d.learning_rate}, CLI help ${lr}`);
  assert.equal(d.steps, steps, `page ${d.steps}, CLI help ${steps}`);
  assert.equal(d.method, 'gradient');
});

test('the target table: ks narrows its f0 range around the recorded note, as a match does', async () => {
  const target = await setTarget(NYLON);
  assert.equal(target.type, 'target', JSON.stringify(target));
  const t = await page.evaluate(() => w.request({ type: 'targetTable', synth: 'ks' }));
  assert.equal(t.type, 'targetTable', JSON.stringify(t));
  const plain = JSON.parse((await page.evaluate(() => w.request({ type: 'init' }))).synths).find((s) => s.name === 'ks');
  const f0 = t.params.find((p) => p.name === 'f0_hz'), f0Plain = plain.params.find((p) => p.name === 'f0_hz');
  // E3 is 164.8 Hz: the analysed range brackets it and is far narrower than the synth's own.
  assert.ok(f0.min < 164.8 && f0.max > 164.8, `f0 range ${f0.min}..${f0.max}`);
  assert.ok(f0.max / f0.min < 1.5 && f0Plain.max / f0Plain.min > 10, `${f0.min}..${f0.max} vs ${f0Plain.min}..${f0Plain.max}`);
  assert.equal(t.samples, Math.round(1.3 * 16000), 'the match length (the pluck at 16 kHz)');
  const initial = JSON.parse(t.initial);
  assert.equal(initial.synth, 'ks');
  assert.ok(Math.abs(initial.params.f0_hz / 164.8 - 1) < 0.02, `initial f0 ${initial.params.f0_hz}`);
  const bad = await page.evaluate(() => w.request({ type: 'targetTable', synth: 'nope' }));
  assert.equal(bad.type, 'error');
  assert.match(bad.message, /unknown synth 'nope'/);
});

test('gradient matching of ks on a nylon pluck: a stream of progress, the loss falls well below its start', async (t) => {
  const target = await setTarget(NYLON);
  assert.equal(target.type, 'target', JSON.stringify(target));
  assert.equal(target.sampleRate, 16000);
  assert.ok(Math.abs(target.seconds - 1.3) < 0.01, `seconds ${target.seconds}`);

  ksSettings = { synth: 'ks', method: 'gradient', loss: 'mrstft', steps: 80, learningRate: 0.05, seed: 0 };
  const first = await start(ksSettings);
  assert.equal(first.type, 'progress', JSON.stringify(first));
  const msgs = await runMessages(first.run);
  const progress = msgs.filter((m) => m.type === 'progress');
  ksDone = msgs.find((m) => m.type === 'done');
  assert.ok(progress.length >= 3, `${progress.length} progress messages`);
  for (let i = 1; i < progress.length; i++) {
    assert.ok(progress[i].iteration > progress[i - 1].iteration, 'iterations increase');
    assert.ok(progress[i].bestLoss <= progress[i - 1].bestLoss, 'the best loss never rises');
  }
  for (const m of msgs) assert.ok([m.loss, m.bestLoss, m.elapsedS, m.itersPerS].every(Number.isFinite));
  // The history of every message together is one loss per iteration.
  const history = msgs.flatMap((m) => m.history ?? []);
  assert.equal(history.length, ksDone.iteration);
  assert.ok(allFinite(history));
  assert.equal(ksDone.stopped, false);
  assert.ok(ksDone.bestLoss < 0.4 * ksDone.initialLoss, `best ${ksDone.bestLoss} vs initial ${ksDone.initialLoss}`);
  assert.equal(JSON.parse(ksDone.params).synth, 'ks');
  assert.equal(ksDone.recon.length, 20800);
  assert.ok(allFinite(ksDone.recon));
  assert.ok(progress.filter((m) => m.recon).length >= 2, 'reconstructions arrive during the run');

  const native = nativeMatchSpeed(['--synth', 'ks', '--method', 'gradient', '--target', join(repoRoot, NYLON),
                                   '--steps', '80', '--seed', '0', '--lr', '0.05'], 'ks_gradient');
  t.diagnostic(`ks gradient: wasm worker ${ksDone.itersPerS.toFixed(1)} it/s (best ${ksDone.bestLoss.toFixed(4)}), ` +
               `native ${native.itersPerS.toFixed(1)} it/s (best ${native.bestLoss.toFixed(4)})`);
  assert.ok(Math.abs(ksDone.initialLoss - native.initialLoss) < 1e-3 * native.initialLoss, 'same target, same start');
});

test('render of the matched ks parameters equals a native `ddsp render`; with useTarget, the reconstruction', async (t) => {
  const r = await render({ synth: 'ks', params: ksDone.params });
  assert.equal(r.type, 'rendered', JSON.stringify(r).slice(0, 200));
  assert.equal(r.sampleRate, 16000);
  assert.equal(r.samples.length, 20800);
  assert.ok(allFinite(r.samples));
  const native = nativeRender(ksDone.params, 'ks_best');
  assert.equal(native.length, r.samples.length);
  const d = maxAbsDiff(r.samples, native);
  t.diagnostic(`ks render: max |wasm - native| ${d.toExponential(2)}`);
  assert.ok(d <= 1e-4, `max difference ${d}`);
  assert.ok(native.some((v) => Math.abs(v) > 0.01), 'not silence');
  const sineParams = '{"synth": "sine", "sample_rate": 16000, "seconds": 0.75, "params": {"frequency_hz": 1234.5, "amplitude": 0.8}}';
  const sine = await render({ synth: 'sine', params: sineParams });
  const sineNative = nativeRender(sineParams, 'sine');
  assert.equal(sine.samples.length, 12000);
  assert.ok(maxAbsDiff(sine.samples, sineNative) <= 1e-4, `sine: max difference ${maxAbsDiff(sine.samples, sineNative)}`);

  const withTarget = await render({ synth: 'ks', params: ksDone.params, useTarget: true, seed: ksSettings.seed });
  const dr = maxAbsDiff(withTarget.samples, ksDone.recon);
  assert.ok(dr <= 1e-6, `render with useTarget vs the run's reconstruction: ${dr}`);
  const nativeWithTarget = nativeRender(ksDone.params, 'ks_best_target', ['--target', join(repoRoot, NYLON)]);
  const dt = maxAbsDiff(withTarget.samples, nativeWithTarget);
  assert.ok(dt <= 1e-4, `render with useTarget vs \`ddsp render --target\`: ${dt}`);
  assert.ok(maxAbsDiff(withTarget.samples, r.samples) > 1e-3, 'the residual excitation makes a difference');
});

test('a render with an f0 override has that pitch (ks, sine, ddsp)', async () => {
  for (const f0Hz of [110, 220, 330, 440]) {
    const r = await render({ synth: 'ks', params: ksDone.params, f0Hz });
    assert.equal(r.type, 'rendered', JSON.stringify(r).slice(0, 200));
    const p = pitchHz(r.samples, r.sampleRate);
    assert.ok(Math.abs(p / f0Hz - 1) < 0.01, `ks at ${f0Hz} Hz: measured ${p.toFixed(2)} Hz`);
  }
  for (const [synth, f0Hz] of [['sine', 500], ['ddsp', 300]]) {
    const r = await render({ synth, params: '', f0Hz, seconds: 1 });
    assert.equal(r.type, 'rendered', JSON.stringify(r).slice(0, 200));
    const p = pitchHz(r.samples, r.sampleRate);
    assert.ok(Math.abs(p / f0Hz - 1) < 0.01, `${synth} at ${f0Hz} Hz: measured ${p.toFixed(2)} Hz`);
  }
  // The target's f0 track, shifted: the ddsp synth follows the nylon pluck's pitch moved to 330 Hz.
  const shifted = await render({ synth: 'ddsp', params: '', f0Hz: 330, seconds: 1.3, useTarget: true });
  const p = pitchHz(shifted.samples, shifted.sampleRate);
  assert.ok(Math.abs(p / 330 - 1) < 0.01, `ddsp on the target's shifted track: measured ${p.toFixed(2)} Hz`);
});

test('genetic matching of drum808 on a snare: stop mid-run, resume, and the loss falls', async (t) => {
  const target = await setTarget(SNARE);
  assert.equal(target.type, 'target', JSON.stringify(target));
  const first = await start({ synth: 'drum808', method: 'genetic', steps: 100000, seed: 1 });
  assert.equal(first.type, 'progress', JSON.stringify(first));
  const run = first.run;
  await page.evaluate((r) => w.waitFor((m) => m.type === 'progress' && m.run === r && m.iteration >= 3), run);
  const stopped = await page.evaluate(() => w.request({ type: 'stop' }));
  assert.equal(stopped.type, 'done');
  assert.equal(stopped.stopped, true);
  assert.equal(stopped.run, run);
  assert.ok(stopped.iteration >= 3 && stopped.iteration < 100000, `stopped at ${stopped.iteration}`);
  // Nothing more arrives for a stopped run.
  const quiet = await page.evaluate(async ([r, it]) => {
    const from = w.log.length;
    await new Promise((ok) => setTimeout(ok, 300));
    return w.log.slice(from).filter((m) => m.run === r).length;
  }, [run, stopped.iteration]);
  assert.equal(quiet, 0, 'no progress after stop');

  const resumed = await page.evaluate(() => w.request({ type: 'resume', steps: 15 }));
  assert.equal(resumed.type, 'progress', JSON.stringify(resumed));
  const done = await page.evaluate((r) => w.waitFor((m) => m.type === 'done' && m.run === r && !m.stopped, 0), run);
  assert.equal(done.iteration, stopped.iteration + 15, 'resume continued from where it stopped');
  assert.ok(done.bestLoss <= stopped.bestLoss);
  assert.ok(done.bestLoss < done.initialLoss, `best ${done.bestLoss} vs initial ${done.initialLoss}`);
  const after = await page.evaluate((r) => w.log.filter((m) => m.run === r && m.type === 'progress').map((m) => m.iteration), run);
  assert.ok(after.every((it, i) => i === 0 || it > after[i - 1] || it === stopped.iteration), 'iterations increase');

  // The matched drum renders as natively.
  const r = await render({ synth: 'drum808', params: done.params });
  assert.equal(r.sampleRate, 44100);
  const native = nativeRender(done.params, 'drum808_best');
  assert.equal(r.samples.length, native.length);
  // The 808's pitch envelope goes through exp(), which the native build computes with Eigen's
  // vectorised exp and wasm with libm's: 1-ulp differences move the accumulated float32 phase
  // (hundreds to thousands of radians, ulp up to ~2e-4 rad) across rounding steps now and then,
  // and the drive amplifies that. Over 40 random presets the largest difference was 9e-5 and the
  // RMS difference at most 1.4e-5, so this allows some margin (the report suggests wrapping the
  // phase in double, which would fix it at the source).
  const d = maxAbsDiff(r.samples, native), rms = rmsDiff(r.samples, native);
  t.diagnostic(`drum808 render: max |wasm - native| ${d.toExponential(2)}, RMS ${rms.toExponential(2)}`);
  assert.ok(rms <= 5e-5 && d <= 1e-3, `max difference ${d}, RMS ${rms}`);

  const steps = String(done.iteration);
  const args = ['--synth', 'drum808', '--method', 'genetic', '--target', join(repoRoot, SNARE), '--steps', steps, '--seed', '1'];
  const one = nativeMatchSpeed([...args, '--threads', '1'], 'drum_1');
  const all = nativeMatchSpeed(args, 'drum_all');
  t.diagnostic(`drum808 genetic: wasm worker ${done.itersPerS.toFixed(1)} it/s, native ${one.itersPerS.toFixed(1)} it/s ` +
               `(1 thread), ${all.itersPerS.toFixed(1)} it/s (every core); best ${done.bestLoss.toFixed(4)} in the ` +
               `worker, ${one.bestLoss.toFixed(4)} natively`);
});

test('gradient matching of the modal drum on a snare: the loss falls, and the match renders as natively', async (t) => {
  const target = await setTarget('assets/sounds/snare_audiophob_2.wav');
  assert.equal(target.type, 'target', JSON.stringify(target));
  const first = await start({ synth: 'drum', method: 'gradient', steps: 60, seed: 0 });
  assert.equal(first.type, 'progress', JSON.stringify(first));
  const msgs = await runMessages(first.run);
  const done = msgs.find((m) => m.type === 'done');
  assert.ok(done.bestLoss < 0.6 * done.initialLoss, `best ${done.bestLoss} vs initial ${done.initialLoss}`);
  assert.equal(JSON.parse(done.params).synth, 'drum');
  assert.ok(allFinite(done.recon));
  // The same start as natively: the analysis (spectral peaks, band envelopes) is the same code.
  const native = nativeMatchSpeed(['--synth', 'drum', '--method', 'gradient', '--target',
                                   join(repoRoot, 'assets/sounds/snare_audiophob_2.wav'), '--steps', '60', '--seed', '0'], 'drum_gradient');
  assert.ok(Math.abs(done.initialLoss - native.initialLoss) < 1e-3 * native.initialLoss, 'same target, same start');
  // With the target, the render is the run's reconstruction (the recording's first 10 ms included).
  const withTarget = await render({ synth: 'drum', params: done.params, useTarget: true, seed: 0 });
  const dr = maxAbsDiff(withTarget.samples, done.recon);
  t.diagnostic(`drum: render with useTarget vs the run's reconstruction ${dr.toExponential(2)}; wasm ${done.itersPerS.toFixed(1)} it/s, native ${native.itersPerS.toFixed(1)} it/s`);
  assert.ok(dr <= 1e-5, `render with useTarget vs the run's reconstruction: ${dr}`);
  await setTarget(SNARE);  // the landscape test below compares with `ddsp landscape` on this snare
});

test('a loss landscape on the current target agrees with `ddsp landscape`, and pauses a running match', async () => {
  const first = await start({ synth: 'drum808', method: 'genetic', steps: 100000, seed: 2 });
  assert.equal(first.type, 'progress', JSON.stringify(first));
  const r = await page.evaluate(async (run) => {
    await w.waitFor((m) => m.type === 'progress' && m.run === run && m.iteration >= 2);
    const m = await w.request({ type: 'landscape', synth: 'drum808', params: '', x: 'osc1_freq_hz', y: 'noise_decay_ms', steps: 5 });
    const at = w.log.filter((p) => p.run === run).at(-1).iteration;
    // The match goes on after the landscape, and stops on request.
    const later = await w.waitFor((p) => p.type === 'progress' && p.run === run && p.iteration > at);
    const stopped = await w.request({ type: 'stop' });
    const out = m.loss ? { ...m, loss: Array.from(m.loss), xValues: Array.from(m.xValues), yValues: Array.from(m.yValues) } : m;
    return { ...out, resumedAfter: later.iteration > at, stopped: stopped.type === 'done' && stopped.stopped };
  }, first.run);
  assert.ok(r.resumedAfter && r.stopped, 'the match continued after the landscape and stopped on request');
  assert.equal(r.type, 'landscape', JSON.stringify(r));
  assert.equal(r.steps, 5);
  assert.equal(r.loss.length, 25);
  assert.equal(r.invalid, 0);
  const dir = join(work, 'land');
  execFileSync(ddsp, ['landscape', '--synth', 'drum808', '--x', 'osc1_freq_hz', '--y', 'noise_decay_ms', '--steps', '5',
                      '--target', join(repoRoot, SNARE), '-o', dir], { stdio: 'pipe' });
  const rows = readFileSync(join(dir, 'landscape.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  assert.equal(rows.length, 25);
  rows.forEach(([x, y, loss], k) => {
    assert.ok(Math.abs(r.xValues[k % 5] / x - 1) < 1e-5 && Math.abs(r.yValues[Math.floor(k / 5)] / y - 1) < 1e-5);
    assert.ok(Math.abs(r.loss[k] - loss) <= 1e-3 * loss, `point ${k}: worker ${r.loss[k]}, native ${loss}`);
  });
});

test('bad inputs get one-line errors and the worker keeps working', async () => {
  const errors = await page.evaluate(async () => {
    const out = {};
    const silence = new Float32Array(16000);
    out.silence = await w.request({ type: 'setTarget', samples: silence, sampleRate: 16000, name: 'silence' });
    const nan = Float32Array.from({ length: 16000 }, (_, i) => (i === 500 ? NaN : Math.sin(i / 10)));
    out.nan = await w.request({ type: 'setTarget', samples: nan, sampleRate: 16000, name: 'nan' });
    out.synth = await w.request({ type: 'start', synth: 'theremin', method: 'gradient', steps: 5 });
    out.method = await w.request({ type: 'start', synth: 'ks', method: 'annealing', steps: 5 });
    out.ddspGenetic = await w.request({ type: 'start', synth: 'ddsp', method: 'genetic', steps: 5 });
    out.renderSynth = await w.request({ type: 'render', synth: 'theremin', params: '' });
    out.renderJson = await w.request({ type: 'render', synth: 'ks', params: '{"synth": "ks", "params": {' });
    out.renderRange = await w.request({ type: 'render', synth: 'ks', params: '{"synth": "ks", "params": {"f0_hz": 1e9}}' });
    out.renderF0 = await w.request({ type: 'render', synth: 'ks', params: '', f0Hz: 5000 });
    out.landscape = await w.request({ type: 'landscape', synth: 'sine', params: '', x: 'frequency_hz', y: 'nope', steps: 5 });
    out.unknown = await w.request({ type: 'dance' });
    return out;
  });
  for (const [k, m] of Object.entries(errors)) {
    assert.equal(m.type, 'error', `${k}: ${JSON.stringify(m)}`);
    assert.ok(isOneLine(m.message), `${k}: ${m.message}`);
  }
  assert.match(errors.silence.message, /silent/);
  assert.match(errors.nan.message, /NaN/);
  assert.match(errors.synth.message, /unknown synth 'theremin'/);
  assert.equal(errors.silence.request, 'setTarget');

  // Still working: a render, and a short match on the target that was set before the bad ones.
  const r = await render({ synth: 'sine', params: '{"synth": "sine", "params": {"frequency_hz": 300}}', seconds: 0.5 });
  assert.equal(r.type, 'rendered');
  assert.equal(r.samples.length, 8000);
  const first = await start({ synth: 'drum808', method: 'gradient', steps: 5, seed: 0 });
  assert.equal(first.type, 'progress', JSON.stringify(first));
  const msgs = await runMessages(first.run);
  const done = msgs.find((m) => m.type === 'done');
  assert.equal(done.iteration, 5);
  assert.equal(done.recon.length, 22050, 'the snare target (0.5 s at 44.1 kHz) is still set');
});

test('no console errors', async () => {
  const workerErrors = await page.evaluate(() => w.log.filter((m) => m.type === 'workererror'));
  assert.deepEqual(workerErrors, []);
  assert.deepEqual(consoleErrors, []);
});
