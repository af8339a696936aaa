// The studio's Web Worker (a classic script: `new Worker('worker.js')`). It owns the wasm engine
// (ddsp_engine.js, next to this file) and one MatchRunner, and speaks the worker protocol of
// web/README.md.
//
// Matching runs in slices of ~20 ms. Between slices the worker yields to its event loop (through a
// MessageChannel, which unlike a nested setTimeout(0) is not clamped to 4 ms), so `stop`, `render`,
// `landscape` and every other request is handled within one slice. A landscape also runs in slices
// (rows) and takes precedence over the match while it lasts. Progress is posted at most every
// 50 ms with the losses since the previous message; the best parameters and their rendering when
// they have improved, at most every 250 ms (spaced further if rendering them would take over 2 % of
// the worker's time), and always in `done`. Arrays are transferred, not copied.
//
// The latent panel has its own engine object (LatentRunner: a DDSP autoencoder loaded on request)
// and its own job, fine-tuning, which also runs in slices (one Adam step at least, since a step
// cannot be split). So does the remap panel (RemapRunner: timbre remapping, its training and the
// 808 rendering of a performance). Running jobs take turns slice by slice, so none stalls another.
/* global createDdspEngine */
'use strict';

importScripts('ddsp_engine.js');

const SLICE_MS = 20;
const PROGRESS_MS = 50;
const RECON_MS = 250;
// Rendering the best parameters is a whole forward pass of the synth (for ks about half an iteration),
// done here only to show and play it: the renderings are spaced so they take at most this share of
// the worker's time (RECON_MS holds for a rendering under 5 ms; a slower one, or a starved worker,
// waits longer).
const RECON_SHARE = 0.02;

let engine = null;        // the module; recreated if it ever aborts
let runner = null;        // engine.MatchRunner
let enginePromise = null;
let synthsJson = '[]';
let defaultsJson = '{}';

// The current match.
let run = 0;              // the start's `run` if it gave one, else a count of starts; in every progress/done
let running = false;      // the runner has iterations to do
let startId;              // id of the start (or resume) request, sent with the next message
let lastProgressT = 0, lastReconT = 0;
let reconCostMs = 0;      // what the last rendering of the best took (addBest)

// The current landscape job.
let landscapeJob = null;  // {id}

// The latent panel: the model and recording are kept here too, so an engine restarted after an
// abort gets them back.
let latent = null;        // engine.LatentRunner
let modelBytes = null;    // Uint8Array of the model loaded last
let latentRecording = null;  // {samples, sampleRate}
let fineTuneRun = 0;

// The remap panel: the performance and the model are kept here too (for a restarted engine).
let remap = null;             // engine.RemapRunner
let remapPerformance = null;  // {samples, sampleRate}
let remapModelBytes = null;   // Uint8Array: the model trained or loaded last
let remapRun = 0;

// The panels' training runs (fine-tuning, remap training): {id, run, lastT, history: []} or null.
const trainingJobs = { fineTune: null, remap: null };

let turn = 0;             // running jobs take turns, a slice each

// Parameter JSON arrives as a string; a parsed object is accepted too.
const paramsText = (p) => (p === undefined || p === null ? '' : typeof p === 'object' ? JSON.stringify(p) : String(p));

const oneLine = (e) => String((e && e.message) || e || 'unknown error').split('\n')[0].trim() || 'unknown error';

function post(msg) {
  const transfers = [];
  for (const v of Object.values(msg)) if (ArrayBuffer.isView(v)) transfers.push(v.buffer);
  self.postMessage(msg, transfers);
}

function postError(id, request, message) {
  post({ type: 'error', id, request, message: oneLine(message) });
}

function loadEngine() {
  if (!enginePromise) {
    enginePromise = createDdspEngine().then((m) => {
      engine = m;
      runner = new m.MatchRunner();
      latent = new m.LatentRunner();
      if (modelBytes && latent.loadModel(modelBytes).ok && latentRecording)
        latent.setRecording(latentRecording.samples, latentRecording.sampleRate);
      remap = new m.RemapRunner();
      if (remapPerformance) remap.setPerformance(remapPerformance.samples, remapPerformance.sampleRate);
      if (remapModelBytes) remap.loadModel(remapModelBytes);
      synthsJson = m.synths();
      defaultsJson = m.defaults();
      return m;
    });
    enginePromise.catch(() => { enginePromise = null; });
  }
  return enginePromise;
}

// After a wasm abort (out of memory, a trap) the module's state is gone: start a fresh one.
function isFatal(e) {
  return e instanceof WebAssembly.RuntimeError || /abort|unreachable|out of memory/i.test(String(e && e.message || e));
}

// The page replaces a crashed worker with a fresh one and gives it back its target and models
// (studio.js): after a fatal error the module's state is gone, so the worker says so.
function crashed(e) {
  resetEngine();
  const what = oneLine(e).replace(/\. Build with -s ASSERTIONS=1 for more info\.?$/, '');
  post({ type: 'crashed', message: e instanceof WebAssembly.RuntimeError && !/^Aborted/.test(what) ? `a wasm trap: ${what}` : what });
}

// Limits on what reaches wasm memory (the page checks first, with friendlier words; these hold for
// any caller): a recording of more than MAX_SAMPLES samples (256 MB as float), a file of more than
// MAX_FILE_BYTES to decode. Wasm memory is finite (2 GB here): a refusal, never an abort.
const MAX_SAMPLES = 64 * 1024 * 1024;
const MAX_FILE_BYTES = 512 * 1024 * 1024;
// The WAV reader decodes at most one sample per byte present (8-bit mono), 4 bytes each beside the
// file's copy: 256 MB of file is at most 1.25 GB of wasm memory.
const MAX_WAV_BYTES = 256 * 1024 * 1024;
const MB = (n) => `${(n / (1024 * 1024)).toFixed(0)} MB`;
function checkSamples(samples, what) {
  if (samples.length > MAX_SAMPLES)
    throw new Error(`${what} has ${samples.length} samples (${MB(4 * samples.length)}), more than the engine's limit of ${MB(4 * MAX_SAMPLES)}`);
}

// Set by a page opened with ?test-hooks=1 (studio.js): only then is `debugCrash` accepted.
const TEST_HOOKS = /[?&]test-hooks=1\b/.test(self.location.search);

function resetEngine() {
  engine = null;
  runner = null;
  enginePromise = null;
  running = false;
  landscapeJob = null;
  latent = null;
  trainingJobs.fineTune = null;
  remap = null;
  trainingJobs.remap = null;
}

// The string autoencoder for the amortised methods: fetched the first time one is used (not with
// the page), kept for an engine restarted after an abort.
const KS_MODEL_URL = 'assets/models/ks_ae.safetensors';
let ksModelBytes = null;
async function loadKsModel() {
  if (runner.hasKsModel()) return;
  if (!ksModelBytes) {
    const res = await fetch(KS_MODEL_URL);
    if (!res.ok) throw new Error(`${KS_MODEL_URL}: HTTP ${res.status}`);
    ksModelBytes = new Uint8Array(await res.arrayBuffer());
  }
  const r = runner.loadKsModel(ksModelBytes);
  if (r.error) throw new Error(r.error);
}

// [SECTION] the slice loop

const channel = new MessageChannel();
let scheduled = false;
channel.port1.onmessage = () => {
  scheduled = false;
  tick();
};

function schedule() {
  if (scheduled || !(running || landscapeJob || trainingJobs.fineTune || trainingJobs.remap)) return;
  scheduled = true;
  channel.port2.postMessage(null);
}

function tick() {
  const jobs = [];
  if (running || landscapeJob) jobs.push(matchSlice);
  for (const kind of Object.keys(trainingJobs)) if (trainingJobs[kind]) jobs.push(() => trainingSlice(kind));
  if (jobs.length) jobs[turn++ % jobs.length]();
  schedule();
}

function matchSlice() {
  try {
    if (landscapeJob) {
      const job = landscapeJob;
      const r = runner.landscapeRun(SLICE_MS);
      if (r.error) {
        landscapeJob = null;
        postError(job.id, 'landscape', r.error);
      } else if (r.done) {
        landscapeJob = null;
        const out = runner.landscapeResult();
        if (out.error) postError(job.id, 'landscape', out.error);
        else post({ type: 'landscape', id: job.id, ...out });
      }
    } else if (running) {
      const p = runner.runFor(SLICE_MS);
      if (p.error) {
        running = false;
        postError(startId, 'start', p.error);
      } else if (p.done) {
        running = false;
        postDone(p, startId, false);
      } else {
        const now = performance.now();
        if (now - lastProgressT >= PROGRESS_MS) postProgress(p, now);
      }
    }
  } catch (e) {
    const request = landscapeJob ? 'landscape' : 'start';
    const id = landscapeJob ? landscapeJob.id : startId;
    running = false;
    landscapeJob = null;
    postError(id, request, e);
    if (isFatal(e)) crashed(e);
  }
}

function progressFields(p) {
  return {
    run, iteration: p.iteration, loss: p.loss, bestLoss: p.bestLoss, initialLoss: p.initialLoss,
    evaluations: p.evaluations, elapsedS: p.elapsedS, itersPerS: p.itersPerS, stepLimit: p.stepLimit,
    timeBudgetS: p.timeBudgetS, sampleRate: p.sampleRate,
  };
}

// Best parameters and their rendering, when they changed (or always, for `done`).
function addBest(msg, always) {
  const p = runner.progress();
  if (!always && !p.improved) return;
  const t0 = performance.now();
  msg.params = runner.bestParamsJson();
  const audio = runner.bestAudio();
  if (audio instanceof Float32Array) msg.recon = audio;
  reconCostMs = performance.now() - t0;
}

function postProgress(p, now) {
  const msg = { type: 'progress', ...progressFields(p) };
  if (startId !== undefined) {
    msg.id = startId;
    startId = undefined;
  }
  const history = runner.takeHistory();
  if (history.length) msg.history = history;
  if (now - lastReconT >= Math.max(RECON_MS, reconCostMs / RECON_SHARE)) {
    const before = msg.params;
    addBest(msg, false);
    if (msg.params !== before) lastReconT = now;
  }
  lastProgressT = now;
  post(msg);
}

function postDone(p, id, stopped) {
  const msg = { type: 'done', ...progressFields(p), id, stopped, reason: p.reason };
  const history = runner.takeHistory();
  if (history.length) msg.history = history;
  addBest(msg, true);
  lastProgressT = lastReconT = performance.now();
  post(msg);
}

// [SECTION] fine-tuning's messages

// The losses a training job gathered since its last message (whose time is now).
function takeHistory(job) {
  const history = Float32Array.from(job.history);
  job.history = [];
  job.lastT = performance.now();
  return history;
}

function postFineTune(p, extra = {}) {
  const job = trainingJobs.fineTune;
  post({ type: 'fineTuneProgress', run: job.run, step: p.step, steps: p.steps, loss: p.loss, initialLoss: p.initialLoss,
    done: !!p.done, z: p.z, history: takeHistory(job), ...extra });
}

// The last message of a fine-tuning run: the recording through the tuned model comes with it.
function finishFineTune(p, extra) {
  const recon = latent.fineTuneRender();
  postFineTune({ ...p, done: true }, recon instanceof Float32Array ? { ...extra, recon, sampleRate: latentSampleRate() } : extra);
  trainingJobs.fineTune = null;
}

const latentSampleRate = () => latent.info()?.sampleRate ?? 16000;

// [SECTION] remap training's messages

function postRemap(p, extra = {}) {
  const job = trainingJobs.remap;
  post({ type: 'remapProgress', run: job.run, step: p.step, steps: p.steps, loss: p.loss, done: !!p.done,
    history: takeHistory(job), ...extra });
}

// The last message of a training run: the held-out errors and the model file come with it.
function finishRemap(p, extra) {
  const bytes = remap.exportModel();
  if (bytes instanceof Uint8Array) remapModelBytes = bytes.slice();
  postRemap({ ...p, done: true }, { ...extra, heldOut: p.heldOut ?? null, info: remap.info(),
    ...(bytes instanceof Uint8Array ? { bytes } : {}) });
  trainingJobs.remap = null;
}

// [SECTION] training runs in slices (fine-tuning, remap training): runFor(ms) does at least one
// step and returns {history, done, error?}; progress goes out at most every PROGRESS_MS, and a last
// message (done, or stopped by a request) from finish().
const trainers = {
  fineTune: { request: 'fineTune', runFor: (ms) => latent.fineTuneRunFor(ms), stop: () => latent.fineTuneStop(),
    post: (p) => postFineTune(p), finish: (p, extra) => finishFineTune(p, extra) },
  remap: { request: 'remapTrain', runFor: (ms) => remap.trainRunFor(ms), stop: () => remap.trainStop(),
    post: (p) => postRemap(p), finish: (p, extra) => finishRemap(p, extra) },
};

function trainingSlice(kind) {
  const job = trainingJobs[kind], t = trainers[kind];
  try {
    const p = t.runFor(SLICE_MS);
    if (p.error) {
      trainingJobs[kind] = null;
      postError(job.id, t.request, p.error);
      return;
    }
    for (const v of p.history) job.history.push(v);
    if (p.done) t.finish(p, { stopped: false });
    else if (performance.now() - job.lastT >= PROGRESS_MS) t.post(p);
  } catch (e) {
    trainingJobs[kind] = null;
    postError(job.id, t.request, e);
    if (isFatal(e)) crashed(e);
  }
}

// Ends a training run (if any) as stopped, with `id` (the stop request's) on its last message; what
// was learnt so far stays usable (the tuned weights, the remap model).
function stopTraining(kind, id) {
  const job = trainingJobs[kind], t = trainers[kind];
  if (!job) return false;
  t.stop();
  const p = t.runFor(0);
  if (p.error) { trainingJobs[kind] = null; return false; }
  for (const v of p.history) job.history.push(v);
  t.finish(p, { stopped: true, ...(id !== undefined ? { id } : {}) });
  return true;
}

const asBytes = (b) => (b instanceof Uint8Array ? b : b instanceof ArrayBuffer ? new Uint8Array(b)
  : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null);

// [SECTION] requests

const handlers = {
  init(msg) {
    post({ type: 'ready', id: msg.id, synths: synthsJson, defaults: defaultsJson, version: engine.version() });
  },

  setTarget(msg) {
    if (!(msg.samples instanceof Float32Array)) throw new Error('setTarget: samples must be a Float32Array');
    checkSamples(msg.samples, 'the recording');
    const r = runner.setTarget(msg.samples, Number(msg.sampleRate));
    if (r.error) throw new Error(r.error);
    // The target is also the latent panel's recording (encoded now if a model is loaded).
    const reply = { type: 'target', id: msg.id, name: msg.name, seconds: r.seconds, sampleRate: msg.sampleRate };
    const latentSet = latent.setRecording(msg.samples, Number(msg.sampleRate));
    latentRecording = { samples: msg.samples, sampleRate: Number(msg.sampleRate) };
    if (modelBytes) {
      if (latentSet.error) reply.latentError = latentSet.error;
      else reply.latent = latent.info().recording;
    }
    post(reply);
  },

  // The parameter table for the loaded target as matching sees it (the UI shows it instead of
  // analysing the target itself) and the values a match would start from.
  targetTable(msg) {
    const r = runner.targetTable(String(msg.synth ?? ''), paramsText(msg.params));
    if (r.error) throw new Error(r.error);
    post({ type: 'targetTable', id: msg.id, synth: String(msg.synth ?? ''), ...r });
  },

  async start(msg) {
    if (String(msg.method ?? '').startsWith('amortised')) await loadKsModel();
    const settings = {};
    for (const k of ['synth', 'method', 'loss', 'steps', 'timeBudgetS', 'learningRate', 'seed', 'population', 'synthOptions'])
      if (msg[k] !== undefined && msg[k] !== null) settings[k] = msg[k];
    settings.params = paramsText(msg.params);
    const r = runner.start(settings);
    if (r.error) throw new Error(r.error);  // the current run, if any, goes on
    run = Number.isFinite(msg.run) ? msg.run : run + 1;
    running = true;
    startId = msg.id;
    runner.takeHistory();
    lastReconT = -Infinity;
    postProgress(runner.progress(), performance.now());
  },

  stop(msg) {
    const p = runner.progress();
    if (p.error) throw new Error(p.error);
    const wasRunning = running;
    runner.stop();
    running = false;
    postDone(runner.progress(), msg.id, wasRunning);
  },

  resume(msg) {
    const p = runner.resume(Number.isFinite(msg.steps) ? Math.floor(msg.steps) : 0);
    if (p.error) throw new Error(p.error);
    running = !p.done;
    startId = msg.id;
    if (running) postProgress(p, performance.now());
    else postDone(p, msg.id, false);
  },

  render(msg) {
    const options = {};
    for (const k of ['seconds', 'sampleRate', 'seed', 'f0Hz', 'useTarget'])
      if (msg[k] !== undefined && msg[k] !== null) options[k] = msg[k];
    const r = runner.render(String(msg.synth ?? ''), paramsText(msg.params), options);
    if (r.error) throw new Error(r.error);
    const out = { type: 'rendered', id: msg.id, samples: r.samples, sampleRate: r.sampleRate };
    if (msg.f0Hz !== undefined) out.f0Hz = msg.f0Hz;
    if (msg.note !== undefined) out.note = msg.note;
    post(out);
  },

  // What the audio thread's live engine plays for these parameters (web/README.md, streamPreset).
  streamPreset(msg) {
    const options = {};
    for (const k of ['seed', 'useTarget']) if (msg[k] !== undefined && msg[k] !== null) options[k] = msg[k];
    const r = runner.streamPreset(String(msg.synth ?? ''), paramsText(msg.params), options);
    if (r.error) throw new Error(r.error);
    post({ type: 'streamPreset', id: msg.id, ...r });
  },

  // The engine's own WAV reader, for files the browser's decoder refuses (RF64, 64-bit float,
  // unusual headers); its error says what is wrong with the file. Channels are averaged.
  decodeWav(msg) {
    if (!(msg.bytes instanceof ArrayBuffer)) throw new Error('decodeWav: bytes must be an ArrayBuffer');
    if (msg.bytes.byteLength > MAX_WAV_BYTES)
      throw new Error(`the file is ${MB(msg.bytes.byteLength)}, more than the engine's WAV reader takes (${MB(MAX_WAV_BYTES)})`);
    // maxSeconds (the page's duration limit) is checked from the header, before anything is decoded.
    const maxSeconds = Number.isFinite(msg.maxSeconds) && msg.maxSeconds > 0 ? msg.maxSeconds : 0;
    const r = engine.decodeWavLimited(new Uint8Array(msg.bytes), maxSeconds);
    if (r.error) throw new Error(r.error);
    post({ type: 'decoded', id: msg.id, samples: r.samples, sampleRate: r.sampleRate, channels: r.channels });
  },

  // The crash test (tests/browser/restart.test.mjs), only from a page opened with ?test-hooks=1:
  // 'trap' (wasm unreachable), 'abort' (abort() in wasm), 'throw' (an uncaught exception in worker.js).
  debugCrash(msg) {
    if (!TEST_HOOKS) throw new Error("unknown request type 'debugCrash'");
    if (msg.kind === 'throw') setTimeout(() => { throw new Error('debugCrash: an uncaught exception in worker.js'); });
    else engine.debugTrap(msg.kind === 'abort' ? 'abort' : 'trap');
  },

  // The engine's wasm memory in bytes (window.ddsp.memory(); the soak test watches it).
  memory(msg) {
    post({ type: 'memory', id: msg.id, wasmBytes: engine.HEAPU8 ? engine.HEAPU8.byteLength : null });
  },

  // [SECTION] the latent panel (LatentRunner)

  async loadModel(msg) {
    let bytes = asBytes(msg.bytes);
    if (bytes && bytes.length > MAX_FILE_BYTES) throw new Error(`the model file is ${MB(bytes.length)}, more than the engine reads (${MB(MAX_FILE_BYTES)})`);
    if (!bytes) {
      if (typeof msg.url !== 'string' || !msg.url) throw new Error('loadModel: give bytes or a url');
      const res = await fetch(msg.url);
      if (!res.ok) throw new Error(`${msg.url}: HTTP ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    }
    const loaded = latent.loadModel(bytes);
    if (loaded.error) throw new Error(loaded.error);  // the previous model stays (and so does a running fine-tuning)
    if (trainingJobs.fineTune) {
      postError(trainingJobs.fineTune.id, 'fineTune', 'cancelled: another model was loaded');
      trainingJobs.fineTune = null;
    }
    modelBytes = bytes;
    post({ type: 'modelLoaded', id: msg.id, info: latent.info() });
  },

  latentInfo(msg) {
    post({ type: 'latentInfo', id: msg.id, info: latent.info() });
  },

  // Sets the recording without changing the match target (setTarget sets both).
  latentTarget(msg) {
    if (!(msg.samples instanceof Float32Array)) throw new Error('latentTarget: samples must be a Float32Array');
    checkSamples(msg.samples, 'the recording');
    const set = latent.setRecording(msg.samples, Number(msg.sampleRate));
    if (set.error) throw new Error(set.error);
    latentRecording = { samples: msg.samples, sampleRate: Number(msg.sampleRate) };
    const info = latent.info();
    post({ type: 'latentTarget', id: msg.id, name: msg.name, recording: info && info.recording });
  },

  latentRender(msg) {
    if (!modelBytes) throw new Error('no model loaded');
    const weights = latent.setWeights(msg.weights === 'tuned' ? 'tuned' : 'base');
    if (weights.error) throw new Error(weights.error);
    const z = Array.isArray(msg.z) || ArrayBuffer.isView(msg.z) ? Array.from(msg.z, Number) : null;
    if (!z) throw new Error('latentRender: z must be an array of numbers');
    const num = (v, d) => (v === undefined || v === null ? d : Number(v));
    const r = msg.mode === 'note'
      ? latent.renderNote(z, num(msg.f0Hz, 220), num(msg.seconds, 2), num(msg.velocity, 0.8))
      : latent.renderTransfer(z, num(msg.transpose, 0));
    if (!(r instanceof Float32Array)) throw new Error(r.error ?? 'render failed');
    const out = { type: 'latentRendered', id: msg.id, mode: msg.mode === 'note' ? 'note' : 'transfer', samples: r,
      sampleRate: latentSampleRate() };
    if (msg.note !== undefined) out.note = msg.note;
    post(out);
  },

  fineTune(msg) {
    if (!modelBytes) throw new Error('no model loaded');
    const steps = msg.steps === undefined ? 100 : Number(msg.steps);
    const lr = msg.learningRate === undefined ? 3e-4 : Number(msg.learningRate);
    if (!Number.isInteger(steps)) throw new Error(`steps: ${msg.steps} is not an integer`);
    stopTraining('fineTune');  // a newer run replaces an older one (which ends as stopped)
    const started = latent.fineTuneStart(steps, lr);
    if (started.error) throw new Error(started.error);
    trainingJobs.fineTune = { id: msg.id, run: Number.isFinite(msg.run) ? msg.run : ++fineTuneRun, lastT: 0, history: [] };
    postFineTune(latent.fineTuneRunFor(0), { id: msg.id });
  },

  fineTuneStop(msg) {
    if (!stopTraining('fineTune', msg.id)) post({ type: 'fineTuneStopped', id: msg.id });
  },

  // weights: 'base' gives the file as loaded, else the tuned weights when there are any.
  exportWeights(msg) {
    if (!modelBytes) throw new Error('no model loaded');
    if (msg.weights === 'base') {
      post({ type: 'weights', id: msg.id, bytes: modelBytes.slice() });
      return;
    }
    const r = latent.exportWeights();
    if (!(r instanceof Uint8Array)) throw new Error(r.error ?? 'export failed');
    post({ type: 'weights', id: msg.id, bytes: r });
  },

  // [SECTION] the remap panel (RemapRunner)

  remapPresets(msg) {
    post({ type: 'remapPresets', id: msg.id, presets: remap.presets() });
  },

  remapPerformance(msg) {
    if (!(msg.samples instanceof Float32Array)) throw new Error('remapPerformance: samples must be a Float32Array');
    checkSamples(msg.samples, 'the performance');
    const r = remap.setPerformance(msg.samples, Number(msg.sampleRate));
    if (r.error) throw new Error(r.error);
    remapPerformance = { samples: msg.samples, sampleRate: Number(msg.sampleRate) };
    post({ type: 'remapPerformance', id: msg.id, ...r });
  },

  remapTrain(msg) {
    const steps = msg.steps === undefined ? 300 : Number(msg.steps);
    const seed = msg.seed === undefined ? 0 : Number(msg.seed);
    if (!Number.isInteger(steps)) throw new Error(`steps: ${msg.steps} is not an integer`);
    if (!Number.isInteger(seed)) throw new Error(`seed: ${msg.seed} is not an integer`);
    stopTraining('remap');  // a newer run replaces an older one (which ends as stopped)
    const started = remap.trainStart(paramsText(msg.preset ?? 'snare_1'), String(msg.model ?? 'mlp'), steps, seed);
    if (started.error) throw new Error(started.error);
    trainingJobs.remap = { id: msg.id, run: Number.isFinite(msg.run) ? msg.run : ++remapRun, lastT: 0, history: [] };
    postRemap(remap.trainRunFor(0), { id: msg.id, started: true });
  },

  remapStop(msg) {
    if (!stopTraining('remap', msg.id)) post({ type: 'remapStopped', id: msg.id });
  },

  remapLoad(msg) {
    const bytes = asBytes(msg.bytes);
    if (!bytes) throw new Error('remapLoad: bytes must be an ArrayBuffer or a typed array');
    const r = remap.loadModel(bytes);
    if (r.error) throw new Error(r.error);
    remapModelBytes = bytes.slice();
    post({ type: 'remapLoaded', id: msg.id, info: remap.info(), bytes: remapModelBytes.slice() });
  },

  remapExport(msg) {
    const r = remap.exportModel();
    if (!(r instanceof Uint8Array)) throw new Error(r.error ?? 'export failed');
    post({ type: 'remapModel', id: msg.id, bytes: r });
  },

  remapRender(msg) {
    if (!(msg.samples instanceof Float32Array)) throw new Error('remapRender: samples must be a Float32Array');
    checkSamples(msg.samples, 'the performance');
    const r = remap.render(msg.samples, Number(msg.sampleRate));
    if (r.error) throw new Error(r.error);
    post({ type: 'remapRendered', id: msg.id, samples: r.samples, hits: r.hits, sampleRate: remap.info()?.sampleRate ?? 44100 });
  },

  remapInfo(msg) {
    post({ type: 'remapInfo', id: msg.id, info: remap.info() });
  },

  landscape(msg) {
    if (landscapeJob) postError(landscapeJob.id, 'landscape', 'cancelled by a newer landscape request');
    landscapeJob = null;
    const options = {};
    for (const k of ['loss', 'seed', 'xRange', 'yRange'])
      if (msg[k] !== undefined && msg[k] !== null) options[k] = msg[k];
    const steps = msg.steps === undefined ? 41 : Number(msg.steps);
    if (!Number.isInteger(steps)) throw new Error(`steps: ${msg.steps} is not an integer`);
    const r = runner.landscapeStart(String(msg.synth ?? ''), paramsText(msg.params), String(msg.x ?? ''),
                                    String(msg.y ?? ''), steps, options);
    if (r.error) throw new Error(r.error);
    landscapeJob = { id: msg.id };
  },
};

async function handle(msg) {
  const type = msg && msg.type;
  const id = msg && msg.id;
  try {
    if (!handlers[type]) throw new Error(`unknown request type '${type}'`);
    await loadEngine();
    await handlers[type](msg);
  } catch (e) {
    postError(id, type, e);
    if (isFatal(e)) crashed(e);
  }
  schedule();
}

// Requests are handled in arrival order, even while the engine is still loading.
let queue = Promise.resolve();
self.onmessage = (event) => {
  queue = queue.then(() => handle(event.data));
};
