// How fast a match reaches its final quality in the page (the worker, wasm, this machine) against
// the native CLI on the same clip, method and budget. For each (clip, synth): the best loss over
// wall time in the studio, then "t95", the time at which the best loss has made 95 % of the fall
// it makes in the whole budget, and the same from `ddsp match`'s report. Not a test: it prints a
// table (tests never assert wall-clock times).
//
//   node tests/bench/bench_page_match.mjs [--budget 20]
// Needs build-wasm/site and build/ddsp.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openStudio } from '../browser/browser.mjs';
import { startServer } from '../browser/serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
const cli = join(repo, 'build', 'ddsp');
const budgetArg = process.argv.indexOf('--budget');
const budget = budgetArg > 0 ? Number(process.argv[budgetArg + 1]) : 20;
const cases = [
  ['snare_audiophob_2.wav', 'drum'], ['tom_audiophob_low.wav', 'drum'], ['clap_audiophob_1.wav', 'drum'],
  ['pluck_nylon_e3.wav', 'ks'], ['pluck_bass_e2.wav', 'ks'],
];

// Seconds until the best loss has made 95 % of its fall from `initial` to its final value.
function t95(points, initial) {
  const final = points[points.length - 1].best;
  const goal = final + 0.05 * (initial - final);
  return points.find((p) => p.best <= goal)?.t ?? NaN;
}

if (!existsSync(join(site, 'index.html')) || !existsSync(cli)) throw new Error('build the site and build/ddsp first');
const server = await startServer(site);
const browser = await launchBrowser();
const page = await openStudio(browser, `${server.url}/index.html`, { viewport: { width: 1200, height: 800 } });
const rows = [];
try {
  for (const [clip, synth] of cases) {
    await page.evaluate((c) => window.ddsp.loadUrl(`assets/sounds/${c}`), clip);
    await page.waitForFunction((c) => window.ddsp.state().target === c, clip, { timeout: 30000 });
    await page.evaluate(([sy]) => { window.ddsp.setSynth(sy); window.ddsp.setMethod('gradient'); }, [synth]);
    await page.evaluate((b) => window.ddsp.start({ steps: 100000, timeBudgetS: b, seed: 0 }), budget);
    const points = [];
    for (;;) {
      const s = await page.evaluate(() => window.ddsp.state());
      if (s.bestLoss != null && s.elapsedS > 0) points.push({ t: s.elapsedS, best: s.bestLoss });
      if (!s.running && points.length) { points.initial = s.initialLoss; break; }
      await new Promise((r) => setTimeout(r, 200));
    }
    const out = mkdtempSync(join(tmpdir(), 'pagematch-'));
    execFileSync(cli, ['match', '--synth', synth, '--method', 'gradient', '--target', join(repo, 'assets/sounds', clip),
      '--steps', '100000', '--time-budget', String(budget), '--seed', '0', '--threads', '1', '-q', '-o', out]);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const native = rep.iterations.map((h) => ({ t: h.elapsed_s, best: h.best_loss }));
    rows.push({ clip, synth, page: { t95: t95(points, points.initial), end: points[points.length - 1].t, best: points[points.length - 1].best },
      native: { t95: t95(native, rep.initial_loss), end: rep.compute_time_s, best: rep.best_loss } });
    console.error(JSON.stringify(rows[rows.length - 1]));
  }
} finally {
  await browser.close();
  await server.close();
}
console.log('| clip | synth | page: 95 % of the fall at | page: stopped at, best | native: 95 % at | native: stopped at, best |');
console.log('|---|---|---:|---:|---:|---:|');
for (const r of rows)
  console.log(`| ${r.clip} | ${r.synth} | ${r.page.t95.toFixed(1)} s | ${r.page.end.toFixed(1)} s, ${r.page.best.toFixed(3)} | ` +
    `${r.native.t95.toFixed(1)} s | ${r.native.end.toFixed(1)} s, ${r.native.best.toFixed(3)} |`);
