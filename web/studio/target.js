// The target recording: decoding (the browser's decoder, else the engine's WAV reader in the
// worker), checks, handing it to the worker and the audio engine; the file dialog, drag and drop
// anywhere on the page, and microphone recording.
import { baseName, safeText } from './util.js';

// [SECTION] limits: what the page reads, checked before anything is allocated
//
// Wasm memory is finite (2 GB per module here) and a browser tab's memory too, so a recording is
// refused with one line before it is read or decoded when
//   - the file is larger than MAX_FILE_BYTES (its size is known before reading it), or
//   - a WAV header promises more than limits.maxSeconds of audio, or more samples than
//     MEMORY_BUDGET_BYTES holds once decoded (checked from the header: the first 64 KB), or
//   - decoded audio (any format) is longer than limits.maxSeconds or larger than the budget.
// limits.maxSeconds (10 minutes; the match uses the first few seconds, the remap panel two minutes)
// can be raised with window.ddsp.limits({maxSeconds}); the byte budget cannot.
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
export const MEMORY_BUDGET_BYTES = 512 * 1024 * 1024;
export const limits = { maxSeconds: 600 };
const BROWSER_RATE_HZ = 44100;  // decode() decodes at this rate

const mb = (n) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : `${(n / 1024 ** 2).toFixed(n < 10 * 1024 ** 2 ? 1 : 0)} MB`);
const duration = (sec) => (sec >= 7200 ? `${(sec / 3600).toFixed(1)} hours` : sec >= 120 ? `${(sec / 60).toFixed(1)} minutes` : `${sec.toFixed(1)} s`);

// What a WAV (RIFF, RF64) header declares: {rate, channels, blockAlign, dataBytes (null: unknown, as
// streaming writers leave it), dataOffset}, or null when the bytes do not start a WAV file.
export function wavHeader(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o) => String.fromCharCode(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]);
  if (bytes.length < 12 || !['RIFF', 'RF64'].includes(tag(0)) || tag(8) !== 'WAVE') return null;
  const out = { rate: 0, channels: 0, blockAlign: 0, dataBytes: null, dataOffset: -1 };
  let ds64 = null;
  for (let pos = 12; pos + 8 <= bytes.length;) {
    const id = tag(pos), size = v.getUint32(pos + 4, true);
    if (id === 'fmt ' && pos + 24 <= bytes.length) {
      out.channels = v.getUint16(pos + 10, true);
      out.rate = v.getUint32(pos + 12, true);
      out.blockAlign = v.getUint16(pos + 20, true);
    } else if (id === 'ds64' && pos + 32 <= bytes.length) {
      ds64 = v.getUint32(pos + 16, true) + v.getUint32(pos + 20, true) * 2 ** 32;
    } else if (id === 'data') {
      out.dataOffset = pos + 8;
      out.dataBytes = size === 0xFFFFFFFF ? ds64 : size === 0 ? null : size;
      break;
    }
    pos += 8 + size + (size & 1);
  }
  return out;
}

// A one-line refusal if a file of fileBytes whose header is `head` (or null) is too much; else null.
function refuseBeforeReading(name, fileBytes, head) {
  if (fileBytes > MAX_FILE_BYTES) return `${name}: the file is ${mb(fileBytes)}, more than this page reads (${mb(MAX_FILE_BYTES)})`;
  const h = head && wavHeader(head);
  if (!h || !(h.rate > 0) || !(h.blockAlign > 0)) return null;
  // What the header promises, or (unknown size) what the file can hold.
  const dataBytes = h.dataBytes ?? Math.max(0, fileBytes - Math.max(0, h.dataOffset));
  const seconds = dataBytes / h.blockAlign / h.rate;
  if (seconds > limits.maxSeconds) {
    return `${name}: the header promises ${duration(seconds)} of audio (${mb(dataBytes)}), more than this page's limit of ` +
      `${duration(limits.maxSeconds)}`;
  }
  // The browser decodes every channel at its rate (as float), and the page keeps the mono mix. (Files
  // the browser refuses go to the engine's reader, which the worker bounds by their size.)
  const decodeBytes = seconds * BROWSER_RATE_HZ * 4 * (Math.max(1, h.channels) + 1);
  if (decodeBytes > MEMORY_BUDGET_BYTES) {
    return `${name}: ${duration(seconds)} at ${h.rate} Hz would take ${mb(decodeBytes)} to decode, more than this page's ` +
      `budget of ${mb(MEMORY_BUDGET_BYTES)}`;
  }
  return null;
}

// The same for decoded audio (any format), before it goes to the worker, the UI and the player.
function refuseDecoded(name, frames, sampleRate) {
  const seconds = frames / sampleRate;
  if (seconds > limits.maxSeconds) return `${name}: ${duration(seconds)} of audio, more than this page's limit of ${duration(limits.maxSeconds)}`;
  // The page, the worker, the engine and the UI each hold a copy of the mono samples.
  if (4 * frames > MEMORY_BUDGET_BYTES / 4) {
    return `${name}: ${duration(seconds)} at ${sampleRate} Hz is ${mb(4 * frames)} of samples, more than this page holds ` +
      `(${mb(MEMORY_BUDGET_BYTES / 4)})`;
  }
  return null;
}

// Decodes anything the browser can (WAV, FLAC, MP3, Ogg...), downmixes to mono.
// One context decodes every file (a context made per decode left ~130 bytes of Chromium's
// bookkeeping behind each time, measured in isolation with tests/browser/soak.mjs's heap meter).
let decodeContext = null;
async function decode(arrayBuffer) {
  decodeContext ??= new OfflineAudioContext(1, 1, BROWSER_RATE_HZ);
  const buffer = await decodeContext.decodeAudioData(arrayBuffer.slice(0));
  const n = buffer.length, mono = new Float32Array(n);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const ch = buffer.getChannelData(c);
    for (let i = 0; i < n; i++) mono[i] += ch[i] / buffer.numberOfChannels;
  }
  return { samples: mono, sampleRate: buffer.sampleRate };
}

// Adds s.loadAudio, s.loadUrl, s.record, and s.decodeInput and s.captureMicrophone (the remap panel's
// performance uses them too).
export function installTarget(s) {
  const { state, setStatus, request } = s;

  // Any audio input (ArrayBuffer, typed array, Blob, File) -> {samples (mono), sampleRate, name}:
  // the browser's decoder, else the engine's WAV reader in the worker. Errors are one line that
  // names the file (also on the status line).
  async function decodeInput(input, name) {
    let bytes;
    const refuse = (text) => { setStatus(text, true); throw new Error(state.error); };
    if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
      name = baseName(name ?? 'recording');
      const view = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      const no = refuseBeforeReading(name, view.byteLength, view.subarray(0, 65536));
      if (no) refuse(no);
      bytes = input instanceof ArrayBuffer ? input : input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength);
    } else if (input && typeof input.arrayBuffer === 'function') {
      name = baseName(name ?? input.name ?? 'recording');
      // Size and header first: a huge file is refused without being read.
      const no = refuseBeforeReading(name, input.size, new Uint8Array(await input.slice(0, 65536).arrayBuffer()));
      if (no) refuse(no);
      bytes = await input.arrayBuffer();
    } else throw new Error('loadAudio needs an ArrayBuffer, Blob or File');
    if (bytes.byteLength === 0) {
      setStatus(`${name}: the file is empty`, true);
      throw new Error(state.error);
    }
    let decoded;
    try {
      decoded = await decode(bytes);
    } catch {
      // The browser refused it: let the engine's own WAV reader try (RF64, 64-bit float, odd
      // headers) and explain what is wrong with the file.
      try {
        decoded = await request({ type: 'decodeWav', bytes, maxSeconds: limits.maxSeconds }, []);
      } catch (e) {
        setStatus(`${name}: not audio this page can read (${e.message})`, true);
        throw new Error(state.error);
      }
    }
    if (!decoded.samples.length) {
      setStatus(`${name}: the file holds no samples`, true);
      throw new Error(state.error);
    }
    const no = refuseDecoded(name, decoded.samples.length, decoded.sampleRate);
    if (no) refuse(no);
    return { samples: decoded.samples, sampleRate: decoded.sampleRate, name };
  }

  async function loadAudio(input, name) {
    const decoded = await decodeInput(input, name);
    name = decoded.name;
    const { samples, sampleRate } = decoded;
    if (state.running) await s.stop();
    // The engine checks the recording (dsp::check_recording: long enough, finite, not silent);
    // its refusal is the message, and the previous target stays.
    let reply;
    try {
      reply = await request({ type: 'setTarget', samples: samples.slice(), sampleRate, name });
    } catch (e) {
      setStatus(`${name}: ${e.message}`, true);
      throw new Error(state.error);
    }
    state.target = { name, samples, sampleRate };
    s.latentRecordingChanged(reply);
    state.recon = null;
    state.params = null;
    state.iteration = 0; state.loss = state.bestLoss = state.initialLoss = null;
    s.ui.setTarget(safeText(name, 200), samples, sampleRate);
    await s.audioReady;
    s.audio.loadBuffer?.('target', samples, sampleRate);
    s.refreshNotesSoon();  // ks's residual excitation and ddsp's f0 track come from the target
    setStatus(`Loaded ${name} (${(samples.length / sampleRate).toFixed(2)} s). Press Match.`);
    return { name, seconds: samples.length / sampleRate, sampleRate };
  }

  async function loadUrl(url) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return loadAudio(await res.arrayBuffer(), baseName(url));
  }

  // Records `seconds` from the microphone with a level meter and a countdown on the status line;
  // the encoded bytes (decodeInput reads them), or null when there is no microphone.
  async function captureMicrophone(seconds) {
    if (!navigator.mediaDevices?.getUserMedia) { setStatus('This browser cannot record from a microphone', true); return null; }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (e) { setStatus(`Microphone: ${e.message}`, true); return null; }
    const ctx = new AudioContext();
    const src = ctx.createMediaStreamSource(stream);
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    src.connect(analyser);
    const chunks = [];
    const rec = new MediaRecorder(stream);
    rec.ondataavailable = (e) => chunks.push(e.data);
    const done = new Promise((ok) => { rec.onstop = ok; });
    rec.start();
    const t0 = performance.now();
    const buf = new Float32Array(analyser.fftSize);
    const meter = setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let peak = 0, sum = 0;
      for (const v of buf) { peak = Math.max(peak, Math.abs(v)); sum += v * v; }
      s.ui.setLevel(peak, Math.sqrt(sum / buf.length), 'mic', true);
      setStatus(`Recording... ${Math.max(0, seconds - (performance.now() - t0) / 1000).toFixed(1)} s left (play your sound now)`);
    }, 50);
    await new Promise((ok) => setTimeout(ok, seconds * 1000));
    rec.stop();
    await done;
    clearInterval(meter);
    stream.getTracks().forEach((t) => t.stop());
    ctx.close();
    s.ui.setLevel(0, 0, '', false);
    return new Blob(chunks).arrayBuffer();
  }

  async function record(seconds = 4) {
    const bytes = await captureMicrophone(seconds);
    if (bytes) await loadAudio(bytes, 'microphone').catch(() => {});
  }

  // window.ddsp.limits(): reads, or raises / lowers, the duration limit (the byte budgets stay).
  function setLimits(change) {
    if (change !== undefined) {
      const sec = Number(change?.maxSeconds);
      if (!(sec > 0) || !Number.isFinite(sec)) throw new Error('limits needs {maxSeconds: a positive number}');
      limits.maxSeconds = sec;
    }
    return { maxSeconds: limits.maxSeconds, maxFileBytes: MAX_FILE_BYTES, memoryBudgetBytes: MEMORY_BUDGET_BYTES };
  }

  Object.assign(s, { loadAudio, loadUrl, record, decodeInput, captureMicrophone, setLimits });
}

// The file dialog (#file-input) and dropping a file anywhere on the page (audio is the target;
// a .json file is a parameter file).
export function attachTargetInputs(s) {
  const fileInput = document.getElementById('file-input');
  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    fileInput.value = '';
    if (f) s.loadAudio(f).catch(() => {});
  });

  const dropHint = document.getElementById('drop-hint');
  let dragDepth = 0;
  window.addEventListener('dragenter', (e) => { e.preventDefault(); dragDepth++; if (dropHint) dropHint.hidden = false; });
  window.addEventListener('dragleave', () => { if (--dragDepth <= 0 && dropHint) { dragDepth = 0; dropHint.hidden = true; } });
  window.addEventListener('dragover', (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; });
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    dragDepth = 0;
    if (dropHint) dropHint.hidden = true;
    const f = e.dataTransfer?.files?.[0];
    if (!f) return;
    if (/\.json$/i.test(f.name)) f.text().then((t) => s.importParams(t)).catch(() => {});
    else s.loadAudio(f).catch(() => {});
  });
}
