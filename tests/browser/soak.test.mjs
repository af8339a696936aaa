// The soak's short form (tests/browser/soak.mjs has the long one: node tests/browser/soak.mjs
// --cycles 500): 80 cycles of load / synth and method / start / stop / render / latent scrub /
// fine-tune / notes with bad files mixed in, the page's, the worker's and the worklet's memory
// sampled every 10 cycles after a forced GC. After the warm-up (the first cycles: wasm memories grow
// to the largest job's high-water mark, see README "Reliability") every measure stays within 10 %
// from cycle 40 to the end (the JS heaps, ~1-3 MB, also within 1 MB: one ddsp parameter file is
// 1.5 MB); no page error, every bad file refused with one line, and a final match still converges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { growthAfter, runSoak } from './soak.mjs';

// The warm-up's end depends a little on timing (which live presets and jobs happen to overlap), so
// the window starts at half the run.
const FROM = 40;

test('80 cycles of a long session: memory flat after the warm-up, no page error, a final match converges', async () => {
  const r = await runSoak({ cycles: 80, sampleEvery: 10, runMs: 400 });
  assert.deepEqual(r.pageErrors, []);
  assert.deepEqual(r.problems, []);
  const g = growthAfter(r.samples, FROM);
  const at = (c) => r.samples.find((x) => x.cycle === c);
  const first = at(FROM), last = r.samples[r.samples.length - 1];
  for (const k of ['uiWasmBytes', 'workerWasmBytes', 'workletWasmBytes']) {
    for (const x of r.samples.filter((x) => x.cycle > FROM))
      assert.ok(x[k] <= first[k] * 1.1, `${k} grew from ${first[k]} at cycle ${FROM} to ${x[k]} at cycle ${x.cycle}`);
  }
  for (const k of ['jsHeapBytes', 'workerJsHeapBytes', 'workletJsHeapBytes']) {
    for (const x of r.samples.filter((x) => x.cycle > FROM)) {
      const grew = x[k] - first[k];
      assert.ok(grew <= Math.max(0.1 * first[k], 1024 * 1024), `${k} grew from ${first[k]} at cycle ${FROM} to ${x[k]} at cycle ${x.cycle}`);
    }
  }
  console.log(`# after cycle ${g.from}: JS heap ${(first.jsHeapBytes / 1048576).toFixed(2)} -> ${(last.jsHeapBytes / 1048576).toFixed(2)} MB; ` +
    `wasm growth: UI ${(100 * g.uiWasm).toFixed(1)} %, worker ${(100 * g.workerWasm).toFixed(1)} %, worklet ${(100 * g.workletWasm).toFixed(1)} %`);
  assert.ok(r.final.bestLoss < 0.7 * r.final.initialLoss, `final match: ${r.final.initialLoss} -> ${r.final.bestLoss}`);
});
