// The UI module's commands (JSON from ImGui's buttons, menus and sliders; src/app/studio.h lists
// them), carried out by the other studio modules.
import { download } from './util.js';

// Adds s.onCommand.
export function installCommands(s) {
  const { state, setStatus } = s;
  function onCommand(c) {
    switch (c.cmd) {
      case 'open': document.getElementById('file-input').click(); break;
      case 'example': s.loadUrl(c.file).catch((e) => setStatus(e.message, true)); break;
      case 'record': s.record().catch((e) => setStatus(e.message, true)); break;
      case 'start': s.start({ ...c, params: c.params ?? null }).catch(() => {}); break;  // the UI says where to start
      case 'stop': s.stop(); break;
      case 'resume': s.worker.postMessage({ type: 'resume' }); break;
      case 'reset':
        s.stop().then(() => { state.params = null; state.recon = null; state.iteration = 0; state.loss = state.bestLoss = null; });
        s.audio.stop?.();
        break;
      case 'synth': state.synth = c.name; state.params = null; state.recon = null; s.refreshNotesSoon(); break;
      case 'method': state.method = c.name; break;
      case 'play': s.play(c.slot, !!c.loop); break;
      case 'stopAudio': s.audio.stop?.(); break;
      case 'render': s.renderLatest(c.params); break;
      case 'exportParams':
        try { download(s.exportParams(), `${state.synth}-params.json`, 'application/json'); } catch (e) { setStatus(e.message, true); }
        break;
      case 'exportWav':
        try { download(s.exportWav(), `${state.synth}-reconstruction.wav`, 'audio/wav'); } catch (e) { setStatus(e.message, true); }
        break;
      case 'importParams': document.getElementById('params-input')?.click(); break;
      case 'share': s.share(); break;
      case 'targetTable':  // the UI shows the worker's table for the target (MatchRunner.targetTable)
        s.request({ type: 'targetTable', synth: c.synth }).then((m) => s.ui.setTargetTable(JSON.stringify(m)))
          .catch(() => {});  // no target in the worker yet, or a stale synth: the UI keeps the plain table
        break;
      case 'landscape': s.landscape(c.x, c.y, c.steps, c.params).catch(() => {}); break;
      case 'latentOpen': s.latentLoad().catch(() => {}); break;
      case 'latentZ': s.latentSetZ(c.z, false); break;
      case 'latentRecordingZ': if (s.latent.recordingZ) s.latentSetZ(s.latent.recordingZ, true); break;
      case 'latentSource': s.latentSetSource(c.source); break;
      case 'latentTranspose': s.latentSetTranspose(c.semitones); break;
      case 'latentPlay': s.latentPlay().catch(() => {}); break;
      case 'latentFineTune': s.latentFineTune({ steps: c.steps, learningRate: c.learningRate }).catch(() => {}); break;
      case 'latentStopFineTune': s.latentStopFineTune(); break;
      case 'latentWeights': s.latentUseTuned(c.weights === 'tuned'); break;
      case 'latentLiveInput': s.latentLiveInput(!!c.on).catch(() => {}); break;
      case 'latentExport':
        s.latentExportWeights().then((blob) => download(blob, 'ddsp_gm8-finetuned.safetensors', 'application/octet-stream'))
          .catch(() => {});
        break;
      default: if (!s.remapCommand(c)) console.warn('unknown UI command', c);
    }
  }
  s.onCommand = onCommand;
}
