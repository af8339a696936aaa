// A worker that crashes is restarted by the page (web/studio.js restartWorker): a wasm trap, an
// abort() inside wasm and an uncaught exception in worker.js, each made on purpose through the test
// hook of a page opened with ?test-hooks=1 (window.ddsp.debug.crashWorker). After each the status
// line says what happened in one line, the target and the parameters are still there (in the page,
// in the UI and in the new worker: a render with the target works), and a new match runs and
// lowers the loss. Without the flag the hook does not exist.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openStudio } from './browser.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
let server, browser, page;
const consoleErrors = [];

before(async () => {
  assert.ok(existsSync(join(site, 'index.html')), `${site} is missing: build the 'site' target first`);
  server = await startServer(site);
  browser = await launchBrowser();
  page = await openStudio(browser, `${server.url}/index.html?test-hooks=1`, { viewport: { width: 1200, height: 800 }, consoleErrors });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const state = () => page.evaluate(() => window.ddsp.state());

test('without ?test-hooks=1 the page has no crash hook', async () => {
  const p = await openStudio(browser, `${server.url}/index.html`, {});
  assert.equal(await p.evaluate(() => window.ddsp.debug), undefined);
  await p.close();
});

test('a crashed worker is restarted with the target and parameters kept, and a new match runs', async () => {
  await page.evaluate(async () => {
    const d = window.ddsp;
    await d.loadUrl('assets/sounds/pluck_steel_a3.wav');
    d.setSynth('ks');
    d.setMethod('gradient');
    await d.start({ steps: 15 });
    await new Promise((ok) => { const off = d.onProgress((m) => { if (m.type === 'done') { off(); ok(); } }); });
  });
  const before = await state();
  assert.ok(before.params, 'a match left parameters');
  const uiParams = () => page.evaluate(() => JSON.parse(window.ddsp.exportParams()).params);
  let paramsBefore = await uiParams();

  for (const [i, kind] of ['trap', 'abort', 'throw'].entries()) {
    // The first crash hits a running match; the others an idle worker.
    if (i === 0) {
      await page.evaluate(() => window.ddsp.start({ steps: 100000 }));
      await page.waitForFunction(() => window.ddsp.state().iteration >= 2, null, { timeout: 60000 });
    }
    await page.evaluate((k) => window.ddsp.debug.crashWorker(k), kind);
    await page.waitForFunction((n) => window.ddsp.state().restarts === n && /restarted/.test(window.ddsp.state().status),
      i + 1, { timeout: 60000 });
    const s = await state();
    console.log(`# ${kind}: ${s.status}`);
    assert.ok(!/[\n\r]/.test(s.status), 'one line');
    assert.match(s.status, /engine stopped/);
    assert.match(s.status, /pluck_steel_a3\.wav/, 'the message names the target that was kept');
    assert.equal(s.running, false, 'the match that was running has ended');
    assert.equal(s.target, 'pluck_steel_a3.wav');
    if (i === 0) {
      // The run's best parameters so far stay (the next crashes must keep exactly these).
      paramsBefore = await uiParams();
      assert.equal(typeof paramsBefore.f0_hz, 'number');
    } else {
      assert.deepEqual(await uiParams(), paramsBefore, 'the parameters are kept');
    }
    assert.equal(s.synth, 'ks');
  }
  // The new worker has the target: a render with it (ks's residual excitation from the target) works.
  const rendered = await page.evaluate(async () => (await window.ddsp.render(window.ddsp.exportParams())).samples.length);
  assert.ok(rendered > 1000);
  // A new match from the kept parameters runs and lowers the loss.
  const m = await page.evaluate(async () => {
    const d = window.ddsp;
    await d.start({ steps: 40, params: null });
    await new Promise((ok) => { const off = d.onProgress((x) => { if (x.type === 'done') { off(); ok(); } }); });
    return d.state();
  });
  console.log(`# after three restarts: ks gradient ${m.initialLoss.toFixed(3)} -> ${m.bestLoss.toFixed(3)} in ${m.iteration} iterations`);
  assert.ok(m.iteration > 5 && m.bestLoss < m.initialLoss);
  assert.equal(m.error, null);
  assert.deepEqual(consoleErrors.filter((e) => !/debugCrash|unreachable|Aborted/.test(e)), []);
});
