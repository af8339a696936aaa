// Matching and rendering through the worker: start / stop, the progress stream (state, the UI's
// loss curve and reconstruction, the B slot, progress listeners), rendering edited parameters
// (coalesced while a slider is dragged) and the loss landscape.
import { fmt } from './util.js';

// Runs kept for the loss plot (src/app/studio.cpp keeps as many traces).
export const MAX_RUNS = 6;

// Adds s.onMatchProgress (the hub routes `progress` and `done` here), s.start, s.stop, s.render,
// s.renderLatest and s.landscape.
export function installMatch(s) {
  const { state, setStatus, request, listeners } = s;

  let lastReconSent = 0;
  function onMatchProgress(m) {
    const ui = s.ui;
    const done = m.type === 'done';
    state.running = !done;
    state.iteration = m.iteration;
    state.loss = m.loss;
    state.bestLoss = m.bestLoss;
    state.elapsedS = m.elapsedS;
    state.itersPerS = m.itersPerS;
    if (Number.isFinite(m.initialLoss)) state.initialLoss = m.initialLoss;
    else if (state.initialLoss === null && m.history?.length) state.initialLoss = m.history[0];
    if (m.params) {
      state.params = m.params;
      // The keyboard plays the synth as it learns; not ddsp's frame-wise values (~166k numbers,
      // parsed on the audio thread: tens of ms), which reach the keys when the match ends.
      const table = state.synths.find((x) => x.name === state.synth)?.params ?? [];
      if (table.reduce((n, p) => n + p.size, 0) <= 4096) s.refreshNotesSoon();
    }
    const { recon, history, ...rest } = m;
    ui.progress(JSON.stringify(rest), history ?? null, done);
    const run = state.runs[state.runs.length - 1];
    if (run && history) for (const v of history) run.losses.push(v);
    if (recon && recon.length) {
      state.recon = { samples: recon, sampleRate: m.sampleRate };
      ui.setRecon(recon, m.sampleRate);
      const now = performance.now();
      if (done || now - lastReconSent > 500) { s.audio.loadBuffer?.('recon', recon, m.sampleRate); lastReconSent = now; }
      s.reconHolds = 'match';
    }
    if (done) {
      setStatus(`Done: loss ${fmt(state.initialLoss)} -> ${fmt(m.bestLoss)} in ${m.iteration} iterations${m.stopped ? ' (stopped)' : ''}.`);
      s.refreshNotes();
    }
    for (const l of listeners) l({ type: done ? 'done' : 'progress', synth: state.synth, method: state.method,
      iteration: m.iteration, loss: m.loss, bestLoss: m.bestLoss, running: !done });
  }

  async function start(settings = {}) {
    if (!state.target) { setStatus('Load a recording first', true); throw new Error(state.error); }
    if (state.running) return;
    const opts = { ...s.ui.settings(), synth: state.synth, method: state.method, ...settings };
    state.run += 1;
    state.runs.push({ run: state.run, synth: opts.synth, method: opts.method, losses: [] });
    // The loss plot keeps the last MAX_RUNS runs (the legend says so); so does state().runs.
    if (state.runs.length > MAX_RUNS) state.runs.splice(0, state.runs.length - MAX_RUNS);
    state.running = true;
    state.iteration = 0;
    state.initialLoss = null;
    s.ui.started(state.run);
    setStatus(`Matching ${opts.synth} with ${opts.method}...`);
    s.worker.postMessage({ type: 'start', run: state.run, synth: opts.synth, method: opts.method, loss: opts.loss,
      steps: opts.steps, timeBudgetS: opts.timeBudgetS, learningRate: opts.learningRate, seed: opts.seed, population: opts.population,
      synthOptions: opts.synthOptions,  // "loop_order=3,oversample=2" (ks build-time options), or undefined
      params: settings.params !== undefined ? settings.params : state.params });
  }

  function stop() {
    if (!state.running) return Promise.resolve();
    return new Promise((ok) => {
      const l = (m) => { if (m.type === 'done') { listeners.delete(l); ok(); } };
      listeners.add(l);
      s.worker.postMessage({ type: 'stop' });
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
        seed: s.ui.settings().seed });
      state.params = paramsJson;
      state.recon = { samples: r.samples, sampleRate: r.sampleRate };
      s.ui.setRecon(r.samples, r.sampleRate);
      s.audio.loadBuffer?.('recon', r.samples, r.sampleRate);
      s.reconHolds = 'match';
      s.refreshNotesSoon();
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

  // The loss over a grid of two parameters (the others as in paramsJson), computed in the worker.
  async function landscape(x, y, steps = 25, paramsJson = state.params ?? s.ui.paramsJson()) {
    if (!state.target) { setStatus('Load a recording first', true); throw new Error(state.error); }
    setStatus(`Computing the loss over ${x} and ${y}...`);
    try {
      const r = await request({ type: 'landscape', synth: state.synth, params: paramsJson || null, x, y, steps });
      const { loss, ...rest } = r;
      s.ui.setLandscape(JSON.stringify(rest), loss);
      setStatus(`Landscape: ${steps} x ${steps} losses over ${x} and ${y}; the lowest is ${fmt(r.minimum?.loss)}.`);
      return r;
    } catch (e) {
      s.ui.setLandscape('{}', null);
      setStatus(`Landscape: ${e.message}`, true);
      throw e;
    }
  }

  Object.assign(s, { onMatchProgress, start, stop, render, renderLatest, landscape });
}
