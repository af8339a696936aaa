// The tutorial book (web/book, built into build-wasm/site/book) in headless Chromium, served from a
// copy of the site in another folder under a sub-path: every chapter's links are relative, its
// figures (drawn by the native CLI at build time) load, its equations are MathML, its widgets are
// created only when scrolled near, and every widget loads and reaches 'done'.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const site = join(repo, 'build-wasm', 'site');
let browser, server, root, base;

// The chapters, in the contents' order (index.html is the source of truth).
const chapters = [...readFileSync(join(repo, 'web', 'book', 'index.html'), 'utf8')
  .matchAll(/<li><a href="(\d\d-[a-z-]+\.html)">/g)].map((m) => m[1]);

before(async () => {
  assert.ok(existsSync(join(site, 'book', 'index.html')), `${site}/book is missing: build the 'site' target first`);
  // The site copied to another folder, served under a sub-path, as a reader's own host would.
  root = mkdtempSync(join(tmpdir(), 'ddsp-book-'));
  cpSync(site, join(root, 'courses', 'audio', 'ddsp'), { recursive: true });
  server = await startServer(root);
  base = `${server.url}/courses/audio/ddsp/book`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function openPage(file, viewport = { width: 900, height: 800 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const missing = [];
  page.on('response', (r) => { if (r.status() >= 400) missing.push(r.url()); });
  await page.goto(`${base}/${file}`);
  await page.waitForFunction(() => window.book !== undefined, null, { timeout: 20000 });
  return { page, errors, missing };
}

test('the contents lists seven chapters, and every link in the book is relative', async () => {
  assert.equal(chapters.length, 7);
  for (const file of ['index.html', ...chapters]) {
    const html = readFileSync(join(repo, 'web', 'book', file), 'utf8');
    const urls = [...html.matchAll(/(?:href|src|data-src)="([^"]*)"/g)].map((m) => m[1]);
    for (const u of urls) assert.ok(!/^(\/|[a-z]+:)/i.test(u) || u === 'data:,', `${file}: ${u} is not relative`);
  }
});

test('each chapter: figures load, equations are MathML, navigation links its neighbours', async () => {
  for (const [i, file] of chapters.entries()) {
    const { page, errors, missing } = await openPage(file);
    const info = await page.evaluate(async () => {
      const imgs = [...document.querySelectorAll('figure img')];
      for (const img of imgs) { img.loading = 'eager'; img.scrollIntoView(); }
      await Promise.all(imgs.map((img) => img.complete ? null : new Promise((ok) => { img.onload = img.onerror = ok; })));
      return {
        figures: imgs.map((img) => ({ src: img.getAttribute('src'), width: img.naturalWidth })),
        maths: document.querySelectorAll('math').length,
        prev: document.querySelector('.chapter-nav a[rel="prev"]')?.getAttribute('href') ?? null,
        next: document.querySelector('.chapter-nav a[rel="next"]')?.getAttribute('href') ?? null,
        commands: [...document.querySelectorAll('.try pre')].map((p) => p.textContent).join('\n'),
      };
    });
    assert.ok(info.figures.length > 0, `${file}: no figure`);
    for (const f of info.figures) assert.ok(f.width > 0, `${file}: figure ${f.src} did not load`);
    assert.ok(info.maths > 0, `${file}: no MathML`);
    assert.equal(info.prev, i > 0 ? chapters[i - 1] : null, `${file}: previous link`);
    assert.equal(info.next, i + 1 < chapters.length ? chapters[i + 1] : null, `${file}: next link`);
    assert.match(info.commands, /\bddsp [a-z-]+ /, `${file}: no ddsp command to reproduce its figures`);
    assert.deepEqual(missing, [], `${file}: missing files`);
    assert.deepEqual(errors, [], `${file}: page errors`);
    await page.close();
  }
});

test('widgets start no engine before they are scrolled near, then load and reach done', async () => {
  let total = 0;
  for (const file of chapters) {
    const { page, errors } = await openPage(file);
    const widgets = await page.evaluate(() => window.book.widgets());
    assert.ok(widgets.length > 0, `${file}: no widget`);
    total += widgets.length;
    // Lazy: only widgets near the first screen have a frame; the rest are placeholders.
    const frames = await page.evaluate(() => document.querySelectorAll('iframe').length);
    const below = await page.evaluate(() => [...document.querySelectorAll('.widget')]
      .filter((w) => w.getBoundingClientRect().top > innerHeight + 400).length);
    assert.ok(frames <= widgets.length - below, `${file}: ${frames} frames with ${below} widgets far below the fold`);
    for (const w of widgets) {
      await page.evaluate((id) => document.getElementById(id).scrollIntoView({ block: 'center' }), w.id);
      await page.waitForFunction((id) => window.book.widgets().find((x) => x.id === id).state === 'ready', w.id, { timeout: 90000 });
      // A short match from the widget's own settings, started as the Match button does.
      const frame = page.frame({ name: w.id });
      assert.ok(frame, `${file}: no frame for ${w.id}`);
      if (w.src.includes('view=latent')) {
        // The latent widget: its model is loaded; fine-tuning is its job (a few steps here).
        assert.ok(await frame.evaluate(() => window.ddsp.latent.state().loaded), `${file}: ${w.id}: no latent model`);
        await frame.evaluate(() => { window.ddsp.latent.fineTune({ steps: 3 }); });
      } else {
        await frame.evaluate(() => window.ddsp.start({ steps: 12 }));
      }
      await page.waitForFunction((id) => window.book.widgets().find((x) => x.id === id).state === 'done', w.id, { timeout: 180000 });
      const done = (await page.evaluate(() => window.book.widgets())).find((x) => x.id === w.id);
      assert.ok(Number.isFinite(done.bestLoss), `${file}: ${w.id} done without a finite loss`);
      console.log(`# ${file} ${w.id}: done, ${done.iteration} iterations, best loss ${done.bestLoss.toPrecision(4)}`);
    }
    assert.deepEqual(errors, [], `${file}: page errors`);
    await page.close();
  }
  assert.ok(total >= 12, `only ${total} widgets in the book`);
});

test('the loss menu reloads a widget with another loss on the same target, and it matches', async () => {
  const { page, errors } = await openPage('02-spectral-losses.html');
  await page.evaluate(() => document.getElementById('loss-linear').scrollIntoView({ block: 'center' }));
  await page.waitForFunction(() => window.book.widgets().find((x) => x.id === 'loss-linear').state === 'ready', null, { timeout: 90000 });
  await page.selectOption('#loss-linear select', 'mrstft');
  // While the widget loads and matches, how late do the book page's own timers fire? (Reported, not
  // asserted: the engine runs in the widget's worker, so the reader's page should stay responsive.)
  const lag = await page.evaluate(() => new Promise((done) => {
    const worst = []; let last = performance.now(); let n = 0;
    const tick = () => {
      const now = performance.now(); worst.push(now - last - 50); last = now;
      if (++n < 60) setTimeout(tick, 50); else done({ max: Math.max(...worst), mean: worst.reduce((a, b) => a + b, 0) / worst.length });
    };
    setTimeout(tick, 50);
  }));
  console.log(`# book page timer lateness while a widget loads and matches: mean ${lag.mean.toFixed(1)} ms, worst ${lag.max.toFixed(1)} ms`);
  // autostart=1: the reloaded widget matches on its own.
  await page.waitForFunction(() => window.book.widgets().find((x) => x.id === 'loss-linear').state === 'done', null, { timeout: 240000 });
  const src = await page.evaluate(() => window.book.frame('loss-linear').src);
  assert.match(src, /loss=mrstft/);
  assert.match(src, /target=assets%2Fsounds%2Fpluck_nylon_e3\.wav|target=assets\/sounds\/pluck_nylon_e3\.wav/);
  assert.deepEqual(errors, []);
  await page.close();
});
