// The wasm engine in headless Chromium: WAV decoding (and its error messages), resampling, the
// spectral distance and the synth table, exactly as the studio's worker will call them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';
import { startServer } from './serve.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let server, browser, page;
const consoleErrors = [];

before(async () => {
  server = await startServer(repoRoot);
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${server.url}/tests/browser/engine.html`);
  await page.evaluate(async () => { window.engine = await createDdspEngine(); });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// Builds a 16-bit stereo WAV in the page: a 440 Hz tone, 0.5 s at 44.1 kHz.
const makeWav = () => {
  const sr = 44100, n = sr / 2, ch = 2;
  const buf = new ArrayBuffer(44 + n * ch * 2);
  const v = new DataView(buf);
  const str = (o, s) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
  str(0, 'RIFF'); v.setUint32(4, 36 + n * ch * 2, true); str(8, 'WAVE');
  str(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, ch, true);
  v.setUint32(24, sr, true); v.setUint32(28, sr * ch * 2, true); v.setUint16(32, ch * 2, true);
  v.setUint16(34, 16, true); str(36, 'data'); v.setUint32(40, n * ch * 2, true);
  for (let i = 0; i < n; i++) {
    const s = Math.round(16000 * Math.sin(2 * Math.PI * 440 * i / sr));
    v.setInt16(44 + 4 * i, s, true); v.setInt16(46 + 4 * i, s, true);
  }
  return new Uint8Array(buf);
};

test('decodes a stereo 16-bit WAV and resamples it to 16 kHz', async () => {
  const r = await page.evaluate(`(() => {
    const wav = (${makeWav.toString()})();
    const a = engine.decodeWav(wav);
    const s16 = engine.resample(a.samples, a.sampleRate, 16000);
    let peak = 0; for (const x of s16) peak = Math.max(peak, Math.abs(x));
    return { sr: a.sampleRate, ch: a.channels, n: a.samples.length, n16: s16.length, peak, error: a.error };
  })()`);
  assert.equal(r.error, undefined);
  assert.equal(r.sr, 44100);
  assert.equal(r.ch, 2);
  assert.equal(r.n, 22050);
  assert.equal(r.n16, 8000);
  assert.ok(Math.abs(r.peak - 16000 / 32768) < 0.01, `peak ${r.peak}`);
});

test('bad files get a one-line error, and the engine keeps working', async () => {
  const r = await page.evaluate(`(() => {
    const wav = (${makeWav.toString()})();
    const text = new TextEncoder().encode('this is not audio at all, just text renamed to .wav');
    return {
      text: engine.decodeWav(text).error,
      empty: engine.decodeWav(new Uint8Array(0)).error,
      truncated: engine.decodeWav(wav.slice(0, 30)).error,
      after: engine.decodeWav(wav).sampleRate,
    };
  })()`);
  for (const key of ['text', 'empty', 'truncated']) {
    assert.equal(typeof r[key], 'string', key);
    assert.ok(r[key].length > 5 && !r[key].includes('\n'), `${key}: ${r[key]}`);
  }
  assert.equal(r.after, 44100);
});

test('the spectral distance is zero for identical audio and grows with a pitch change', async () => {
  const r = await page.evaluate(() => {
    const tone = (f) => Float32Array.from({ length: 8000 }, (_, i) => 0.5 * Math.sin(2 * Math.PI * f * i / 16000));
    return {
      same: engine.mrstftDistance(tone(440), tone(440)),
      near: engine.mrstftDistance(tone(440), tone(450)),
      far: engine.mrstftDistance(tone(440), tone(600)),
    };
  });
  assert.ok(r.same < 1e-4, `same ${r.same}`);
  assert.ok(r.near > 0.1 && r.far > r.near, JSON.stringify(r));
});

test('lists the synths with their parameter tables', async () => {
  const synths = JSON.parse(await page.evaluate(() => engine.synths()));
  const sine = synths.find((s) => s.name === 'sine');
  assert.ok(sine, 'sine synth listed');
  assert.deepEqual(sine.params.map((p) => p.name), ['frequency_hz', 'amplitude']);
  assert.equal(sine.params[0].unit, 'Hz');
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors, []);
});
