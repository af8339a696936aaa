// The target recording: decoding (the browser's decoder, else the engine's WAV reader in the
// worker), checks, handing it to the worker and the audio engine; the file dialog, drag and drop
// anywhere on the page, and microphone recording.
import { baseName } from './util.js';

// Decodes anything the browser can (WAV, FLAC, MP3, Ogg...), downmixes to mono.
async function decode(arrayBuffer) {
  const ctx = new OfflineAudioContext(1, 1, 44100);
  const buffer = await ctx.decodeAudioData(arrayBuffer.slice(0));
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
    if (input instanceof ArrayBuffer) bytes = input;
    else if (ArrayBuffer.isView(input)) bytes = input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength);
    else if (input && typeof input.arrayBuffer === 'function') { bytes = await input.arrayBuffer(); name ??= input.name; }
    else throw new Error('loadAudio needs an ArrayBuffer, Blob or File');
    name = baseName(name ?? 'recording');
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
        decoded = await request({ type: 'decodeWav', bytes }, []);
      } catch (e) {
        setStatus(`${name}: not audio this page can read (${e.message})`, true);
        throw new Error(state.error);
      }
    }
    if (!decoded.samples.length) {
      setStatus(`${name}: the file holds no samples`, true);
      throw new Error(state.error);
    }
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
    s.ui.setTarget(name, samples, sampleRate);
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

  Object.assign(s, { loadAudio, loadUrl, record, decodeInput, captureMicrophone });
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
