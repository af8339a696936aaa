// Listening and playing: the A/B slots (target / reconstruction) with Space to toggle, the output
// meter, and the live engine the computer keyboard and MIDI play (the synth's streaming kernel on
// the audio thread, or the latent panel's decoder).
import { Keyboard } from '../keyboard.js';

// Adds s.play, s.refreshNotes and s.refreshNotesSoon, and feeds the UI's meter from the audio
// engine (which also tells which slot is playing, for Space).
export function installPlayback(s) {
  const { state, audio } = s;
  let playing = { slot: null, loop: false };
  audio.onLevel = (l) => {
    if (!s.ui) return;
    playing = { slot: l.playing ? l.slot : null, loop: playing.loop };
    s.ui.setLevel(l.peak ?? 0, l.rms ?? 0, l.slot ?? '', !!l.playing);
  };

  function play(slot = 'recon', loop = playing.loop) {
    s.resumeAudio();
    playing = { slot, loop };
    audio.play?.(slot, { loop });
  }

  // The keyboard's instrument: the current parameters as a streaming preset for the worklet's live
  // engine (synth/stream.h kernels: any pitch, 8 voices, heard in the next quantum). The worker
  // resolves the preset (and what the synth takes from the target: ks's residual head, ddsp's f0
  // track). Edits while matching arrive often: the latest wins, ~150 ms after the last change.
  // Same synth and target as the preset already playing: the new values glide in (sounding notes
  // go on); otherwise a new preset (sounding notes stop).
  let presetTimer = 0, presetGeneration = 0, live = { synth: null, target: null };
  const refreshNotesSoon = () => { clearTimeout(presetTimer); presetTimer = setTimeout(refreshNotes, 150); };
  async function refreshNotes() {
    if (!audio.livePreset || !state.synth) return;
    const generation = ++presetGeneration;
    if (state.params && live.synth === state.synth && live.target === state.target) {
      try {
        await audio.liveParams(JSON.parse(state.params).params);
        return;
      } catch { /* another table (duration, rate): load it whole */ }
    }
    try {
      const seed = s.ui?.settings?.().seed ?? 0;
      const r = await s.request({ type: 'streamPreset', synth: state.synth, params: state.params, useTarget: !!state.target, seed });
      if (generation !== presetGeneration) return;
      await audio.livePreset({ params: r.params, head: r.head, f0: r.f0, seed });
      live = { synth: state.synth, target: state.target };
      s.livePresetInfo = { synth: state.synth, sampleRate: r.sampleRate, seconds: r.seconds, pitchHz: r.pitchHz };
    } catch (e) {
      if (generation === presetGeneration) console.warn(`live preset: ${e.message}`);
    }
  }

  // The computer keyboard and MIDI play the live engine; Space toggles A/B (target /
  // reconstruction), keeping the loop setting.
  function attachKeys() {
    const keyboard = new Keyboard({
      noteOn: (note, velocity) => { s.resumeAudio(); audio.noteOn?.(note, velocity); },
      noteOff: (note) => audio.noteOff?.(note),
    });
    keyboard.attach?.();
    window.addEventListener('keydown', (e) => {
      if (e.code !== 'Space' || e.repeat || e.target instanceof HTMLInputElement) return;
      e.preventDefault();
      if (!state.target) return;
      const next = playing.slot === 'target' && state.recon ? 'recon' : 'target';
      play(next, playing.loop);
    });
  }

  // window.ddsp.live (web/README.md): the live engine for scripts and tests.
  const liveApi = {
    noteOn: (midi, velocity = 0.8) => { s.resumeAudio(); audio.noteOn(midi, velocity); },
    noteOff: (midi) => audio.noteOff(midi),
    allNotesOff: () => audio.allNotesOff(),
    setParams: (values) => audio.liveParams(values),
    input: (kind) => {
      if (kind !== 'mic' && kind !== null) return Promise.reject(new Error("input takes 'mic' or null"));
      return s.latentLiveInput(kind === 'mic');
    },
    stats: () => audio.liveStats(),
    // Resolves once the current parameters are the live engine's preset.
    refresh: () => { clearTimeout(presetTimer); return refreshNotes(); },
    preset: () => (s.livePresetInfo ? { ...s.livePresetInfo } : null),
  };

  Object.assign(s, { play, refreshNotes, refreshNotesSoon, attachKeys, liveApi });
}
