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

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
  });
}
