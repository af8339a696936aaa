// What the live-engine tests and benchmark share: a folder serving the audio engine's test page
// beside the built site's audio modules and model, and 16-bit WAV files for Chromium's fake
// microphone.
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A new temporary folder with audio.html, audio.js, audio-processor.js, keyboard.js,
// ddsp_worklet.mjs and assets/models/ddsp_gm8.safetensors (from siteDir, the built site).
export function makeAudioSite(siteDir, repoRoot, prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const f of ['audio.js', 'audio-processor.js', 'keyboard.js', 'ddsp_worklet.mjs']) copyFileSync(join(siteDir, f), join(dir, f));
  copyFileSync(join(repoRoot, 'tests/browser/audio.html'), join(dir, 'audio.html'));
  mkdirSync(join(dir, 'assets/models'), { recursive: true });
  copyFileSync(join(siteDir, 'assets/models/ddsp_gm8.safetensors'), join(dir, 'assets/models/ddsp_gm8.safetensors'));
  return dir;
}

// n samples of sample(i) (in [-1, 1]) at sampleRate as a mono 16-bit PCM WAV file's bytes.
export function pcm16Wav(n, sampleRate, sample) {
  const data = Buffer.alloc(44 + 2 * n);
  data.write('RIFF', 0); data.writeUInt32LE(36 + 2 * n, 4); data.write('WAVE', 8);
  data.write('fmt ', 12); data.writeUInt32LE(16, 16); data.writeUInt16LE(1, 20); data.writeUInt16LE(1, 22);
  data.writeUInt32LE(sampleRate, 24); data.writeUInt32LE(2 * sampleRate, 28); data.writeUInt16LE(2, 32);
  data.writeUInt16LE(16, 34);
  data.write('data', 36); data.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(32767 * Math.max(-1, Math.min(1, sample(i)))), 44 + 2 * i);
  return data;
}
