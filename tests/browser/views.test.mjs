// The studio's signal views (waveforms and spectrograms of target and reconstruction) in headless
// Chromium, served from the built site (build-wasm/site): they share one time axis fitted to the
// target's sound, so a 0.5 s drum file whose hit lasts 0.1 s fills the views; the wheel zooms around
// the cursor, dragging pans, a double-click or Fit fits again; window.ddsp.view() reads and sets the
// axis; very short and very long recordings work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openStudio } from './browser.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
const shots = join(repo, 'build-wasm', 'screenshots');
let server, browser, page;
const consoleErrors = [];

// 16-bit mono WAV bytes.
function wav(samples, sampleRate) {
  const n = samples.length, b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8); b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(sampleRate, 24); b.writeUInt32LE(2 * sampleRate, 28);
  b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 44 + 2 * i);
  return b;
}

// A drum-like hit as drum files come: `hitS` of decaying noise and a falling sine, then digital
// silence to `seconds` (assets/sounds/snare_audiophob_1.wav: 0.1 s of sound in 0.5 s).
function drum({ seconds = 0.5, hitS = 0.1, sampleRate = 44100 } = {}) {
  const n = Math.round(seconds * sampleRate), x = new Float32Array(n);
  let seed = 12345;
  const noise = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 31 - 1; };
  let phase = 0;
  for (let i = 0; i < Math.round(hitS * sampleRate); i++) {
    const t = i / sampleRate, env = Math.exp(-t / (hitS / 4));  // ~35 dB down at hitS, then cut
    phase += 2 * Math.PI * (180 + 120 * Math.exp(-t / 0.01)) / sampleRate;
    x[i] = env * (0.5 * noise() + 0.5 * Math.sin(phase));
  }
  return wav(x, sampleRate);
}

const load = (bytes, name) => page.evaluate(async ([b64, name]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return window.ddsp.loadAudio(bytes.buffer, name);
}, [bytes.toString('base64'), name]);
const view = (range) => page.evaluate((r) => window.ddsp.view(r ?? undefined), range ?? null);
const layout = () => page.evaluate(() => window.ddsp.ui.viewsLayout());
// Waits until the UI has drawn a few more frames (what was asked is on the canvas).
async function frames(count = 3) {
  const n = await page.evaluate(() => window.ddsp.ui.frames());
  await page.waitForFunction((n) => window.ddsp.ui.frames() >= n, n + count, { timeout: 30000 });
}

// Per pixel column of a canvas rectangle [x0, y0, x1, y1]: how many pixels pass `kind`'s test
// ('target': the target waveform's blue; 'recon': the reconstruction's orange; 'lit': any pixel
// brighter than an empty view). From a screenshot, decoded in the page.
async function columns(rect, kind) {
  const [x0, y0, x1, y1] = rect;
  const png = await page.screenshot({ clip: { x: x0 + 1, y: y0 + 1, width: x1 - x0 - 2, height: y1 - y0 - 2 } });
  return page.evaluate(async ([b64, kind]) => {
    const img = await createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/png' }));
    const c = new OffscreenCanvas(img.width, img.height), g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, img.width, img.height).data, out = new Array(img.width).fill(0);
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width; x++) {
        const i = 4 * (y * img.width + x), r = d[i], gr = d[i + 1], b = d[i + 2];
        const hit = kind === 'target' ? b > 100 && b - r > 40 : kind === 'recon' ? r > 100 && r - b > 40 : Math.max(r, gr, b) > 60;
        if (hit) out[x]++;
      }
    return out;
  }, [png.toString('base64'), kind]);
}
// How far across the view the drawing reaches: (the last column with at least `min` such pixels + 1)
// / the view's width.
const extent = (cols, min) => {
  let last = -1;
  cols.forEach((v, i) => { if (v >= min) last = i; });
  return (last + 1) / cols.length;
};

before(async () => {
  assert.ok(existsSync(join(site, 'index.html')), `${site} is missing: build the 'site' target first`);
  mkdirSync(shots, { recursive: true });
  server = await startServer(site);
  browser = await launchBrowser();
  page = await openStudio(browser, `${server.url}/index.html`, { viewport: { width: 1400, height: 860 }, consoleErrors });
  await page.evaluate(() => window.ddsp.setSynth('drum808'));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('a 0.5 s drum file whose hit lasts 0.1 s: the views fit the hit, not the silence after it', async () => {
  await load(drum(), 'drum.wav');
  await frames();
  const v = await view();
  assert.ok(Math.abs(v.clipS - 0.5) < 0.01, `the axis' clip is the target (${v.clipS} s)`);
  assert.equal(v.fitted, true);
  assert.equal(v.startS, 0);
  assert.ok(v.endS > 0.1 && v.endS < 0.2, `fitted to the hit: 0..${v.endS} s`);
  assert.equal(v.fitS, v.endS);
  await page.screenshot({ path: join(shots, 'views-drum.png') });
  const l = await layout();
  // Columns of the waveform at least 3 pixels tall (silence is a flat line): the hit, 0.1 s of the
  // 0.5 s file, reached a fifth of the way across before the views fitted it.
  const wave = await columns(l.waveforms.target, 'target');
  assert.ok(extent(wave, 3) > 0.6, `the hit reaches across the target's waveform (to ${extent(wave, 3).toFixed(2)} of it)`);
  const spec = await columns(l.spectrograms.target, 'lit');
  assert.ok(extent(spec, 10) > 0.9, `the target's spectrogram is lit across the view (to ${extent(spec, 10).toFixed(2)} of it)`);
  assert.deepEqual(consoleErrors, []);
});

test('the wheel zooms around the cursor, dragging pans, a double-click and Fit fit again; every view follows', async () => {
  const fit = await view('fit');
  const l = await layout();
  const [x0, y0, x1, y1] = l.spectrograms.target;
  const x = x0 + 0.25 * (x1 - x0), y = (y0 + y1) / 2;
  const under = fit.startS + 0.25 * (fit.endS - fit.startS);
  await page.mouse.move(x, y);
  await page.mouse.wheel(0, -300);  // up: in
  await page.waitForFunction((w) => window.ddsp.view().endS - window.ddsp.view().startS < w, fit.endS - fit.startS, { timeout: 10000 });
  const zoomed = await view();
  assert.equal(zoomed.fitted, false);
  const span = zoomed.endS - zoomed.startS;
  assert.ok(span < 0.9 * (fit.endS - fit.startS), `zoomed in: ${span} s shown`);
  const still = zoomed.startS + 0.25 * span;
  assert.ok(Math.abs(still - under) < 0.02 * (fit.endS - fit.startS), `the time under the cursor stays (${under} -> ${still})`);

  // Dragging the reconstruction's waveform to the left shows later times, in every view.
  const [wx0, wy0, wx1, wy1] = l.waveforms.recon;
  await page.mouse.move((wx0 + wx1) / 2, (wy0 + wy1) / 2);
  await page.mouse.down();
  for (let i = 1; i <= 5; i++) await page.mouse.move((wx0 + wx1) / 2 - 20 * i, (wy0 + wy1) / 2);
  await page.mouse.up();
  await frames();
  const panned = await view();
  assert.ok(panned.startS > zoomed.startS + 0.1 * span, `panned later: ${zoomed.startS} -> ${panned.startS}`);
  assert.ok(Math.abs(panned.endS - panned.startS - span) < 1e-6, 'panning keeps the span');

  // Zooming out stops at the whole clip.
  await page.mouse.move(x, y);
  for (let i = 0; i < 6; i++) await page.mouse.wheel(0, 400);
  await page.waitForFunction(() => window.ddsp.view().endS - window.ddsp.view().startS > 0.49, null, { timeout: 10000 });
  const whole = await view();
  assert.ok(whole.startS >= 0 && Math.abs(whole.endS - whole.clipS) < 1e-6, `zoomed out to the clip: ${whole.startS}..${whole.endS}`);

  // A double-click: ImGui sees one when the second press comes in a later frame than the first, within
  // 0.3 s (a real double-click is ~0.15 s apart; the page's events would arrive within one frame), so
  // click, let one frame pass, click. A frame slower than 0.3 s on a loaded machine makes two single
  // clicks: try again.
  for (let attempt = 0; attempt < 5 && !(await view()).fitted; attempt++) {
    await page.mouse.click(x, y);
    await frames(1);
    await page.mouse.click(x, y);
    await frames(2);
  }
  assert.deepEqual(await view(), fit, 'a double-click fits');

  await view({ startS: 0.2, endS: 0.3 });
  const [fx0, fy0, fx1, fy1] = (await layout()).fit;
  await page.mouse.click((fx0 + fx1) / 2, (fy0 + fy1) / 2);
  await page.waitForFunction(() => window.ddsp.view().fitted, null, { timeout: 10000 });
  assert.deepEqual(await view(), fit, 'the Fit button fits');
  assert.deepEqual(consoleErrors, []);
});

test('window.ddsp.view sets and reads the axis, clamped into the clip; a match keeps it; the reconstruction is drawn on it', async () => {
  let v = await view({ startS: 0.02, endS: 0.07 });
  assert.ok(Math.abs(v.startS - 0.02) < 1e-9 && Math.abs(v.endS - 0.07) < 1e-9 && v.fitted === false, JSON.stringify(v));
  v = await view({ startS: -1, endS: 10 });
  assert.ok(v.startS === 0 && Math.abs(v.endS - v.clipS) < 1e-9, `clamped to the clip: ${JSON.stringify(v)}`);
  v = await view({ startS: 0.1, endS: 0.1 });
  assert.ok(Math.abs(v.endS - v.startS - 0.001) < 1e-9, `at least 1 ms: ${JSON.stringify(v)}`);
  v = await view({ startS: 0.03 });
  assert.ok(Math.abs(v.startS - 0.03) < 1e-9 && v.endS > v.startS, 'a missing end keeps the current one');
  await assert.rejects(page.evaluate(() => window.ddsp.view({ startS: 'soon' })), /view needs/);

  const fit = await view('fit');
  await page.evaluate(() => window.ddsp.start({ steps: 5 }));
  await page.waitForFunction(() => !window.ddsp.state().running, null, { timeout: 120000 });
  await frames();
  assert.deepEqual(await view(), fit, 'the reconstruction does not move the axis');
  const recon = await columns((await layout()).waveforms.recon, 'recon');
  assert.ok(extent(recon, 3) > 0.5, `the reconstruction's waveform reaches across its view (to ${extent(recon, 3).toFixed(2)} of it)`);
  await page.screenshot({ path: join(shots, 'views-drum-matched.png') });
  assert.deepEqual(consoleErrors, []);
});

test('a 50 ms clip fits whole and zooms to 1 ms; a 10-minute file is shown as the 4 s a match uses', async () => {
  await load(drum({ seconds: 0.05, hitS: 0.05, sampleRate: 16000 }), 'tiny.wav');
  await frames();
  let v = await view();
  assert.ok(Math.abs(v.clipS - 0.05) < 0.002 && v.startS === 0 && Math.abs(v.endS - v.clipS) < 1e-9, JSON.stringify(v));
  const l = await layout();
  const [x0, y0, x1, y1] = l.waveforms.target;
  await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2);
  for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -400);
  await page.waitForFunction(() => window.ddsp.view().endS - window.ddsp.view().startS < 0.0011, null, { timeout: 10000 });
  await frames();
  v = await view();
  assert.ok(v.endS - v.startS >= 0.001 - 1e-9, `no narrower than 1 ms: ${JSON.stringify(v)}`);
  const wave = await columns(l.waveforms.target, 'target');
  assert.ok(extent(wave, 1) > 0.95, `a line through the samples spans the view (to ${extent(wave, 1).toFixed(2)})`);
  await page.screenshot({ path: join(shots, 'views-tiny.png') });

  // Ten minutes at 8 kHz, made in the page (the engine's cut, max(4 s, the synth's duration), holds).
  const info = await page.evaluate(async () => {
    const { encodeWav } = await import('./studio/util.js');
    const rate = 8000, x = new Float32Array(600 * rate);
    for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin(2 * Math.PI * 220 * i / rate) * (1 - (i % rate) / rate);
    return window.ddsp.loadAudio(encodeWav(x, rate), 'ten-minutes.wav');
  });
  assert.ok(Math.abs(info.seconds - 600) < 0.01);
  await frames();
  v = await view();
  assert.ok(Math.abs(v.clipS - 4) < 0.01 && v.fitted && Math.abs(v.endS - 4) < 0.01, JSON.stringify(v));
  v = await view({ startS: 1.5, endS: 1.6 });
  assert.ok(Math.abs(v.endS - v.startS - 0.1) < 1e-9);
  await frames();
  const lit = await columns((await layout()).spectrograms.target, 'lit');
  assert.ok(extent(lit, 10) > 0.95, 'the spectrogram shows the zoomed stretch');
  assert.equal((await page.evaluate(() => window.ddsp.state())).error, null);
  assert.deepEqual(consoleErrors, []);
});
