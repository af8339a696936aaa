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
    s.remapRefreshCurrent?.();  // the remap panel offers the current drum808 match as its preset
    // While the remap panel plays live, the live engine holds its 808 (refreshed when that ends).
    if (!audio.livePreset || !state.synth || s.remap?.live) return;
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

  // MIDI CC: knobs 21..28 set the current synth's first eight parameters over their ranges (log
  // parameters on a log scale; a frame-wise parameter moves as a whole), heard through the live
  // engine's 5 ms glide; CC 1 and 2 (mod wheel, breath) move the latent panel's z along the two
  // axes of its pad while the decoder plays.
  let ccTimer = 0, ccValues = {};
  function controlChange(cc, value) {
    if (cc === 1 || cc === 2) {
      const space = s.latent?.info?.latentSpace;
      if (!space?.axes || !s.latent.z) return;
      const axis = cc - 1, z = s.latent.z.slice();
      // The component along the axis goes to (value * 2 - 1) * the pad's extent; the rest stays.
      const along = space.axes[axis].reduce((acc, a, i) => acc + a * (z[i] - space.origin[i]), 0);
      const want = (2 * value - 1) * space.scale[axis];
      s.latentSetZ(z.map((v, i) => v + (want - along) * space.axes[axis][i]), true);
      return;
    }
    if (cc < 21 || cc > 28) return;
    const table = state.synths.find((x) => x.name === state.synth)?.params ?? [];
    const p = table[cc - 21];
    if (!p) return;
    ccValues[p.name] = p.scale === 'log' ? p.min * (p.max / p.min) ** value : p.min + (p.max - p.min) * value;
    // Coalesce a knob's burst of messages into one change per 10 ms.
    if (!ccTimer) ccTimer = setTimeout(() => {
      const values = ccValues;
      ccValues = {};
      ccTimer = 0;
      audio.liveParams?.(values).catch((e) => console.warn(`MIDI CC: ${e.message}`));
    }, 10);
  }

  // The computer keyboard and MIDI play the live engine; Space toggles A/B (target /
  // reconstruction), keeping the loop setting.
  function attachKeys() {
    const keyboard = new Keyboard({
      noteOn: (note, velocity) => { s.resumeAudio(); audio.noteOn?.(note, velocity); },
      noteOff: (note) => audio.noteOff?.(note),
      onControlChange: controlChange,
    });
    s.keyboard = keyboard;
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
    stats: (opts) => audio.liveStats(opts),  // {reset: true}: timing and peak start afresh after this reading
    // Raw MIDI messages, as from a Web MIDI input ([status, data1, data2]: notes and CC).
    midi: (bytes) => s.keyboard?.midiMessage(Uint8Array.from(bytes)),
    // Resolves once the current parameters are the live engine's preset.
    refresh: () => { clearTimeout(presetTimer); return refreshNotes(); },
    preset: () => (s.livePresetInfo ? { ...s.livePresetInfo } : null),
  };

  Object.assign(s, { play, refreshNotes, refreshNotesSoon, attachKeys, liveApi });
}
