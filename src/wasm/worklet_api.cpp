// The AudioWorklet's player: plain C exports over buffers reserved at start-up, driven by
// web/audio-processor.js (see web/README.md, "AudioEngine / worklet protocol").
//
// [SECTION] Index
//   Memory layout   two playback slots ('target', 'recon'), a note bank pool, fade tails, output
//   Voices          transport voices (slot playback) and note voices, all with linear fades
//   Exports         init, slots, transport, gain, notes, render, levels
//
// Nothing here allocates: every buffer is a static array, so the wasm memory never grows and
// the JS side can keep its views. Every start, stop, note-off, A/B switch, loop wrap and buffer
// reload is a short fade, and the output stage maps every sample into [-1, 1] (NaN -> 0).
//
// JS writes samples straight into wasm memory: p = dw_slot_begin(slot); HEAPF32.set(x, p >> 2);
// dw_slot_end(slot, x.length). Between begin and end the player never renders (both calls run in
// the same message handler on the audio thread).
#include <emscripten/emscripten.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace {

// [SECTION] Memory layout ------------------------------------------------------------------------
// Capacities are in frames at the context's rate: 30 s at 48 kHz per slot, and a note pool of
// 49 notes x 4 s at 48 kHz (fewer notes may be longer). Total ~49 MB of the fixed 64 MB (the 5 MB
// stack and the runtime take the rest, with a few MB to spare).
constexpr int kSlotCount = 2;  // 0 = 'target', 1 = 'recon'
constexpr int64_t kSlotFrames = 30 * 48000;
constexpr int kMaxNotes = 49;
constexpr int64_t kNotePoolFrames = int64_t(kMaxNotes) * 4 * 48000;
constexpr int kPolyphony = 8;                   // notes held at once
constexpr int kNoteVoices = 2 * kPolyphony;     // plus as many fading out
constexpr int kTransportVoices = 4;             // current playback plus crossfades
constexpr int kVoices = kTransportVoices + kNoteVoices;
constexpr int kMaxRenderFrames = 1024;          // per dw_render call (Web Audio uses 128)
constexpr int kTailFrames = 4096;               // a frozen voice's last fade (5 ms up to 768 kHz)

constexpr double kFadeS = 0.005;         // start, stop, switch, loop wrap, reload, retrigger
constexpr double kNoteAttackS = 0.001;   // short: keeps the synth's own attack
constexpr double kNoteReleaseS = 0.03;   // note-off and the end of a note's sample

float g_slot_data[kSlotCount][kSlotFrames];
float g_note_pool[kNotePoolFrames];
float g_tails[kVoices][kTailFrames];
float g_mix[kMaxRenderFrames];
float g_out[kMaxRenderFrames];
float g_levels[8];

// [SECTION] Voices -------------------------------------------------------------------------------
enum VoiceKind { kTransport = 0, kNote = 1 };

struct Voice {
    bool active;
    bool releasing;  // fading to zero, then inactive
    bool frozen;     // reads its own tail copy (its source was overwritten)
    bool loop;
    int kind;
    int id;  // slot (transport) or MIDI note
    const float* src;
    int64_t len;
    int64_t pos;
    int64_t release_at;  // position at which the voice fades out by itself; -1 = never
    float amp;           // velocity
    float gain;          // fade gain, ramps linearly to `target`
    float step;
    float target;
    int fade_left;
    int offset;  // first frame to render in the current block (voices spawned mid-block)
    uint32_t last_block;
    uint32_t age;
};

struct Player {
    double sample_rate_hz;
    int fade_frames;
    int note_attack_frames;
    int note_release_frames;
    int64_t slot_len[kSlotCount];
    bool resume_pending[kSlotCount];  // a slot reload interrupted the playback at resume_pos
    int64_t resume_pos[kSlotCount];
    bool resume_loop[kSlotCount];
    int main;  // the transport voice that is "the" playback (position, loop wraps), or -1
    int note_base;
    int note_count;
    int64_t note_cap;
    int64_t note_len[kMaxNotes];
    float gain, gain_target, gain_step;
    int gain_left;
    float peak;
    double sum_sq;
    int64_t meter_frames;
    uint32_t block_id;
    uint32_t age_counter;
};

Voice g_voices[kVoices];
Player g_player;

int frames_for(double seconds) {
    const int n = int(std::lround(seconds * g_player.sample_rate_hz));
    return n < 1 ? 1 : (n > kTailFrames ? kTailFrames : n);
}

float sanitize_in_place(float* x, int64_t n) {
    float peak = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(x[i])) x[i] = 0.0f;
        peak = std::fmax(peak, std::fabs(x[i]));
    }
    return peak;
}

void start_fade(Voice& v, float target, int frames) {
    frames = frames < 1 ? 1 : frames;
    v.target = target;
    v.step = (target - v.gain) / float(frames);
    v.fade_left = frames;
}

void release_voice(Voice& v, int frames) {
    // An ongoing release that ends sooner keeps its own ramp.
    if (v.releasing && v.fade_left > 0 && v.fade_left <= frames) return;
    v.releasing = true;
    v.release_at = -1;
    start_fade(v, 0.0f, frames);
}

// The voice's source is about to be overwritten: copy the next fade's worth of samples into the
// voice's own tail and fade out from there.
void freeze_voice(int vi) {
    Voice& v = g_voices[vi];
    int64_t n = v.len - v.pos;
    n = n < 0 ? 0 : n;
    n = n > g_player.fade_frames ? g_player.fade_frames : n;
    if (n == 0) {
        v.active = false;
        return;
    }
    std::memmove(g_tails[vi], v.src + v.pos, size_t(n) * sizeof(float));
    v.src = g_tails[vi];
    v.len = n;
    v.pos = 0;
    v.frozen = true;
    release_voice(v, int(n));
}

// A free voice of the kind; else the quietest fading one (cut: it is nearly silent or, with
// this many voices, at least the least audible).
int alloc_voice(int kind) {
    const int lo = kind == kTransport ? 0 : kTransportVoices;
    const int hi = kind == kTransport ? kTransportVoices : kVoices;
    int best = -1;
    for (int i = lo; i < hi; ++i) {
        if (!g_voices[i].active) return i;
        if (best < 0 || g_voices[i].gain * g_voices[i].amp < g_voices[best].gain * g_voices[best].amp) best = i;
    }
    return best;
}

void init_voice(Voice& v, int kind, int id, const float* src, int64_t len, int64_t pos, int offset) {
    v.active = true;
    v.releasing = false;
    v.frozen = false;
    v.loop = false;
    v.kind = kind;
    v.id = id;
    v.src = src;
    v.len = len;
    v.pos = pos;
    v.release_at = -1;
    v.amp = 1.0f;
    v.gain = 0.0f;
    v.step = 0.0f;
    v.target = 0.0f;
    v.fade_left = 0;
    v.offset = offset;
    v.last_block = g_player.block_id - 1;  // not rendered yet in the current block
    v.age = ++g_player.age_counter;
}

// Starts playing `slot` at `pos` with a fade-in; returns the voice index or -1 (nothing to play).
int spawn_transport(int slot, int64_t pos, bool loop, int offset) {
    const int64_t len = g_player.slot_len[slot];
    const int fade = g_player.fade_frames;
    if (loop && len < 4 * int64_t(fade)) loop = false;  // too short to crossfade its wrap
    if (len <= 0) return -1;
    if (loop) pos %= len;
    if (pos >= len) return -1;
    const int vi = alloc_voice(kTransport);
    Voice& v = g_voices[vi];
    init_voice(v, kTransport, slot, g_slot_data[slot], len, pos, offset);
    v.loop = loop;
    start_fade(v, 1.0f, fade);
    // Loop: crossfade the last fade into the start. Otherwise fade out over the last fade.
    v.release_at = len > int64_t(2 * fade) ? len - fade : -1;
    if (!loop && v.release_at < 0) v.release_at = len / 2;
    return vi;
}

// The voice reached its release point: wrap (looping playback) and fade out.
void reach_release_point(int vi, int frame) {
    Voice& v = g_voices[vi];
    const bool wrap = v.kind == kTransport && v.loop && vi == g_player.main;
    const int64_t left = v.len - v.pos;
    release_voice(v, int(left < 1 ? 1 : left));
    if (wrap) g_player.main = spawn_transport(v.id, 0, true, frame);
}

void render_voice(int vi, int frames) {
    Voice& v = g_voices[vi];
    int i = v.offset;
    v.offset = 0;
    v.last_block = g_player.block_id;
    while (i < frames && v.active) {
        if (v.release_at >= 0 && v.pos >= v.release_at) reach_release_point(vi, i);
        int64_t seg = frames - i;
        if (v.len - v.pos < seg) seg = v.len - v.pos;
        if (v.release_at >= 0 && v.release_at - v.pos < seg) seg = v.release_at - v.pos;
        if (v.fade_left > 0 && v.fade_left < seg) seg = v.fade_left;
        if (seg <= 0) {
            v.active = false;
            break;
        }
        const float* s = v.src + v.pos;
        float* m = g_mix + i;
        const int n = int(seg);
        if (v.fade_left > 0) {
            float g = v.gain;
            const float step = v.step, a = v.amp;
            for (int k = 0; k < n; ++k) {
                m[k] += s[k] * (a * g);
                g += step;
            }
            v.gain = g;
            v.fade_left -= n;
            if (v.fade_left == 0) {
                v.gain = v.target;
                if (v.releasing && v.target == 0.0f) v.active = false;
            }
        } else {
            const float ga = v.gain * v.amp;
            for (int k = 0; k < n; ++k) m[k] += s[k] * ga;
        }
        v.pos += seg;
        i += n;
        if (v.pos >= v.len) v.active = false;
    }
    if (!v.active && vi == g_player.main) g_player.main = -1;
}

void reset_player(double sample_rate_hz) {
    std::memset(g_voices, 0, sizeof(g_voices));
    std::memset(&g_player, 0, sizeof(g_player));
    g_player.sample_rate_hz = sample_rate_hz > 0 && std::isfinite(sample_rate_hz) ? sample_rate_hz : 48000.0;
    g_player.fade_frames = frames_for(kFadeS);
    g_player.note_attack_frames = frames_for(kNoteAttackS);
    g_player.note_release_frames = frames_for(kNoteReleaseS);
    g_player.main = -1;
    g_player.gain = g_player.gain_target = 1.0f;
    g_player.block_id = 1;
}

}  // namespace

// [SECTION] Exports -----------------------------------------------------------------------------
extern "C" {

// Resets the player for a context running at sample_rate_hz.
EMSCRIPTEN_KEEPALIVE void dw_init(double sample_rate_hz) { reset_player(sample_rate_hz); }

EMSCRIPTEN_KEEPALIVE int dw_max_render_frames() { return kMaxRenderFrames; }
EMSCRIPTEN_KEEPALIVE float* dw_output() { return g_out; }
EMSCRIPTEN_KEEPALIVE int dw_slot_capacity() { return int(kSlotFrames); }
EMSCRIPTEN_KEEPALIVE int dw_max_notes() { return kMaxNotes; }
EMSCRIPTEN_KEEPALIVE int dw_note_pool_frames() { return int(kNotePoolFrames); }

// Returns where to write the slot's new samples (at most dw_slot_capacity() frames). Voices
// playing the slot fade out from a copy of what they were about to play; dw_slot_end resumes
// the playback at the same position in the new samples (a 5 ms crossfade, no click).
EMSCRIPTEN_KEEPALIVE float* dw_slot_begin(int slot) {
    if (slot < 0 || slot >= kSlotCount) return nullptr;
    g_player.resume_pending[slot] = false;
    for (int vi = 0; vi < kTransportVoices; ++vi) {
        Voice& v = g_voices[vi];
        if (!v.active || v.frozen || v.id != slot) continue;
        if (vi == g_player.main && !v.releasing) {
            g_player.resume_pending[slot] = true;
            g_player.resume_pos[slot] = v.pos;
            g_player.resume_loop[slot] = v.loop;
            g_player.main = -1;
        }
        freeze_voice(vi);
    }
    g_player.slot_len[slot] = 0;
    return g_slot_data[slot];
}

// The slot now holds `frames` samples (non-finite ones become 0). Returns the frames kept.
EMSCRIPTEN_KEEPALIVE int dw_slot_end(int slot, int frames) {
    if (slot < 0 || slot >= kSlotCount) return 0;
    frames = frames < 0 ? 0 : (frames > kSlotFrames ? int(kSlotFrames) : frames);
    sanitize_in_place(g_slot_data[slot], frames);
    g_player.slot_len[slot] = frames;
    if (g_player.resume_pending[slot]) {
        g_player.resume_pending[slot] = false;
        const int vi = spawn_transport(slot, g_player.resume_pos[slot], g_player.resume_loop[slot], 0);
        if (vi >= 0) g_player.main = vi;
    }
    return frames;
}

// Plays a slot. While another slot plays, the new one starts at the same position (A/B switch);
// while the same slot plays, it restarts. Either way the old playback fades out as the new fades in.
// With if_playing, only the A/B switch happens (nothing starts when nothing plays).
EMSCRIPTEN_KEEPALIVE void dw_play(int slot, int loop, int if_playing) {
    if (slot < 0 || slot >= kSlotCount) return;
    int64_t pos = 0;
    bool playing = false;
    if (g_player.main >= 0) {
        Voice& m = g_voices[g_player.main];
        if (m.active && !m.releasing) {
            playing = true;
            if (m.id == slot && if_playing) return;
            if (m.id != slot) pos = m.pos;
            release_voice(m, g_player.fade_frames);
        }
    }
    if (if_playing && !playing) return;
    g_player.main = spawn_transport(slot, pos, loop != 0, 0);
}

EMSCRIPTEN_KEEPALIVE void dw_stop() {
    for (int vi = 0; vi < kTransportVoices; ++vi) {
        if (g_voices[vi].active) release_voice(g_voices[vi], g_player.fade_frames);
    }
    g_player.main = -1;
}

// Output gain in dB (<= -120 is silence, at most +24), ramped over 5 ms.
EMSCRIPTEN_KEEPALIVE void dw_set_gain_db(double gain_db) {
    if (std::isnan(gain_db)) return;
    gain_db = gain_db > 24.0 ? 24.0 : gain_db;
    g_player.gain_target = gain_db <= -120.0 ? 0.0f : float(std::pow(10.0, gain_db / 20.0));
    g_player.gain_left = g_player.fade_frames > 0 ? g_player.fade_frames : 1;
    g_player.gain_step = (g_player.gain_target - g_player.gain) / float(g_player.gain_left);
}

// Starts a new note bank of `count` notes from MIDI note `base_midi`; sounding notes fade out.
// Returns the frames each note may hold (the pool divided evenly).
EMSCRIPTEN_KEEPALIVE int dw_notes_begin(int base_midi, int count) {
    for (int vi = kTransportVoices; vi < kVoices; ++vi) {
        if (g_voices[vi].active && !g_voices[vi].frozen) freeze_voice(vi);
    }
    count = count < 0 ? 0 : (count > kMaxNotes ? kMaxNotes : count);
    g_player.note_base = base_midi;
    g_player.note_count = count;
    g_player.note_cap = count > 0 ? kNotePoolFrames / count : 0;
    for (int i = 0; i < kMaxNotes; ++i) g_player.note_len[i] = 0;
    return int(g_player.note_cap);
}

EMSCRIPTEN_KEEPALIVE float* dw_note_buffer(int index) {
    if (index < 0 || index >= g_player.note_count) return nullptr;
    return g_note_pool + int64_t(index) * g_player.note_cap;
}

EMSCRIPTEN_KEEPALIVE int dw_note_end(int index, int frames) {
    if (index < 0 || index >= g_player.note_count) return 0;
    frames = frames < 0 ? 0 : (frames > g_player.note_cap ? int(g_player.note_cap) : frames);
    sanitize_in_place(g_note_pool + int64_t(index) * g_player.note_cap, frames);
    g_player.note_len[index] = frames;
    return frames;
}

EMSCRIPTEN_KEEPALIVE void dw_note_off(int midi) {
    for (int vi = kTransportVoices; vi < kVoices; ++vi) {
        Voice& v = g_voices[vi];
        if (v.active && !v.releasing && v.id == midi) release_voice(v, g_player.note_release_frames);
    }
}

// velocity in (0, 1]; 0 is a note-off (as in MIDI). A held note retriggers.
EMSCRIPTEN_KEEPALIVE void dw_note_on(int midi, double velocity) {
    const int index = midi - g_player.note_base;
    if (index < 0 || index >= g_player.note_count || g_player.note_len[index] <= 0) return;
    if (!(velocity > 0.0)) {
        dw_note_off(midi);
        return;
    }
    velocity = velocity > 1.0 ? 1.0 : velocity;
    int held = 0, oldest = -1;
    for (int vi = kTransportVoices; vi < kVoices; ++vi) {
        Voice& v = g_voices[vi];
        if (!v.active || v.releasing) continue;
        if (v.id == midi) {
            release_voice(v, g_player.fade_frames);
            continue;
        }
        ++held;
        if (oldest < 0 || v.age < g_voices[oldest].age) oldest = vi;
    }
    if (held >= kPolyphony && oldest >= 0) release_voice(g_voices[oldest], g_player.fade_frames);
    const int vi = alloc_voice(kNote);
    Voice& v = g_voices[vi];
    const int64_t len = g_player.note_len[index];
    init_voice(v, kNote, midi, g_note_pool + int64_t(index) * g_player.note_cap, len, 0, 0);
    v.amp = float(velocity);
    start_fade(v, 1.0f, g_player.note_attack_frames);
    const int64_t release = g_player.note_release_frames < len / 2 ? g_player.note_release_frames : len / 2;
    v.release_at = len - release;
}

EMSCRIPTEN_KEEPALIVE void dw_all_notes_off() {
    for (int vi = kTransportVoices; vi < kVoices; ++vi) {
        if (g_voices[vi].active) release_voice(g_voices[vi], g_player.fade_frames);
    }
}

// Renders `frames` (<= dw_max_render_frames()) mono samples into dw_output(), each in [-1, 1].
EMSCRIPTEN_KEEPALIVE void dw_render(int frames) {
    frames = frames < 0 ? 0 : (frames > kMaxRenderFrames ? kMaxRenderFrames : frames);
    Player& p = g_player;
    ++p.block_id;
    std::memset(g_mix, 0, size_t(frames) * sizeof(float));
    // Voices spawned mid-block (loop wraps) are rendered in a later pass from their offset.
    for (int pass = 0; pass < 4; ++pass) {
        bool any = false;
        for (int vi = 0; vi < kVoices; ++vi) {
            if (g_voices[vi].active && g_voices[vi].last_block != p.block_id) {
                render_voice(vi, frames);
                any = true;
            }
        }
        if (!any) break;
    }
    float peak = p.peak;
    double sum_sq = 0.0;
    for (int i = 0; i < frames; ++i) {
        const float g = p.gain;
        if (p.gain_left > 0) {
            p.gain += p.gain_step;
            if (--p.gain_left == 0) p.gain = p.gain_target;
        }
        float y = g_mix[i] * g;
        // NaN fails both comparisons and becomes 0; +-inf and overs clamp.
        if (!(y >= -1.0f && y <= 1.0f)) y = y > 1.0f ? 1.0f : (y < -1.0f ? -1.0f : 0.0f);
        g_out[i] = y;
        peak = std::fmax(peak, std::fabs(y));
        sum_sq += double(y) * double(y);
    }
    p.peak = peak;
    p.sum_sq += sum_sq;
    p.meter_frames += frames;
}

// Meters since the last call, then resets them: pointer to
// [peak, rms, slot (-1 = none), position_s, active voices, note_count, note_cap frames].
EMSCRIPTEN_KEEPALIVE float* dw_levels_take() {
    Player& p = g_player;
    int active = 0;
    for (int vi = 0; vi < kVoices; ++vi) active += g_voices[vi].active ? 1 : 0;
    const bool playing = p.main >= 0 && g_voices[p.main].active;
    g_levels[0] = p.peak;
    g_levels[1] = p.meter_frames > 0 ? float(std::sqrt(p.sum_sq / double(p.meter_frames))) : 0.0f;
    g_levels[2] = playing ? float(g_voices[p.main].id) : -1.0f;
    g_levels[3] = playing ? float(double(g_voices[p.main].pos) / p.sample_rate_hz) : 0.0f;
    g_levels[4] = float(active);
    g_levels[5] = float(p.note_count);
    g_levels[6] = float(p.note_cap);
    p.peak = 0.0f;
    p.sum_sq = 0.0;
    p.meter_frames = 0;
    return g_levels;
}

}  // extern "C"
