// The latent panel: a pretrained DDSP autoencoder in the worker (timbre transfer of the recording,
// notes for the keyboard, fine-tuning on the recording) and window.ddsp.latent (web/README.md).
//
// The worker holds the model and the recording (the match target); `s.latent` holds what the panel
// shows. Renders go to the audio engine's 'recon' slot (B), so Space still toggles the target (A)
// against the decoder.
import { fmt, safeText } from './util.js';

// The latent panel's model, fetched the first time the panel opens (not with the page).
const LATENT_MODEL_URL = 'assets/models/ddsp_gm8.safetensors';
// Model files larger than this are refused before they are read (the bundled one is 0.5 MB).
const MAX_MODEL_BYTES = 256 * 1024 * 1024;

// Adds s.latent (the panel's state), the functions the rest of the studio calls
// (s.latentLoad, s.latentRecordingChanged, s.latentIsInstrument, s.onFineTuneProgress,
// s.fineTuneFailed, s.latentSetZ ... used by the UI's commands) and s.latentApi (window.ddsp.latent).
export function installLatent(s) {
  const { state, setStatus, request } = s;
  const latent = {
    loading: null, info: null, z: null, recordingZ: null, source: 'recording', weights: 'base', tuned: false, transpose: 0,
    render: null, error: null,
    fineTune: { running: false, run: 0, step: 0, steps: 0, loss: null, initialLoss: null, losses: [] },
  };
  let fineTuneRuns = 0;
  let modelSource = null;
  let latentRecording = null;  // a recording for the decoder only (latentSetRecording), for a restarted worker  // {url} or {bytes} of the model loaded last (a restarted worker gets it again)
  const fineTuneWaiters = new Map();  // fine-tuning run -> {resolve, reject}
  let latentBusy = false, latentAgain = false, latentLatest = Promise.resolve(null);  // scrub renders

  function latentIsInstrument() { return !!latent.info && latent.source === 'keyboard'; }

  function latentError(text) {
    text = safeText(text);
    latent.error = text;
    s.ui.setLatentStatus(text, true);
    setStatus(text, true);
  }

  // Loads the model (default: the bundled one; or a URL, ArrayBuffer, typed array, Blob or File).
  // The bundled model is fetched once; a failed load keeps the previous model.
  async function latentLoad(input) {
    if (input === undefined && latent.info) return latent.info;
    if (input === undefined && latent.loading) return latent.loading;
    const job = (async () => {
      const ui = s.ui;
      let msg;
      if (input === undefined || typeof input === 'string') msg = { url: input ?? LATENT_MODEL_URL };
      else if (input instanceof ArrayBuffer) msg = { bytes: input.slice(0) };
      else if (ArrayBuffer.isView(input)) msg = { bytes: input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength) };
      else if (input && typeof input.arrayBuffer === 'function') {
        // A file's size is known before it is read: a huge one is refused without reading it.
        if (input.size > MAX_MODEL_BYTES) {
          latentError(`the model file is ${(input.size / 1048576).toFixed(0)} MB, more than this page reads (${MAX_MODEL_BYTES / 1048576} MB)`);
          throw new Error(latent.error);
        }
        msg = { bytes: await input.arrayBuffer() };
      }
      else throw new Error('latent.load needs a URL, an ArrayBuffer, a typed array or a Blob');
      ui.setLatentStatus('Loading the model...', false);
      if (msg.bytes && msg.bytes.byteLength > MAX_MODEL_BYTES) {
        latentError(`the model file is ${(msg.bytes.byteLength / 1048576).toFixed(0)} MB, more than this page reads (${MAX_MODEL_BYTES / 1048576} MB)`);
        throw new Error(latent.error);
      }
      const kept = msg.url ? { url: msg.url } : { bytes: msg.bytes.slice(0) };  // for a restarted worker
      let r;
      try {
        r = await request({ type: 'loadModel', ...msg }, msg.bytes ? [msg.bytes] : []);
      } catch (e) {
        latentError(e.message);  // one line: "model file: ...", "the model file is empty", "<url>: HTTP 404" ...
        throw new Error(latent.error);
      }
      const previousZ = latent.z;
      modelSource = kept;
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
      liveWeights = null;  // a new model: the worklet gets it when it next plays the decoder
      if (latentIsInstrument() || micStream) updateLiveSource().catch(() => {});
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
    const ui = s.ui;
    const untouched = !latent.z || (latent.recordingZ && latent.z.every((v, i) => Math.abs(v - latent.recordingZ[i]) < 1e-6));
    latent.recordingZ = reply.latent?.z ?? null;
    if (reply.latentError) ui.setLatentStatus(safeText(`This recording cannot drive the decoder: ${reply.latentError}`), true);
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
      latentRecording = { samples: Float32Array.from(samples), sampleRate, name };
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
    if (updateUi) s.ui.setLatentZ(Float32Array.from(a));
    latentRenderSoon();
    if (liveWeights) s.audio.liveZ(a);  // heard from the decoder's next frame
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
      s.ui.setRecon(r.samples, r.sampleRate);
      s.audio.loadBuffer?.('recon', r.samples, r.sampleRate);
      s.reconHolds = 'latent';
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
    s.ui.setLatentSource(source);
    if (!latent.info) return;
    latentRenderSoon();
    updateLiveSource().catch((e) => latentError(`Live: ${e.message}`));  // the keyboard plays the decoder, or the synth
  }

  // [SECTION] the decoder on the audio thread (the worklet's live engine)
  // The worklet holds its own copy of the weights the panel uses (base or tuned, from the worker)
  // and the panel's z; it plays the decoder from the keyboard (source 'keyboard') or from the
  // microphone (liveInput), analysing the input frame by frame (engine/live.h).
  let liveWeights = null, micStream = null, liveChain = Promise.resolve();
  async function ensureLiveModel() {
    if (!latent.info) await latentLoad();
    if (liveWeights === latent.weights) return;
    const r = await request({ type: 'exportWeights', weights: latent.weights });
    await s.audio.liveModel(r.bytes);
    liveWeights = latent.weights;
    s.audio.liveZ(latent.z);
  }
  function updateLiveSource() {
    // Serialised: a quick toggle must not leave an older request's source in place.
    liveChain = liveChain.catch(() => {}).then(async () => {
      const want = micStream ? 'input' : latentIsInstrument() ? 'keys' : 'synth';
      if (want !== 'synth') await ensureLiveModel();
      await s.audio.liveSource(want);
      s.ui.setLatentLive?.(!!micStream);
      pollLiveStats(want !== 'synth');
    });
    return liveChain;
  }
  // While the decoder plays live, the panel shows the latency and the audio thread's load.
  let statsTimer = 0;
  function pollLiveStats(on) {
    clearInterval(statsTimer);
    statsTimer = 0;
    if (!on) return;
    statsTimer = setInterval(async () => {
      try {
        const st = await s.audio.liveStats({ reset: true });
        s.ui.setLiveStats?.(st.latencyMs, (100 * st.processMsMean) / st.budgetMs, (100 * st.processMsMax) / st.budgetMs,
          st.input.f0Hz, st.input.voiced);
      } catch { /* the audio engine is gone: nothing to show */ }
    }, 500);
  }
  async function latentLiveInput(on) {
    if (on && !micStream) {
      if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser gives no microphone');
      s.resumeAudio();
      try {
        micStream = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 } });
      } catch (e) {
        latentError(`Microphone: ${e.message}`);
        throw e;
      }
      await s.audio.setInput(micStream);
      s.ui.setLatentStatus('Live input: sing or play into the microphone; the pad and sliders move the timbre.', false);
    } else if (!on && micStream) {
      micStream.getTracks().forEach((t) => t.stop());
      micStream = null;
      await s.audio.setInput(null);
    }
    try {
      await updateLiveSource();
    } catch (e) {
      latentError(`Live input: ${e.message}`);
      throw e;
    }
    return s.audio.liveStats();
  }

  function latentSetTranspose(semitones) {
    latent.transpose = Number(semitones) || 0;
    latentRenderSoon();
  }

  async function latentPlay() {
    if (!latent.info) await latentLoad();
    let r = latent.render;
    if (!r || latentBusy || s.reconHolds !== 'latent') { latentRenderSoon(); r = await latentSettled(); }
    if (!r) throw new Error(latent.error ?? 'nothing to play');
    s.play('recon');
    return r;
  }

  function latentUseTuned(on) {
    if (on && !latent.tuned) { latentError('Fine-tune first: there are no tuned weights yet'); return; }
    latent.weights = on ? 'tuned' : 'base';
    s.ui.setLatentWeights(latent.weights, latent.tuned);
    latentRenderSoon();
    if (liveWeights) { liveWeights = null; updateLiveSource().catch(() => {}); }
  }

  async function latentFineTune({ steps = 100, learningRate = 3e-4 } = {}) {
    if (!latent.info) await latentLoad();
    if (!latent.recordingZ) { latentError('Fine-tuning needs a pitched recording: load one first'); throw new Error(latent.error); }
    const run = ++fineTuneRuns;
    Object.assign(latent.fineTune, { running: true, run, step: 0, steps, loss: null, initialLoss: null, losses: [] });
    s.ui.latentFineTuneStarted(steps);
    s.ui.setLatentStatus(safeText(`Fine-tuning on ${state.target?.name ?? 'the recording'}...`), false);
    return new Promise((resolve, reject) => {
      fineTuneWaiters.set(run, { resolve, reject });
      request({ type: 'fineTune', steps, learningRate, run }).catch((e) => fineTuneFailed(e.message, run));
    });
  }

  function fineTuneFailed(message, run = latent.fineTune.run) {
    if (run === latent.fineTune.run) latent.fineTune.running = false;
    s.ui.latentProgress(JSON.stringify({ done: true }), null, true);
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
    s.ui.latentProgress(JSON.stringify(rest), history ?? null, !!m.done);
    // An embedding page hears fine-tuning as it hears a match (embed.html's protocol).
    s.options.postToParent?.({ type: m.done ? 'done' : 'progress', kind: 'fineTune', iteration: m.step, steps: m.steps,
      loss: m.loss, bestLoss: m.loss, initialLoss: m.initialLoss });
    if (!m.done) return;
    latent.tuned = m.step > 0;
    s.ui.setLatentStatus(`Fine-tuned ${m.step} steps: loss ${fmt(m.initialLoss)} -> ${fmt(m.loss)}${m.stopped ? ' (stopped)' : ''}. `
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

  // A restarted worker (studio.js): the model and the recording go back; a running fine-tuning ended
  // (its promise rejects) and the tuned weights are gone with the old worker (Before is selected).
  function engineCrashed(message) {
    if (latent.fineTune.running) fineTuneFailed(message);
  }
  async function latentRestore() {
    if (!modelSource || !latent.info) return;
    await request({ type: 'loadModel', ...(modelSource.url ? { url: modelSource.url } : { bytes: modelSource.bytes.slice(0) }) });
    if (!state.target && latentRecording) await request({ type: 'latentTarget', ...latentRecording, samples: latentRecording.samples.slice() });
    if (latent.tuned || latent.weights === 'tuned') {
      latent.tuned = false;
      latent.weights = 'base';
      s.ui.setLatentWeights('base', false);
    }
  }

  const latentApi = {
    load: (input) => latentLoad(input),
    info: () => latent.info,
    z: () => latent.z?.slice() ?? null,
    recordingZ: () => latent.recordingZ?.slice() ?? null,
    setZ: (z) => { latentSetZ(z, true); return latentSettled(); },
    setSource: (source) => latentSetSource(source),
    liveInput: (on = true) => latentLiveInput(!!on),
    render: async (opts) => (await latentRenderOnce(opts)).samples,
    play: () => latentPlay(),
    fineTune: (opts) => latentFineTune(opts),
    stopFineTune: () => latentStopFineTune(),
    exportWeights: () => latentExportWeights(),
    useTuned: (on = true) => latentUseTuned(!!on),
    setRecording: (samples, sampleRate, name) => latentSetRecording(samples, sampleRate, name),
    state: () => ({ loaded: !!latent.info, z: latent.z?.slice() ?? null, source: latent.source, weights: latent.weights,
      tuned: latent.tuned, error: latent.error, live: !!micStream,
      fineTune: { ...latent.fineTune, losses: latent.fineTune.losses.slice() } }),
  };

  Object.assign(s, {
    latent, latentApi, latentIsInstrument, latentLoad, latentLiveInput, latentRecordingChanged, latentSetZ, latentSetSource,
    latentSetTranspose, latentPlay, latentUseTuned, latentFineTune, latentStopFineTune, latentExportWeights,
    onFineTuneProgress, fineTuneFailed, engineCrashed, latentRestore,
  });
}
