// The studio end to end in headless Chromium, served from the built site (build-wasm/site, made
// by `cmake --build build-wasm --target site`): the page a user opens, real files dropped and
// picked, matching in the worker, the worklet's audio against the native CLI, bad files, and the
// embeddable widget inside an iframe.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openStudio } from './browser.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
const cli = join(repo, 'build', 'ddsp');
const shots = join(repo, 'build-wasm', 'screenshots');
let server, browser, page;
const consoleErrors = [];

const state = () => page.evaluate(() => { const s = window.ddsp.state(); s.params = s.params ? s.params.length : 0; return s; });
const waitIdle = (timeout = 120000) => page.waitForFunction(() => window.ddsp.state().running === false, null, { timeout });

before(async () => {
  assert.ok(existsSync(join(site, 'index.html')), `${site} is missing: build the 'site' target first`);
  mkdirSync(shots, { recursive: true });
  server = await startServer(site);
  browser = await launchBrowser();
  page = await openStudio(browser, `${server.url}/index.html`, { viewport: { width: 1400, height: 860 }, consoleErrors });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('the page opens with the example pluck loaded, ready to match, and no console errors', async () => {
  const s = await state();
  assert.equal(s.target, 'pluck_nylon_e3.wav');
  assert.equal(s.synth, 'ks');
  assert.equal(s.running, false);
  assert.equal(s.error, null);
  await page.waitForTimeout(500);  // a few frames
  assert.ok((await state()).fps > 0, 'the UI reports its frame rate');
  await page.screenshot({ path: join(shots, 'studio.png') });
  assert.deepEqual(consoleErrors, []);
});

test('a WAV dropped on the page through a real DataTransfer becomes the target', async () => {
  await page.evaluate(async () => {
    const bytes = await (await fetch('assets/sounds/snare_audiophob_1.wav')).arrayBuffer();
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'snare_audiophob_1.wav', { type: 'audio/wav' }));
    for (const type of ['dragenter', 'dragover', 'drop'])
      document.getElementById('canvas').dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => window.ddsp.state().target === 'snare_audiophob_1.wav', null, { timeout: 20000 });
  assert.equal((await state()).error, null);
});

test('the file input loads a WAV; gradient matching of ks lowers the loss well below the start', async () => {
  await page.setInputFiles('#file-input', join(repo, 'assets/sounds/pluck_steel_a3.wav'));
  await page.waitForFunction(() => window.ddsp.state().target === 'pluck_steel_a3.wav', null, { timeout: 20000 });
  await page.evaluate(() => { window.ddsp.setSynth('ks'); window.ddsp.setMethod('gradient'); });
  await page.evaluate(() => window.ddsp.start({ steps: 60 }));
  assert.equal((await state()).running, true);
  await waitIdle();
  const s = await state();
  console.log(`# ks gradient on pluck_steel_a3: ${s.initialLoss.toFixed(3)} -> ${s.bestLoss.toFixed(3)} in ${s.iteration} iterations, ui ${s.fps.toFixed(1)} fps`);
  assert.ok(s.iteration > 10);
  assert.ok(s.bestLoss < 0.7 * s.initialLoss, `best ${s.bestLoss} vs initial ${s.initialLoss}`);
  assert.ok(s.params > 100, 'the best parameters are reported');
  const p = JSON.parse(await page.evaluate(() => window.ddsp.exportParams()));
  assert.equal(p.synth, 'ks');
  const wav = await page.evaluate(async () => (await window.ddsp.exportWav().arrayBuffer()).byteLength);
  assert.ok(wav > 44 + 4 * 16000, 'the reconstruction exports as a WAV');
});

test('amortised matching: the string model is fetched on first use and a dropped pluck is matched in one pass', async () => {
  const modelRequests = [];
  const onRequest = (r) => { if (r.url().includes('ks_ae.safetensors')) modelRequests.push(r.url()); };
  page.on('request', onRequest);
  await page.setInputFiles('#file-input', join(repo, 'assets/sounds/pluck_nylon_e3.wav'));
  await page.waitForFunction(() => window.ddsp.state().target === 'pluck_nylon_e3.wav', null, { timeout: 20000 });
  await page.evaluate(() => { window.ddsp.setSynth('ks'); window.ddsp.setMethod('amortised'); });
  const ms = await page.evaluate(async () => {
    const t0 = performance.now();
    await window.ddsp.start({ steps: 60 });
    await new Promise((ok) => { const off = window.ddsp.onProgress((m) => { if (m.type === 'done') { off(); ok(); } }); });
    return performance.now() - t0;
  });
  await waitIdle();
  const a = await state();
  console.log(`# amortised in the page: loss ${a.bestLoss.toFixed(3)} in ${a.iteration} iterations, ${ms.toFixed(0)} ms from start to done ` +
    '(first use: includes fetching the model)');
  assert.equal(a.iteration, 0, 'no search: the prediction is the result');
  assert.ok(Number.isFinite(a.bestLoss) && a.params > 100, 'parameters are reported');
  const p = JSON.parse(await page.evaluate(() => window.ddsp.exportParams()));
  assert.equal(p.synth, 'ks');
  assert.ok(Math.abs(p.params.f0_hz / 164.8 - 1) < 0.02, `the predicted string is at the note's pitch (${p.params.f0_hz} Hz)`);
  const wav = await page.evaluate(async () => (await window.ddsp.exportWav().arrayBuffer()).byteLength);
  assert.ok(wav > 44 + 4 * 16000, 'its render exports as a WAV');
  // Again (the model is loaded now), then gradient descent from the prediction.
  const again = await page.evaluate(async () => {
    const t0 = performance.now();
    await window.ddsp.start({ steps: 60, params: null });
    await new Promise((ok) => { const off = window.ddsp.onProgress((m) => { if (m.type === 'done') { off(); ok(); } }); });
    return performance.now() - t0;
  });
  await waitIdle();
  await page.evaluate(() => window.ddsp.setMethod('amortised+gradient'));
  await page.evaluate(() => window.ddsp.start({ steps: 40, params: null }));
  await waitIdle();
  const g = await state();
  console.log(`# amortised again: ${again.toFixed(0)} ms from start to done; amortised+gradient: ${g.initialLoss.toFixed(3)} -> ${g.bestLoss.toFixed(3)} in ${g.iteration} iterations`);
  assert.ok(g.iteration > 5 && g.bestLoss < g.initialLoss);
  assert.equal(modelRequests.length, 1, 'the model is fetched once');
  page.off('request', onRequest);
  await page.evaluate(() => window.ddsp.setMethod('gradient'));
});

test('genetic matching of drum808 on a snare lowers the loss; stop ends a run early', async () => {
  await page.evaluate(() => { window.ddsp.setSynth('drum808'); window.ddsp.setMethod('genetic'); });
  await page.evaluate(() => window.ddsp.loadUrl('assets/sounds/snare_audiophob_2.wav'));
  await page.evaluate(() => window.ddsp.start({ steps: 12 }));
  await waitIdle();
  const s = await state();
  console.log(`# drum808 genetic on snare_audiophob_2: ${s.initialLoss.toFixed(3)} -> ${s.bestLoss.toFixed(3)} in ${s.iteration} generations`);
  assert.equal(s.method, 'genetic');
  assert.ok(s.bestLoss < s.initialLoss);

  await page.evaluate(() => window.ddsp.start({ steps: 5000 }));
  await page.waitForFunction(() => window.ddsp.state().iteration >= 2, null, { timeout: 60000 });
  await page.evaluate(() => window.ddsp.stop());
  const stopped = await state();
  assert.equal(stopped.running, false);
  assert.ok(stopped.iteration < 5000);
  assert.equal(stopped.runs.length >= 2, true, 'each run is kept for the loss plot');
});

test('the loss landscape over the sine frequency finds the target tone, and the gradient does not', async () => {
  await page.evaluate(() => window.ddsp.setSynth('sine'));
  await page.evaluate(() => window.ddsp.loadUrl('assets/sounds/tutorial_sine_622hz.wav'));
  const r = await page.evaluate(async () => {
    const l = await window.ddsp.landscape('frequency_hz', 'amplitude', 41);
    return { minimum: l.minimum, n: l.loss.length, finite: Array.from(l.loss).filter(Number.isFinite).length };
  });
  console.log(`# sine landscape: lowest loss ${r.minimum.loss.toFixed(3)} at ${r.minimum.x.toFixed(1)} Hz, amplitude ${r.minimum.y.toFixed(3)}`);
  assert.equal(r.n, 41 * 41);
  assert.equal(r.finite, 41 * 41);
  assert.ok(Math.abs(r.minimum.x / 622.25 - 1) < 0.1, `lowest loss at ${r.minimum.x} Hz`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, 'landscape.png') });
  // From 440 Hz, gradient descent stays in its valley (the tutorial's point).
  await page.evaluate(() => {
    window.ddsp.setMethod('gradient');
    return window.ddsp.start({ steps: 60, params: JSON.stringify({ synth: 'sine', params: { frequency_hz: 440, amplitude: 0.4 } }) });
  });
  await waitIdle();
  const f = JSON.parse((await page.evaluate(() => window.ddsp.state().params)) ?? '{}').params?.frequency_hz;
  console.log(`# sine gradient from 440 Hz ends at ${f} Hz`);
  assert.ok(Math.abs(f - 622.25) > 50, 'gradient descent does not cross the flat region');
});

test('the worklet plays a parameter set exactly as the native `ddsp render` renders it', async () => {
  assert.ok(existsSync(cli), `${cli} is missing: build the native CLI first`);
  const dir = mkdtempSync(join(tmpdir(), 'ddsp-studio-'));
  const params = JSON.stringify({ synth: 'drum808', sample_rate: 44100, params: { osc1_freq_hz: 180, noise_gain_db: -12 } });
  writeFileSync(join(dir, 'p.json'), params);
  execFileSync(cli, ['render', '--params', join(dir, 'p.json'), '--seconds', '0.5', '-o', join(dir, 'p.wav')]);
  const bytes = readFileSync(join(dir, 'p.wav'));
  const dataAt = bytes.indexOf('data') + 8;
  const native = new Float32Array(bytes.buffer.slice(bytes.byteOffset + dataAt, bytes.byteOffset + bytes.length));

  const result = await page.evaluate(async (paramsJson) => {
    window.ddsp.setSynth('drum808');
    const r = await window.ddsp.render(paramsJson, { seconds: 0.5 });
    const { AudioEngine } = await import('./audio.js');
    const out = await AudioEngine.renderOffline({ seconds: 0.5, sampleRate: r.sampleRate, recon: r });
    return { rendered: Array.from(out), worker: Array.from(r.samples), sampleRate: r.sampleRate };
  }, params);
  assert.equal(result.sampleRate, 44100);
  assert.equal(result.worker.length, native.length);
  let workerErr = 0, workletErr = 0;
  const fade = 441;  // the player's 5 ms fade-in at the start
  for (let i = 0; i < native.length; i++) {
    workerErr = Math.max(workerErr, Math.abs(result.worker[i] - native[i]));
    if (i >= fade) workletErr = Math.max(workletErr, Math.abs(result.rendered[i] - native[i]));
  }
  console.log(`# drum808 render: worker vs native max |diff| ${workerErr.toExponential(2)}, worklet vs native ${workletErr.toExponential(2)}`);
  assert.ok(workerErr < 1e-4, `worker render differs from native by ${workerErr}`);
  assert.ok(workletErr < 1e-4, `worklet output differs from native by ${workletErr}`);
});

test('bad files get a clear message and the studio keeps working', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddsp-bad-'));
  const good = readFileSync(join(repo, 'assets/sounds/pluck_nylon_e3.wav'));
  const cases = [
    ['notes.wav', Buffer.from('this is a text file, not audio\n'.repeat(20))],
    ['empty.wav', Buffer.alloc(0)],
    ['truncated.wav', good.subarray(0, 30)],
  ];
  for (const [name, data] of cases) {
    writeFileSync(join(dir, name), data);
    await page.setInputFiles('#file-input', join(dir, name));
    await page.waitForFunction((n) => (window.ddsp.state().error ?? '').includes(n), name, { timeout: 20000 });
    const s = await state();
    console.log(`# ${name}: ${s.error}`);
    assert.ok(!s.error.includes('\n'), 'one line');
  }
  await page.setInputFiles('#file-input', join(repo, 'assets/sounds/pluck_koto_e5.wav'));
  await page.waitForFunction(() => window.ddsp.state().target === 'pluck_koto_e5.wav', null, { timeout: 20000 });
  assert.equal((await state()).error, null);
  assert.deepEqual(consoleErrors, []);
});

test('the embeddable widget works inside an iframe and posts progress to its parent', async () => {
  const tutorial = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
  const errors = [];
  tutorial.on('pageerror', (e) => errors.push(String(e)));
  await tutorial.goto(`${server.url}/examples/tutorial.html`);
  // The pluck widget autostarts; the sine widget waits for its Match button.
  await tutorial.waitForFunction(() => window.widgetMessages.some((m) => m.type === 'done'), null, { timeout: 180000 });
  const messages = await tutorial.evaluate(() => window.widgetMessages);
  assert.equal(messages.filter((m) => m.type === 'ready').length, 2, 'both widgets report ready');
  const progress = messages.filter((m) => m.type === 'progress');
  const done = messages.find((m) => m.type === 'done');
  assert.ok(progress.length > 0, 'progress messages arrive while matching');
  assert.equal(done.synth, 'ks');
  assert.ok(done.bestLoss < progress[0].loss, 'the loss falls');
  // The sine widget starts from its 440 Hz preset: gradient descent stays near 440, a genetic
  // search finds the 622 Hz tone.
  const sine = tutorial.frames().find((f) => f.url().includes('synth=sine'));
  await sine.waitForFunction(() => window.ddsp?.state && window.ddsp.state().params, null, { timeout: 30000 });
  const freq = () => sine.evaluate(() => JSON.parse(window.ddsp.state().params).params.frequency_hz);
  assert.equal(await freq(), 440);
  await sine.evaluate(() => window.ddsp.start({ steps: 60 }));
  await sine.waitForFunction(() => !window.ddsp.state().running, null, { timeout: 60000 });
  const fGradient = await freq();
  await sine.evaluate(() => { window.ddsp.setMethod('genetic'); return window.ddsp.start({ steps: 40, params: null }); });
  await sine.waitForFunction(() => !window.ddsp.state().running, null, { timeout: 120000 });
  const fGenetic = await freq();
  console.log(`# tutorial sine: gradient from 440 Hz ends at ${fGradient.toFixed(1)} Hz, genetic at ${fGenetic.toFixed(1)} Hz (target 622.25)`);
  assert.ok(Math.abs(fGradient - 622.25) > 50);
  assert.ok(Math.abs(fGenetic / 622.25 - 1) < 0.03);
  await tutorial.screenshot({ path: join(shots, 'tutorial.png') });
  assert.deepEqual(errors, []);
  await tutorial.close();
});

test('the site works from a sub-path (as on GitHub Pages), with relative URLs only', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ddsp-subpath-'));
  mkdirSync(join(root, 'user', 'repo'), { recursive: true });
  symlinkSync(site, join(root, 'user', 'repo', 'studio'));
  const sub = await startServer(root);
  const p = await browser.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await p.goto(`${sub.url}/user/repo/studio/index.html`);
    await p.waitForFunction(() => window.ddsp && window.ddsp.ready, null, { timeout: 60000 });
    await p.evaluate(() => window.ddsp.ready);
    assert.equal(await p.evaluate(() => window.ddsp.state().target), 'pluck_nylon_e3.wav');
    assert.deepEqual(errors, []);
  } finally {
    await p.close();
    await sub.close();
  }
});

test('recording from the microphone (Chromium\'s fake device) becomes the target', async () => {
  await page.evaluate(() => window.ddsp.record(1.5));
  await page.waitForFunction(() => window.ddsp.state().target === 'microphone' || window.ddsp.state().error, null, { timeout: 30000 });
  const s = await state();
  assert.equal(s.error, null);
  assert.equal(s.target, 'microphone');
});

test('a share link opens its synth, method and parameters; bad URL parameters are reported and ignored', async () => {
  // web/studio/url_params.js (fuzzed in node by tests/fuzz/fuzz_url_params.mjs) on the real pages.
  const preset = readFileSync(join(repo, 'web/examples/sine_440hz.json'), 'utf8').trim();
  const b64 = Buffer.from(preset).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const errors = [];
  const shared = await openStudio(browser, `${server.url}/index.html#synth=sine&method=genetic&params=${b64}`,
    { viewport: { width: 1000, height: 700 }, consoleErrors: errors });
  const s = await shared.evaluate(() => window.ddsp.state());
  assert.equal(s.synth, 'sine');
  assert.equal(s.method, 'genetic');
  assert.equal(s.params, preset, 'the shared parameters are imported');
  assert.equal(s.error, null);
  await shared.close();

  const warnings = [];
  const bad = await openStudio(browser,
    `${server.url}/embed.html?synth=theremin%1b[31m&method=magic&steps=1e3&target=javascript:alert(1)&autostart=maybe#params=%%%`,
    { viewport: { width: 800, height: 600 }, consoleErrors: errors, beforeLoad: (p) => p.on('console', (m) => warnings.push(m.text())) });
  const b = await bad.evaluate(() => window.ddsp.state());
  assert.equal(b.synth, 'ks', 'an unknown synth keeps the default');
  assert.equal(b.method, 'gradient');
  assert.equal(b.target, 'pluck_nylon_e3.wav', 'a javascript: target is not fetched; the example loads');
  assert.equal(b.running, false, 'autostart=maybe does not start');
  const reported = warnings.join('\n');
  for (const part of ["unknown synth 'theremin\\u{1b}[31m'", "unknown method 'magic'", "steps must be a whole number",
    'target must be an http(s) or relative address', 'autostart must be', 'shared parameters']) {
    assert.ok(reported.includes(part), `reported: ${part}\n${reported}`);
  }
  assert.ok(!/[\u0000-\u0008\u001b]/.test(reported), 'no control character from the URL reaches a message');
  await bad.close();
  assert.deepEqual(errors, []);
});
