// The studio's soak: many cycles of what a user does in a long session, driven through window.ddsp,
// with the page's memory sampled after a forced garbage collection. Used by soak.test.mjs (a short
// form for CI) and runnable on its own for the long form:
//
//   node tests/browser/soak.mjs [--cycles 500] [--sample-every 50] [--run-ms 1000] [--json out.json]
//
// A cycle: load a recording (every 4th cycle a bad file instead: truncated WAV, text, 0 samples,
// NaN floats, a header promising gigabytes, an empty file; each must be refused with one line and
// leave the previous target in place), pick a synth and a method, start, stop after --run-ms, render
// the best parameters, play a note on the live engine; every 2nd cycle scrub the latent pad (three
// renders), every 5th fine-tune the decoder for a moment and stop it. Samples (cycle 0, then every
// --sample-every cycles): the page's JS heap after CDP HeapProfiler.collectGarbage (Runtime.getHeapUsage),
// and window.ddsp.memory(): the UI module's, the worker's and the worklet's wasm memory.
// Serves build-wasm/site (cmake --build build-wasm --target site).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchBrowser, openStudio } from './browser.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
export const SITE = join(repo, 'build-wasm', 'site');

// What a cycle picks, in turn (synth, method); every synth and every search method appear. Ten, so
// that samples every 10 or 50 cycles are all taken after the same work (the ddsp synth's parameter
// file alone is ~1.5 MB of JSON the page holds while it is the current one).
export const COMBOS = [
  ['ks', 'gradient'], ['drum808', 'genetic'], ['sine', 'gradient'], ['ddsp', 'gradient'],
  ['drum', 'hybrid'], ['ks', 'cmaes'], ['drum808', 'gradient'], ['ks', 'hybrid'], ['sine', 'genetic'], ['drum', 'gradient'],
];
export const SOUNDS = [
  'pluck_nylon_e3.wav', 'snare_audiophob_1.wav', 'pluck_steel_a3.wav', 'kick_audiophob_1.wav',
  'pluck_harp_e4.wav', 'tom_audiophob_low.wav', 'pluck_koto_e5.wav', 'tutorial_sine_622hz.wav',
].map((f) => `assets/sounds/${f}`);

// Installs window.__soak in the page: the bad files and one cycle's work.
function installSoak() {
  const u32 = (v, o, x) => v.setUint32(o, x, true);
  const u16 = (v, o, x) => v.setUint16(o, x, true);
  const str = (v, o, t) => { for (let i = 0; i < t.length; i++) v.setUint8(o + i, t.charCodeAt(i)); };
  // A WAV header (44 bytes) plus `payload` bytes; dataBytes is what the header claims.
  function wav({ rate = 16000, channels = 1, bits = 16, tag = 1, dataBytes, payload }) {
    const buf = new ArrayBuffer(44 + payload.byteLength), v = new DataView(buf);
    str(v, 0, 'RIFF'); u32(v, 4, 36 + payload.byteLength); str(v, 8, 'WAVE');
    str(v, 12, 'fmt '); u32(v, 16, 16); u16(v, 20, tag); u16(v, 22, channels); u32(v, 24, rate);
    u32(v, 28, rate * channels * bits / 8); u16(v, 32, channels * bits / 8); u16(v, 34, bits);
    str(v, 36, 'data'); u32(v, 40, dataBytes);
    new Uint8Array(buf, 44).set(new Uint8Array(payload));
    return buf;
  }
  const tone = (n) => { const a = new Int16Array(n); for (let i = 0; i < n; i++) a[i] = 8000 * Math.sin(i * 0.1); return a.buffer; };
  const nan = (n) => { const a = new Float32Array(n); a.fill(0.1); for (let i = 0; i < n; i += 7) a[i] = NaN; return a.buffer; };
  const bad = [
    { name: 'truncated.wav', bytes: (good) => good.slice(0, 30) },
    { name: 'notes.wav', bytes: () => new TextEncoder().encode('this is a text file, not audio\n'.repeat(20)).buffer },
    { name: 'zero-samples.wav', bytes: () => wav({ dataBytes: 0, payload: new ArrayBuffer(0) }) },
    { name: 'nan.wav', bytes: () => wav({ tag: 3, bits: 32, dataBytes: 4 * 4000, payload: nan(4000) }) },
    { name: 'huge-claim.wav', bytes: () => wav({ dataBytes: 0xF0000000, payload: tone(2000) }) },
    { name: 'empty.wav', bytes: () => new ArrayBuffer(0) },
  ];
  const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
  let good = null;

  async function cycle(i, o) {
    const d = window.ddsp;
    const out = { i, problems: [] };
    good ??= await (await fetch(o.sounds[0])).arrayBuffer();
    // 1. a recording, or a bad file (refused with one line; the previous target stays)
    if (i % 4 === 3) {
      const b = bad[Math.floor(i / 4) % bad.length];
      const before = d.state().target;
      try {
        await d.loadAudio(b.bytes(good), b.name);
        out.problems.push(`${b.name} was accepted`);
      } catch (e) {
        const msg = String(e.message);
        out.refused = `${b.name}: ${msg}`;
        if (msg.includes('\n') || !msg.includes(b.name)) out.problems.push(`${b.name}: not one line naming the file: ${msg}`);
      }
      if (d.state().target !== before) out.problems.push(`${b.name} replaced the target`);
    } else {
      await d.loadUrl(o.sounds[i % o.sounds.length]);
    }
    // 2. a synth and a method; 3. start, stop after runMs
    const [synth, method] = o.combos[i % o.combos.length];
    d.setSynth(synth);
    d.setMethod(method);
    await d.start({ steps: 100000, timeBudgetS: 0 });
    await sleep(o.runMs);
    await d.stop();
    const st = d.state();
    if (st.running) out.problems.push('still running after stop');
    out.match = `${synth}/${method}: ${st.iteration} iterations, best ${st.bestLoss}`;
    // 4. render the best parameters (as a slider edit does)
    if (st.params) await d.render(st.params);
    // 5. a note on the live engine
    d.live.noteOn(60 + (i % 12), 0.8);
    await sleep(30);
    d.live.noteOff(60 + (i % 12));
    // 6. scrub the latent pad
    if (i % 2 === 0) {
      await d.latent.load();
      const dims = d.latent.info().zDims;
      for (let k = 0; k < 3; k++) await d.latent.setZ(Array.from({ length: dims }, (_, j) => Math.sin(i * 1.7 + k + j)));
    }
    // 7. fine-tune for a moment (a pitched recording is needed: a drum or a refused file's previous
    //    target may not be one), then stop
    if (i % 5 === 0 && d.latent.recordingZ()) {
      const ft = d.latent.fineTune({ steps: 1000 });
      await sleep(Math.min(o.runMs, 500));
      await d.latent.stopFineTune();
      const r = await ft;
      if (!r.stopped) out.problems.push('fine-tuning did not stop');
    }
    const err = d.state().error;
    if (err && i % 4 !== 3) out.problems.push(`status error: ${err}`);
    return out;
  }
  window.__soak = { cycle };
}

const MB = 1 / (1024 * 1024);
const fmtMb = (b) => (b === null || b === undefined ? '-' : (b * MB).toFixed(1));

// JS heaps after a forced full GC (CDP HeapProfiler.collectGarbage, Runtime.getHeapUsage): the page's,
// and through CDP's target auto-attach (not flattened: the page's session relays messages) the
// worker's and the worklet's. Attach before navigating; a restarted worker is followed.
export async function heapMeter(page) {
  const cdp = await page.context().newCDPSession(page);
  const targets = new Map();  // type ('worker' | 'worklet') -> sessionId of the latest
  cdp.on('Target.attachedToTarget', (e) => targets.set(e.targetInfo.type, e.sessionId));
  cdp.on('Target.detachedFromTarget', (e) => {
    for (const [type, sid] of targets) if (sid === e.sessionId) targets.delete(type);
  });
  let nextId = 1;
  const waits = new Map();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    if (waits.has(m.id)) { waits.get(m.id)(m.result ?? null); waits.delete(m.id); }
  });
  const relay = (sessionId, method) => new Promise((ok) => {
    const id = nextId++;
    waits.set(id, ok);
    setTimeout(() => { if (waits.delete(id)) ok(null); }, 10000);
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).catch(() => ok(null));
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const used = async (send) => {
    await send('HeapProfiler.collectGarbage');
    await send('HeapProfiler.collectGarbage');
    return (await send('Runtime.getHeapUsage'))?.usedSize ?? null;
  };
  return {
    page: () => used((m) => cdp.send(m)),
    target: (type) => (targets.has(type) ? used((m) => relay(targets.get(type), m)) : Promise.resolve(null)),
  };
}

// Runs the soak in a fresh browser (or the given one). Returns {samples: [{cycle, jsHeapBytes,
// uiWasmBytes, workerWasmBytes, workletWasmBytes}], problems: [...], pageErrors: [...], final}.
export async function runSoak({ cycles = 500, sampleEvery = 50, runMs = 1000, log = console.log, browser: given,
  finalMatch = true } = {}) {
  if (!existsSync(join(SITE, 'index.html'))) throw new Error(`${SITE} is missing: build the 'site' target first`);
  const server = await startServer(SITE);
  const browser = given ?? await launchBrowser();
  const pageErrors = [];
  const problems = [];
  const samples = [];
  try {
    let meter;
    const page = await openStudio(browser, `${server.url}/index.html`, { viewport: { width: 1200, height: 800 },
      consoleErrors: pageErrors, beforeLoad: async (p) => { meter = await heapMeter(p); } });
    await page.evaluate(installSoak);
    const sample = async (cycle) => {
      const jsHeapBytes = await meter.page();
      const workerJsHeapBytes = await meter.target('worker');
      const workletJsHeapBytes = await meter.target('worklet');
      const m = await page.evaluate(() => window.ddsp.memory());
      const s = { cycle, jsHeapBytes, workerJsHeapBytes, workletJsHeapBytes, uiWasmBytes: m.uiWasmBytes,
        workerWasmBytes: m.workerWasmBytes, workletWasmBytes: m.workletWasmBytes };
      samples.push(s);
      log(`# cycle ${String(cycle).padStart(4)}: JS heap ${fmtMb(s.jsHeapBytes)} MB (worker ${fmtMb(s.workerJsHeapBytes)}, ` +
        `worklet ${fmtMb(s.workletJsHeapBytes)}); wasm: UI ${fmtMb(s.uiWasmBytes)} MB, worker ${fmtMb(s.workerWasmBytes)} MB, ` +
        `worklet ${fmtMb(s.workletWasmBytes)} MB`);
      return s;
    };
    await sample(0);
    const opts = { runMs, combos: COMBOS, sounds: SOUNDS };
    const t0 = Date.now();
    for (let i = 0; i < cycles; i++) {
      let r;
      try {
        r = await page.evaluate(({ i, opts }) => window.__soak.cycle(i, opts), { i, opts });
      } catch (e) {
        r = { i, problems: [`cycle threw: ${String(e.message ?? e).split('\n')[0]}`] };
      }
      for (const p of r.problems) problems.push(`cycle ${i}: ${p}`);
      if (r.problems.length) log(`# cycle ${i}: ${r.problems.join('; ')}`);
      if ((i + 1) % sampleEvery === 0 || i + 1 === cycles) {
        await sample(i + 1);
        log(`#   (${((Date.now() - t0) / 1000).toFixed(0)} s so far; last: ${r.match}${r.refused ? `; refused ${r.refused}` : ''})`);
      }
    }
    // A final match still converges: ks by gradient on the nylon pluck, from the synth's guess.
    let final = null;
    if (finalMatch) {
      final = await page.evaluate(async () => {
        const d = window.ddsp;
        await d.loadUrl('assets/sounds/pluck_nylon_e3.wav');
        d.setSynth('ks');
        d.setMethod('gradient');
        await d.start({ steps: 60, timeBudgetS: 0, params: null });
        await new Promise((ok) => { const off = d.onProgress((m) => { if (m.type === 'done') { off(); ok(); } }); });
        const s = d.state();
        return { initialLoss: s.initialLoss, bestLoss: s.bestLoss, iteration: s.iteration, error: s.error };
      });
      log(`# final match: ks gradient ${final.initialLoss.toFixed(3)} -> ${final.bestLoss.toFixed(3)} in ${final.iteration} iterations`);
    }
    await page.close();
    return { samples, problems, pageErrors, final };
  } finally {
    if (!given) await browser.close();
    await server.close();
  }
}

// Largest relative change of each measure between the first sample at or after `fromCycle` and every
// later sample: {jsHeap, uiWasm, workerWasm, workletWasm}.
export function growthAfter(samples, fromCycle) {
  const from = samples.find((s) => s.cycle >= fromCycle);
  const later = samples.filter((s) => s.cycle > from.cycle);
  const rel = (k) => Math.max(0, ...later.map((s) => (s[k] - from[k]) / from[k]));
  return { from: from.cycle, jsHeap: rel('jsHeapBytes'), uiWasm: rel('uiWasmBytes'), workerWasm: rel('workerWasmBytes'),
    workletWasm: rel('workletWasmBytes') };
}

// The long form: node tests/browser/soak.mjs --cycles 500
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name, dflt) => { const k = process.argv.indexOf(name); return k > 0 ? process.argv[k + 1] : dflt; };
  const cycles = Number(arg('--cycles', 500)), sampleEvery = Number(arg('--sample-every', 50));
  const runMs = Number(arg('--run-ms', 1000)), json = arg('--json', null);
  const t0 = Date.now();
  const r = await runSoak({ cycles, sampleEvery, runMs });
  const g = growthAfter(r.samples, Math.min(cycles, Math.max(sampleEvery, Math.round(cycles * 0.1))));
  console.log(`# ${cycles} cycles in ${((Date.now() - t0) / 1000).toFixed(0)} s; after cycle ${g.from}: JS heap +${(100 * g.jsHeap).toFixed(1)} %, ` +
    `UI wasm +${(100 * g.uiWasm).toFixed(1)} %, worker wasm +${(100 * g.workerWasm).toFixed(1)} %, worklet wasm +${(100 * g.workletWasm).toFixed(1)} %`);
  console.log(`# problems: ${r.problems.length}, page errors: ${r.pageErrors.length}`);
  for (const p of [...r.problems, ...r.pageErrors].slice(0, 20)) console.log(`#   ${p}`);
  if (json) await writeFile(json, JSON.stringify(r, null, 1));
  const ok = !r.problems.length && !r.pageErrors.length && g.jsHeap <= 0.1 && g.workerWasm <= 0.1 && g.workletWasm <= 0.1 &&
    g.uiWasm <= 0.1 && (!r.final || r.final.bestLoss < r.final.initialLoss);
  process.exit(ok ? 0 : 1);
}
