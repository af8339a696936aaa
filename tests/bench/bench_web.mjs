// The studio's size and speed, measured in headless Chromium: `node tests/bench/bench_web.mjs` after
// building the site (build-wasm/site) and the CLI (build/ddsp; optional). scripts/bench.sh does not run it.
//   - transfer: every file the page loads until ready, gzip-compressed (what a host serving
//     gzip sends), and the total
//   - time from navigation to `ddsp.ready` (example loaded, ready to match)
//   - UI frames drawn per second while the worker matches (ddsp.ui.frames()), and the CPU Chromium
//     spends besides the worker meanwhile (Linux: the UI, the GPU process, audio)
//   - the cost of one match iteration (ks, gradient, 150 steps, pluck_nylon_e3.wav), start-up
//     excluded, in four places: Chromium's worker in the studio (the UI drawing meanwhile), the same
//     worker.js alone in a page, the same wasm engine under node (this script runs itself in a
//     child node with --engine-in-node), and the native CLI. All four match the same samples: the
//     browser decodes the file with decodeAudioData at 44.1 kHz (as the studio does), and those
//     samples go to node's engine and, as a float WAV, to the CLI; each resamples them to the
//     synth's rate itself. (The engine's own decodeWav gives the file's 16 kHz samples, a slightly
//     different target: that node run is shown too.) Each place runs REPS matches; the median of the
//     per-iteration times is shown. On Linux the worker's thread CPU time per iteration is shown
//     as well: wall time above it is time the worker waited for a core.
// Prints markdown tables and one JSON line. Numbers only: nothing here is asserted.
// BENCH_SITE=dir measures another built site (e.g. an older web/ next to the same wasm).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = resolve(process.env.BENCH_SITE ?? join(repo, 'build-wasm', 'site'));
const cli = join(repo, 'build', 'ddsp');
const STEPS = 150;
const REPS = Number(process.env.REPS ?? 3);
const TARGET = 'assets/sounds/pluck_nylon_e3.wav';
const SETTINGS = { synth: 'ks', method: 'gradient', loss: 'mrstft', steps: STEPS, seed: 0 };

// [SECTION] the engine under node (a child process: emscripten 3.1.6's output needs node's fetch off)

if (process.argv[2] === '--engine-in-node') {
  const createDdspEngine = createRequire(import.meta.url)(join(site, 'ddsp_engine.js'));
  const m = await createDdspEngine();
  const f32 = readFileSync(process.argv[3]);
  const browserSamples = new Float32Array(f32.buffer, f32.byteOffset, f32.byteLength / 4);
  const wav = m.decodeWav(new Uint8Array(readFileSync(join(repo, TARGET))));
  const runner = new m.MatchRunner();
  // As worker.js does: runFor(20 ms) slices, the loss history taken each slice; start-up (start:
  // the first loss) excluded.
  const match = (samples, sampleRate) => {
    const t = runner.setTarget(samples, sampleRate);
    if (t.error) throw new Error(t.error);
    const s = runner.start(SETTINGS);
    if (s.error) throw new Error(s.error);
    const t0 = performance.now(), cpu0 = threadCpuMs(process.pid, process.pid);
    let p;
    do { p = runner.runFor(20); runner.takeHistory(); } while (!p.done);
    const cpu1 = threadCpuMs(process.pid, process.pid);
    return { iterations: p.iteration, msPerIt: (performance.now() - t0) / p.iteration, stepMs: 1000 * p.elapsedS / p.iteration,
      cpuMsPerIt: cpu0 === null ? null : (cpu1 - cpu0) / p.iteration, bestLoss: p.bestLoss };
  };
  const browser = match(browserSamples, Number(process.argv[4]));
  const file = match(wav.samples, wav.sampleRate);
  console.log(JSON.stringify({ browser, file, fileRate: wav.sampleRate }));
  process.exit(0);
}

// CPU time (ms) of one thread (Linux /proc; null elsewhere).
function threadCpuMs(pid, tid) {
  try {
    const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;  // utime + stime, in 100 Hz clock ticks
  } catch { return null; }
}

// CPU time (ms) of the Chromium processes this script started (Linux /proc; null elsewhere): the
// dedicated-worker threads (the match), and the rest (the UI: the renderer's main thread, its
// compositor and audio threads, the GPU process where WebGL is rasterised in software, ...).
function chromiumCpuMs() {
  if (!existsSync('/proc/self/task')) return null;
  const parents = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { const s = readFileSync(`/proc/${d}/stat`, 'utf8'); parents.set(+d, +s.slice(s.lastIndexOf(')') + 2).split(' ')[1]); } catch {}
  }
  const mine = (pid) => { for (let p = parents.get(pid); p > 1; p = parents.get(p) ?? 0) if (p === process.pid) return true; return false; };
  const out = { worker: 0, rest: 0 };
  for (const pid of parents.keys()) {
    if (!mine(pid)) continue;
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8');
        out[comm.startsWith('DedicatedWorker') ? 'worker' : 'rest'] += threadCpuMs(pid, tid) ?? 0;
      }
    } catch {}
  }
  return out;
}
const median = (a) => { const b = a.filter((x) => x !== null && Number.isFinite(x)).sort((x, y) => x - y); return b.length ? b[Math.floor((b.length - 1) / 2)] : null; };
if (!existsSync(join(site, 'index.html'))) {
  console.error(`bench_web: ${site} is missing (cmake --build build-wasm --target site)`);
  process.exit(1);
}
// Imported here, not above: playwright needs node's fetch, which the --engine-in-node child turns off.
const { launchBrowser } = await import('../browser/browser.mjs');
const { startServer } = await import('../browser/serve.mjs');
const loadBefore = loadavg()[0];
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

// [SECTION] matching in the studio's worker while the UI draws

await page.evaluate(() => { window.ddsp.setSynth('ks'); window.ddsp.setMethod('gradient'); });
await page.evaluate((url) => window.ddsp.loadUrl(url), TARGET);
const framesPerS = [];  // UI frames drawn per second during each match (ddsp.ui.frames())
const studio = [];
// The page marks the first progress message (the start-up's loss is done) and `done`; at each mark
// this script reads the CPU times, so wall and CPU cover the same iterations.
await page.exposeFunction('benchCpu', () => chromiumCpuMs());
for (let rep = 0; rep < REPS; rep++) {
  await page.evaluate((steps) => {
    window.benchDone = new Promise((ok) => {
      let first = null;
      const off = window.ddsp.onProgress((p) => {
        if (!first && p.type === 'progress') {
          first = { t: performance.now(), it: p.iteration, frames: window.ddsp.ui.frames(), cpu: window.benchCpu() };
        }
        if (p.type === 'done') {
          off();
          const last = { t: performance.now(), it: p.iteration, frames: window.ddsp.ui.frames(), cpu: window.benchCpu() };
          ok({ first, last });
        }
      });
    });
    return window.ddsp.start({ steps, seed: 0, params: null });  // params: null: from the synth's initial guess each time
  }, STEPS);
  const r = await page.evaluate(async () => {
    const { first, last } = await window.benchDone;
    const [cpu0, cpu1] = [await first.cpu, await last.cpu];
    const s = window.ddsp.state(), n = last.it - first.it, wallS = (last.t - first.t) / 1000;
    return { iterations: s.iteration, msPerIt: 1000 * wallS / n, stepMs: 1000 * s.elapsedS / s.iteration,
      cpuMsPerIt: cpu0 ? (cpu1.worker - cpu0.worker) / n : null,
      uiCpuMsPerS: cpu0 ? (cpu1.rest - cpu0.rest) / wallS : null,  // everything but the worker, per second of the match
      framesPerS: (last.frames - first.frames) / wallS };
  });
  framesPerS.push(r.framesPerS);
  studio.push(r);
  await page.waitForTimeout(500);  // the note bank renders after `done`
}
await page.close();  // its drawing would compete with what follows

// [SECTION] the worker alone, the engine under node, the native CLI: interleaved, same samples

const bare = await browser.newPage();
await bare.goto(`${server.url}/assets/sounds/manifest.json`);
await bare.exposeFunction('benchCpu', () => chromiumCpuMs());
const decoded = await bare.evaluate(async (url) => {
  const buffer = await new OfflineAudioContext(1, 1, 44100).decodeAudioData(await (await fetch(url)).arrayBuffer());
  return { samples: Array.from(buffer.getChannelData(0)), sampleRate: buffer.sampleRate, channels: buffer.numberOfChannels };
}, `../../${TARGET}`);
const work = mkdtempSync(join(tmpdir(), 'bench-web-'));
const samplesFile = join(work, 'decoded.f32');
writeFileSync(samplesFile, Buffer.from(new Float32Array(decoded.samples).buffer));
const wavFile = join(work, 'decoded.wav');
writeFileSync(wavFile, floatWav(decoded.samples, decoded.sampleRate));

await bare.evaluate(async (settings) => {
  const worker = new Worker('../../worker.js');
  const next = (type) => new Promise((ok, fail) => {
    worker.onmessage = (e) => {
      if (e.data.type === type) ok(e.data);
      else if (e.data.type === 'error') fail(new Error(e.data.message));
    };
  });
  worker.postMessage({ type: 'init' });
  await next('ready');
  window.benchMatch = async (samples, sampleRate) => {
    worker.postMessage({ type: 'setTarget', samples: new Float32Array(samples), sampleRate, name: 't' });
    await next('target');
    worker.postMessage({ type: 'start', ...settings });
    const first = await next('progress');
    const t0 = performance.now(), cpu0 = window.benchCpu();
    const done = await next('done');
    const t1 = performance.now(), cpu1 = window.benchCpu();
    const n = done.iteration - first.iteration, [c0, c1] = [await cpu0, await cpu1];
    return { iterations: done.iteration, msPerIt: (t1 - t0) / n, stepMs: 1000 * done.elapsedS / done.iteration,
      cpuMsPerIt: c0 ? (c1.worker - c0.worker) / n : null };
  };
}, SETTINGS);
const alone = [], nodeBrowser = [], nodeFile = [], native = [];
for (let rep = 0; rep < REPS; rep++) {
  alone.push(await bare.evaluate(({ samples, sampleRate }) => window.benchMatch(samples, sampleRate), decoded));
  const n = JSON.parse(execFileSync(process.execPath, ['--no-experimental-fetch', fileURLToPath(import.meta.url), '--engine-in-node',
    samplesFile, String(decoded.sampleRate)], { encoding: 'utf8' }));
  nodeBrowser.push(n.browser);
  nodeFile.push({ ...n.file, rate: n.fileRate });
  if (existsSync(cli)) {
    const out = join(work, `native${rep}`);
    execFileSync(cli, ['match', '--synth', 'ks', '--method', 'gradient', '--target', wavFile, '--steps', String(STEPS),
      '--seed', '0', '-q', '-o', out]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    native.push({ iterations: report.iterations_run, msPerIt: 1000 * report.compute_time_s / report.iterations_run });
  }
}
await browser.close();
await server.close();
rmSync(work, { recursive: true, force: true });

// 32-bit float mono WAV.
function floatWav(samples, sampleRate) {
  const b = Buffer.alloc(44 + 4 * samples.length);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 4 * samples.length, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(3, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sampleRate, 24); b.writeUInt32LE(4 * sampleRate, 28); b.writeUInt16LE(4, 32); b.writeUInt16LE(32, 34);
  b.write('data', 36); b.writeUInt32LE(4 * samples.length, 40);
  samples.forEach((v, i) => b.writeFloatLE(v, 44 + 4 * i));
  return b;
}

// [SECTION] report

const summary = (runs) => ({ msPerIt: median(runs.map((r) => r.msPerIt)), stepMs: median(runs.map((r) => r.stepMs)),
  cpuMsPerIt: median(runs.map((r) => r.cpuMsPerIt)), iterations: median(runs.map((r) => r.iterations)) });
const S = { studio: summary(studio), alone: summary(alone), node: summary(nodeBrowser), nodeFile: summary(nodeFile),
  native: native.length ? summary(native) : null };
const fpsMedian = median(framesPerS);
const ms = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : '–');

console.log('| file | raw KB | gzip KB |\n|---|---:|---:|');
console.log(rows.join('\n'));
console.log(`| **total** | **${(raw / 1024).toFixed(1)}** | **${(gz / 1024).toFixed(1)}** |\n`);
console.log('| measure | value |\n|---|---:|');
console.log(`| machine: cores, 1-min load average before / after (wall times above the CPU times are waits for a core) | ${cpus().length}, ${loadBefore.toFixed(1)} / ${loadavg()[0].toFixed(1)} |`);
console.log(`| navigation to ready (example loaded) | ${readyMs} ms |`);
console.log(`| UI frames drawn per second while matching (median of ${REPS} matches) | ${fpsMedian.toFixed(1)} |`);
const uiCpu = median(studio.map((r) => r.uiCpuMsPerS));
console.log(`| CPU of Chromium besides the worker (UI, GPU process, audio) while matching | ${uiCpu === null ? '–' : uiCpu.toFixed(0) + ' ms/s'} |\n`);
console.log(`One ks gradient iteration (${TARGET} decoded by Chromium at ${decoded.sampleRate} Hz, ${STEPS} steps at most, `
  + `median of ${REPS} matches; start-up excluded):\n`);
console.log('| where | ms / iteration (wall) | of which in step() | worker thread CPU ms / iteration | iterations | vs node |');
console.log('|---|---:|---:|---:|---:|---:|');
const row = (name, x, withCpu = true) => console.log(`| ${name} | ${ms(x.msPerIt)} | ${ms(x.stepMs)} | ${withCpu ? ms(x.cpuMsPerIt) : '–'} | ${x.iterations} | ${ratio(x.msPerIt, S.node.msPerIt)} |`);
row("Chromium's worker in the studio (UI drawing)", S.studio);
row("Chromium's worker alone (worker.js)", S.alone);
row('wasm under node (same samples, runFor(20) slices)', S.node);
row(`wasm under node, the file's own ${nodeFile[0]?.rate} Hz samples (decodeWav)`, S.nodeFile, false);
if (S.native) console.log(`| native CLI (same samples) | ${ms(S.native.msPerIt)} | ${ms(S.native.msPerIt)} | – | ${S.native.iterations} | ${ratio(S.native.msPerIt, S.node.msPerIt)} |`);
console.log(JSON.stringify({ bench: 'web', transfer_gzip_kb: +(gz / 1024).toFixed(1), transfer_raw_kb: +(raw / 1024).toFixed(1),
  ready_ms: readyMs, ui_frames_per_s: +fpsMedian.toFixed(1), ui_cpu_ms_per_s: uiCpu, load_before: loadBefore, load_after: loadavg()[0],
  ms_per_it: { studio: S.studio.msPerIt, alone: S.alone.msPerIt, node: S.node.msPerIt, node_file: S.nodeFile.msPerIt, native: S.native?.msPerIt ?? null },
  step_ms: { studio: S.studio.stepMs, alone: S.alone.stepMs, node: S.node.stepMs },
  worker_cpu_ms_per_it: { studio: S.studio.cpuMsPerIt, alone: S.alone.cpuMsPerIt, node: S.node.cpuMsPerIt },
  ratio_vs_node: { studio: S.studio.msPerIt / S.node.msPerIt, alone: S.alone.msPerIt / S.node.msPerIt },
  iterations: { studio: S.studio.iterations, alone: S.alone.iterations, node: S.node.iterations, native: S.native?.iterations ?? null } }));
