// Page messages never echo raw bytes (web/studio/util.js safeText at every message sink): files
// dropped on the page whose names and contents hold control characters (C0, DEL, C1) and invalid
// text, and a parameter file with such a parameter name, give status lines where each of them is a
// visible escape (\x01, \x1B, \x7F, \x85 ...), lone surrogates are U+FFFD, and nothing else changes.
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
// Raw control characters (C0, DEL, C1), the line and paragraph separators and bidi controls.
const RAW = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;

before(async () => {
  assert.ok(existsSync(join(site, 'index.html')), `${site} is missing: build the 'site' target first`);
  server = await startServer(site);
  browser = await launchBrowser();
  page = await openStudio(browser, `${server.url}/index.html`, { viewport: { width: 1200, height: 800 }, consoleErrors });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// Drops a file (name, bytes from a function run in the page) on the canvas through a real DataTransfer.
const drop = (name, content) => page.evaluate(([name, content]) => {
  const bytes = Uint8Array.from(content);
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], name));
  for (const type of ['dragenter', 'dragover', 'drop'])
    document.getElementById('canvas').dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
}, [name, Array.from(content)]);

const waitStatus = (pred) => page.waitForFunction(pred, null, { timeout: 20000 });

test('a dropped file whose name and content hold control characters: the status line shows escapes', async () => {
  const name = 'bad\u0001\u001b[31m\u007f\u0085\u009bname\u202e\u2028.wav';
  const content = Buffer.from('\u0001\u001b[2J\u007f\u0085 not audio at all \u0007\u0000\n'.repeat(4), 'latin1');
  await drop(name, content);
  await waitStatus(() => (window.ddsp.state().error ?? '').includes('name'));
  const s = await page.evaluate(() => window.ddsp.state());
  console.log(`# ${s.error}`);
  assert.ok(!RAW.test(s.error), `no raw control characters: ${JSON.stringify(s.error)}`);
  assert.ok(!RAW.test(s.status));
  assert.ok(s.error.startsWith('bad\\x01\\x1B[31m\\x7F\\x85\\x9Bname\\u202E\\u2028.wav: '), s.error);
  assert.equal(s.target, 'pluck_nylon_e3.wav', 'the previous target stays');
});

test('a name with invalid text (a lone surrogate) shows U+FFFD; a good file with such a name loads and is named safely', async () => {
  const good = await page.evaluate(async () => Array.from(new Uint8Array(await (await fetch('assets/sounds/pluck_koto_e5.wav')).arrayBuffer())));
  await drop('koto\u0000\u0009\ud800.wav', Buffer.from(good));
  await waitStatus(() => (window.ddsp.state().status ?? '').startsWith('Loaded koto'));
  const s = await page.evaluate(() => window.ddsp.state());
  console.log(`# ${s.status}`);
  assert.ok(!RAW.test(s.status));
  assert.ok(!/[\uD800-\uDFFF]/.test(s.status), 'no lone surrogate');
  assert.ok(s.status.startsWith('Loaded koto\\x00\\t\uFFFD.wav ('), s.status);
  assert.equal(s.error, null);
});

test('a dropped parameter file with control characters in a name and in its text: escaped messages', async () => {
  const params = JSON.stringify({ synth: 'ks', params: { 'f0\u0007\u009b_hz': 200 } });
  await drop('preset.json', Buffer.from(params, 'utf8'));
  await waitStatus(() => /^Render: /.test(window.ddsp.state().error ?? ''));
  let s = await page.evaluate(() => window.ddsp.state());
  console.log(`# ${s.error}`);
  assert.ok(!RAW.test(s.error), JSON.stringify(s.error));
  // (The engine escapes both as the page's safeText does.)
  assert.match(s.error, /'f0\\x07\\x9B_hz'/);

  await drop('broken.json', Buffer.from('{"synth": "ks", \u0001\u001b[31m oops', 'latin1'));
  await waitStatus(() => /^Parameter file: /.test(window.ddsp.state().error ?? ''));
  s = await page.evaluate(() => window.ddsp.state());
  console.log(`# ${s.error}`);
  assert.ok(!RAW.test(s.error), JSON.stringify(s.error));
  // The page still works.
  await page.evaluate(() => window.ddsp.loadUrl('assets/sounds/pluck_nylon_e3.wav'));
  assert.equal((await page.evaluate(() => window.ddsp.state())).error, null);
  assert.deepEqual(consoleErrors, []);
});
