// The studio's AudioWorkletProcessor ('ddsp-player'): a thin shell around the wasm player in
// ddsp_worklet.mjs (src/wasm/worklet_api.cpp). Messages are handled here, on the audio thread but
// outside process(): incoming samples are copied straight into the player's fixed slots. process()
// asks the player for one block and copies it to every output channel; it allocates nothing.
// Protocol: web/README.md, "AudioEngine / worklet protocol".
import createDdspWorklet from './ddsp_worklet.mjs';

const SLOTS = { target: 0, recon: 1 };
const SLOT_NAMES = ['target', 'recon'];
const LEVELS_PER_S = 20;

class DdspPlayerProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.port.onmessage = (e) => this.onMessage(e.data);
    try {
      // WASM_ASYNC_COMPILATION=0: the module is instantiated before createDdspWorklet returns, and
      // its exports land on the object passed in.
      const m = {};
      createDdspWorklet(m);
      if (typeof m._dw_render !== 'function') throw new Error('the wasm player did not instantiate');
      this.m = m;
    } catch (err) {
      this.m = null;
      this.port.postMessage({ type: 'error', request: 'init', message: `audio player: ${err.message ?? err}` });
      return;
    }
    const m = this.m;
    m._dw_init(sampleRate);
    this.outIndex = m._dw_output() >> 2;
    this.levelsIndex = m._dw_levels_take() >> 2;
    this.maxFrames = m._dw_max_render_frames();
    this.bindViews(128);
    this.levelFrames = Math.max(128, Math.round(sampleRate / LEVELS_PER_S));
    this.framesSinceLevel = 0;
    this.wasActive = false;
    // One message object, refilled each time (postMessage clones it).
    this.level = { type: 'level', peak: 0, rms: 0, slot: null, playing: false, position: 0 };
    this.port.postMessage({
      type: 'ready', sampleRate, slotFrames: m._dw_slot_capacity(), maxNotes: m._dw_max_notes(),
      notePoolFrames: m._dw_note_pool_frames(),
    });
  }

  // Views over wasm memory. The memory is fixed in size, so this runs at start-up (and again only
  // if the render size changes or the memory were ever replaced).
  bindViews(frames) {
    this.heap = this.m.HEAPF32;
    this.outView = this.heap.subarray(this.outIndex, this.outIndex + frames);
    this.levelsView = this.heap.subarray(this.levelsIndex, this.levelsIndex + 8);
  }

  reply(msg, fields) {
    const out = { ...fields };
    if (msg.id !== undefined) out.id = msg.id;
    this.port.postMessage(out);
  }

  onMessage(msg) {
    const m = this.m;
    if (!msg || typeof msg.type !== 'string') return;
    try {
      if (!m) throw new Error('the audio player failed to start');
      switch (msg.type) {
        case 'load': {
          const slot = slotIndex(msg.slot);
          const samples = toFloat32(msg.samples);
          const ptr = m._dw_slot_begin(slot);
          const n = Math.min(samples.length, m._dw_slot_capacity());
          m.HEAPF32.set(n === samples.length ? samples : samples.subarray(0, n), ptr >> 2);
          const frames = m._dw_slot_end(slot, n);
          this.reply(msg, {
            type: 'loaded', slot: msg.slot, frames, seconds: frames / sampleRate,
            truncated: frames < samples.length,
          });
          break;
        }
        case 'play':
          m._dw_play(slotIndex(msg.slot), msg.loop ? 1 : 0, msg.ifPlaying ? 1 : 0);
          break;
        case 'stop':
          m._dw_stop();
          break;
        case 'gain':
          m._dw_set_gain_db(Number(msg.db));
          break;
        case 'notes': {
          const list = Array.isArray(msg.samples) ? msg.samples : [];
          const cap = m._dw_notes_begin(msg.base | 0, list.length);
          const count = Math.min(list.length, m._dw_max_notes());
          let truncated = false;
          for (let i = 0; i < count; i++) {
            const s = toFloat32(list[i]);
            const n = Math.min(s.length, cap);
            m.HEAPF32.set(n === s.length ? s : s.subarray(0, n), m._dw_note_buffer(i) >> 2);
            m._dw_note_end(i, n);
            truncated ||= n < s.length;
          }
          this.reply(msg, {
            type: 'notesLoaded', base: msg.base | 0, count, frames: cap,
            truncated: truncated || count < list.length,
          });
          break;
        }
        case 'noteOn':
          m._dw_note_on(msg.note | 0, msg.velocity === undefined ? 0.8 : Number(msg.velocity));
          break;
        case 'noteOff':
          m._dw_note_off(msg.note | 0);
          break;
        case 'allNotesOff':
          m._dw_all_notes_off();
          break;
        case 'sync':
          this.reply(msg, { type: 'synced' });
          break;
        default:
          throw new Error(`unknown message type '${msg.type}'`);
      }
    } catch (err) {
      this.reply(msg, { type: 'error', request: msg.type, message: String(err.message ?? err) });
    }
  }

  process(inputs, outputs) {
    const out = outputs[0];
    if (!this.m || !out || out.length === 0) return true;
    const frames = out[0].length;
    if (this.m.HEAPF32 !== this.heap || (this.outView.length !== frames && frames <= this.maxFrames)) {
      this.bindViews(Math.min(frames, this.maxFrames));
    }
    if (frames <= this.maxFrames) {
      this.m._dw_render(frames);
      for (let c = 0; c < out.length; c++) out[c].set(this.outView);
    } else {
      this.renderLong(out, frames);
    }
    this.framesSinceLevel += frames;
    if (this.framesSinceLevel >= this.levelFrames) {
      this.framesSinceLevel = 0;
      this.postLevel();
    }
    return true;
  }

  // Render sizes above the player's block (not used by today's Web Audio): chunks, with views.
  renderLong(out, frames) {
    for (let off = 0; off < frames; off += this.maxFrames) {
      const n = Math.min(this.maxFrames, frames - off);
      this.m._dw_render(n);
      const chunk = this.m.HEAPF32.subarray(this.outIndex, this.outIndex + n);
      for (let c = 0; c < out.length; c++) out[c].set(chunk, off);
    }
  }

  // Levels while anything sounds, then one last (silent) message.
  postLevel() {
    this.m._dw_levels_take();
    const v = this.levelsView;
    const active = v[4] > 0 || v[0] > 0;
    if (active || this.wasActive) {
      const lv = this.level;
      lv.peak = v[0];
      lv.rms = v[1];
      lv.slot = v[2] >= 0 ? SLOT_NAMES[v[2]] : null;
      lv.playing = v[2] >= 0;
      lv.position = v[3];
      this.port.postMessage(lv);
    }
    this.wasActive = active;
  }
}

function slotIndex(name) {
  const slot = SLOTS[name];
  if (slot === undefined) throw new Error(`unknown slot '${name}' (use 'target' or 'recon')`);
  return slot;
}

function toFloat32(samples) {
  if (samples instanceof Float32Array) return samples;
  if (ArrayBuffer.isView(samples) || Array.isArray(samples)) return Float32Array.from(samples);
  throw new Error('samples must be a Float32Array');
}

registerProcessor('ddsp-player', DdspPlayerProcessor);
