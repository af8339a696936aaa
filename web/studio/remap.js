// The remap panel: timbre remapping (src/nn/remap.h). A drum performance trains a network in the
// worker (RemapRunner) that maps each hit's first milliseconds to modulations of an 808 preset;
// the worklet plays it live from the microphone's onsets; the worker renders a performance on the
// 808 for A/B. window.ddsp.remap (web/README.md).
//
// The worker holds the performance and the model; `remap` here holds what the panel shows and the
// model's bytes (the worklet gets them when it plays live).
import { download, safeText } from './util.js';

// Adds s.remap (the panel's state), s.onRemapProgress, s.remapFailed, s.remapCommand (the UI's
// commands) and s.remapApi (window.ddsp.remap).
export function installRemap(s) {
  const { state, request } = s;
  const remap = {
    presets: null, performance: null, info: null, bytes: null, error: null, live: false,
    training: { running: false, run: 0, step: 0, steps: 0, loss: null, losses: [], heldOut: null, stopped: false },
  };
  let runs = 0;
  const waiters = new Map();  // training run -> {resolve, reject}

  function status(text, isError = false) {
    text = safeText(text);
    remap.error = isError ? text : null;
    s.ui?.setRemapStatus(text, isError);
    if (isError) s.setStatus(`Remap: ${text}`, true);
  }
  const fail = (e) => { status(e.message, true); throw e; };

  async function presets() {
    if (!remap.presets) {
      remap.presets = (await request({ type: 'remapPresets' })).presets;
      s.ui.setRemapPresets(JSON.stringify(remap.presets));
    }
    return remap.presets;
  }

  // The drum808 parameters the studio has now (a match or edits), as a parameter file, or null.
  function currentPreset() {
    if (state.synth !== 'drum808' || !state.params) return null;
    try { return s.exportParams(); } catch { return null; }
  }
  const refreshCurrent = () => s.ui?.setRemapCurrent(!!currentPreset());

  // The performance: audio bytes / Blob / File, {samples, sampleRate}, or nothing (the recording).
  async function setPerformance(input, name) {
    let decoded;
    if (input === undefined || input === null) {
      if (!state.target) throw new Error('no recording loaded: load one, or give a performance');
      decoded = { samples: state.target.samples, sampleRate: state.target.sampleRate, name: state.target.name };
    } else if (input.samples instanceof Float32Array) {
      decoded = { samples: input.samples, sampleRate: Number(input.sampleRate), name: name ?? 'performance' };
    } else {
      decoded = await s.decodeInput(input, name ?? input.name ?? 'performance');
    }
    let r;
    try {
      r = await request({ type: 'remapPerformance', samples: decoded.samples.slice(), sampleRate: decoded.sampleRate });
    } catch (e) {
      fail(new Error(`${decoded.name}: ${e.message}`));
    }
    remap.performance = { name: decoded.name, samples: decoded.samples, sampleRate: decoded.sampleRate, hits: r.hits,
      seconds: r.seconds };
    s.ui.setRemapPerformance(JSON.stringify({ name: decoded.name, hits: r.hits, seconds: r.seconds }));
    status(r.hits >= 4 ? `${r.hits} hits found: press Train.` : `${r.hits} hits found: at least 4 are needed.`, r.hits < 4);
    return { hits: r.hits, seconds: r.seconds };
  }

  // Trains a model; resolves when the run ends: {step, steps, stopped, heldOut, info}.
  //   opts: {preset: name | drum808 parameter file (object or JSON) | 'current', model, steps, seed,
  //          performance: as setPerformance's input (else the one set, else the recording)}
  async function train(opts = {}) {
    await presets();
    if (opts.performance !== undefined || !remap.performance) await setPerformance(opts.performance);
    let preset = opts.preset ?? 'snare_1';
    if (preset === 'current') {
      preset = currentPreset();
      if (!preset) fail(new Error('no drum808 match to remap onto: match a drum with the drum808 synth first'));
    }
    const steps = opts.steps ?? 300;
    const run = ++runs;
    const t = remap.training;
    Object.assign(t, { running: true, run, step: 0, steps, loss: null, losses: [], heldOut: null, stopped: false });
    const finished = new Promise((resolve, reject) => waiters.set(run, { resolve, reject }));
    try {
      await request({ type: 'remapTrain', preset: typeof preset === 'object' ? JSON.stringify(preset) : String(preset),
        model: opts.model ?? 'mlp', steps, seed: opts.seed ?? 0, run });
    } catch (e) {
      waiters.delete(run);
      t.running = false;
      fail(e);
    }
    s.ui.remapTrainStarted(steps);
    status('Training in the worker...');
    return finished;
  }

  function onRemapProgress(m) {
    const t = remap.training;
    if (m.run !== t.run) return;  // an older run's last words
    t.step = m.step;
    t.steps = m.steps;
    t.loss = m.loss;
    for (const v of m.history ?? []) t.losses.push(v);
    s.ui.remapProgress(JSON.stringify({ step: m.step, steps: m.steps, loss: m.loss, done: m.done, heldOut: m.heldOut ?? null }),
      m.history ?? new Float32Array(0), !!m.done);
    if (!m.done) return;
    t.running = false;
    t.stopped = !!m.stopped;
    t.heldOut = m.heldOut ?? null;
    if (m.bytes) remap.bytes = m.bytes;
    remap.info = m.info ?? remap.info;
    s.ui.setRemapModel(JSON.stringify(remap.info));
    const h = t.heldOut;
    status(h ? `Trained (${m.step} steps): held-out loudness error ${h.model.loudness_db.toFixed(2)} dB, no modulation `
      + `${h.none.loudness_db.toFixed(2)} dB.` : `Stopped after ${m.step} steps.`);
    if (remap.live) loadLive().catch((e) => status(`Live: ${e.message}`, true));  // the new model plays at once
    const w = waiters.get(m.run);
    waiters.delete(m.run);
    w?.resolve({ step: m.step, steps: m.steps, stopped: t.stopped, heldOut: t.heldOut, info: remap.info });
  }

  function remapFailed(message) {
    const t = remap.training;
    t.running = false;
    s.ui.remapProgress(JSON.stringify({ step: t.step, steps: t.steps, done: true }), new Float32Array(0), true);
    status(message, true);
    const w = waiters.get(t.run);
    waiters.delete(t.run);
    w?.reject(new Error(message));
  }

  async function stop() {
    if (!remap.training.running) return null;
    await request({ type: 'remapStop' });
    return { step: remap.training.step, stopped: true };
  }

  async function load(input) {
    let bytes;
    if (input instanceof ArrayBuffer) bytes = input.slice(0);
    else if (ArrayBuffer.isView(input)) bytes = input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength);
    else if (input && typeof input.arrayBuffer === 'function') bytes = await input.arrayBuffer();
    else throw new Error('remap.load needs an ArrayBuffer, a typed array or a Blob');
    let r;
    try {
      r = await request({ type: 'remapLoad', bytes }, [bytes]);
    } catch (e) {
      fail(e);
    }
    remap.bytes = r.bytes;
    remap.info = r.info;
    s.ui.setRemapModel(JSON.stringify(r.info));
    status(`Model loaded (${r.info.model}).`);
    if (remap.live) await loadLive();
    return r.info;
  }

  async function exportModel() {
    const r = await request({ type: 'remapExport' });
    return new Blob([r.bytes], { type: 'application/octet-stream' });
  }

  // The performance (default: the panel's) played on the 808: Float32Array at 44.1 kHz.
  async function render(input) {
    let perf = remap.performance;
    if (input !== undefined) {
      const d = input.samples instanceof Float32Array ? { samples: input.samples, sampleRate: Number(input.sampleRate) }
        : await s.decodeInput(input, input.name ?? 'performance');
      perf = { samples: d.samples, sampleRate: d.sampleRate };
    }
    if (!perf) fail(new Error('no performance: load or record one first'));
    let r;
    try {
      r = await request({ type: 'remapRender', samples: perf.samples.slice(), sampleRate: perf.sampleRate });
    } catch (e) {
      fail(e);
    }
    remap.render = { samples: r.samples, sampleRate: r.sampleRate, hits: r.hits };
    return r.samples;
  }

  // A/B in the player: the performance in A, the 808 in B (space toggles them).
  async function renderAB() {
    const out = await render();
    await s.audioReady;
    s.audio.loadBuffer?.('target', remap.performance.samples, remap.performance.sampleRate);
    s.audio.loadBuffer?.('recon', out, remap.render.sampleRate);
    s.reconHolds = 'remap';
    s.play('recon');
    status(`Rendered ${remap.render.hits} hits on the 808: B plays it, A the performance (space toggles).`);
  }

  // [SECTION] live: the microphone's onsets play the 808 in the worklet
  let micStream = null, statsTimer = 0;
  async function loadLive() {
    if (!remap.bytes) throw new Error('no model: train one or load one first');
    await s.audio.liveRemap(remap.bytes);
    await s.audio.liveSource('remap');
  }
  async function live(on) {
    if (on) {
      if (!remap.bytes) fail(new Error('no model: train one or load one first'));
      if (s.latentApi?.state?.().live) await s.latentLiveInput(false).catch(() => {});
      if (!micStream) {
        if (!navigator.mediaDevices?.getUserMedia) fail(new Error('this browser gives no microphone'));
        s.resumeAudio();
        try {
          micStream = await navigator.mediaDevices.getUserMedia({
            audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 } });
        } catch (e) {
          fail(new Error(`Microphone: ${e.message}`));
        }
      }
      await s.audio.setInput(micStream);
      try {
        await loadLive();
      } catch (e) {
        fail(e);
      }
      remap.live = true;
      clearInterval(statsTimer);
      statsTimer = setInterval(async () => {
        try {
          const st = await s.audio.liveStats();
          s.ui.setRemapLiveStats(st.onsets, st.remapLatencyMs);
        } catch { /* the audio engine is gone */ }
      }, 500);
      status('Live: hit a drum (or beatbox) near the microphone.');
    } else {
      clearInterval(statsTimer);
      statsTimer = 0;
      if (micStream) {
        micStream.getTracks().forEach((t) => t.stop());
        micStream = null;
        await s.audio.setInput(null);
      }
      if (remap.live) {
        remap.live = false;
        await s.audio.liveSource('synth').catch(() => {});
        await s.refreshNotes?.();  // the keyboard's synth is the live preset again
      }
    }
    s.ui.setRemapLive(remap.live);
    return stats();
  }

  async function stats() {
    const st = await s.audio.liveStats();
    return { onsets: st.onsets, latencyMs: st.remapLatencyMs, outputLatencyMs: st.latencyMs, source: st.source,
      live: remap.live, allocations: st.allocations };
  }

  // A hidden file input per kind of file the panel opens.
  function pick(accept, then) {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = accept;
    input.addEventListener('change', () => { const f = input.files?.[0]; if (f) then(f).catch(() => {}); });
    input.click();
  }

  function remapCommand(c) {
    const quiet = () => {};  // errors are on the panel's status line already
    switch (c.cmd) {
      case 'remapPerformance':
        if (c.source === 'file') pick('audio/*,.wav,.flac,.mp3,.ogg', (f) => setPerformance(f));
        else if (c.source === 'record') {
          s.captureMicrophone(8).then((b) => (b ? setPerformance(b, 'microphone') : null)).catch(quiet);
        } else setPerformance().catch((e) => status(e.message, true));
        break;
      case 'remapTrain': train({ preset: c.preset, model: c.model, steps: c.steps }).catch(quiet); break;
      case 'remapStop': stop().catch(quiet); break;
      case 'remapLive': live(!!c.on).catch(() => s.ui.setRemapLive(false)); break;
      case 'remapRender': renderAB().catch(quiet); break;
      case 'remapExport': exportModel().then((b) => download(b, 'remap.safetensors', 'application/octet-stream')).catch(quiet); break;
      case 'remapImport': pick('.safetensors', (f) => load(f)); break;
      default: return false;
    }
    return true;
  }

  // A restarted worker (studio.js) gets the performance and the model back; a running training ended.
  async function restore() {
    if (remap.performance)
      await request({ type: 'remapPerformance', samples: remap.performance.samples.slice(), sampleRate: remap.performance.sampleRate });
    if (remap.bytes) await request({ type: 'remapLoad', bytes: remap.bytes.slice().buffer });
  }
  s.remapRestore = restore;

  s.remap = remap;
  Object.assign(s, { onRemapProgress, remapFailed, remapCommand, remapRefreshCurrent: refreshCurrent, remapPresets: presets });
  s.remapApi = {
    train, stop, load, render, live, stats,
    performance: (input, name) => setPerformance(input, name),
    export: exportModel,
    state: () => ({ performance: remap.performance ? { name: remap.performance.name, hits: remap.performance.hits,
      seconds: remap.performance.seconds } : null, info: remap.info, live: remap.live, error: remap.error,
    training: { running: remap.training.running, step: remap.training.step, steps: remap.training.steps,
      loss: remap.training.loss, losses: remap.training.losses.length, heldOut: remap.training.heldOut } }),
  };
}
