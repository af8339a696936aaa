// Plays notes from the computer keyboard and from Web MIDI.
//
// Two rows laid out like a piano (physical keys, so any layout works):
//     W E   T Y U   O P          black keys
//    A S D F G H J K L ; '       white keys: A = C of the current octave ... K = the next C
// Z / X move an octave down / up. Key repeats, modified keys (Ctrl, Alt, Meta) and keys typed
// into text fields are ignored; releasing a key stops the note it started even if the octave
// changed meanwhile; losing focus stops every held note.
//
//   const kb = new Keyboard({ onNoteOn: (note, velocity) => ..., onNoteOff: (note) => ... });
//   kb.attach();   // keyboard listeners + Web MIDI when the browser offers it (silently skipped)
//   kb.detach();

export const KEY_OFFSETS = {
  KeyA: 0, KeyW: 1, KeyS: 2, KeyE: 3, KeyD: 4, KeyF: 5, KeyT: 6, KeyG: 7, KeyY: 8, KeyH: 9,
  KeyU: 10, KeyJ: 11, KeyK: 12, KeyO: 13, KeyL: 14, KeyP: 15, Semicolon: 16, Quote: 17,
};

const KEY_VELOCITY = 0.8;

function isTextTarget(el) {
  if (!el || typeof el !== 'object') return false;
  if (el.isContentEditable) return true;
  const tag = (el.tagName || '').toLowerCase();
  if (tag === 'textarea' || tag === 'select') return true;
  if (tag !== 'input') return false;
  const type = (el.type || 'text').toLowerCase();
  return !['button', 'checkbox', 'radio', 'range', 'color', 'submit', 'reset', 'file', 'image'].includes(type);
}

export class Keyboard {
  // onNoteOn(note, velocity 0..1) / onNoteOff(note); `noteOn` / `noteOff` are accepted as well.
  // onControlChange(controller 0..127, value 0..1): MIDI CC messages.
  constructor({ onNoteOn, onNoteOff, noteOn, noteOff, onControlChange, baseMidi = 60, target = globalThis.window,
    midi = true, minMidi = 0, maxMidi = 127 } = {}) {
    this.onNoteOn = onNoteOn ?? noteOn ?? (() => {});
    this.onNoteOff = onNoteOff ?? noteOff ?? (() => {});
    this.onControlChange = onControlChange ?? (() => {});
    this.baseMidi = baseMidi;  // the note on A
    this.target = target;
    this.useMidi = midi;
    this.minMidi = minMidi;
    this.maxMidi = maxMidi;
    this.held = new Map();     // key code -> note it started
    this.midiAccess = null;
    this.midiInputs = new Set();
    this.attached = false;
    this.onKeyDown = (e) => this.#keyDown(e);
    this.onKeyUp = (e) => this.#keyUp(e);
    this.onBlur = () => this.releaseAll();
    this.onMidiMessage = (e) => this.midiMessage(e.data);
    this.onMidiState = () => this.#bindMidiInputs();
  }

  attach() {
    if (this.attached) return this;
    this.attached = true;
    this.target?.addEventListener('keydown', this.onKeyDown);
    this.target?.addEventListener('keyup', this.onKeyUp);
    this.target?.addEventListener('blur', this.onBlur);
    if (this.useMidi) this.#startMidi();
    return this;
  }

  detach() {
    if (!this.attached) return;
    this.attached = false;
    this.target?.removeEventListener('keydown', this.onKeyDown);
    this.target?.removeEventListener('keyup', this.onKeyUp);
    this.target?.removeEventListener('blur', this.onBlur);
    for (const input of this.midiInputs) input.removeEventListener('midimessage', this.onMidiMessage);
    this.midiInputs.clear();
    if (this.midiAccess) this.midiAccess.onstatechange = null;
    this.releaseAll();
  }

  setOctave(baseMidi) { this.baseMidi = Math.max(0, Math.min(120, baseMidi)); }

  releaseAll() {
    for (const note of this.held.values()) this.onNoteOff(note);
    this.held.clear();
  }

  #keyDown(e) {
    if (e.repeat || e.ctrlKey || e.altKey || e.metaKey || isTextTarget(e.target)) return;
    if (e.code === 'KeyZ' || e.code === 'KeyX') {
      this.setOctave(this.baseMidi + (e.code === 'KeyZ' ? -12 : 12));
      e.preventDefault?.();
      return;
    }
    const offset = KEY_OFFSETS[e.code];
    if (offset === undefined || this.held.has(e.code)) return;
    const note = this.baseMidi + offset;
    if (note < this.minMidi || note > this.maxMidi) return;
    e.preventDefault?.();
    this.held.set(e.code, note);
    this.onNoteOn(note, KEY_VELOCITY);
  }

  #keyUp(e) {
    const note = this.held.get(e.code);
    if (note === undefined) return;
    this.held.delete(e.code);
    this.onNoteOff(note);
  }

  async #startMidi() {
    try {
      if (typeof navigator === 'undefined' || typeof navigator.requestMIDIAccess !== 'function') return;
      const access = await navigator.requestMIDIAccess();
      if (!this.attached) return;
      this.midiAccess = access;
      access.onstatechange = this.onMidiState;
      this.#bindMidiInputs();
    } catch {
      // No MIDI (denied, unsupported, insecure context): the computer keyboard still works.
    }
  }

  #bindMidiInputs() {
    if (!this.midiAccess || !this.attached) return;
    for (const input of this.midiAccess.inputs.values()) {
      if (this.midiInputs.has(input)) continue;
      this.midiInputs.add(input);
      input.addEventListener('midimessage', this.onMidiMessage);
    }
  }

  // Note on (0x9n, velocity > 0), note off (0x8n, or 0x9n with velocity 0) and control change
  // (0xBn), any channel. Public so tests (and other MIDI sources) can feed raw messages.
  midiMessage(data) {
    if (!data || data.length < 3) return;
    const kind = data[0] & 0xf0, note = data[1] & 0x7f, value = data[2] & 0x7f;
    if (kind === 0x90 && value > 0) this.onNoteOn(note, value / 127);
    else if (kind === 0x80 || kind === 0x90) this.onNoteOff(note);
    else if (kind === 0xb0) this.onControlChange(note, value / 127);
  }
}
