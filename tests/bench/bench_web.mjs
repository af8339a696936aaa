// The studio's size and speed, measured in headless Chromium (scripts/bench.sh runs it when the
// site is built; `node tests/bench/bench_web.mjs` runs it alone):
//   - transfer: every file the page loads until ready, gzip-compressed (what a host serving
//     gzip sends), and the total
//   - time from navigation to `ddsp.ready` (example loaded, ready to match)
//   - UI frames per second while the worker matches (state().fps, sampled every 250 ms)
//   - iterations per second of the wasm worker against the native CLI on the same target and
//     settings (ks, gradient, 150 steps, pluck_nylon_e3.wav)
// Prints a markdown table and one JSON line. Numbers only: nothing here is asserted.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { launchBrowser } from '../browser/browser.mjs';
import { startServer } from '../browser/serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
const cli = join(repo, 'build', 'ddsp');
if (!existsSync(join(site, 'index.html'))) {
  console.error(`bench_web: ${site} is missing (cmake --build build-wasm --target site)`);
  process.exit(1);
}
const STEPS = 150;
const TARGET = 'assets/sounds/pluck_nylon_e3.wav';

const server = await startServer(site);
const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
const loaded = new Set();
page.on('request', (r) => loaded.add(new URL(r.url()).pathname));
const t0 = Date.now();
await page.goto(`${server.url}/index.html`);
await page.waitForFunction(() => window.ddsp && window.ddsp.ready, null, { timeout: 120000 });
await page.evaluate(() => window.ddsp.ready);
const readyMs = Date.now() - t0;

// The AudioWorklet's module and its wasm are fetched by the audio thread, which the page's request
// events do not show: count them too.
for (const p of ['/audio-processor.js', '/ddsp_worklet.mjs']) loaded.add(p);
const files = [...loaded].filter((p) => existsSync(join(site, p)) && !p.endsWith('/'));
let raw = 0, gz = 0;
const rows = [];
for (const p of files.sort()) {
  const bytes = readFileSync(join(site, p));
  const g = gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length; gz += g;
  rows.push(`| ${p} | ${(bytes.length / 1024).toFixed(1)} | ${(g / 1024).toFixed(1)} |`);
}

// Matching in the worker while the UI draws.
await page.evaluate(() => { window.ddsp.setSynth('ks'); window.ddsp.setMethod('gradient'); });
await page.evaluate((url) => window.ddsp.loadUrl(url), TARGET);
const fps = [];
const started = Date.now();
await page.evaluate((steps) => window.ddsp.start({ steps, seed: 0 }), STEPS);
while (await page.evaluate(() => window.ddsp.state().running)) {
  await page.waitForTimeout(250);
  fps.push(await page.evaluate(() => window.ddsp.state().fps));
}
const wallS = (Date.now() - started) / 1000;
const s = await page.evaluate(() => window.ddsp.state());

// The worker alone (no UI drawing on the other core): the same match through worker.js.
const bare = await browser.newPage();
await bare.goto(`${server.url}/assets/sounds/manifest.json`);
const alone = await bare.evaluate(async ({ url, steps }) => {
  const worker = new Worker('../../worker.js');
  const next = (type) => new Promise((ok, fail) => {
    worker.onmessage = (e) => {
      if (e.data.type === type) ok(e.data);
      else if (e.data.type === 'error') fail(new Error(e.data.message));
    };
  });
  worker.postMessage({ type: 'init' });
  await next('ready');
  const buffer = await new OfflineAudioContext(1, 1, 44100).decodeAudioData(await (await fetch(url)).arrayBuffer());
  worker.postMessage({ type: 'setTarget', samples: buffer.getChannelData(0).slice(), sampleRate: buffer.sampleRate, name: 't' });
  await next('target');
  worker.postMessage({ type: 'start', synth: 'ks', method: 'gradient', loss: 'mrstft', steps, seed: 0 });
  const done = await next('done');
  worker.terminate();
  return { iterations: done.iteration, elapsedS: done.elapsedS };
}, { url: `../../${TARGET}`, steps: STEPS });
await browser.close();
await server.close();
const aloneItPerS = alone.iterations / alone.elapsedS;

const workerItPerS = s.iteration / (s.elapsedS > 0 ? s.elapsedS : wallS);
let nativeItPerS = null;
if (existsSync(cli)) {
  const out = mkdtempSync(join(tmpdir(), 'bench-web-'));
  execFileSync(cli, ['match', '--synth', 'ks', '--method', 'gradient', '--target', join(repo, TARGET), '--steps', String(STEPS),
    '--seed', '0', '-q', '-o', out]);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  nativeItPerS = report.iterations_run / report.compute_time_s;
}
fps.sort((a, b) => a - b);
const median = fps.length ? fps[Math.floor(fps.length / 2)] : NaN;

console.log('| file | raw KB | gzip KB |\n|---|---:|---:|');
console.log(rows.join('\n'));
console.log(`| **total** | **${(raw / 1024).toFixed(1)}** | **${(gz / 1024).toFixed(1)}** |\n`);
console.log('| measure | value |\n|---|---:|');
console.log(`| navigation to ready (example loaded) | ${readyMs} ms |`);
console.log(`| UI frames per second while matching (median, min) | ${median.toFixed(1)}, ${fps[0]?.toFixed(1)} |`);
console.log(`| wasm worker in the studio (UI drawing meanwhile): ks gradient iterations per second | ${workerItPerS.toFixed(1)} |`);
console.log(`| wasm worker alone: the same match | ${aloneItPerS.toFixed(1)} |`);
if (nativeItPerS) console.log(`| native CLI: the same match | ${nativeItPerS.toFixed(1)} it/s (native / worker alone ${(nativeItPerS / aloneItPerS).toFixed(2)}x, / worker in the studio ${(nativeItPerS / workerItPerS).toFixed(2)}x) |`);
console.log(JSON.stringify({ bench: 'web', transfer_gzip_kb: +(gz / 1024).toFixed(1), transfer_raw_kb: +(raw / 1024).toFixed(1),
  ready_ms: readyMs, fps_median: +median.toFixed(1), fps_min: +(fps[0] ?? NaN).toFixed(1),
  worker_it_per_s: +workerItPerS.toFixed(2), worker_alone_it_per_s: +aloneItPerS.toFixed(2), native_it_per_s: nativeItPerS && +nativeItPerS.toFixed(2), iterations: s.iteration }));
