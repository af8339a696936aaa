// Listening and playing: the A/B slots (target / reconstruction) with Space to toggle, the output
// meter, and the note bank the computer keyboard and MIDI play.
import { Keyboard } from '../keyboard.js';

// Synths that can be played from the keyboard at other pitches (their pitch is a parameter).
const PLAYABLE = new Set(['ks', 'sine', 'ddsp']);

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

  // The note bank: the matched synth rendered at each pitch of two octaves around its own, so a
  // key press starts sound at once (the worklet mixes; nothing is synthesised on the audio thread).
  // With the latent panel as the instrument (its source is the keyboard), the decoder plays the
  // notes at the panel's latent instead. A newer refresh abandons an older one.
  let notesTimer = 0, notesGeneration = 0;
  const refreshNotesSoon = () => { clearTimeout(notesTimer); notesTimer = setTimeout(refreshNotes, 400); };
  async function refreshNotes() {
    const useLatent = s.latentIsInstrument();
    const latent = s.latent;
    if (!audio.setNotes || (!useLatent && (!state.params || !PLAYABLE.has(state.synth)))) return;
    const generation = ++notesGeneration;
    const base = 48, count = 25, seconds = 2;
    const notes = [];
    const z = latent.z?.slice();
    for (let k = 0; k < count; k++) {
      const f0Hz = 440 * 2 ** ((base + k - 69) / 12);
      try {
        const r = useLatent
          ? await s.request({ type: 'latentRender', mode: 'note', z, f0Hz, seconds, velocity: 0.8, weights: latent.weights })
          : await s.request({ type: 'render', synth: state.synth, params: state.params, seconds, f0Hz,
            useTarget: !!state.target, seed: s.ui.settings().seed });
        if (generation !== notesGeneration) return;
        notes.push(r.samples);
        if (k === count - 1) await audio.setNotes(base, notes, r.sampleRate);
      } catch { return; }
    }
    if (useLatent) latent.notesReady = true;
  }

  // The computer keyboard and MIDI play the note bank; Space toggles A/B (target /
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

  Object.assign(s, { play, refreshNotes, refreshNotesSoon, attachKeys });
}
