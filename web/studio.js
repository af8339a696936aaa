// The studio's hub (main thread). It owns the state a user sees and connects four parts:
//   the UI module (ddsp_ui.js: Dear ImGui on the canvas; sends commands, shows what it is given),
//   the worker (worker.js: decoding help, MatchSession in slices, renders, landscapes),
//   the audio engine (audio.js: AudioWorklet player, A/B, notes, meters),
//   and the page (file drop, file dialogs, microphone, downloads, share links, window.ddsp).
// Protocols: web/README.md. Public API (window.ddsp): ../shared/DESIGN.md and README.md.
//
// Index
//   [SECTION] small helpers (WAV encoding, downloads, base64url)
//   [SECTION] startStudio: modules and state
//   [SECTION] target audio: decode, drop, dialogs, microphone
//   [SECTION] worker messages
//   [SECTION] UI commands
//   [SECTION] keyboard and notes
//   [SECTION] the latent panel (DDSP autoencoder: timbre transfer, notes, fine-tuning)
//   [SECTION] share links
//   [SECTION] window.ddsp
import { AudioEngine } from './audio.js';
import { Keyboard } from './keyboard.js';

// [SECTION] small helpers (WAV encoding, downloads, base64url)

// 32-bit float mono WAV (what `ddsp match` writes as recon.wav).
export function encodeWav(samples, sampleRate) {
  const n = samples.length;
  const buf = new ArrayBuffer(44 + 4 * n);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); v.setUint32(4, 36 + 4 * n, true); str(8, 'WAVE');
  str(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 3, true); v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true); v.setUint32(28, sampleRate * 4, true); v.setUint16(32, 4, true);
  v.setUint16(34, 32, true); str(36, 'data'); v.setUint32(40, 4 * n, true);
  for (let i = 0; i < n; i++) v.setFloat32(44 + 4 * i, Number.isFinite(samples[i]) ? samples[i] : 0, true);
  return buf;
}

function download(data, filename, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

const toBase64Url = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromBase64Url = (s) => new TextDecoder().decode(
  Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)));

const baseName = (path) => String(path).split(/[\\/]/).pop();

// Synths that can be played from the keyboard at other pitches (their pitch is a parameter).
const PLAYABLE = new Set(['ks', 'sine', 'ddsp']);
const SHARE_LIMIT_CHARS = 6000;  // longer links break in chat apps; ddsp's frame-wise params are ~1 MB
// The latent panel's model, fetched the first time the panel opens (not with the page).
const LATENT_MODEL_URL = 'assets/models/ddsp_gm8.safetensors';

// [SECTION] startStudio: modules and state

export async function startStudio(options = {}) {
  const canvas = document.getElementById('canvas');
  const loading = document.getElementById('loading');
  const query = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.slice(1));
  const compact = !!options.compact;

  const state = {
    synth: query.get('synth') || hash.get('synth') || options.synth || 'ks',
    method: query.get('method') || hash.get('method') || options.method || 'gradient',
    running: false, iteration: 0, loss: null, bestLoss: null, initialLoss: null, params: null,
    target: null,          // {name, samples, sampleRate}
    recon: null,           // {samples, sampleRate}
    run: 0, error: null, status: '', runs: [],
  };
  // The latent panel's state (its section is below; declared here because UI commands may arrive
  // before the page has finished starting).
  const latent = {
    loading: null, info: null, z: null, recordingZ: null, source: 'recording', weights: 'base', tuned: false, transpose: 0,
    render: null, error: null, notesReady: false,
    fineTune: { running: false, run: 0, step: 0, steps: 0, loss: null, initialLoss: null, losses: [] },
  };
  let reconHolds = 'match';  // whose audio the 'recon' slot (B) holds: the match's or the decoder's
  let fineTuneRuns = 0;
  const fineTuneWaiters = new Map();  // fine-tuning run -> {resolve, reject}
  let latentBusy = false, latentAgain = false, latentLatest = Promise.resolve(null);  // scrub renders
  let ui = null;
  let nextId = 1;
  const pending = new Map();  // request id -> {resolve, reject}
  let readyResolve, readyReject;
  const ready = new Promise((ok, fail) => { readyResolve = ok; readyReject = fail; });
  const listeners = new Set();  // progress listeners (embed.html posts to its parent)
  window.ddsp = { ready };  // the rest of the API is filled in once the modules are up

  const setStatus = (text, isError = false) => {
    state.status = text;
    state.error = isError ? text : null;
    ui?.setStatus(text, isError);
    if (isError) {
      console.warn('ddsp:', text);
      options.postToParent?.({ type: 'error', message: text });
    }
  };
  const fail = (e) => {
    loading.hidden = false;
    loading.classList.add('error');
    loading.textContent = `The studio could not start: ${e?.message ?? e}`;
    readyReject(e);
  };

  // Worker
  const worker = new Worker('worker.js');
  const request = (msg, transfer = []) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...msg, id }, transfer);
  });
  worker.onerror = (e) => fail(new Error(`worker: ${e.message ?? 'failed to load'}`));

  // Audio (created now, resumed on the first user gesture: autoplay policy)
  const audio = new AudioEngine();
  const audioReady = audio.init().catch((e) => { setStatus(`Audio is unavailable: ${e.message}`, true); });
  const resumeAudio = () => { audio.resume?.(); };
  for (const ev of ['pointerdown', 'keydown']) window.addEventListener(ev, resumeAudio, { capture: true });
  let playing = { slot: null, loop: false };
  audio.onLevel = (l) => {
    if (!ui) return;
    playing = { slot: l.playing ? l.slot : null, loop: playing.loop };
    ui.setLevel(l.peak ?? 0, l.rms ?? 0, l.slot ?? '', !!l.playing);
  };

  // UI module
  try {
    if (typeof createDdspUi !== 'function') throw new Error('ddsp_ui.js did not load');
    ui = await createDdspUi({ canvas, onUiCommand: (json) => onCommand(JSON.parse(json)),
      print: (t) => console.log(t), printErr: (t) => console.warn(t) });
  } catch (e) { fail(e); return; }
  ui.setCompact(compact);
  const querySteps = Number(query.get('steps'));
  ui.setSettings(state.synth, state.method, query.get('loss') || 'mrstft',
    Number.isInteger(querySteps) && querySteps > 0 ? Math.min(querySteps, 100000) : 300, 0, 0.05, 0);

  // Examples menu (assets/sounds/manifest.json)
  let examples = [];
  try {
    const manifest = await (await fetch('assets/sounds/manifest.json')).json();
    examples = manifest.map((e) => ({ file: `assets/sounds/${e.file}`, kind: e.kind === 'pluck' ? 'Plucked strings' : 'Drums',
      label: `${e.instrument ?? e.file}${e.note ? ' ' + e.note : ''}` }));
    examples.sort((a, b) => a.kind.localeCompare(b.kind) * -1);
    ui.setExamples(JSON.stringify(examples));
  } catch { /* the menu stays empty; files can still be dropped */ }

  const init = await new Promise((resolve) => {
    worker.onmessage = (e) => { if (e.data.type === 'ready') resolve(e.data); else onWorkerMessage(e.data); };
    worker.postMessage({ type: 'init' });
  });
  worker.onmessage = (e) => onWorkerMessage(e.data);
  state.synths = JSON.parse(init.synths ?? '[]');
  loading.hidden = true;

  // [SECTION] target audio: decode, drop, dialogs, microphone

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

  async function loadAudio(input, name) {
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
    const { samples, sampleRate } = decoded;
    if (!samples.length) {
      setStatus(`${name}: the file holds no samples`, true);
      throw new Error(state.error);
    }
    let peak = 0;
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i])) samples[i] = 0;
      peak = Math.max(peak, Math.abs(samples[i]));
    }
    if (peak < 1e-5) {
      setStatus(`${name}: the recording is silent`, true);
      throw new Error(state.error);
    }
    if (state.running) await stop();
    const reply = await request({ type: 'setTarget', samples: samples.slice(), sampleRate, name });
    state.target = { name, samples, sampleRate };
    latentRecordingChanged(reply);
    state.recon = null;
    state.params = null;
    state.iteration = 0; state.loss = state.bestLoss = state.initialLoss = null;
    ui.setTarget(name, samples, sampleRate);
    await audioReady;
    audio.loadBuffer?.('target', samples, sampleRate);
    setStatus(`Loaded ${name} (${(samples.length / sampleRate).toFixed(2)} s). Press Match.`);
    return { name, seconds: samples.length / sampleRate, sampleRate };
  }

  async function loadUrl(url) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return loadAudio(await res.arrayBuffer(), baseName(url));
  }

  const fileInput = document.getElementById('file-input');
  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    fileInput.value = '';
    if (f) loadAudio(f).catch(() => {});
  });
  const paramsInput = document.getElementById('params-input');
  paramsInput?.addEventListener('change', async () => {
    const f = paramsInput.files?.[0];
    paramsInput.value = '';
    if (f) importParams(await f.text()).catch(() => {});
  });

  // Drop anywhere on the page.
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
    if (/\.json$/i.test(f.name)) f.text().then((t) => importParams(t)).catch(() => {});
    else loadAudio(f).catch(() => {});
  });

  async function record(seconds = 4) {
    if (!navigator.mediaDevices?.getUserMedia) { setStatus('This browser cannot record from a microphone', true); return; }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (e) { setStatus(`Microphone: ${e.message}`, true); return; }
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
      ui.setLevel(peak, Math.sqrt(sum / buf.length), 'mic', true);
      setStatus(`Recording... ${Math.max(0, seconds - (performance.now() - t0) / 1000).toFixed(1)} s left (play your sound now)`);
    }, 50);
    await new Promise((ok) => setTimeout(ok, seconds * 1000));
    rec.stop();
    await done;
    clearInterval(meter);
    stream.getTracks().forEach((t) => t.stop());
    ctx.close();
    ui.setLevel(0, 0, '', false);
    await loadAudio(await new Blob(chunks).arrayBuffer(), 'microphone').catch(() => {});
  }

  // [SECTION] worker messages

  let lastReconSent = 0;
  function onWorkerMessage(m) {
    if (m.id !== undefined && pending.has(m.id) && m.type !== 'progress') {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.type === 'error') p.reject(new Error(m.message)); else p.resolve(m);
      if (m.type === 'error') return;
    } else if (m.type === 'error') {
      setStatus(m.message, true);
      if (m.request === 'start') { state.running = false; ui.progress('{}', null, true); }
      if (m.request === 'fineTune') fineTuneFailed(m.message);
      return;
    }
    if (m.type === 'fineTuneProgress') { onFineTuneProgress(m); return; }
    if (m.type === 'progress' || m.type === 'done') {
      const done = m.type === 'done';
      state.running = !done;
      state.iteration = m.iteration;
      state.loss = m.loss;
      state.bestLoss = m.bestLoss;
      state.elapsedS = m.elapsedS;
      state.itersPerS = m.itersPerS;
      if (Number.isFinite(m.initialLoss)) state.initialLoss = m.initialLoss;
      else if (state.initialLoss === null && m.history?.length) state.initialLoss = m.history[0];
      if (m.params) state.params = m.params;
      const { recon, history, ...rest } = m;
      ui.progress(JSON.stringify(rest), history ?? null, done);
      const run = state.runs[state.runs.length - 1];
      if (run && history) for (const v of history) run.losses.push(v);
      if (recon && recon.length) {
        state.recon = { samples: recon, sampleRate: m.sampleRate };
        ui.setRecon(recon, m.sampleRate);
        const now = performance.now();
        if (done || now - lastReconSent > 500) { audio.loadBuffer?.('recon', recon, m.sampleRate); lastReconSent = now; }
        reconHolds = 'match';
      }
      if (done) {
        setStatus(`Done: loss ${fmt(state.initialLoss)} -> ${fmt(m.bestLoss)} in ${m.iteration} iterations${m.stopped ? ' (stopped)' : ''}.`);
        refreshNotes();
      }
      for (const l of listeners) l({ type: done ? 'done' : 'progress', synth: state.synth, method: state.method,
        iteration: m.iteration, loss: m.loss, bestLoss: m.bestLoss, running: !done });
    }
  }
  const fmt = (x) => (x === null || x === undefined ? '–' : Number(x).toPrecision(4));

  // [SECTION] UI commands

  async function start(settings = {}) {
    if (!state.target) { setStatus('Load a recording first', true); throw new Error(state.error); }
    if (state.running) return;
    const s = { ...ui.settings(), synth: state.synth, method: state.method, ...settings };
    state.run += 1;
    state.runs.push({ run: state.run, synth: s.synth, method: s.method, losses: [] });
    state.running = true;
    state.iteration = 0;
    state.initialLoss = null;
    ui.started(state.run);
    setStatus(`Matching ${s.synth} with ${s.method}...`);
    worker.postMessage({ type: 'start', run: state.run, synth: s.synth, method: s.method, loss: s.loss,
      steps: s.steps, timeBudgetS: s.timeBudgetS, learningRate: s.learningRate, seed: s.seed, population: s.population,
      params: settings.params !== undefined ? settings.params : state.params });
  }

  function stop() {
    if (!state.running) return Promise.resolve();
    return new Promise((ok) => {
      const l = (m) => { if (m.type === 'done') { listeners.delete(l); ok(); } };
      listeners.add(l);
      worker.postMessage({ type: 'stop' });
    });
  }

  // Renders parameters (JSON) as the reconstruction; returns {samples, sampleRate}.
  async function render(paramsJson, { seconds } = {}) {
    try {
      const synth = JSON.parse(paramsJson)?.synth ?? state.synth;
      seconds ??= state.target ? Math.min(state.target.samples.length / state.target.sampleRate, 60) : undefined;
      // With a target loaded, the synth analyses it first (ks's residual excitation, ddsp's f0
      // and loudness), so edited parameters sound like the reconstruction they came from.
      const r = await request({ type: 'render', synth, params: paramsJson, seconds, useTarget: !!state.target,
        seed: ui.settings().seed });
      state.params = paramsJson;
      state.recon = { samples: r.samples, sampleRate: r.sampleRate };
      ui.setRecon(r.samples, r.sampleRate);
      audio.loadBuffer?.('recon', r.samples, r.sampleRate);
      reconHolds = 'match';
      refreshNotesSoon();
      return { samples: r.samples, sampleRate: r.sampleRate };
    } catch (e) {
      setStatus(`Render: ${e.message}`, true);
      throw e;
    }
  }
  // Coalesce slider drags: one render in flight, the latest parameters next.
  let renderBusy = false, renderNext = null;
  function renderLatest(paramsJson) {
    if (renderBusy) { renderNext = paramsJson; return; }
    renderBusy = true;
    render(paramsJson).catch(() => {}).finally(() => {
      renderBusy = false;
      if (renderNext) { const p = renderNext; renderNext = null; renderLatest(p); }
    });
  }

  async function importParams(text) {
    let parsed;
    try { parsed = JSON.parse(text); } catch (e) { setStatus(`Parameter file: ${e.message}`, true); throw e; }
    if (!parsed?.synth) { setStatus('Parameter file: no "synth" field', true); throw new Error(state.error); }
    state.synth = parsed.synth;
    ui.setParams(text);
    await render(text).catch(() => {});
  }

  function play(slot = 'recon', loop = playing.loop) {
    resumeAudio();
    playing = { slot, loop };
    audio.play?.(slot, { loop });
  }

  function exportParams() {
    if (!state.params) throw new Error('Nothing to export yet: match or edit a synth first');
    return state.params;
  }
  function exportWav() {
    if (!state.recon) throw new Error('Nothing to export yet: match or edit a synth first');
    return new Blob([encodeWav(state.recon.samples, state.recon.sampleRate)], { type: 'audio/wav' });
  }

  // The loss over a grid of two parameters (the others as in paramsJson), computed in the worker.
  async function landscape(x, y, steps = 25, paramsJson = state.params ?? ui.paramsJson()) {
    if (!state.target) { setStatus('Load a recording first', true); throw new Error(state.error); }
    setStatus(`Computing the loss over ${x} and ${y}...`);
    try {
      const r = await request({ type: 'landscape', synth: state.synth, params: paramsJson || null, x, y, steps });
      const { loss, ...rest } = r;
      ui.setLandscape(JSON.stringify(rest), loss);
      setStatus(`Landscape: ${steps} x ${steps} losses over ${x} and ${y}; the lowest is ${fmt(r.minimum?.loss)}.`);
      return r;
    } catch (e) {
      ui.setLandscape('{}', null);
      setStatus(`Landscape: ${e.message}`, true);
      throw e;
    }
  }

  function onCommand(c) {
    switch (c.cmd) {
      case 'open': fileInput.click(); break;
      case 'example': loadUrl(c.file).catch((e) => setStatus(e.message, true)); break;
      case 'record': record().catch((e) => setStatus(e.message, true)); break;
      case 'start': start({ ...c, params: c.params ?? null }).catch(() => {}); break;  // the UI says where to start
      case 'stop': stop(); break;
      case 'resume': worker.postMessage({ type: 'resume' }); break;
      case 'reset':
        stop().then(() => { state.params = null; state.recon = null; state.iteration = 0; state.loss = state.bestLoss = null; });
        audio.stop?.();
        break;
      case 'synth': state.synth = c.name; state.params = null; state.recon = null; break;
      case 'method': state.method = c.name; break;
      case 'play': play(c.slot, !!c.loop); break;
      case 'stopAudio': audio.stop?.(); break;
      case 'render': renderLatest(c.params); break;
      case 'exportParams':
        try { download(exportParams(), `${state.synth}-params.json`, 'application/json'); } catch (e) { setStatus(e.message, true); }
        break;
      case 'exportWav':
        try { download(exportWav(), `${state.synth}-reconstruction.wav`, 'audio/wav'); } catch (e) { setStatus(e.message, true); }
        break;
      case 'importParams': paramsInput?.click(); break;
      case 'share': share(); break;
      case 'landscape': landscape(c.x, c.y, c.steps, c.params).catch(() => {}); break;
      case 'latentOpen': latentLoad().catch(() => {}); break;
      case 'latentZ': latentSetZ(c.z, false); break;
      case 'latentRecordingZ': if (latent.recordingZ) latentSetZ(latent.recordingZ, true); break;
      case 'latentSource': latentSetSource(c.source); break;
      case 'latentTranspose': latent.transpose = Number(c.semitones) || 0; latentRenderSoon(); break;
      case 'latentPlay': latentPlay().catch(() => {}); break;
      case 'latentFineTune': latentFineTune({ steps: c.steps, learningRate: c.learningRate }).catch(() => {}); break;
      case 'latentStopFineTune': latentStopFineTune(); break;
      case 'latentWeights': latentUseTuned(c.weights === 'tuned'); break;
      case 'latentExport':
        latentExportWeights().then((blob) => download(blob, 'ddsp_gm8-finetuned.safetensors', 'application/octet-stream'))
          .catch(() => {});
        break;
      default: console.warn('unknown UI command', c);
    }
  }

  // [SECTION] keyboard and notes

  // The note bank: the matched synth rendered at each pitch of two octaves around its own, so a
  // key press starts sound at once (the worklet mixes; nothing is synthesised on the audio thread).
  // With the latent panel as the instrument (its source is the keyboard), the decoder plays the
  // notes at the panel's latent instead. A newer refresh abandons an older one.
  let notesTimer = 0, notesGeneration = 0;
  const refreshNotesSoon = () => { clearTimeout(notesTimer); notesTimer = setTimeout(refreshNotes, 400); };
  async function refreshNotes() {
    const useLatent = latentIsInstrument();
    if (!audio.setNotes || (!useLatent && (!state.params || !PLAYABLE.has(state.synth)))) return;
    const generation = ++notesGeneration;
    const base = 48, count = 25, seconds = 2;
    const notes = [];
    const z = latent.z?.slice();
    for (let k = 0; k < count; k++) {
      const f0Hz = 440 * 2 ** ((base + k - 69) / 12);
      try {
        const r = useLatent
          ? await request({ type: 'latentRender', mode: 'note', z, f0Hz, seconds, velocity: 0.8, weights: latent.weights })
          : await request({ type: 'render', synth: state.synth, params: state.params, seconds, f0Hz,
            useTarget: !!state.target, seed: ui.settings().seed });
        if (generation !== notesGeneration) return;
        notes.push(r.samples);
        if (k === count - 1) await audio.setNotes(base, notes, r.sampleRate);
      } catch { return; }
    }
    if (useLatent) latent.notesReady = true;
  }
  const keyboard = new Keyboard({
    noteOn: (note, velocity) => { resumeAudio(); audio.noteOn?.(note, velocity); },
    noteOff: (note) => audio.noteOff?.(note),
  });
  keyboard.attach?.();
  // Space toggles A/B (target / reconstruction), keeping the loop setting.
  window.addEventListener('keydown', (e) => {
    if (e.code !== 'Space' || e.repeat || e.target instanceof HTMLInputElement) return;
    e.preventDefault();
    if (!state.target) return;
    const next = playing.slot === 'target' && state.recon ? 'recon' : 'target';
    play(next, playing.loop);
  });

  // [SECTION] the latent panel (DDSP autoencoder: timbre transfer, notes, fine-tuning)

  // The worker holds the model and the recording (the match target); `latent` (with the state at
  // the top) holds what the panel shows. Renders go to the audio engine's 'recon' slot (B), so
  // Space still toggles the target (A) against the decoder.
  function latentIsInstrument() { return !!latent.info && latent.source === 'keyboard'; }

  function latentError(text) {
    latent.error = text;
    ui.setLatentStatus(text, true);
    setStatus(text, true);
  }

  // Loads the model (default: the bundled one; or a URL, ArrayBuffer, typed array, Blob or File).
  // The bundled model is fetched once; a failed load keeps the previous model.
  async function latentLoad(input) {
    if (input === undefined && latent.info) return latent.info;
    if (input === undefined && latent.loading) return latent.loading;
    const job = (async () => {
      let msg;
      if (input === undefined || typeof input === 'string') msg = { url: input ?? LATENT_MODEL_URL };
      else if (input instanceof ArrayBuffer) msg = { bytes: input.slice(0) };
      else if (ArrayBuffer.isView(input)) msg = { bytes: input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength) };
      else if (input && typeof input.arrayBuffer === 'function') msg = { bytes: await input.arrayBuffer() };
      else throw new Error('latent.load needs a URL, an ArrayBuffer, a typed array or a Blob');
      ui.setLatentStatus('Loading the model...', false);
      let r;
      try {
        r = await request({ type: 'loadModel', ...msg }, msg.bytes ? [msg.bytes] : []);
      } catch (e) {
        latentError(e.message);  // one line: "model file: ...", "the model file is empty", "<url>: HTTP 404" ...
        throw new Error(latent.error);
      }
      const previousZ = latent.z;
      latent.info = r.info;
      latent.tuned = false;
      latent.weights = 'base';
      latent.error = null;
      latent.recordingZ = r.info.recording?.z ?? null;
      const dims = r.info.zDims;
      latent.z = previousZ?.length === dims ? previousZ
        : (latent.recordingZ ?? r.info.latentSpace?.origin ?? new Array(dims).fill(0)).slice();
      ui.setLatentInfo(JSON.stringify(r.info));
      ui.setLatentZ(Float32Array.from(latent.z));
      ui.setLatentWeights('base', false);
      ui.setLatentStatus(latent.recordingZ ? 'Model loaded: drag the pad or the sliders.'
        : 'Model loaded. Load a pitched recording for timbre transfer, or play it from the keyboard.', false);
      latentRenderSoon();
      if (latentIsInstrument()) refreshNotesSoon();
      return r.info;
    })();
    if (input === undefined) {
      latent.loading = job;
      job.catch(() => {}).finally(() => { latent.loading = null; });
    }
    return job;
  }

  // A new recording (the match target) reached the worker: follow its latent unless the user moved z.
  function latentRecordingChanged(reply) {
    if (!latent.info) return;
    const untouched = !latent.z || (latent.recordingZ && latent.z.every((v, i) => Math.abs(v - latent.recordingZ[i]) < 1e-6));
    latent.recordingZ = reply.latent?.z ?? null;
    if (reply.latentError) ui.setLatentStatus(`This recording cannot drive the decoder: ${reply.latentError}`, true);
    else ui.setLatentStatus('', false);
    latent.info = { ...latent.info, recording: reply.latent ?? null };
    ui.setLatentInfo(JSON.stringify(latent.info));
    if (untouched && latent.recordingZ) latent.z = latent.recordingZ.slice();
    ui.setLatentZ(Float32Array.from(latent.z));
    latentRenderSoon();
  }

  // A recording for the decoder only (the match target stays): mono samples at their own rate.
  async function latentSetRecording(samples, sampleRate, name = 'recording') {
    if (!latent.info) await latentLoad();
    let r;
    try {
      r = await request({ type: 'latentTarget', samples: Float32Array.from(samples), sampleRate, name });
    } catch (e) {
      latentError(`Recording: ${e.message}`);
      throw e;
    }
    latentRecordingChanged({ latent: r.recording });
    return r.recording;
  }

  function checkZ(z) {
    const dims = latent.info?.zDims;
    if (!dims) throw new Error('no model loaded: call ddsp.latent.load() first');
    const a = Array.from(z ?? [], Number);
    if (a.length !== dims || !a.every(Number.isFinite)) throw new Error(`z must be ${dims} finite numbers`);
    return a;
  }

  function latentSetZ(z, updateUi = true) {
    let a;
    try { a = checkZ(z); } catch (e) { latentError(e.message); throw e; }
    latent.z = a;
    if (updateUi) ui.setLatentZ(Float32Array.from(a));
    latentRenderSoon();
    if (latentIsInstrument()) refreshNotesSoon();
  }

  // One render of the panel's settings, unless `opts` says otherwise:
  // {z, mode: 'transfer'|'note', f0Hz, seconds, velocity, transpose, weights: 'base'|'tuned'}.
  async function latentRenderOnce(opts = {}) {
    if (!latent.info) await latentLoad();
    const z = checkZ(opts.z ?? latent.z);
    const mode = opts.mode ?? (latent.source === 'keyboard' || !latent.recordingZ ? 'note' : 'transfer');
    const r = await request({ type: 'latentRender', z, mode, f0Hz: opts.f0Hz ?? 220, seconds: opts.seconds ?? 2,
      velocity: opts.velocity ?? 0.8, transpose: opts.transpose ?? latent.transpose, weights: opts.weights ?? latent.weights });
    return { samples: r.samples, sampleRate: r.sampleRate, mode };
  }

  // Scrubbing: one render in flight, the latest settings next; each result goes to the B slot and view.
  async function latentSettled() {
    let r = await latentLatest;
    while (latentBusy) r = await latentLatest;
    return r;
  }
  function latentRenderSoon() {
    if (latentBusy) { latentAgain = true; return latentLatest; }
    latentBusy = true;
    latentLatest = latentRenderOnce().then((r) => {
      latent.render = r;
      state.recon = { samples: r.samples, sampleRate: r.sampleRate };
      ui.setRecon(r.samples, r.sampleRate);
      audio.loadBuffer?.('recon', r.samples, r.sampleRate);
      reconHolds = 'latent';
      return r;
    }).catch((e) => { latentError(`Latent render: ${e.message}`); return null; }).finally(() => {
      latentBusy = false;
      if (latentAgain) { latentAgain = false; latentRenderSoon(); }
    });
    return latentLatest;
  }

  function latentSetSource(source) {
    if (source !== 'recording' && source !== 'keyboard') throw new Error(`source must be 'recording' or 'keyboard'`);
    latent.source = source;
    ui.setLatentSource(source);
    if (!latent.info) return;
    latentRenderSoon();
    refreshNotesSoon();  // the keyboard plays the decoder, or the matched synth again
  }

  async function latentPlay() {
    if (!latent.info) await latentLoad();
    let r = latent.render;
    if (!r || latentBusy || reconHolds !== 'latent') { latentRenderSoon(); r = await latentSettled(); }
    if (!r) throw new Error(latent.error ?? 'nothing to play');
    play('recon');
    return r;
  }

  function latentUseTuned(on) {
    if (on && !latent.tuned) { latentError('Fine-tune first: there are no tuned weights yet'); return; }
    latent.weights = on ? 'tuned' : 'base';
    ui.setLatentWeights(latent.weights, latent.tuned);
    latentRenderSoon();
    if (latentIsInstrument()) refreshNotesSoon();
  }

  async function latentFineTune({ steps = 100, learningRate = 3e-4 } = {}) {
    if (!latent.info) await latentLoad();
    if (!latent.recordingZ) { latentError('Fine-tuning needs a pitched recording: load one first'); throw new Error(latent.error); }
    const run = ++fineTuneRuns;
    Object.assign(latent.fineTune, { running: true, run, step: 0, steps, loss: null, initialLoss: null, losses: [] });
    ui.latentFineTuneStarted(steps);
    ui.setLatentStatus(`Fine-tuning on ${state.target?.name ?? 'the recording'}...`, false);
    return new Promise((resolve, reject) => {
      fineTuneWaiters.set(run, { resolve, reject });
      request({ type: 'fineTune', steps, learningRate, run }).catch((e) => fineTuneFailed(e.message, run));
    });
  }

  function fineTuneFailed(message, run = latent.fineTune.run) {
    if (run === latent.fineTune.run) latent.fineTune.running = false;
    ui.latentProgress(JSON.stringify({ done: true }), null, true);
    latentError(`Fine-tuning: ${message}`);
    const w = fineTuneWaiters.get(run);
    fineTuneWaiters.delete(run);
    w?.reject(new Error(latent.error));
  }

  function onFineTuneProgress(m) {
    const ft = latent.fineTune;
    if (m.run !== ft.run) return;  // an older run, replaced
    const { history, recon, z, ...rest } = m;
    Object.assign(ft, { step: m.step, steps: m.steps, loss: m.loss, initialLoss: m.initialLoss, running: !m.done });
    if (history) for (const v of history) ft.losses.push(v);
    ui.latentProgress(JSON.stringify(rest), history ?? null, !!m.done);
    if (!m.done) return;
    latent.tuned = m.step > 0;
    ui.setLatentStatus(`Fine-tuned ${m.step} steps: loss ${fmt(m.initialLoss)} -> ${fmt(m.loss)}${m.stopped ? ' (stopped)' : ''}. `
      + 'Before / After compare the weights.', false);
    if (latent.tuned) latentUseTuned(true);
    const w = fineTuneWaiters.get(m.run);
    fineTuneWaiters.delete(m.run);
    w?.resolve({ initialLoss: m.initialLoss, loss: m.loss, steps: m.step, stopped: !!m.stopped });
  }

  function latentStopFineTune() {
    return request({ type: 'fineTuneStop' }).catch(() => {});
  }

  async function latentExportWeights() {
    try {
      const r = await request({ type: 'exportWeights' });
      return new Blob([r.bytes], { type: 'application/octet-stream' });
    } catch (e) {
      latentError(`Export: ${e.message}`);
      throw e;
    }
  }

  const latentApi = {
    load: (input) => latentLoad(input),
    info: () => latent.info,
    z: () => latent.z?.slice() ?? null,
    recordingZ: () => latent.recordingZ?.slice() ?? null,
    setZ: (z) => { latentSetZ(z, true); return latentSettled(); },
    setSource: (source) => latentSetSource(source),
    render: async (opts) => (await latentRenderOnce(opts)).samples,
    play: () => latentPlay(),
    fineTune: (opts) => latentFineTune(opts),
    stopFineTune: () => latentStopFineTune(),
    exportWeights: () => latentExportWeights(),
    useTuned: (on = true) => latentUseTuned(!!on),
    setRecording: (samples, sampleRate, name) => latentSetRecording(samples, sampleRate, name),
    state: () => ({ loaded: !!latent.info, z: latent.z?.slice() ?? null, source: latent.source, weights: latent.weights,
      tuned: latent.tuned, error: latent.error, notesReady: latent.notesReady,
      fineTune: { ...latent.fineTune, losses: latent.fineTune.losses.slice() } }),
  };

  // [SECTION] share links

  function share() {
    const h = new URLSearchParams({ synth: state.synth, method: state.method });
    if (state.params && state.params.length < SHARE_LIMIT_CHARS) h.set('params', toBase64Url(state.params));
    const url = `${location.origin}${location.pathname}#${h}`;
    history.replaceState(null, '', url);
    navigator.clipboard?.writeText(url).catch(() => {});
    setStatus(state.params && state.params.length >= SHARE_LIMIT_CHARS
      ? 'Link copied (synth and method; these parameters are too long for a link: export them as JSON)'
      : 'Link copied: it opens this synth, method and parameters.');
    return url;
  }

  // [SECTION] window.ddsp

  const api = {
    ready,
    loadAudio: (input, name) => loadAudio(input, name),
    loadUrl,
    setSynth(name) {
      if (!state.synths.some((s) => s.name === name)) throw new Error(`unknown synth '${name}'`);
      state.synth = name; state.params = null; state.recon = null;
      const s = ui.settings();
      ui.setSettings(name, s.method, s.loss, s.steps, s.timeBudgetS, s.learningRate, s.seed);
    },
    setMethod(name) {
      if (!['gradient', 'genetic', 'cmaes', 'hybrid'].includes(name)) throw new Error(`unknown method '${name}'`);
      state.method = name;
      const s = ui.settings();
      ui.setSettings(s.synth, name, s.loss, s.steps, s.timeBudgetS, s.learningRate, s.seed);
    },
    start: (settings) => start(settings),
    stop,
    state: () => ({ synth: state.synth, method: state.method, running: state.running, iteration: state.iteration,
      loss: state.loss, bestLoss: state.bestLoss, initialLoss: state.initialLoss, params: state.params,
      elapsedS: state.elapsedS ?? 0, itersPerS: state.itersPerS ?? 0, fps: ui.fps(), target: state.target ? state.target.name : null, error: state.error, status: state.status,
      runs: state.runs.map((r) => ({ run: r.run, synth: r.synth, method: r.method, iterations: r.losses.length,
        bestLoss: r.losses.length ? Math.min(...r.losses) : null })) }),
    play: (slot = 'recon') => play(slot),
    stopAudio: () => audio.stop?.(),
    exportParams,
    exportWav,
    importParams,
    render: (paramsJson, opts) => render(paramsJson, opts),
    share,
    record: (seconds = 4) => record(seconds),
    landscape: (x, y, steps) => landscape(x, y, steps),
    onProgress: (fn) => { listeners.add(fn); return () => listeners.delete(fn); },
    audio,
    latent: latentApi,
    // Diagnostics for tests: where the latent panel's widgets are on the canvas, frames drawn.
    ui: { latentLayout: () => JSON.parse(ui.latentLayout()), frames: () => ui.frameCount() },
  };
  Object.assign(window.ddsp, api);

  // Start-up content: a shared link's parameters, else the example.
  try {
    const target = query.get('target') || options.example;
    if (target) await loadUrl(target);
    const shared = hash.get('params');
    if (shared) await importParams(fromBase64Url(shared)).catch(() => {});
    const preset = query.get('preset');
    if (preset) await importParams(await (await fetch(preset)).text()).catch((e) => setStatus(`Preset: ${e.message}`, true));
    readyResolve(api);
    if (query.get('autostart') === '1' || query.get('autostart') === 'true') start().catch(() => {});
  } catch (e) {
    setStatus(`Could not load the example: ${e.message}`, true);
    readyResolve(api);  // the studio works; the user can drop a file
  }
  return api;
}
