// Bounded memory on any input (web/studio/target.js "limits", web/worker.js MAX_*): files that would
// not fit are refused with one line before anything is allocated for them, never an out-of-memory
// abort in the worker, and the page keeps working afterwards.
//   - a real 30-minute 192 kHz stereo float WAV (2.6 GB; a sparse file, so it costs no disk) picked in
//     the file dialog: refused from its size, without reading it;
//   - a small WAV whose header promises 4 GB of data: refused from the header;
//   - the duration limit raised to 10 hours, then an hour of 8 kHz mono 16-bit (58 MB, sparse): the
//     byte budget still refuses it;
//   - the worker's own WAV reader with the page's limit (decodeWav's maxSeconds) refuses from the
//     header, and a model file whose header claims a terabyte gets the engine's one line;
//   - a 300 MB model file picked as a File: refused from its size.
// Then a good file loads and a match lowers the loss.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openStudio } from './browser.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
let server, browser, page, dir;
const consoleErrors = [];

// A WAV header for `dataBytes` of audio; the file is made that long by ftruncate (sparse: zeros).
function sparseWav(path, { rate, channels, bits, tag, seconds }) {
  const block = (channels * bits) / 8;
  const dataBytes = Math.round(seconds * rate) * block;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(Math.min(0xFFFFFFFF, 36 + dataBytes), 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(tag, 20); h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * block, 28); h.writeUInt16LE(block, 32); h.writeUInt16LE(bits, 34);
  h.write('data', 36); h.writeUInt32LE(Math.min(0xFFFFFFFF, dataBytes), 40);
  const fd = openSync(path, 'w');
  writeSync(fd, h);
  ftruncateSync(fd, 44 + dataBytes);
  closeSync(fd);
  return 44 + dataBytes;
}

before(async () => {
  assert.ok(existsSync(join(site, 'index.html')), `${site} is missing: build the 'site' target first`);
  dir = mkdtempSync(join(tmpdir(), 'ddsp-limits-'));
  server = await startServer(site);
  browser = await launchBrowser();
  page = await openStudio(browser, `${server.url}/index.html`, { viewport: { width: 1200, height: 800 }, consoleErrors });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const state = () => page.evaluate(() => window.ddsp.state());
const memory = () => page.evaluate(() => window.ddsp.memory());

// Picks a file in the studio's file dialog and waits for the status line to name it as an error.
async function pickRefused(path, name) {
  await page.setInputFiles('#file-input', path);
  await page.waitForFunction((n) => (window.ddsp.state().error ?? '').startsWith(n), name, { timeout: 30000 });
  const s = await state();
  console.log(`# ${s.error}`);
  assert.ok(!/[\n\r]/.test(s.error), 'one line');
  assert.equal(s.target, 'pluck_nylon_e3.wav', 'the previous target stays');
  return s.error;
}

test('a 2.6 GB WAV (30 minutes, 192 kHz, stereo, float) is refused from its size, before it is read', async () => {
  const before = await memory();
  const bytes = sparseWav(join(dir, 'long.wav'), { rate: 192000, channels: 2, bits: 32, tag: 3, seconds: 1800 });
  assert.ok(bytes > 2.6e9);
  const error = await pickRefused(join(dir, 'long.wav'), 'long.wav');
  assert.match(error, /the file is 2\.\d GB, more than this page reads \(512 MB\)/);
  const after = await memory();
  assert.equal(after.workerWasmBytes, before.workerWasmBytes, 'nothing reached the worker');
  assert.equal(after.uiWasmBytes, before.uiWasmBytes, 'nothing reached the UI module');
});

test('a WAV whose header promises 4 GB is refused from the header; a raised duration limit still meets the byte budget', async () => {
  const claim = await page.evaluate(async () => {
    const buf = new ArrayBuffer(44 + 4000), v = new DataView(buf);
    const str = (o, t) => { for (let i = 0; i < t.length; i++) v.setUint8(o + i, t.charCodeAt(i)); };
    str(0, 'RIFF'); v.setUint32(4, 36 + 4000, true); str(8, 'WAVE'); str(12, 'fmt '); v.setUint32(16, 16, true);
    v.setUint16(20, 1, true); v.setUint16(22, 1, true); v.setUint32(24, 16000, true); v.setUint32(28, 32000, true);
    v.setUint16(32, 2, true); v.setUint16(34, 16, true); str(36, 'data'); v.setUint32(40, 0xF0000000, true);
    try { await window.ddsp.loadAudio(buf, 'claims-4gb.wav'); return 'accepted'; } catch (e) { return e.message; }
  });
  console.log(`# ${claim}`);
  assert.match(claim, /^claims-4gb\.wav: the header promises 35\.0 hours of audio \(3\.8 GB\), more than this page's limit of 10\.0 minutes$/);

  // Raise the duration limit: an hour of 8 kHz mono 16-bit is 58 MB on disk, but decoded at the
  // browser's 44.1 kHz (and kept mono beside it) more than the budget.
  assert.equal((await page.evaluate(() => window.ddsp.limits({ maxSeconds: 36000 }))).maxSeconds, 36000);
  sparseWav(join(dir, 'hour.wav'), { rate: 8000, channels: 1, bits: 16, tag: 1, seconds: 3600 });
  const error = await pickRefused(join(dir, 'hour.wav'), 'hour.wav');
  assert.match(error, /^hour\.wav: 60\.0 minutes at 8000 Hz would take 1\.2 GB to decode, more than this page's budget of 512 MB$/);
  await page.evaluate(() => window.ddsp.limits({ maxSeconds: 600 }));
  const bad = await page.evaluate(() => { try { window.ddsp.limits({ maxSeconds: -1 }); return 'accepted'; } catch (e) { return e.message; } });
  assert.equal(bad, 'limits needs {maxSeconds: a positive number}');
});

test("the worker's WAV reader takes the page's limit, and a model file claiming a terabyte header gets one line", async () => {
  const r = await page.evaluate(async () => {
    // A second worker on the studio's worker.js, spoken to directly (web/README.md "Worker protocol").
    const w = new Worker('worker.js');
    const ask = (msg, transfer = []) => new Promise((ok) => {
      const id = Math.random();
      const on = (e) => { if (e.data.id === id) { w.removeEventListener('message', on); ok(e.data); } };
      w.addEventListener('message', on);
      w.postMessage({ ...msg, id }, transfer);
    });
    await ask({ type: 'init' });
    // 6 s of 64-bit float at 8 kHz (a format the engine reads when the browser does not).
    const n = 6 * 8000, buf = new ArrayBuffer(44 + 8 * n), v = new DataView(buf);
    const str = (o, t) => { for (let i = 0; i < t.length; i++) v.setUint8(o + i, t.charCodeAt(i)); };
    str(0, 'RIFF'); v.setUint32(4, 36 + 8 * n, true); str(8, 'WAVE'); str(12, 'fmt '); v.setUint32(16, 16, true);
    v.setUint16(20, 3, true); v.setUint16(22, 1, true); v.setUint32(24, 8000, true); v.setUint32(28, 64000, true);
    v.setUint16(32, 8, true); v.setUint16(34, 64, true); str(36, 'data'); v.setUint32(40, 8 * n, true);
    for (let i = 0; i < n; i++) v.setFloat64(44 + 8 * i, 0.5 * Math.sin(i * 0.05), true);
    const limited = await ask({ type: 'decodeWav', bytes: buf.slice(0), maxSeconds: 5 });
    const unlimited = await ask({ type: 'decodeWav', bytes: buf.slice(0) });
    // safetensors: an 8-byte header length of 2^40, then a little JSON.
    const model = new Uint8Array(64);
    new DataView(model.buffer).setBigUint64(0, 1n << 40n, true);
    model.set(new TextEncoder().encode('{"a":1}'), 8);
    const loaded = await ask({ type: 'loadModel', bytes: model.buffer }, [model.buffer]);
    const memory = await ask({ type: 'memory' });
    w.terminate();
    return { limited, unlimitedSamples: unlimited.samples?.length, loaded, wasmBytes: memory.wasmBytes };
  });
  console.log(`# decodeWav with maxSeconds 5: ${r.limited.message}`);
  console.log(`# loadModel with a 1 TB header: ${r.loaded.message}`);
  assert.equal(r.limited.type, 'error');
  assert.equal(r.limited.message, 'audio is 6.0 s long, more than the 5.0 s limit');
  assert.equal(r.unlimitedSamples, 6 * 8000, 'without the limit the same file decodes');
  assert.equal(r.loaded.type, 'error');
  assert.match(r.loaded.message, /^model file: safetensors: header length 1099511627776 is larger than the limit of \d+ bytes$/);
  assert.ok(r.wasmBytes < 256 * 1024 * 1024, `the worker's memory stayed small (${r.wasmBytes} bytes)`);

  // The latent panel: the same file through window.ddsp.latent.load, and a 300 MB file from its size.
  const viaPanel = await page.evaluate(async () => {
    const model = new Uint8Array(64);
    new DataView(model.buffer).setBigUint64(0, 1n << 40n, true);
    try { await window.ddsp.latent.load(model.buffer); return 'accepted'; } catch (e) { return e.message; }
  });
  assert.match(viaPanel, /^model file: safetensors: header length 1099511627776 is larger than the limit/);
  const fd = openSync(join(dir, 'huge.safetensors'), 'w');
  ftruncateSync(fd, 300 * 1024 * 1024);
  closeSync(fd);
  const handle = await page.evaluateHandle(() => { const i = document.createElement('input'); i.type = 'file'; document.body.appendChild(i); return i; });
  await handle.asElement().setInputFiles(join(dir, 'huge.safetensors'));
  const bySize = await page.evaluate(async (i) => {
    try { await window.ddsp.latent.load(i.files[0]); return 'accepted'; } catch (e) { return e.message; } finally { i.remove(); }
  }, handle);
  console.log(`# a 300 MB model file: ${bySize}`);
  assert.equal(bySize, 'the model file is 300 MB, more than this page reads (256 MB)');
});

test('after the refusals the page works: a good file loads and a match lowers the loss', async () => {
  await page.setInputFiles('#file-input', join(repo, 'assets/sounds/pluck_koto_e5.wav'));
  await page.waitForFunction(() => window.ddsp.state().target === 'pluck_koto_e5.wav', null, { timeout: 20000 });
  const s = await page.evaluate(async () => {
    const d = window.ddsp;
    d.setSynth('ks');
    d.setMethod('gradient');
    await d.start({ steps: 30, params: null });
    await new Promise((ok) => { const off = d.onProgress((m) => { if (m.type === 'done') { off(); ok(); } }); });
    return d.state();
  });
  assert.equal(s.error, null);
  assert.ok(s.bestLoss < s.initialLoss);
  assert.deepEqual(consoleErrors, []);
});
