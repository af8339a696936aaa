// The studio's AudioWorkletProcessor ('ddsp-player'): a thin shell around the wasm engine in
// ddsp_worklet.mjs (src/wasm/worklet_api.cpp): the A/B player and the live engine (the synths'
// streaming kernels for the keyboard and MIDI, the DDSP decoder from the keyboard or the
// microphone). Messages are handled here, on the audio thread but outside process(): samples,
// presets and models are copied straight into wasm memory. process() copies the input in, asks the
// engine for one block and copies it to every output channel; it allocates nothing (the engine
// counts operator new calls inside its render: liveStats().allocations).
// Protocol: web/README.md, "AudioEngine / worklet protocol".
import createDdspWorklet from './ddsp_worklet.mjs';

const SLOTS = { target: 0, recon: 1 };
const SLOT_NAMES = ['target', 'recon'];
const LEVELS_PER_S = 20;
const SOURCES = { synth: 0, keys: 1, input: 2, remap: 3 };
const SOURCE_NAMES = ['synth', 'keys', 'input', 'remap'];
// The worklet scope may lack performance.now(); Date.now() (1 ms steps) still gives an unbiased mean.
const hasPerformance = typeof globalThis.performance?.now === 'function';
const clock = hasPerformance ? () => globalThis.performance.now() : () => Date.now();
// (No TextEncoder/TextDecoder in AudioWorkletGlobalScope: text goes through the module's own UTF-8
// helpers.)

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
    if (!m._dw_init(sampleRate)) {
      this.port.postMessage({ type: 'error', request: 'init', message: `audio engine: ${this.errorText()}` });
      this.m = null;
      return;
    }
    this.outIndex = m._dw_output() >> 2;
    this.inIndex = m._dw_input() >> 2;
    this.levelsIndex = m._dw_levels_take() >> 2;
    this.maxFrames = m._dw_max_render_frames();
    this.bindViews(128);
    // Audio-thread load: time per process() call, against the quantum's budget.
    this.timing = { quanta: 0, sumMs: 0, maxMs: 0, xruns: 0 };
    this.peakSinceStats = 0;
    this.levelFrames = Math.max(128, Math.round(sampleRate / LEVELS_PER_S));
    this.framesSinceLevel = 0;
    this.wasActive = false;
    // One message object, refilled each time (postMessage clones it).
    this.level = { type: 'level', peak: 0, rms: 0, slot: null, playing: false, position: 0 };
    this.port.postMessage({ type: 'ready', sampleRate, slotFrames: m._dw_slot_capacity() });
  }

  // Views over wasm memory. The memory is fixed in size, so this runs at start-up (and again only
  // if the render size changes or the memory were ever replaced).
  bindViews(frames) {
    this.heap = this.m.HEAPF32;
    this.outView = this.heap.subarray(this.outIndex, this.outIndex + frames);
    this.inView = this.heap.subarray(this.inIndex, this.inIndex + frames);
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
        case 'livePreset': {
          // A parameter file (JSON text), the ks excitation head and the ddsp f0 frames.
          const head = msg.head ? toFloat32(msg.head) : new Float32Array(0);
          const f0 = msg.f0 ? toFloat32(msg.f0) : new Float32Array(0);
          const bytes = this.stageText(String(msg.params ?? ''));
          const fl = m._dw_floats(head.length + f0.length) >> 2;
          m.HEAPF32.set(head, fl);
          m.HEAPF32.set(f0, fl + head.length);
          if (!m._dw_live_load(bytes, head.length, f0.length, Number(msg.seed ?? 0))) throw new Error(this.errorText());
          this.reply(msg, { type: 'livePresetLoaded', ...this.stats() });
          break;
        }
        case 'liveParams': {
          // NaN and infinities are not JSON: they reach the engine as strings and are refused there.
          const text = JSON.stringify(msg.params ?? {}, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
          if (!m._dw_live_set_params(this.stageText(text))) throw new Error(this.errorText());
          this.reply(msg, { type: 'liveParamsSet' });
          break;
        }
        case 'liveModel':
          this.loadBytes(msg, (n) => m._dw_live_load_model(n));
          this.reply(msg, { type: 'liveModelLoaded', ...this.stats() });
          break;
        case 'liveRemap':
          this.loadBytes(msg, (n) => m._dw_live_load_remap(n));
          this.reply(msg, { type: 'liveRemapLoaded', ...this.stats() });
          break;
        case 'liveZ': {
          const z = toFloat32(msg.z ?? []);
          const at = m._dw_floats(z.length) >> 2;
          m.HEAPF32.set(z, at);
          m._dw_live_set_z(z.length);
          break;
        }
        case 'liveSource': {
          const source = SOURCES[msg.source];
          if (source === undefined) throw new Error(`unknown source '${msg.source}' (use 'synth', 'keys', 'input' or 'remap')`);
          if (!m._dw_live_source(source)) throw new Error(this.errorText());
          this.reply(msg, { type: 'liveSourceSet', source: msg.source });
          break;
        }
        case 'liveStats':
          this.reply(msg, { type: 'liveStats', ...this.stats() });
          if (msg.reset) {
            this.timing = { quanta: 0, sumMs: 0, maxMs: 0, xruns: 0 };
            this.peakSinceStats = 0;
          }
          break;
        case 'liveBench': {
          // Renders `quanta` 128-frame blocks back to back, here on the audio thread, and times
          // them (tests/bench/bench_live.mjs; the clock is coarse, so many quanta are timed at once).
          const quanta = Math.max(1, Math.min(100000, msg.quanta | 0));
          const t0 = clock();
          for (let q = 0; q < quanta; q++) m._dw_render(128, 0);
          this.reply(msg, { type: 'liveBench', quanta, ms: clock() - t0, clock: hasPerformance ? 'performance.now' : 'Date.now' });
          break;
        }
        case 'noteOn':
          m._dw_live_note_on(msg.note | 0, msg.velocity === undefined ? 0.8 : Number(msg.velocity));
          break;
        case 'noteOff':
          m._dw_live_note_off(msg.note | 0);
          break;
        case 'allNotesOff':
          m._dw_live_all_notes_off();
          break;
        case 'sync':
          this.reply(msg, { type: 'synced' });
          break;
        case 'memory':  // window.ddsp.memory(): the wasm memory's size (it grows only in the handlers above)
          this.reply(msg, { type: 'memory', wasmBytes: m.HEAPU8.byteLength });
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
    const t0 = clock();
    const frames = out[0].length;
    if (this.m.HEAPF32 !== this.heap || (this.outView.length !== frames && frames <= this.maxFrames)) {
      this.bindViews(Math.min(frames, this.maxFrames));
    }
    const input = inputs[0]?.[0];
    const hasInput = !!input && input.length === frames && frames <= this.maxFrames;
    if (hasInput) this.inView.set(input);
    if (frames <= this.maxFrames) {
      this.m._dw_render(frames, hasInput ? 1 : 0);
      for (let c = 0; c < out.length; c++) out[c].set(this.outView);
    } else {
      this.renderLong(out, frames);
    }
    const ms = clock() - t0;
    const tm = this.timing;
    tm.quanta++;
    tm.sumMs += ms;
    if (ms > tm.maxMs) tm.maxMs = ms;
    if (ms > (1000 * frames) / sampleRate) tm.xruns++;  // over the quantum's budget: a late block
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
      this.m._dw_render(n, 0);
      const chunk = this.m.HEAPF32.subarray(this.outIndex, this.outIndex + n);
      for (let c = 0; c < out.length; c++) out[c].set(chunk, off);
    }
  }

  // UTF-8 text into the engine's staging area; returns its length in bytes.
  stageText(text) {
    const m = this.m;
    const n = m.lengthBytesUTF8(text);
    m.stringToUTF8(text, m._dw_staging(n), n + 1);
    return n;
  }

  errorText() { return this.m.UTF8ToString(this.m._dw_error()); }

  // A model file (msg.bytes: ArrayBuffer or Uint8Array) into the staging area, then load(bytes) (a
  // dw_live_load_* export); its refusal is thrown as the engine's message.
  loadBytes(msg, load) {
    const m = this.m;
    const bytes = msg.bytes instanceof ArrayBuffer ? new Uint8Array(msg.bytes) : msg.bytes;
    if (!(bytes instanceof Uint8Array)) throw new Error(`${msg.type}: bytes must be an ArrayBuffer or Uint8Array`);
    const at = m._dw_staging(bytes.length);  // first: it may grow the memory (new views)
    m.HEAPU8.set(bytes, at);
    if (!load(bytes.length)) throw new Error(this.errorText());
  }

  // window.ddsp.live.stats() and the UI's latency / load line (web/README.md).
  stats() {
    const m = this.m;
    const base = m._dw_live_stats() >> 3;
    const v = m.HEAPF64.subarray(base, base + 19);
    const tm = this.timing;
    const source = SOURCE_NAMES[v[13]] ?? 'synth';
    const budgetMs = (1000 * 128) / sampleRate;
    const ms = (samples) => (1000 * samples) / sampleRate;
    // What sounds now: its algorithmic latency plus the quantum the event waits for.
    const latencySamples = source === 'input' ? v[6] : source === 'keys' ? v[14] : source === 'remap' ? v[17] : v[5];
    return {
      sampleRate, quanta: tm.quanta, xruns: tm.xruns,
      processMsMean: tm.quanta ? tm.sumMs / tm.quanta : 0, processMsMax: tm.maxMs, budgetMs,
      clock: hasPerformance ? 'performance.now' : 'Date.now',
      outputPeak: this.peakSinceStats, latencyMs: ms(latencySamples) + budgetMs,
      voices: v[0], notes: v[1], steals: v[2], nonFinite: v[3], clipped: v[4],
      noteLatencyMs: ms(v[5]), inputLatencyMs: ms(v[6]), keysLatencyMs: ms(v[14]), underruns: v[7],
      input: { f0Hz: v[8], loudnessDb: v[9], voiced: v[10] > 0 },
      hasPreset: v[11] > 0, hasModel: v[12] > 0, source, decoderFrames: v[15],
      onsets: v[16], remapLatencyMs: ms(v[17]), hasRemap: v[18] > 0,
      allocations: m._dw_alloc_count(),
    };
  }

  // Levels while anything sounds, then one last (silent) message.
  postLevel() {
    this.m._dw_levels_take();
    const v = this.levelsView;
    const active = v[4] > 0 || v[0] > 0;
    this.peakSinceStats = Math.max(this.peakSinceStats, v[0]);
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
