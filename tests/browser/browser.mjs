// Launches Debian's Chromium headless through playwright-core with the flags this machine needs
// (no sandbox as root, software WebGL, no background network traffic).
import { chromium } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--autoplay-policy=no-user-gesture-required', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  // A fake microphone (a beeping tone) with no permission prompt, for the recording test.
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
];

// extraArgs: more Chromium flags (e.g. --use-file-for-fake-audio-capture=FILE.wav for a fake
// microphone that sings a known tone).
export async function launchBrowser({ extraArgs = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_FLAGS, ...extraArgs],
  });
}

// Opens `url` (the studio or a page of it) in a new page and waits until window.ddsp is ready.
// Console errors and uncaught page errors are appended to `consoleErrors` (tests assert it stays
// empty); `beforeLoad(page)` runs (and is awaited) before navigation, to attach more listeners.
export async function openStudio(browser, url, { viewport, consoleErrors, beforeLoad } = {}) {
  const page = await browser.newPage({ viewport });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors?.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors?.push(String(e)));
  if (beforeLoad) await beforeLoad(page);
  await page.goto(url);
  await page.waitForFunction(() => window.ddsp && window.ddsp.ready, null, { timeout: 60000 });
  await page.evaluate(() => window.ddsp.ready);
  return page;
}
