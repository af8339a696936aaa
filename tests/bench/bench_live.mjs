// The audio thread's cost and reliability (issue 11's targets), side by side in one run:
//   - per 128-sample quantum at 48 kHz: the live engine natively (build/bench_live), the same C++ in
//     wasm under node (build-wasm/bench_live.js: precise clock, mean / p99 / max), and the worklet
//     module inside Chromium's AudioWorklet (build-wasm/site: the studio's ddsp_worklet.mjs; its
//     scope has only Date.now, so quanta are timed in batches: mean only)
//   - a realtime run in headless Chromium: 8 ks voices held (retriggered) and the decoder live from
//     the fake microphone (a sung tone) for SECONDS (default 60; --quick: 5), then the worklet's
//     stats: quanta, xruns (quanta whose process() took longer than the quantum), decoder
//     underruns, mean process() time.
// Usage: node tests/bench/bench_live.mjs [--quick]   (after building build/, build-wasm/ and the site)
// Prints markdown tables and one JSON line. Numbers only: nothing here is asserted.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../browser/browser.mjs';
import { makeAudioSite, pcm16Wav } from '../browser/live_fixtures.mjs';
import { startServer } from '../browser/serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
const quick = process.argv.includes('--quick');
const SECONDS = quick ? 5 : Number(process.env.SECONDS ?? 60);

function runLines(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
  } catch (e) {
    console.error(`bench_live: ${cmd} failed: ${e.message}`);
    return [];
  }
}

// [SECTION] native and wasm under node
const rows = [];
if (existsSync(join(repo, 'build/bench_live'))) rows.push(...runLines(join(repo, 'build/bench_live'), []));
if (existsSync(join(repo, 'build-wasm/bench_live.js'))) rows.push(...runLines('node', [join(repo, 'build-wasm/bench_live.js')]));

// [SECTION] Chromium's AudioWorklet
function sungWav(f0, seconds, sr) {
  let phase = 0;
  return pcm16Wav(Math.round(seconds * sr), sr, (i) => {
    phase += (2 * Math.PI * f0 * (1 + 0.01 * Math.sin((2 * Math.PI * 5 * i) / sr))) / sr;
    return 0.2 * (Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.3 * Math.sin(3 * phase));
  });
}

const tmp = makeAudioSite(site, repo, 'ddsp-bench-live-');
writeFileSync(join(tmp, 'sung.wav'), sungWav(220, Math.max(10, SECONDS + 5), 48000));
const server = await startServer(tmp);
const browser = await launchBrowser({ extraArgs: [`--use-file-for-fake-audio-capture=${join(tmp, 'sung.wav')}`] });
let worklet = [], realtime = null;
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/audio.html`);
  await page.waitForFunction(() => window.pageReady === true);
  worklet = await page.evaluate(async () => {
    const preset = (synth, seconds) => ({ params: JSON.stringify({ synth, seconds, params: {} }) });
    const model = await (await fetch('assets/models/ddsp_gm8.safetensors')).arrayBuffer();
    const out = [];
    const cases = [['live_sine_1', 'sine', 1, 1], ['live_drum808_1', 'drum808', 1, 1], ['live_ks_1', 'ks', 1, 1],
      ['live_ks_8', 'ks', 8, 1], ['live_ddsp_1', 'ddsp', 1, 4], ['live_ddsp_8', 'ddsp', 8, 4], ['live_decoder_mic', null, 0, 0]];
    for (const [bench, synth, voices, seconds] of cases) {
      // An offline context that never renders: the processor runs only the benchmark's blocks.
      const context = new OfflineAudioContext(1, 128, 48000);
      const engine = await AudioEngine.create({ context });
      if (synth) {
        await engine.livePreset(preset(synth, seconds));
      } else {
        await engine.liveModel(model);
        await engine.liveSource('input');  // no input connected: the decoder runs on silence
      }
      let ms = 0, quanta = 0;
      for (let round = 0; round < 10; round++) {
        for (let v = 0; v < voices; v++) engine.noteOn(48 + 3 * v, 0.7);  // (re)struck: one-shots keep sounding
        await engine.liveBench(50);  // warm-up
        const r = await engine.liveBench(300);
        ms += r.ms;
        quanta += r.quanta;
      }
      out.push({ impl: 'worklet', bench, us_mean: (1000 * ms) / quanta, budget_us: (1e6 * 128) / 48000, quanta });
      await engine.close();
    }
    return out;
  });

  // The realtime run: 8 voices and the decoder from the fake microphone.
  const rt = await browser.newPage();
  await rt.goto(`${server.url}/audio.html`);
  await rt.waitForFunction(() => window.pageReady === true);
  realtime = await rt.evaluate(async (seconds) => {
    const engine = new AudioEngine({ latencyHint: 'interactive', sampleRate: 48000 });
    await engine.init();
    await engine.resume();
    await engine.livePreset({ params: JSON.stringify({ synth: 'ks', seconds: 1, params: {} }) });
    await engine.liveModel(await (await fetch('assets/models/ddsp_gm8.safetensors')).arrayBuffer());
    const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false,
      autoGainControl: false } });
    await engine.setInput(mic);
    await engine.liveSource('input');
    await engine.liveStats({ reset: true });
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      for (let v = 0; v < 8; v++) engine.noteOn(40 + 5 * v, 0.6);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const st = await engine.liveStats();
    mic.getTracks().forEach((t) => t.stop());
    await engine.close();
    return { seconds, baseLatencyMs: 1000 * (engine.context.baseLatency ?? 0), outputLatencyMs: 1000 * (engine.context.outputLatency ?? 0), ...st };
  }, SECONDS);
} finally {
  await browser.close();
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
}

// [SECTION] tables
const all = [...rows, ...worklet];
const names = [...new Set(all.map((r) => r.bench))];
const pct = (us, budget) => (us === undefined ? '-' : `${us.toFixed(1)} (${((100 * us) / budget).toFixed(2)} %)`);
console.log(`\n### Audio-thread cost per 128-sample quantum at 48 kHz (budget 2667 us)\n`);
console.log(`machine: ${cpus()[0]?.model ?? '?'} x ${cpus().length}, load ${loadavg()[0].toFixed(2)}\n`);
console.log('| workload | native mean us (%) | native max | wasm/node mean us (%) | wasm/node p99 | wasm/node max | worklet mean us (%) | worklet / native |');
console.log('|---|---|---|---|---|---|---|---|');
for (const name of names) {
  const n = all.find((r) => r.bench === name && r.impl === 'native');
  const w = all.find((r) => r.bench === name && r.impl === 'wasm');
  const k = all.find((r) => r.bench === name && r.impl === 'worklet');
  const budget = 1e6 * 128 / 48000;
  console.log(`| ${name} | ${pct(n?.us_mean, budget)} | ${n?.us_max?.toFixed(0) ?? '-'} | ${pct(w?.us_mean, budget)} | ` +
    `${w?.us_p99?.toFixed(1) ?? '-'} | ${w?.us_max?.toFixed(0) ?? '-'} | ${pct(k?.us_mean, budget)} | ` +
    `${n && k ? (k.us_mean / n.us_mean).toFixed(2) + 'x' : '-'} |`);
}
if (realtime) {
  console.log(`\n### Realtime: 8 ks voices + the decoder from the fake microphone, ${realtime.seconds} s in headless Chromium\n`);
  console.log(`quanta ${realtime.quanta}, xruns (process() over the quantum) ${realtime.xruns}, decoder underruns ` +
    `${realtime.underruns}, process() mean ${realtime.processMsMean.toFixed(3)} ms (${realtime.clock}; ` +
    `${(100 * realtime.processMsMean / realtime.budgetMs).toFixed(1)} % of the budget), steals ${realtime.steals}, ` +
    `input latency ${realtime.inputLatencyMs.toFixed(1)} ms + context base latency ${realtime.baseLatencyMs.toFixed(1)} ms, ` +
    `output latency ${realtime.outputLatencyMs.toFixed(1)} ms, allocations in process() ${realtime.allocations}`);
}
console.log(JSON.stringify({ rows: all, realtime }));
