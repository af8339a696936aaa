// AudioEngine: the studio's audio output on the main thread. It owns an AudioContext (or uses
// one it is given), runs audio-processor.js in an AudioWorkletNode and speaks the protocol in
// web/README.md ("AudioEngine / worklet protocol"). Buffers are resampled here, on the main thread,
// to the context's rate (a Kaiser-windowed sinc: Chromium's own buffer-source resampling is linear
// interpolation, which leaves images above the source's Nyquist).
//
//   const engine = await AudioEngine.create();          // = new AudioEngine(options) + init()
//   engine.resumeOnGesture();                           // browsers start contexts suspended
// Methods called before init() finishes wait for it (messages keep their order).
//   await engine.loadBuffer('target', samples, 16000);
//   engine.play('target', { loop: true }); engine.toggle(); engine.stop(); engine.setGain(-6);
// The live engine (synths on the audio thread, the decoder from the keyboard or the microphone):
//   await engine.livePreset({ params: paramFileJson, head, f0, seed });
//   engine.noteOn(60, 0.8); engine.noteOff(60); await engine.liveParams({ decay_s: 3 });
//   await engine.liveModel(bytes); engine.liveZ(z); await engine.liveSource('input');
//   await engine.setInput(mediaStream); const st = await engine.liveStats();
//   engine.onLevel = ({ peak, rms, slot, position }) => ...;
//   const y = await AudioEngine.renderOffline({ target: { samples, sampleRate }, seconds: 2 });

const PROCESSOR_NAME = 'ddsp-player';
export const SLOTS = ['target', 'recon'];

// [SECTION] Resampling ------------------------------------------------------------------------

function besselI0(x) {
  const q = (x * x) / 4;
  let sum = 1, term = 1;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

function kaiserBeta(stopbandDb) {
  if (stopbandDb > 50) return 0.1102 * (stopbandDb - 8.7);
  if (stopbandDb >= 21) return 0.5842 * (stopbandDb - 21) ** 0.4 + 0.07886 * (stopbandDb - 21);
  return 0;
}

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

// Band-limited resampling with a Kaiser-windowed sinc, no delay: output m sits at input time
// m * fromHz / toHz, the signal is zero outside [0, n), and the output has round(n * toHz / fromHz)
// samples. Keeps [0, passband] of the lower Nyquist, attenuates from that Nyquist up by at least
// stopbandDb. Integer rates with a small reduced ratio use exact polyphase tables; others
// interpolate a fine table. Returns a new Float32Array (a copy when the rates are equal).
export function resample(samples, fromHz, toHz, { passband = 0.9, stopbandDb = 80 } = {}) {
  const ok = (r) => Number.isFinite(r) && r > 0 && r <= 1e7;
  if (!ok(fromHz) || !ok(toHz)) throw new RangeError(`resample: bad rates ${fromHz} -> ${toHz}`);
  if (fromHz === toHz) return Float32Array.from(samples);
  const n = samples.length;
  const outLen = Math.round((n * toHz) / fromHz);
  const out = new Float32Array(outLen);
  if (n === 0 || outLen === 0) return out;

  // Filter design in cycles per input sample.
  const nyq = 0.5 * Math.min(1, toHz / fromHz);
  const cutoff = (nyq * (1 + passband)) / 2;
  const transition = nyq * (1 - passband);
  const beta = kaiserBeta(stopbandDb);
  const taps = (stopbandDb - 7.95) / (2.285 * 2 * Math.PI * transition);
  const half = Math.max(2, Math.ceil(taps / 2) + 1);  // support |t| < half input samples
  const width = 2 * half;                              // taps j = -half+1 .. half around floor(t)
  const i0Beta = besselI0(beta);
  const kernel = (t) => {
    const u = t / half;
    if (Math.abs(u) >= 1) return 0;
    const a = 2 * cutoff * t;
    const sinc = a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a);
    return 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - u * u)) / i0Beta);
  };
  // One row per fractional phase phi in [0, 1): coefficients for x[floor(t) - half + 1 + j],
  // scaled to unit DC gain.
  const table = (phases, phaseOf) => {
    const t = new Float64Array(phases * width);
    for (let r = 0; r < phases; r++) {
      const phi = phaseOf(r);
      let sum = 0;
      for (let j = 0; j < width; j++) sum += (t[r * width + j] = kernel(phi - (j - half + 1)));
      for (let j = 0; j < width; j++) t[r * width + j] /= sum;
    }
    return t;
  };
  const dot = (row, rowOffset, start, f, row2, row2Offset) => {
    const jlo = Math.max(0, -start), jhi = Math.min(width, n - start);
    let acc = 0;
    if (row2 === undefined) {
      for (let j = jlo; j < jhi; j++) acc += samples[start + j] * row[rowOffset + j];
    } else {
      for (let j = jlo; j < jhi; j++) {
        acc += samples[start + j] * ((1 - f) * row[rowOffset + j] + f * row2[row2Offset + j]);
      }
    }
    return acc;
  };

  const exact = Number.isInteger(fromHz) && Number.isInteger(toHz);
  const g = exact ? gcd(fromHz, toHz) : 1;
  const p = fromHz / g, q = toHz / g;  // input advances p/q samples per output sample
  if (exact && q <= 4096) {
    const t = table(q, (r) => r / q);
    let k0 = 0, r = 0;
    for (let m = 0; m < outLen; m++) {
      out[m] = dot(t, r * width, k0 - half + 1);
      r += p;
      if (r >= q) {
        k0 += Math.floor(r / q);
        r %= q;
      }
    }
  } else {
    const fine = 2048;
    const t = table(fine + 1, (r) => r / fine);
    const step = fromHz / toHz;
    for (let m = 0; m < outLen; m++) {
      const time = m * step;
      const k0 = Math.floor(time);
      const pos = (time - k0) * fine;
      const r = Math.min(fine - 1, Math.floor(pos));
      out[m] = dot(t, r * width, k0 - half + 1, pos - r, t, (r + 1) * width);
    }
  }
  return out;
}

// Input samples needed for `frames` output frames (the kernel reaches ~half the filter length past).
function inputFramesFor(frames, fromHz, toHz) {
  const nyq = 0.5 * Math.min(1, toHz / fromHz);
  return Math.ceil((frames * fromHz) / toHz) + Math.ceil(2 / nyq) * 40 + 16;
}

// [SECTION] AudioEngine -----------------------------------------------------------------------

export class AudioEngine {
  // options: {context} to use an existing (Offline)AudioContext, else AudioContext options
  // ({latencyHint, sampleRate}) for a new one.
  static async create(options = {}) {
    const engine = new AudioEngine(options);
    await engine.init();
    return engine;
  }

  // The context exists at once (so resume() works from the first gesture); init() starts the node.
  constructor(options = {}) {
    const { context, ...contextOptions } = options;
    this.context = context ?? new AudioContext(contextOptions);
    this.ownsContext = !context;
    this.node = null;
    this.started = false;     // the processor said 'ready'
    this.queue = [];          // [message, transfer] posted before that
    this.initPromise = null;
    this.onLevel = null;      // ({peak, rms, slot, playing, position}) ~20 times a second while sounding
    this.onError = null;      // ({request, message}) for errors nobody awaited
    this.slot = 'target';     // the slot play()/toggle() last chose
    this.loop = false;
    this.playing = false;     // from play()/stop() and the level messages
    this.slotFrames = 0;      // per-slot capacity in frames at the context's rate
    this.inputSource = null;  // the microphone's MediaStreamAudioSourceNode
    this.nextId = 1;
    this.pending = new Map();
  }

  get sampleRate() { return this.context.sampleRate; }

  init() {
    this.initPromise ??= this.#init();
    return this.initPromise;
  }

  async #init() {
    await this.context.audioWorklet.addModule(new URL('./audio-processor.js', import.meta.url));
    const channels = Math.max(1, Math.min(2, this.context.destination.channelCount || 2));
    // One mono input: the microphone for live timbre transfer (setInput).
    this.node = new AudioWorkletNode(this.context, PROCESSOR_NAME, {
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [channels],
      channelCount: 1, channelCountMode: 'explicit', channelInterpretation: 'speakers',
    });
    const ready = new Promise((resolve, reject) => {
      this.readyWaiter = { resolve, reject };
    });
    this.node.port.onmessage = (e) => this.#onMessage(e.data);
    this.node.onprocessorerror = () => {
      const err = new Error('the audio processor stopped with an error');
      this.readyWaiter?.reject(err);
      this.readyWaiter = null;
      for (const w of this.pending.values()) w.reject(err);
      this.pending.clear();
    };
    this.node.connect(this.context.destination);
    const info = await ready;
    this.slotFrames = info.slotFrames;
    this.started = true;
    for (const [msg, transfer] of this.queue) this.node.port.postMessage(msg, transfer);
    this.queue = [];
  }

  #onMessage(msg) {
    if (msg.type === 'level') {
      this.playing = msg.slot !== null;
      if (msg.slot) this.slot = msg.slot;
      this.onLevel?.(msg);
      return;
    }
    if (msg.type === 'ready' || (msg.type === 'error' && msg.request === 'init')) {
      const w = this.readyWaiter;
      this.readyWaiter = null;
      if (msg.type === 'ready') w?.resolve(msg);
      else w?.reject(new Error(msg.message));
      return;
    }
    const waiter = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
    if (waiter) {
      this.pending.delete(msg.id);
      if (msg.type === 'error') waiter.reject(new Error(msg.message));
      else waiter.resolve(msg);
    } else if (msg.type === 'error') {
      if (this.onError) this.onError(msg);
      else console.error(`audio: ${msg.request}: ${msg.message}`);
    }
  }

  #request(msg, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.#post({ ...msg, id }, transfer);
    });
  }

  #post(msg, transfer = []) {
    if (this.started) this.node.port.postMessage(msg, transfer);
    else {
      this.queue.push([msg, transfer]);
      this.init().catch(() => {});
    }
  }

  // Browsers start an AudioContext suspended until a user gesture.
  resume() { return this.context.resume?.() ?? Promise.resolve(); }

  // Resumes the context on the first pointer or key press on `target`; returns a remover.
  resumeOnGesture(target = globalThis.document) {
    if (!target) return () => {};
    const events = ['pointerdown', 'keydown', 'touchend'];
    const handler = () => {
      if (this.context.state !== 'running') this.resume().catch(() => {});
      else remove();
    };
    const remove = () => events.forEach((e) => target.removeEventListener(e, handler, true));
    events.forEach((e) => target.addEventListener(e, handler, true));
    return remove;
  }

  // Replies when everything posted before has been handled by the processor.
  sync() { return this.#request({ type: 'sync' }); }

  // Mono samples at sampleRate into 'target' or 'recon' (resampled to the context's rate;
  // anything past the slot's capacity is dropped). Resolves {frames, seconds, truncated}.
  async loadBuffer(slot, samples, sampleRate) {
    if (!SLOTS.includes(slot)) throw new Error(`unknown slot '${slot}'`);
    // Before 'ready' the capacity is unknown (0): nothing is trimmed, the processor drops the excess.
    const data = this.#toContextRate(samples, sampleRate, this.slotFrames);
    const transfer = data === samples ? [] : [data.buffer];
    const r = await this.#request({ type: 'load', slot, samples: data }, transfer);
    return { frames: r.frames, seconds: r.seconds, truncated: r.truncated };
  }

  #toContextRate(samples, sampleRate, maxFrames) {
    if (!(samples instanceof Float32Array)) samples = Float32Array.from(samples);
    const rate = this.context.sampleRate;
    if (sampleRate === undefined || sampleRate === rate) return samples;
    const need = maxFrames > 0 ? inputFramesFor(maxFrames, sampleRate, rate) : samples.length;
    const input = samples.length > need ? samples.subarray(0, need) : samples;
    return resample(input, sampleRate, rate);
  }

  // Plays a slot. While the other slot plays, the new one continues at the same position
  // (crossfaded); playing the slot that already plays restarts it.
  play(slot = this.slot, { loop = false } = {}) {
    if (!SLOTS.includes(slot)) throw new Error(`unknown slot '${slot}'`);
    this.slot = slot;
    this.loop = loop;
    this.playing = true;
    this.#post({ type: 'play', slot, loop });
  }

  // A/B: switches between 'target' and 'recon' at the same position while playing; when stopped,
  // only selects. Returns the selected slot.
  toggle() {
    const next = this.slot === 'target' ? 'recon' : 'target';
    this.slot = next;
    // The processor decides whether something plays (this.playing may lag by a level message).
    this.#post({ type: 'play', slot: next, loop: this.loop, ifPlaying: true });
    return next;
  }

  stop() {
    this.playing = false;
    this.#post({ type: 'stop' });
  }

  setGain(db) { this.#post({ type: 'gain', db: Number(db) }); }

  // [live engine] A preset for the synths' streaming kernels: params is a parameter file's JSON
  // text; head (ks: the recording's first samples at the preset's rate) and f0 (ddsp: f0 per
  // frame) are optional Float32Arrays. Resolves the live stats.
  livePreset({ params, head, f0, seed = 0 }) {
    return this.#request({ type: 'livePreset', params: String(params), head, f0, seed });
  }

  // Changes some values ({name: number or [numbers]}, the parameter file's units); they glide over
  // 5 ms. Rejects NaN, unknown names and wrong sizes; clamps finite values into range.
  liveParams(params) { return this.#request({ type: 'liveParams', params }); }

  // A DDSP autoencoder (safetensors bytes) for the decoder path; the latent; the source that plays:
  // 'synth' (the preset's voices), 'keys' (the decoder from the keyboard) or 'input' (the decoder
  // from the microphone, see setInput) or 'remap' (liveRemap's 808 from the input's onsets).
  liveModel(bytes) {
    const copy = bytes instanceof ArrayBuffer ? bytes.slice(0) : new Uint8Array(bytes).slice().buffer;
    return this.#request({ type: 'liveModel', bytes: copy }, [copy]);
  }
  // A timbre-remapping model (safetensors bytes from `ddsp remap-train` or the worker): its 808
  // preset becomes the live preset; liveSource('remap') then plays it from the input's onsets.
  liveRemap(bytes) {
    const copy = bytes instanceof ArrayBuffer ? bytes.slice(0) : new Uint8Array(bytes).slice().buffer;
    return this.#request({ type: 'liveRemap', bytes: copy }, [copy]);
  }
  liveZ(z) { this.#post({ type: 'liveZ', z: Float32Array.from(z) }); }
  liveSource(source) { return this.#request({ type: 'liveSource', source }); }

  // {sampleRate, quanta, xruns, processMsMean, processMsMax, budgetMs, outputPeak, latencyMs, ...}
  // (web/README.md). reset: start the timing and the peak afresh after this reading.
  liveStats({ reset = false } = {}) { return this.#request({ type: 'liveStats', reset }); }

  // The worklet's wasm memory in bytes (window.ddsp.memory(); the soak test watches it).
  async memory() { return (await this.#request({ type: 'memory' })).wasmBytes; }

  // Times `quanta` blocks rendered back to back in the worklet (benchmarks): {quanta, ms, clock}.
  liveBench(quanta) { return this.#request({ type: 'liveBench', quanta }); }

  // The live input: a MediaStream (the microphone) into the worklet's input, or null to disconnect.
  async setInput(stream) {
    await this.init();
    this.inputSource?.disconnect();
    this.inputSource = null;
    if (stream) {
      this.inputSource = this.context.createMediaStreamSource(stream);
      this.inputSource.connect(this.node);
    }
  }

  noteOn(note, velocity = 0.8) { this.#post({ type: 'noteOn', note: note | 0, velocity }); }
  noteOff(note) { this.#post({ type: 'noteOff', note: note | 0 }); }
  allNotesOff() { this.#post({ type: 'allNotesOff' }); }

  async close() {
    this.node?.disconnect();
    this.node?.port.close();
    if (this.ownsContext && this.context.state !== 'closed') await this.context.close();
  }

  // Runs the same processor in an OfflineAudioContext and returns the mono output.
  //   target, recon: {samples, sampleRate}; preset: livePreset's argument; model: bytes; remap: bytes;
  //   input: {samples, sampleRate} played into the worklet's input (as a microphone would);
  //   gainDb: output gain; events: [{time, type: 'play'|'stop'|'toggle'|'gain'|'noteOn'|'noteOff'
  //   |'allNotesOff'|'load'|'liveParams'|'liveSource'|'liveZ', slot?, loop?, db?, note?, velocity?,
  //   samples?, sampleRate?, params?, source?, z?}]. Times are rounded to 128-frame blocks (the
  //   offline context suspends there). Without events: play target (else recon) at 0.
  //   Returns the mono output; with {withStats: true}, {output, stats} (liveStats at the end).
  static async renderOffline({ seconds, sampleRate = 48000, target, recon, preset, model, remap, input, gainDb, events,
    withStats = false } = {}) {
    const frames = Math.round(seconds * sampleRate);
    if (!(frames > 0)) throw new RangeError('renderOffline: seconds must be > 0');
    const context = new OfflineAudioContext(1, frames, sampleRate);
    const engine = await AudioEngine.create({ context });
    if (target) await engine.loadBuffer('target', target.samples, target.sampleRate);
    if (recon) await engine.loadBuffer('recon', recon.samples, recon.sampleRate);
    if (preset) await engine.livePreset(preset);
    if (model) await engine.liveModel(model);
    if (remap) await engine.liveRemap(remap);
    if (input) {
      const buffer = context.createBuffer(1, input.samples.length, input.sampleRate);
      buffer.copyToChannel(Float32Array.from(input.samples), 0);
      const src = context.createBufferSource();
      src.buffer = buffer;
      src.connect(engine.node);
      src.start(0);
    }
    if (gainDb !== undefined) engine.setGain(gainDb);
    if (!events) events = target || recon ? [{ time: 0, type: 'play', slot: target ? 'target' : 'recon' }] : [];

    const known = ['play', 'stop', 'toggle', 'gain', 'noteOn', 'noteOff', 'allNotesOff', 'load', 'liveParams',
      'liveSource', 'liveZ'];
    for (const e of events) {
      if (!known.includes(e.type)) throw new Error(`renderOffline: unknown event '${e.type}'`);
    }
    const apply = (e) => {
      switch (e.type) {
        case 'play': engine.play(e.slot ?? 'target', { loop: !!e.loop }); break;
        case 'stop': engine.stop(); break;
        case 'toggle': engine.toggle(); break;
        case 'gain': engine.setGain(e.db); break;
        case 'noteOn': engine.noteOn(e.note, e.velocity); break;
        case 'noteOff': engine.noteOff(e.note); break;
        // Both post before their first await, so the sync() that follows covers them.
        case 'load': engine.loadBuffer(e.slot, e.samples, e.sampleRate).catch(() => {}); break;
        case 'liveParams': engine.liveParams(e.params).catch(() => {}); break;
        case 'liveSource': engine.liveSource(e.source).catch(() => {}); break;
        case 'liveZ': engine.liveZ(e.z); break;
        default: engine.allNotesOff(); break;
      }
    };
    const groups = new Map();  // block start frame -> events
    for (const e of events) {
      const frame = Math.max(0, Math.round((e.time * sampleRate) / 128) * 128);
      if (frame >= frames) continue;
      if (!groups.has(frame)) groups.set(frame, []);
      groups.get(frame).push(e);
    }
    for (const e of groups.get(0) ?? []) apply(e);
    await engine.sync();
    for (const [frame, list] of groups) {
      if (frame === 0) continue;
      context.suspend(frame / sampleRate).then(async () => {
        list.forEach(apply);
        await engine.sync();  // the processor has the commands before rendering goes on
        await context.resume();
      });
    }
    let stats = null;
    if (withStats) {
      // Read the stats in the last block, while the processor still runs.
      const last = Math.max(0, Math.floor((frames - 1) / 128) * 128);
      context.suspend(last / sampleRate).then(async () => {
        stats = await engine.liveStats();
        await context.resume();
      });
    }
    const rendered = await context.startRendering();
    await engine.close();
    const output = rendered.getChannelData(0);
    return withStats ? { output, stats } : output;
  }
}
