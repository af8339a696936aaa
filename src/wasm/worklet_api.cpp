// The AudioWorklet's engine: plain C exports driven by web/audio-processor.js (see web/README.md,
// "AudioEngine / worklet protocol"). Two parts, mixed in dw_render:
//   the player   A/B playback of two buffers ('target', 'recon') with crossfades
//   the live engine (engine/live.h)  the synths' streaming kernels for the keyboard and MIDI, and
//                the DDSP decoder from the keyboard or the live input (microphone)
//
// [SECTION] Index
//   Memory layout   two playback slots, fade tails, input and output
//   Voices          transport voices (slot playback) with linear fades
//   Live engine     staging buffers, presets, parameters, notes, the model, the source
//   Exports         init, slots, transport, gain, live, render, levels
//
// process() never allocates: the player's buffers are static arrays and the live engine sizes
// everything when a preset or a model is loaded (in a message handler, outside process(), where the
// memory may grow; the processor then rebinds its views). dw_alloc_count() counts operator new calls
// made inside dw_render (tests/browser/live.test.mjs checks it stays 0). Every start, stop, A/B
// switch, loop wrap and reload is a short fade, and the output stage maps every sample into
// [-1, 1] (NaN -> 0).
//
// JS writes samples straight into wasm memory: p = dw_slot_begin(slot); HEAPF32.set(x, p >> 2);
// dw_slot_end(slot, x.length). Between begin and end the player never renders (both calls run in
// the same message handler on the audio thread).
#include <emscripten/emscripten.h>

#include "ad/tape.h"
#include "engine/live.h"
#include "nn/autoencoder.h"
#include "nn/safetensors.h"
#include "util/text.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

// [SECTION] Allocation counter: operator new inside dw_render (must stay 0).
namespace {
bool g_in_render = false;
long g_render_allocations = 0;
}  // namespace
void* operator new(std::size_t n) {
    if (g_in_render) ++g_render_allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    std::abort();  // no exceptions in this module
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    if (g_in_render) ++g_render_allocations;
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

// [SECTION] Memory layout ------------------------------------------------------------------------
// Capacities are in frames at the context's rate: 30 s at 48 kHz per slot (11.5 MB of the initial
// 64 MB; the live engine's presets and model, the 5 MB stack and the runtime take the rest, and
// the memory grows in message handlers if a large preset needs more).
constexpr int kSlotCount = 2;  // 0 = 'target', 1 = 'recon'
constexpr int64_t kSlotFrames = 30 * 48000;
constexpr int kTransportVoices = 4;             // current playback plus crossfades
constexpr int kVoices = kTransportVoices;
constexpr int kMaxRenderFrames = 1024;          // per dw_render call (Web Audio uses 128)
constexpr int kTailFrames = 4096;               // a frozen voice's last fade (5 ms up to 768 kHz)

constexpr double kFadeS = 0.005;         // start, stop, switch, loop wrap, reload

float g_slot_data[kSlotCount][kSlotFrames];
float g_tails[kVoices][kTailFrames];
float g_mix[kMaxRenderFrames];
float g_out[kMaxRenderFrames];
float g_in[kMaxRenderFrames];    // the live input (microphone), written by JS before dw_render
float g_live[kMaxRenderFrames];  // the live engine's output
float g_levels[8];
double g_live_stats[20];

// [SECTION] Voices -------------------------------------------------------------------------------
enum VoiceKind { kTransport = 0 };

struct Voice {
    bool active;
    bool releasing;  // fading to zero, then inactive
    bool frozen;     // reads its own tail copy (its source was overwritten)
    bool loop;
    int kind;
    int id;  // slot
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
    int64_t slot_len[kSlotCount];
    bool resume_pending[kSlotCount];  // a slot reload interrupted the playback at resume_pos
    int64_t resume_pos[kSlotCount];
    bool resume_loop[kSlotCount];
    int main;  // the transport voice that is "the" playback (position, loop wraps), or -1
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
ddsp::engine::LiveEngine g_live_engine;
std::string g_error;                 // the last failed call's message (dw_error)
std::vector<uint8_t> g_staging;      // text or file bytes from JS (grown in message handlers)
std::vector<float> g_floats;         // numbers from JS

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

// A free voice; else the quietest fading one (cut: it is nearly silent or, with this many
// voices, at least the least audible).
int alloc_voice(int) {
    int best = -1;
    for (int i = 0; i < kTransportVoices; ++i) {
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
    g_player.main = -1;
    g_player.gain = g_player.gain_target = 1.0f;
    g_player.block_id = 1;
}

}  // namespace

// [SECTION] Exports -----------------------------------------------------------------------------
extern "C" {

// Resets the player and the live engine for a context running at sample_rate_hz (an integer rate
// in [8000, 384000]; returns 0 with dw_error() otherwise).
EMSCRIPTEN_KEEPALIVE int dw_init(double sample_rate_hz) {
    reset_player(sample_rate_hz);
    return g_live_engine.init(std::round(g_player.sample_rate_hz), kMaxRenderFrames, g_error) ? 1 : 0;
}

EMSCRIPTEN_KEEPALIVE int dw_max_render_frames() { return kMaxRenderFrames; }
EMSCRIPTEN_KEEPALIVE float* dw_output() { return g_out; }
EMSCRIPTEN_KEEPALIVE int dw_slot_capacity() { return int(kSlotFrames); }
EMSCRIPTEN_KEEPALIVE float* dw_input() { return g_in; }

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

// Renders `frames` (<= dw_max_render_frames()) mono samples into dw_output(), each in [-1, 1]:
// the player plus the live engine. has_input: dw_input() holds this block's live input.
EMSCRIPTEN_KEEPALIVE void dw_render(int frames, int has_input) {
    frames = frames < 0 ? 0 : (frames > kMaxRenderFrames ? kMaxRenderFrames : frames);
    g_in_render = true;
    Player& p = g_player;
    ++p.block_id;
    g_live_engine.process(has_input ? g_in : nullptr, g_live, frames);
    std::memcpy(g_mix, g_live, size_t(frames) * sizeof(float));
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
    g_in_render = false;
}

// Meters since the last call, then resets them: pointer to
// [peak, rms, slot (-1 = none), position_s, active voices (player and live engine)].
EMSCRIPTEN_KEEPALIVE float* dw_levels_take() {
    Player& p = g_player;
    int active = 0;
    for (int vi = 0; vi < kVoices; ++vi) active += g_voices[vi].active ? 1 : 0;
    const bool playing = p.main >= 0 && g_voices[p.main].active;
    g_levels[0] = p.peak;
    g_levels[1] = p.meter_frames > 0 ? float(std::sqrt(p.sum_sq / double(p.meter_frames))) : 0.0f;
    g_levels[2] = playing ? float(g_voices[p.main].id) : -1.0f;
    g_levels[3] = playing ? float(double(g_voices[p.main].pos) / p.sample_rate_hz) : 0.0f;
    g_levels[4] = float(active + g_live_engine.stats().voices_active);
    g_levels[5] = 0.0f;
    g_levels[6] = 0.0f;
    p.peak = 0.0f;
    p.sum_sq = 0.0;
    p.meter_frames = 0;
    return g_levels;
}

// [SECTION] Live engine (called from message handlers, never from process()) ----------------------

// The last error, NUL-terminated UTF-8.
EMSCRIPTEN_KEEPALIVE const char* dw_error() {
    g_error = g_error.empty() ? "unknown error" : ddsp::util::printable(g_error);  // may quote a bad file's bytes
    return g_error.c_str();
}
EMSCRIPTEN_KEEPALIVE int dw_alloc_count() { return int(g_render_allocations); }

// Room for `bytes` bytes / `count` floats from JS (grows; the pointer stays valid until the next call).
EMSCRIPTEN_KEEPALIVE uint8_t* dw_staging(int bytes) {
    if (bytes < 0) bytes = 0;
    if (size_t(bytes) + 1 > g_staging.size()) g_staging.resize(size_t(bytes) + 1);
    return g_staging.data();
}
EMSCRIPTEN_KEEPALIVE float* dw_floats(int count) {
    if (count < 0) count = 0;
    if (size_t(count) + 1 > g_floats.size()) g_floats.resize(size_t(count) + 1);
    return g_floats.data();
}

// A preset for the live engine: the staging area holds a parameter file's JSON (text_bytes), the
// floats area its excitation head (head_len) then f0 frames (f0_len). Sounding notes stop.
EMSCRIPTEN_KEEPALIVE int dw_live_load(int text_bytes, int head_len, int f0_len, double seed) {
    using ddsp::Vec;
    if (text_bytes < 0 || size_t(text_bytes) > g_staging.size() || head_len < 0 || f0_len < 0 ||
        size_t(head_len) + size_t(f0_len) > g_floats.size()) {
        g_error = "live: bad preset sizes";
        return 0;
    }
    const std::string text(reinterpret_cast<const char*>(g_staging.data()), size_t(text_bytes));
    Vec head(head_len), f0(f0_len);
    for (int i = 0; i < head_len; ++i) head[i] = g_floats[size_t(i)];
    for (int i = 0; i < f0_len; ++i) f0[i] = g_floats[size_t(head_len + i)];
    ddsp::synth::StreamPreset preset;
    const uint64_t s = std::isfinite(seed) && seed >= 0 && seed < 9e15 ? uint64_t(seed) : 0;
    if (!ddsp::engine::stream_preset_from_text(text, s, head, f0, preset, g_error)) return 0;
    return g_live_engine.load_preset(preset, g_error) ? 1 : 0;
}

// Changes some of the preset's values: the staging area holds a JSON object {"name": value or
// [values]} in the parameter file's units. Unknown names, wrong sizes and NaN are errors; finite
// values outside a range are clamped. Glides over 5 ms.
EMSCRIPTEN_KEEPALIVE int dw_live_set_params(int text_bytes) {
    if (!g_live_engine.has_preset()) {
        g_error = "live: no preset loaded";
        return 0;
    }
    if (text_bytes < 0 || size_t(text_bytes) > g_staging.size()) {
        g_error = "live: bad text size";
        return 0;
    }
    const std::string values(reinterpret_cast<const char*>(g_staging.data()), size_t(text_bytes));
    ddsp::match::ParamFile file;
    const std::string wrapped = "{\"synth\": " + ddsp::util::json_quote(g_live_engine.preset().synth) +
                                ", \"params\": " + values + "}";
    if (!ddsp::match::params_parse(wrapped, file, g_error)) return 0;
    return g_live_engine.set_params(file.values, g_error) ? 1 : 0;
}

EMSCRIPTEN_KEEPALIVE void dw_live_note_on(int midi, double velocity) { g_live_engine.note_on(midi, velocity); }
EMSCRIPTEN_KEEPALIVE void dw_live_note_off(int midi) { g_live_engine.note_off(midi); }
EMSCRIPTEN_KEEPALIVE void dw_live_all_notes_off() { g_live_engine.all_notes_off(); }

// A DDSP autoencoder (safetensors bytes in the staging area) for the decoder path.
EMSCRIPTEN_KEEPALIVE int dw_live_load_model(int bytes) {
    if (bytes <= 0 || size_t(bytes) > g_staging.size()) {
        g_error = "live: no model bytes";
        return 0;
    }
    ddsp::nn::TensorFile file;
    if (!ddsp::nn::safetensors_read_memory(g_staging.data(), size_t(bytes), file, g_error)) return 0;
    ddsp::ad::Tape tape(ddsp::ad::Tape::Mode::forward_only);
    std::unique_ptr<ddsp::nn::Autoencoder> model = ddsp::nn::load_autoencoder(tape, file, g_error);
    if (!model) return 0;
    return g_live_engine.load_model(*model, g_error) ? 1 : 0;
}

// A timbre-remapping model (safetensors bytes in the staging area, nn/remap.h): its 808 preset
// becomes the live preset; with source 3, onsets of the live input play it, modulated per hit.
EMSCRIPTEN_KEEPALIVE int dw_live_load_remap(int bytes) {
    if (bytes <= 0 || size_t(bytes) > g_staging.size()) {
        g_error = "live: no model bytes";
        return 0;
    }
    ddsp::nn::TensorFile file;
    ddsp::nn::RemapModelFile model;
    if (!ddsp::nn::safetensors_read_memory(g_staging.data(), size_t(bytes), file, g_error) ||
        !ddsp::nn::remap_from_file(file, model, g_error))
        return 0;
    return g_live_engine.load_remap(model, g_error) ? 1 : 0;
}

// The decoder's latent: the first n floats of the floats area.
EMSCRIPTEN_KEEPALIVE void dw_live_set_z(int n) {
    if (n < 0 || size_t(n) > g_floats.size()) return;
    std::vector<ddsp::Real> z(g_floats.begin(), g_floats.begin() + n);
    g_live_engine.set_z(z.data(), n);
}

// 0: the synth's voices, 1: the decoder from the keyboard, 2: the decoder from the live input,
// 3: the remap model's 808 from the live input's onsets.
EMSCRIPTEN_KEEPALIVE int dw_live_source(int source) {
    using Source = ddsp::engine::LiveEngine::Source;
    const Source s = source == 1   ? Source::decoder_keys
                     : source == 2 ? Source::decoder_input
                     : source == 3 ? Source::remap_input
                                   : Source::synth;
    return g_live_engine.set_source(s, g_error) ? 1 : 0;
}

// [voices active, notes, steals, non-finite samples, clipped samples, note latency (samples),
//  input latency (samples), decoder underruns, input f0 (Hz), input loudness (dB), input voiced,
//  has preset, has model, source, keyboard-decoder latency (samples), decoder frames,
//  remap onsets, remap onset-to-sound latency (samples), has remap model]
EMSCRIPTEN_KEEPALIVE double* dw_live_stats() {
    const ddsp::engine::LiveStats& st = g_live_engine.stats();
    double* v = g_live_stats;
    v[0] = st.voices_active;
    v[1] = double(st.notes);
    v[2] = double(st.steals);
    v[3] = double(st.non_finite);
    v[4] = double(st.clipped);
    v[5] = g_live_engine.has_preset() ? g_live_engine.note_latency_samples() : 0;
    v[6] = g_live_engine.input_latency_samples();
    v[7] = double(st.decoder_underruns);
    v[8] = st.input_f0_hz;
    v[9] = st.input_loudness_db;
    v[10] = st.input_voiced ? 1 : 0;
    v[11] = g_live_engine.has_preset() ? 1 : 0;
    v[12] = g_live_engine.has_model() ? 1 : 0;
    v[13] = double(int(g_live_engine.source()));
    v[14] = g_live_engine.decoder_key_latency_samples();
    v[15] = double(st.decoder_frames);
    v[16] = double(st.onsets);
    v[17] = g_live_engine.remap_latency_samples();
    v[18] = g_live_engine.has_remap() ? 1 : 0;
    return v;
}

}  // extern "C"
