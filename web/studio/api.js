// window.ddsp: the studio's public API (DESIGN.md "Contracts", web/README.md), assembled from the
// functions the other modules added to the studio object `s`.
import { METHODS, printable } from './url_params.js';

export function buildApi(s) {
  const { state, ready, listeners, audio } = s;
  return {
    ready,
    loadAudio: (input, name) => s.loadAudio(input, name),
    loadUrl: s.loadUrl,
    setSynth(name) {
      if (!state.synths.some((x) => x.name === name)) throw new Error(`unknown synth '${printable(name)}'`);
      state.synth = name; state.params = null; state.recon = null;
      s.refreshNotesSoon();
      const u = s.ui.settings();
      s.ui.setSettings(name, u.method, u.loss, u.steps, u.timeBudgetS, u.learningRate, u.seed);
    },
    setMethod(name) {
      if (!METHODS.includes(name)) throw new Error(`unknown method '${printable(name)}'`);
      state.method = name;
      const u = s.ui.settings();
      s.ui.setSettings(u.synth, name, u.loss, u.steps, u.timeBudgetS, u.learningRate, u.seed);
    },
    start: (settings) => s.start(settings),
    stop: s.stop,
    state: () => ({ synth: state.synth, method: state.method, running: state.running, iteration: state.iteration,
      loss: state.loss, bestLoss: state.bestLoss, initialLoss: state.initialLoss, params: state.params, restarts: s.restarts ?? 0,
      elapsedS: state.elapsedS ?? 0, itersPerS: state.itersPerS ?? 0, fps: s.ui.fps(), target: state.target ? state.target.name : null, error: state.error, status: state.status,
      runs: state.runs.map((r) => ({ run: r.run, synth: r.synth, method: r.method, iterations: r.losses.length,
        bestLoss: r.losses.length ? Math.min(...r.losses) : null })) }),
    play: (slot = 'recon') => s.play(slot),
    stopAudio: () => audio.stop?.(),
    exportParams: s.exportParams,
    exportWav: s.exportWav,
    importParams: s.importParams,
    render: (paramsJson, opts) => s.render(paramsJson, opts),
    share: s.share,
    record: (seconds = 4) => s.record(seconds),
    landscape: (x, y, steps) => s.landscape(x, y, steps),
    onProgress: (fn) => { listeners.add(fn); return () => listeners.delete(fn); },
    // The time axis the waveform and spectrogram views share: view() reads it, view({startS, endS})
    // shows that stretch (seconds; clamped into the clip, at least 1 ms; a missing end keeps the
    // current one), view('fit') shows the sound. Returns {startS, endS, clipS, fitS, fitted}.
    view(range) {
      if (range === 'fit') s.ui.fitView();
      else if (range !== undefined && range !== null) {
        const now = JSON.parse(s.ui.view());
        const start = Number(range.startS ?? now.startS), end = Number(range.endS ?? now.endS);
        if (typeof range !== 'object' || !Number.isFinite(start) || !Number.isFinite(end))
          throw new Error("view needs {startS, endS} in seconds, or 'fit'");
        s.ui.setView(start, end);
      }
      return JSON.parse(s.ui.view());
    },
    memory: () => s.memory(),
    limits: (change) => s.setLimits(change),
    // Only in a page opened with ?test-hooks=1: makes the worker crash ('trap', 'abort' or 'throw'),
    // to test that the studio restarts it (tests/browser/restart.test.mjs).
    ...(new URLSearchParams(location.search).get('test-hooks') === '1'
      ? { debug: { crashWorker: (kind = 'trap') => s.worker.postMessage({ type: 'debugCrash', kind }), restarts: () => s.restarts ?? 0 } }
      : {}),
    audio,
    latent: s.latentApi,
    live: s.liveApi,
    remap: s.remapApi,
    // Diagnostics for tests: where the panels' widgets and the signal views are on the canvas, frames drawn.
    ui: { latentLayout: () => JSON.parse(s.ui.latentLayout()), remapLayout: () => JSON.parse(s.ui.remapLayout()),
      frames: () => s.ui.frameCount(), viewsLayout: () => JSON.parse(s.ui.viewsLayout()) },
  };
}
