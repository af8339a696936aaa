// The studio's latent panel end to end in headless Chromium (the built site, build-wasm/site): the
// DDSP autoencoder fetched only when the panel opens, the panel driven with real mouse events on the
// ImGui canvas, timbre transfer against the native `ddsp autoencode`, fine-tuning in the worker
// while the page stays responsive, exported weights the CLI reads, and a bad model file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openStudio } from './browser.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
const cli = join(repo, 'build', 'ddsp');
const shots = join(repo, 'build-wasm', 'screenshots');
const model = join(repo, 'assets', 'models', 'ddsp_gm8.safetensors');
const pluck = join(repo, 'assets', 'sounds', 'pluck_nylon_e3.wav');  // 16 kHz, 16-bit: the model's rate
const work = mkdtempSync(join(tmpdir(), 'ddsp-latent-'));
let server, browser, page;
const consoleErrors = [];
const modelRequests = [];

// [SECTION] helpers

// The samples of a 16-bit PCM or 32-bit float mono WAV, as `ddsp` reads them (PCM / 32768).
function readWav(bytes) {
  const b = Buffer.from(bytes);
  const fmt = b.indexOf('fmt ');
  const tag = b.readUInt16LE(fmt + 8), rate = b.readUInt32LE(fmt + 12), bits = b.readUInt16LE(fmt + 22);
  const at = b.indexOf('data') + 8;
  const n = Math.floor((b.length - at) / (bits / 8));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = tag === 3 ? b.readFloatLE(at + 4 * i) : b.readInt16LE(at + 2 * i) / 32768;
  return { samples: out, sampleRate: rate };
}

// Mean power spectrum (dB) over Hann-windowed frames of 1024 samples.
function spectrumDb(x, n = 1024) {
  const power = new Float64Array(n / 2 + 1);
  let frames = 0;
  for (let start = 0; start + n <= x.length; start += n / 2, frames++) {
    const re = new Float64Array(n), im = new Float64Array(n);
    for (let i = 0; i < n; i++) re[i] = x[start + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
    fft(re, im);
    for (let k = 0; k <= n / 2; k++) power[k] += re[k] * re[k] + im[k] * im[k];
  }
  return Array.from(power, (p) => 10 * Math.log10(p / Math.max(1, frames) + 1e-20));
}

function fft(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len)
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k), wi = Math.sin(ang * k);
        const ar = re[i + k + len / 2], ai = im[i + k + len / 2];
        const tr = ar * wr - ai * wi, ti = ar * wi + ai * wr;
        re[i + k + len / 2] = re[i + k] - tr; im[i + k + len / 2] = im[i + k] - ti;
        re[i + k] += tr; im[i + k] += ti;
      }
  }
}

// Mean |difference| in dB of the two spectra's shapes (each normalised to its own peak) over the
// bins within 60 dB of either peak: a change of timbre, not of level.
function spectralShapeDistanceDb(a, b) {
  const sa = spectrumDb(a), sb = spectrumDb(b);
  const pa = Math.max(...sa), pb = Math.max(...sb);
  let sum = 0, count = 0;
  for (let k = 1; k < sa.length; k++) {
    if (sa[k] < pa - 60 && sb[k] < pb - 60) continue;
    sum += Math.abs(Math.max(sa[k] - pa, -60) - Math.max(sb[k] - pb, -60));
    count++;
  }
  return sum / Math.max(1, count);
}

// Pitch by normalised autocorrelation over the middle of a note: the first strong peak after the
// correlation has fallen (multiples of the period correlate as well), refined by a parabola.
function pitchHz(x, sampleRate) {
  const a = Math.floor(x.length * 0.3), n = Math.min(4096, Math.floor(x.length * 0.4));
  const maxLag = Math.floor(sampleRate / 40);
  const r = new Float64Array(maxLag + 2);
  for (let lag = 1; lag <= maxLag + 1; lag++) {
    let s = 0, e1 = 0, e2 = 0;
    for (let i = 0; i < n; i++) { s += x[a + i] * x[a + i + lag]; e1 += x[a + i] ** 2; e2 += x[a + i + lag] ** 2; }
    r[lag] = s / Math.sqrt(e1 * e2 + 1e-30);
  }
  let lag = 1;
  while (lag < maxLag && r[lag] > 0.3) lag++;  // past the main lobe
  while (lag < maxLag && !(r[lag] > 0.7 && r[lag] >= r[lag - 1] && r[lag] >= r[lag + 1])) lag++;
  const den = r[lag - 1] - 2 * r[lag] + r[lag + 1];
  const shift = den !== 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (r[lag - 1] - r[lag + 1])) / den)) : 0;
  return sampleRate / (lag + shift);
}

const layout = () => page.evaluate(() => window.ddsp.ui.latentLayout());
const latentState = () => page.evaluate(() => window.ddsp.latent.state());
const centre = (r) => ({ x: (r[0] + r[2]) / 2, y: (r[1] + r[3]) / 2 });

// [SECTION] set-up

before(async () => {
  assert.ok(existsSync(join(site, 'index.html')), `${site} is missing: build the 'site' target first`);
  assert.ok(existsSync(join(site, 'assets', 'models', 'ddsp_gm8.safetensors')), 'the site target copies assets/models');
  mkdirSync(shots, { recursive: true });
  server = await startServer(site);
  browser = await launchBrowser();
  page = await openStudio(browser, `${server.url}/index.html`, {
    viewport: { width: 1400, height: 1000 },
    consoleErrors,
    beforeLoad: (p) => p.on('request', (r) => { if (r.url().includes('/assets/models/')) modelRequests.push(r.url()); }),
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// [SECTION] tests

test('the model is fetched only when the latent panel is opened (a click on its header)', async () => {
  await page.waitForTimeout(300);
  assert.deepEqual(modelRequests, [], 'the page does not fetch the model up front');
  const l = await layout();
  assert.equal(l.open, false);
  const header = l.buttons.header;
  assert.ok(header && header[3] > header[1], 'the panel header is drawn');
  const box = await page.locator('#canvas').boundingBox();
  assert.ok(header[3] <= box.height, `the header (y ${header[1]}) is on screen`);
  const c = centre(header);
  await page.mouse.click(box.x + c.x, box.y + c.y);
  await page.waitForFunction(() => window.ddsp.latent.state().loaded, null, { timeout: 30000 });
  assert.equal(modelRequests.length, 1);
  const info = await page.evaluate(() => window.ddsp.latent.info());
  assert.equal(info.zDims, 8);
  assert.equal(info.sampleRate, 16000);
  assert.equal(info.latentSpace.instruments.length, 8);
  assert.deepEqual(info.latentSpace.instruments.map((i) => i.name).sort(),
    ['cello', 'clarinet', 'flute', 'harp', 'nylon_guitar', 'steel_guitar', 'trumpet', 'violin']);
  assert.ok(info.recording, 'the loaded example is encoded as the recording');
  assert.equal((await layout()).open, true);
});

test('dragging a latent slider on the canvas changes z and the timbre of the render', async () => {
  // The render through the UI's own path (scrub -> worker -> B slot) before and after the drag.
  await page.waitForFunction(() => !!window.ddsp.latent.state().z, null, { timeout: 30000 });
  const before = await page.evaluate(async () => Array.from(await window.ddsp.latent.render()));
  const z0 = (await latentState()).z;
  const l = await layout();
  assert.equal(l.sliders.length, 8, 'one slider per latent dimension');
  const box = await page.locator('#canvas').boundingBox();
  const s = l.sliders[0];
  const y = box.y + (s[1] + s[3]) / 2;
  // ImGui sliders jump to the click: press at the value's position, drag to the far left.
  const range = Math.max(3, Math.ceil(Math.abs(z0[0])));
  const xAt = (v) => box.x + s[0] + 8 + ((v + range) / (2 * range)) * (s[2] - s[0] - 16);
  await page.mouse.move(xAt(z0[0]), y);
  await page.mouse.down();
  for (let k = 1; k <= 10; k++) await page.mouse.move(xAt(z0[0] + (k / 10) * (-range - z0[0])), y);
  await page.mouse.up();
  await page.waitForFunction((old) => Math.abs(window.ddsp.latent.state().z[0] - old) > 1, z0[0], { timeout: 10000 });
  const z1 = (await latentState()).z;
  for (let i = 1; i < 8; i++) assert.ok(Math.abs(z1[i] - z0[i]) < 1e-5, `z${i} stays where it was`);
  const after = await page.evaluate(async () => Array.from(await window.ddsp.latent.render()));
  assert.equal(after.length, before.length);
  assert.ok(after.every(Number.isFinite));
  const d = spectralShapeDistanceDb(before, after);
  console.log(`# z0 ${z0[0].toFixed(3)} -> ${z1[0].toFixed(3)}: spectral shape moves by ${d.toFixed(2)} dB on average`);
  assert.ok(d > 0.5, `the spectrum's shape changes (${d} dB)`);
  // Against the same z twice: the render is deterministic, so the difference above is the latent's.
  const again = await page.evaluate(async () => Array.from(await window.ddsp.latent.render()));
  assert.ok(spectralShapeDistanceDb(after, again) < 1e-6);
});

test('dragging the pad moves z in the plane of the two axes and keeps the rest', async () => {
  const info = await page.evaluate(() => window.ddsp.latent.info());
  const { axes, origin } = info.latentSpace;
  const z0 = (await latentState()).z;
  const l = await layout();
  const box = await page.locator('#canvas').boundingBox();
  const [x0, y0, x1, y1] = l.pad;
  assert.ok(x1 - x0 > 100 && y1 <= box.height, 'the pad is drawn on screen');
  await page.mouse.move(box.x + (x0 + x1) / 2, box.y + (y0 + y1) / 2);
  await page.mouse.down();
  for (let k = 1; k <= 8; k++) await page.mouse.move(box.x + x0 + (x1 - x0) * (0.5 + 0.04 * k), box.y + y0 + (y1 - y0) * (0.5 - 0.04 * k));
  await page.mouse.up();
  await page.waitForTimeout(200);
  const z1 = (await latentState()).z;
  // The part of z - origin off the (orthonormal) axes' plane does not move; the part on it does.
  const off = (z) => {
    const d = z.map((v, i) => v - origin[i]);
    const p0 = d.reduce((s, v, i) => s + v * axes[0][i], 0), p1 = d.reduce((s, v, i) => s + v * axes[1][i], 0);
    return { rest: d.map((v, i) => v - p0 * axes[0][i] - p1 * axes[1][i]), p0, p1 };
  };
  const a = off(z0), b = off(z1);
  const moved = Math.hypot(b.p0 - a.p0, b.p1 - a.p1);
  console.log(`# pad drag moved z by ${moved.toFixed(3)} in the plane`);
  assert.ok(moved > 0.05, 'z moves on the pad');
  assert.ok(b.p0 > a.p0 && b.p1 > a.p1, 'right and up on the pad are + on axis 1 and axis 2');
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(a.rest[i] - b.rest[i]) < 1e-3, `component off the plane ${i} kept`);
});

test('timbre transfer of a bundled recording equals the native `ddsp autoencode --z`', async () => {
  assert.ok(existsSync(cli), `${cli} is missing: build the native CLI first`);
  const wav = readWav(readFileSync(pluck));
  assert.equal(wav.sampleRate, 16000);
  // Its own latent first: the encoder in the browser and the CLI agree.
  const own = JSON.parse(execFileSync(cli, ['autoencode', '--model', model, '--target', pluck, '--max-seconds', '4',
    '-o', join(work, 'own.wav')]).toString());
  const recording = await page.evaluate(({ samples, sampleRate }) => window.ddsp.latent.setRecording(samples, sampleRate, 'pluck'),
    { samples: Array.from(wav.samples), sampleRate: wav.sampleRate });
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(recording.z[i] - own.z[i]) < 1e-4, `z${i}: ${recording.z[i]} vs ${own.z[i]}`);
  // Then another latent (the flute's mean) and a transposition.
  const info = await page.evaluate(() => window.ddsp.latent.info());
  const z = info.latentSpace.instruments.find((i) => i.name === 'flute').mean;
  const browserOut = await page.evaluate((z) => window.ddsp.latent.render({ z, mode: 'transfer', transpose: 3 }).then(Array.from), z);
  const native = JSON.parse(execFileSync(cli, ['autoencode', '--model', model, '--target', pluck, '--max-seconds', '4',
    '--z', z.join(','), '--transpose', '3', '-o', join(work, 'flute.wav')]).toString());
  const ref = readWav(readFileSync(join(work, 'flute.wav'))).samples;
  const gain = native.peak > 0.999 ? native.peak / 0.999 : 1;  // the CLI scales a file that would clip
  assert.equal(browserOut.length, ref.length);
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(browserOut[i] - ref[i] * gain));
  const lsb = gain / 32768;  // the CLI writes 16-bit PCM
  console.log(`# transfer (flute latent, +3 st): browser vs native max |diff| ${maxDiff.toExponential(2)} (16-bit step ${lsb.toExponential(2)}), peak ${native.peak}`);
  // Half a 16-bit step (the file's rounding) plus float rounding (wasm and native -O3 sum in
  // different orders): 2e-5 of the peak, -94 dB.
  assert.ok(maxDiff <= 0.5 * lsb + 2e-5 * native.peak, `max |diff| ${maxDiff}`);
});

test('a note from the decoder has the pitch asked for, and the keyboard plays it live', async () => {
  const z = (await latentState()).z;
  const note = await page.evaluate((z) => window.ddsp.latent.render({ z, mode: 'note', f0Hz: 330, seconds: 1, velocity: 0.9 })
    .then(Array.from), z);
  assert.equal(note.length, 16000);
  const f = pitchHz(note, 16000);
  console.log(`# decoder note at 330 Hz: autocorrelation pitch ${f.toFixed(1)} Hz`);
  assert.ok(Math.abs(1200 * Math.log2(f / 330)) < 50, `pitch ${f} Hz`);
  // Velocity maps to the decoder's loudness input: a harder key is louder.
  const rmsDb = (x) => 10 * Math.log10(x.reduce((s, v) => s + v * v, 0) / x.length);
  const [soft, hard] = await page.evaluate((z) => Promise.all([0.3, 1].map((velocity) =>
    window.ddsp.latent.render({ z, mode: 'note', f0Hz: 330, seconds: 1, velocity }).then(Array.from))), z);
  console.log(`# velocity 0.3 -> ${rmsDb(soft).toFixed(1)} dB RMS, velocity 1 -> ${rmsDb(hard).toFixed(1)} dB RMS`);
  assert.ok(rmsDb(hard) > rmsDb(soft) + 3);
  // With the panel's source on the keyboard, the worklet's live engine plays the decoder.
  await page.evaluate(() => window.ddsp.latent.setSource('keyboard'));
  await page.waitForFunction(async () => (await window.ddsp.live.stats()).source === 'keys', null,
    { timeout: 60000, polling: 200 });
  // A key press sounds through the audio engine (the worklet's level meter sees it).
  await page.evaluate(() => {
    window.levels = [];
    const previous = window.ddsp.audio.onLevel;
    window.ddsp.audio.onLevel = (l) => { window.levels.push(l.peak ?? 0); previous?.(l); };
    window.ddsp.audio.resume();
  });
  await page.keyboard.down('KeyA');
  await page.waitForFunction(() => window.levels.some((p) => p > 1e-4), null, { timeout: 10000 });
  await page.keyboard.up('KeyA');
  const peak = await page.evaluate(() => Math.max(...window.levels));
  console.log(`# key A (C4) through the live decoder: output peak ${peak.toExponential(2)}`);
  await page.evaluate(() => window.ddsp.latent.setSource('recording'));
});

test('fine-tuning from the panel lowers the loss while the UI and the worker stay responsive; Stop ends it', async () => {
  const box = await page.locator('#canvas').boundingBox();
  // A few steps through the API ...
  const r = await page.evaluate(() => window.ddsp.latent.fineTune({ steps: 10, learningRate: 3e-4 }));
  console.log(`# fine-tune 10 steps: loss ${r.initialLoss.toFixed(4)} -> ${r.loss.toFixed(4)}`);
  assert.equal(r.steps, 10);
  assert.ok(r.loss < r.initialLoss, 'the loss falls');
  const s = await latentState();
  assert.equal(s.tuned, true);
  assert.equal(s.weights, 'tuned', 'After is selected when fine-tuning ends');
  assert.equal(s.fineTune.losses.length, 10, 'every step\'s loss reaches the curve');

  // ... then a long run started with the panel's button: requests are answered while it runs, the
  // UI keeps drawing, and the Stop button ends it.
  const button = centre((await layout()).buttons.fineTune);
  await page.mouse.click(box.x + button.x, box.y + button.y);
  await page.waitForFunction(() => window.ddsp.latent.state().fineTune.running && window.ddsp.latent.state().fineTune.step >= 2,
    null, { timeout: 60000 });
  const during = await page.evaluate(async () => {
    const frames0 = window.ddsp.ui.frames();
    const samples = await window.ddsp.latent.render({ mode: 'note', f0Hz: 220, seconds: 0.3 });
    await new Promise((ok) => setTimeout(ok, 300));
    return { n: samples.length, running: window.ddsp.latent.state().fineTune.running, frames: window.ddsp.ui.frames() - frames0,
      fps: window.ddsp.state().fps };
  });
  console.log(`# during fine-tuning: a render answered, ${during.frames} UI frames in ~0.3 s, ${during.fps.toFixed(1)} fps`);
  assert.equal(during.n, 4800);
  assert.equal(during.running, true, 'the render was answered while fine-tuning ran');
  assert.ok(during.frames >= 3, 'the UI keeps drawing');
  await page.screenshot({ path: join(shots, 'latent.png') });
  const stop = centre((await layout()).buttons.stopFineTune);
  await page.mouse.click(box.x + stop.x, box.y + stop.y);
  await page.waitForFunction(() => !window.ddsp.latent.state().fineTune.running, null, { timeout: 30000 });
  const stopped = await latentState();
  assert.ok(stopped.fineTune.step < stopped.fineTune.steps, 'stopped before its step limit');
  // Matching still works afterwards (a separate job).
  await page.evaluate(() => { window.ddsp.setSynth('ks'); window.ddsp.setMethod('gradient'); return window.ddsp.start({ steps: 15 }); });
  await page.waitForFunction(() => window.ddsp.state().running === false, null, { timeout: 120000 });
  const m = await page.evaluate(() => window.ddsp.state());
  assert.ok(m.bestLoss < m.initialLoss);
});

test('exported weights load in `ddsp autoencode` and reproduce the fine-tuned loss', async () => {
  // A fresh short run so the final loss is known exactly.
  const r = await page.evaluate(() => window.ddsp.latent.fineTune({ steps: 5 }));
  const bytes = await page.evaluate(async () => Array.from(new Uint8Array(await (await window.ddsp.latent.exportWeights()).arrayBuffer())));
  const file = join(work, 'tuned.safetensors');
  writeFileSync(file, Buffer.from(bytes));
  const headerLen = Number(Buffer.from(bytes.slice(0, 8)).readBigUInt64LE());
  const meta = JSON.parse(Buffer.from(bytes.slice(8, 8 + headerLen)).toString()).__metadata__;
  assert.equal(meta.format, 'ddsp.cpp/autoencoder/1');
  assert.equal(meta.fine_tune_steps, '5');
  const z = JSON.parse(meta.recording_z);
  assert.equal(z.length, 8);
  const out = JSON.parse(execFileSync(cli, ['autoencode', '--model', file, '--target', pluck, '--max-seconds', '4', '--z', z.join(','),
    '-o', join(work, 'tuned.wav')]).toString());
  console.log(`# exported weights: ddsp autoencode MR-STFT ${out.mrstft} vs the fine-tuned loss ${r.loss}`);
  assert.ok(Math.abs(out.mrstft - r.loss) < 1e-3 * r.loss, `${out.mrstft} vs ${r.loss}`);
});

test('a bad model file gets a one-line error; the previous model and the page keep working', async () => {
  const good = readFileSync(model);
  const cases = [['garbage', Buffer.from('not a model at all\n'.repeat(10))], ['truncated', good.subarray(0, 2000)],
    ['empty', Buffer.alloc(0)]];
  for (const [name, data] of cases) {
    const message = await page.evaluate((bytes) => window.ddsp.latent.load(new Uint8Array(bytes)).then(() => 'loaded', (e) => e.message),
      Array.from(data));
    console.log(`# ${name} model: ${message}`);
    assert.notEqual(message, 'loaded');
    assert.ok(!/[\n\r]/.test(message) && message.length > 10, 'one line');
    assert.equal((await latentState()).error, message);
  }
  const samples = await page.evaluate(() => window.ddsp.latent.render({ mode: 'note', f0Hz: 262, seconds: 0.5 }).then((x) => x.length));
  assert.equal(samples, 8000, 'the loaded model still renders');
  assert.equal(await page.evaluate(() => window.ddsp.latent.info().zDims), 8);
  await page.evaluate(() => window.ddsp.loadUrl('assets/sounds/pluck_steel_a3.wav'));
  assert.equal(await page.evaluate(() => window.ddsp.state().target), 'pluck_steel_a3.wav');
  assert.deepEqual(consoleErrors, []);
});
