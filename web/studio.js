// The studio's hub (main thread). It owns the state a user sees and connects four parts:
//   the UI module (ddsp_ui.js: Dear ImGui on the canvas; sends commands, shows what it is given),
//   the worker (worker.js: decoding help, MatchSession in slices, renders, landscapes, the latent
//   and remap panels' engines),
//   the audio engine (audio.js: AudioWorklet player, A/B, notes, meters),
//   and the page (file drop, file dialogs, microphone, downloads, share links, window.ddsp).
// Protocols: web/README.md. Public API (window.ddsp): ../shared/DESIGN.md and README.md.
//
// The work is split by concern into web/studio/*.js. Each module's install function adds its
// functions to one studio object `s` (below), and modules call each other through `s` at call time,
// so the order of installation does not matter and every function exists before the UI can send a
// command. This file keeps what ties them together:
//   [SECTION] the studio object and its state
//   [SECTION] the worker: requests and replies
//   [SECTION] audio and the UI module
//   [SECTION] start-up: worker, inputs, window.ddsp, the first content
import { AudioEngine } from './audio.js';
import { buildApi } from './studio/api.js';
import { installCommands } from './studio/commands.js';
import { attachParamsInput, installFiles } from './studio/files.js';
import { installLatent } from './studio/latent.js';
import { paceFrames } from './studio/frames.js';
import { installMatch } from './studio/match.js';
import { installPlayback } from './studio/playback.js';
import { installRemap } from './studio/remap.js';
import { attachTargetInputs, installTarget } from './studio/target.js';
import { parseStudioUrl } from './studio/url_params.js';
import { safeText } from './studio/util.js';

export { encodeWav } from './studio/util.js';

export async function startStudio(options = {}) {
  // [SECTION] the studio object and its state

  const canvas = document.getElementById('canvas');
  const loading = document.getElementById('loading');
  // The query and a share link's fragment, checked (studio/url_params.js): refused values keep
  // the defaults and are reported on the status line once the UI is up.
  const url = parseStudioUrl(location.search, location.hash);

  const state = {
    synth: url.synth || options.synth || 'ks',
    method: url.method || options.method || 'gradient',
    running: false, iteration: 0, loss: null, bestLoss: null, initialLoss: null, params: null,
    target: null,          // {name, samples, sampleRate}
    recon: null,           // {samples, sampleRate}
    run: 0, error: null, status: '', runs: [],
  };
  let readyResolve, readyReject;
  const ready = new Promise((ok, fail) => { readyResolve = ok; readyReject = fail; });
  window.ddsp = { ready };  // the rest of the API is filled in once the modules are up

  // Everything the modules share. `ui` is null until the UI module is up; the modules add their
  // functions (s.loadAudio, s.start, s.play, s.latentLoad ...).
  const s = {
    options, state, ready,
    ui: null,
    listeners: new Set(),  // progress listeners (embed.html posts to its parent)
    reconHolds: 'match',   // whose audio the 'recon' slot (B) holds: the match's or the decoder's ('latent')
  };

  // Every message goes through safeText: they quote file names, the engine's errors and names from
  // parameter files, which may hold control characters or invalid bytes.
  s.setStatus = (text, isError = false) => {
    text = safeText(text);
    state.status = text;
    state.error = isError ? text : null;
    s.ui?.setStatus(text, isError);
    if (isError) {
      console.warn('ddsp:', text);
      options.postToParent?.({ type: 'error', message: text });
    }
  };
  const fail = (e) => {
    loading.hidden = false;
    loading.classList.add('error');
    loading.textContent = safeText(`The studio could not start: ${e?.message ?? e}`);
    readyReject(e);
  };

  // [SECTION] the worker: requests and replies

  // A page opened with ?test-hooks=1 lets the worker accept its crash request (window.ddsp.debug).
  const testHooks = url.testHooks;
  const workerUrl = testHooks ? 'worker.js?test-hooks=1' : 'worker.js';
  let worker = new Worker(workerUrl);
  worker.onmessage = (e) => onWorkerMessage(e.data);  // replies to requests made before init are not lost
  let nextId = 1;
  const pending = new Map();  // request id -> {resolve, reject}
  s.worker = worker;
  s.request = (msg, transfer = []) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...msg, id }, transfer);
  });
  let started = false;  // the first worker said 'ready'; later failures restart it
  worker.onerror = (e) => { if (started) restartWorker(e.message ?? 'an uncaught error'); else fail(new Error(`worker: ${e.message ?? 'failed to load'}`)); };

  // Replies settle their request; errors without a waiting request go to the status line; the
  // match's and fine-tuning's streams go to their modules.
  function onWorkerMessage(m) {
    if (m.id !== undefined && pending.has(m.id) && m.type !== 'progress') {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.type === 'error') p.reject(new Error(m.message)); else p.resolve(m);
      if (m.type === 'error') return;
    } else if (m.type === 'crashed') {
      restartWorker(m.message);
      return;
    } else if (m.type === 'error') {
      s.setStatus(m.message, true);
      if (m.request === 'start') { state.running = false; s.ui.progress('{}', null, true); }
      if (m.request === 'fineTune') s.fineTuneFailed(m.message);
      if (m.request === 'remapTrain') s.remapFailed(m.message);
      return;
    }
    if (m.type === 'fineTuneProgress') s.onFineTuneProgress(m);
    else if (m.type === 'remapProgress') s.onRemapProgress(m);
    else if (m.type === 'progress' || m.type === 'done') s.onMatchProgress(m);
  }

  // window.ddsp.memory(): what the page holds (the soak test samples it; anyone can watch a long
  // session with it). jsHeapBytes is Chromium's performance.memory (coarse unless Chromium runs
  // with --enable-precise-memory-info; null elsewhere); the rest are the three wasm memories.
  s.memory = async () => {
    const within = (p) => Promise.race([p, new Promise((ok) => setTimeout(() => ok(null), 3000))]).catch(() => null);
    const [workerWasmBytes, workletWasmBytes] = await Promise.all([
      within(s.request({ type: 'memory' }).then((r) => r.wasmBytes)),
      within(s.audio.memory ? s.audio.memory() : Promise.resolve(null))]);
    return { jsHeapBytes: performance.memory?.usedJSHeapSize ?? null, uiWasmBytes: s.ui?.HEAPU8?.byteLength ?? null,
      workerWasmBytes, workletWasmBytes };
  };

  // Sends `w` its init and resolves with its 'ready' reply (with the synths' tables); its other
  // messages go to onWorkerMessage, before and after.
  function initWorker(w) {
    return new Promise((resolve) => {
      w.onmessage = (e) => {
        if (e.data.type !== 'ready') { onWorkerMessage(e.data); return; }
        w.onmessage = (m) => onWorkerMessage(m.data);
        resolve(e.data);
      };
      w.postMessage({ type: 'init' });
    });
  }

  // A worker that crashed (a wasm trap or abort, an uncaught exception in worker.js) is replaced by a
  // new one; what the page holds goes back in: the target, the latent panel's model and recording, the
  // remap panel's performance and model. The parameters live here and in the UI, so they stay. Running
  // jobs end (their promises reject). More than three crashes within a minute: the studio gives up.
  const crashes = [];
  let restarting = null;
  function restartWorker(reason) {
    if (!started) return null;
    reason = String(reason ?? 'unknown error').split('\n')[0];
    const now = performance.now();
    crashes.push(now);
    while (crashes.length && now - crashes[0] > 60000) crashes.shift();
    worker.onmessage = worker.onerror = null;
    worker.terminate();
    const gone = new Error(`the engine stopped (${reason})`);
    for (const p of pending.values()) p.reject(gone);
    pending.clear();
    if (crashes.length > 3) {
      s.setStatus(`The engine stopped again (${reason}): reload the page.`, true);
      return null;
    }
    // The new worker's first message is its init, so whatever is asked from now on waits behind it.
    worker = new Worker(workerUrl);
    s.worker = worker;
    const ready = initWorker(worker);
    worker.onerror = (e) => { restarting = null; restartWorker(e.message ?? 'an uncaught error'); };
    if (state.running) {
      s.onMatchProgress({ type: 'done', run: state.run, iteration: state.iteration, loss: state.loss, bestLoss: state.bestLoss,
        initialLoss: state.initialLoss, stopped: true });
    }
    s.engineCrashed?.(gone.message);
    if (s.remap?.training.running) s.remapFailed(gone.message);
    const w = worker;
    restarting = (async () => {
      await ready;
      if (w !== worker) return;
      s.restarts = (s.restarts ?? 0) + 1;
      const t = state.target;
      if (t) await s.request({ type: 'setTarget', samples: t.samples.slice(), sampleRate: t.sampleRate, name: t.name }).catch(() => {});
      await s.latentRestore?.().catch(() => {});
      await s.remapRestore?.().catch(() => {});
      restarting = null;
      s.refreshNotesSoon();
      s.setStatus(`The engine stopped (${reason}) and was restarted; the target${t ? ` (${t.name})` : ''} and the parameters ` +
        'are kept. Press Match to run again.', true);
    })();
    return restarting;
  }
  s.restartWorker = restartWorker;

  // [SECTION] audio and the UI module

  // Audio (created now, resumed on the first user gesture: autoplay policy)
  const audio = new AudioEngine();
  s.audio = audio;
  s.audioReady = audio.init().catch((e) => { s.setStatus(`Audio is unavailable: ${e.message}`, true); });
  s.resumeAudio = () => { audio.resume?.(); };
  for (const ev of ['pointerdown', 'keydown']) window.addEventListener(ev, s.resumeAudio, { capture: true });

  // Every module's functions exist before the UI module can send a command.
  installTarget(s);
  installMatch(s);
  installPlayback(s);  // also feeds the UI's meter from the audio engine
  installFiles(s);
  installLatent(s);
  installRemap(s);
  installCommands(s);

  try {
    if (typeof createDdspUi !== 'function') throw new Error('ddsp_ui.js did not load');
    s.ui = await createDdspUi({ canvas, onUiCommand: (json) => s.onCommand(JSON.parse(json)),
      print: (t) => console.log(t), printErr: (t) => console.warn(t) });
  } catch (e) { fail(e); return; }
  const ui = s.ui;
  paceFrames(s, canvas);  // fewer frames while the worker computes (studio/frames.js)
  ui.setCompact(!!options.compact);
  // embed.html?view=latent: the widget shows the latent panel (and loads its model once the target is in).
  const latentView = !!options.compact && url.view === 'latent';
  if (latentView) ui.setCompactView('latent');
  // The UI starts with the engine's defaults (match::MatchParams); the URL may override some.
  const initial = ui.settings();
  ui.setSettings(state.synth, state.method, url.loss || initial.loss, url.steps || initial.steps,
    initial.timeBudgetS, initial.learningRate, initial.seed);
  if (url.errors.length) s.setStatus(url.errors.join('; '), true);

  // Examples menu (assets/sounds/manifest.json)
  try {
    const manifest = await (await fetch('assets/sounds/manifest.json')).json();
    const examples = manifest.map((e) => ({ file: `assets/sounds/${e.file}`, kind: e.kind === 'pluck' ? 'Plucked strings' : 'Drums',
      label: `${e.instrument ?? e.file}${e.note ? ' ' + e.note : ''}` }));
    examples.sort((a, b) => a.kind.localeCompare(b.kind) * -1);
    ui.setExamples(JSON.stringify(examples));
  } catch { /* the menu stays empty; files can still be dropped */ }

  // [SECTION] start-up: worker, inputs, window.ddsp, the first content

  const init = await initWorker(worker);
  started = true;
  state.synths = JSON.parse(init.synths ?? '[]');
  loading.hidden = true;

  attachTargetInputs(s);
  attachParamsInput(s);
  s.attachKeys();
  s.refreshNotesSoon();  // the keyboard plays the chosen synth from the start
  s.remapPresets().catch(() => {});  // the remap panel's preset menu

  const api = buildApi(s);
  Object.assign(window.ddsp, api);

  // Start-up content: a shared link's parameters, else the example.
  try {
    const target = url.target || options.example;
    if (target) await s.loadUrl(target);
    if (url.params) await s.importParams(url.params).catch(() => {});
    if (url.preset) await s.importParams(await (await fetch(url.preset)).text()).catch((e) => s.setStatus(`Preset: ${e.message}`, true));
    if (latentView) await s.latentLoad().catch((e) => s.setStatus(`Latent model: ${e.message}`, true));
    readyResolve(api);
    if (url.autostart) s.start().catch(() => {});
  } catch (e) {
    s.setStatus(`Could not load the example: ${e.message}`, true);
    readyResolve(api);  // the studio works; the user can drop a file
  }
  return api;
}
