// fuzz_inputs: seeded, repeatable fuzzing of every input format the core reads, through the same
// functions the CLI and the wasm front ends call (issue 15).
//
//   fuzz_inputs [--seed S] [--inputs N | --seconds T] [--format F[,F...]] [--out DIR] [--timeout S]
//   fuzz_inputs --seed S --format F --index I        one input again (a failure's reproduction)
//   fuzz_inputs --format F --replay FILE             a saved input
//   fuzz_inputs --list                               the formats
//
// Input I of format F is a function of (S, F, I) alone: a seed input (made in-process or taken
// from assets/) and 1..8 seeded mutations (mutate.h). Per input the driver checks: no crash
// (ASan/UBSan abort the process; a death callback and signal handlers save the input first), no
// exception escaping (the core never throws on user input), no hang (a watchdog thread saves the
// input and exits after --timeout seconds), every error message non-empty, one line, at most 1024
// bytes, valid UTF-8 without C0/C1 control characters, and what is accepted is sane (finite
// samples, values in range). Leaks: LeakSanitizer at exit in the sanitizer build.
//
// --inputs N runs N inputs per format; --seconds T runs rounds of 100 per format until T is spent
// (equal counts). --known TEXT counts problems containing TEXT apart (a known, not yet merged fix).
// A few objects live across inputs as a front end keeps them (the live engine, the remap trainers):
// --index reproduces the input exactly, but not the state earlier inputs left in them (a preset or
// weights an earlier input loaded; a refused load leaves them as they were).
//
// Prints per format "wav: 12000 inputs, 0 failures, 3512 accepted, 8488 refused"; exits 1 if any
// input failed. Failing inputs are saved as DIR/<format>-<seed>-<index>.bin.
#include "mutate.h"

#include "dsp/wav.h"
#include "engine/live.h"
#include "engine/notes.h"
#include "engine/synth_job.h"
#include "engine/target.h"
#include "match/params_json.h"
#include "nn/autoencoder.h"
#include "nn/checkpoint.h"
#include "nn/conditioning.h"
#include "nn/ks_autoencoder.h"
#include "nn/remap.h"
#include "nn/safetensors.h"
#include "nn/train.h"
#include "synth/drum808.h"
#include "synth/synth.h"
#include "util/file.h"
#include "util/json.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#ifdef DDSP_FUZZ_SANITIZE
#include <sanitizer/common_interface_defs.h>
#endif

#ifndef DDSP_SOURCE_DIR
#define DDSP_SOURCE_DIR "."
#endif

using namespace ddsp;

namespace {

// [SECTION] message checks

// "" when the message is fine, else what is wrong with it.
std::string message_problem(const std::string& m) {
    if (m.empty()) return "empty error message";
    if (m.size() > 1024) return "error message longer than 1024 bytes (" + std::to_string(m.size()) + ")";
    size_t i = 0;
    while (i < m.size()) {
        const unsigned char c = static_cast<unsigned char>(m[i]);
        if (c < 0x20 || c == 0x7F) return "control character " + std::to_string(int(c)) + " at byte " + std::to_string(i);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        uint32_t cp = 0;
        if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
        else return "invalid UTF-8 byte " + std::to_string(int(c)) + " at byte " + std::to_string(i);
        if (i + len > m.size()) return "truncated UTF-8 sequence at byte " + std::to_string(i);
        for (size_t k = 1; k < len; ++k) {
            const unsigned char cc = static_cast<unsigned char>(m[i + k]);
            if ((cc & 0xC0) != 0x80) return "invalid UTF-8 continuation at byte " + std::to_string(i + k);
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return "invalid UTF-8 (overlong or surrogate) at byte " + std::to_string(i);
        if (cp >= 0x80 && cp <= 0x9F) return "C1 control character at byte " + std::to_string(i);
        i += len;
    }
    return "";
}

// What one input did: accepted by every stage, or refused by one (with its message); problems
// are property violations (the input fails).
struct Run {
    bool refused = false;
    std::string first_error;  // the refusal's message (--show-refusals)
    std::vector<std::string> problems;

    // A stage's result: false -> refused; its message must pass message_problem.
    bool stage(bool ok, const std::string& error, const char* what) {
        if (ok) return true;
        if (!refused) first_error = std::string(what) + ": " + error;
        refused = true;
        const std::string p = message_problem(error);
        if (!p.empty()) problems.push_back(std::string(what) + ": " + p + " in: " + printable(error));
        return false;
    }
    void check_message(const std::string& error, const char* what) {
        const std::string p = message_problem(error);
        if (!p.empty()) problems.push_back(std::string(what) + ": " + p + " in: " + printable(error));
    }
    void expect(bool cond, const std::string& what) {
        if (!cond) problems.push_back(what);
    }
    static std::string printable(const std::string& s) {
        std::string out;
        for (unsigned char c : s.substr(0, 300)) {
            if (c >= 0x20 && c < 0x7F) {
                out += char(c);
            } else {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            }
        }
        return out + (s.size() > 300 ? "..." : "");
    }
};

// [SECTION] formats

struct Format {
    std::string name;
    std::string description;
    std::vector<std::string> seeds;
    fuzz::Dictionary dict, meta_dict;
    // How inputs are mutated: 0 bytes only, 1 JSON, 2 WAV, 3 safetensors.
    int kind = 0;
    std::function<void(const std::string&, Run&)> run;
    long long inputs = 0, failures = 0, accepted = 0, refused = 0, known = 0;
};

std::string bytes_of(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

std::string read_asset(const std::string& rel) {
    std::string text, error;
    if (!util::read_text_file(std::string(DDSP_SOURCE_DIR) + "/" + rel, text, error)) {
        std::fprintf(stderr, "fuzz_inputs: %s\n", error.c_str());
        std::exit(2);
    }
    return text;
}

std::string encode(const nn::TensorFile& f) {
    std::vector<uint8_t> bytes;
    std::string error;
    if (!nn::safetensors_encode(f, bytes, error)) {
        std::fprintf(stderr, "fuzz_inputs: encoding a seed: %s\n", error.c_str());
        std::exit(2);
    }
    return bytes_of(bytes);
}

// A hand-built WAV (any tag, channel count, bits; extensible or not): seeds for the reader's
// less common paths.
std::string make_wav(int tag, int channels, int rate, int bits, int frames, bool extensible, fuzz::Rng& rng) {
    const int bytes_per = (bits + 7) / 8;
    std::string fmt;
    auto u16 = [](std::string& s, uint32_t v) { s += char(v & 0xFF), s += char((v >> 8) & 0xFF); };
    auto u32 = [&](std::string& s, uint32_t v) { u16(s, v & 0xFFFF), u16(s, v >> 16); };
    u16(fmt, extensible ? 0xFFFE : uint32_t(tag));
    u16(fmt, uint32_t(channels));
    u32(fmt, uint32_t(rate));
    u32(fmt, uint32_t(rate * channels * bytes_per));
    u16(fmt, uint32_t(channels * bytes_per));
    u16(fmt, uint32_t(bytes_per * 8));
    if (extensible) {
        u16(fmt, 22);
        u16(fmt, uint32_t(bits));
        u32(fmt, 0);
        u16(fmt, uint32_t(tag));
        fmt += std::string("\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71", 14);
    }
    std::string data;
    for (int i = 0; i < frames * channels; ++i) {
        const double x = 0.5 * std::sin(0.05 * i);
        if (tag == 3 && bits == 32) {
            float f = float(x);
            uint32_t u;
            std::memcpy(&u, &f, 4);
            u32(data, u);
        } else if (tag == 3 && bits == 64) {
            double f = x;
            uint64_t u;
            std::memcpy(&u, &f, 8);
            u32(data, uint32_t(u)), u32(data, uint32_t(u >> 32));
        } else if (bits <= 8) {
            data += char(uint8_t(128 + std::lround(x * 120)));
        } else {
            const int64_t v = std::llround(x * double((1ll << (bits - 1)) - 1)) * (int64_t(1) << (bytes_per * 8 - bits));
            for (int b = 0; b < bytes_per; ++b) data += char(uint8_t(uint64_t(v) >> (8 * b)));
        }
    }
    if (rng.chance(1, 2)) data.resize(data.size() + 1, '\0');  // a partial frame
    std::string body = "WAVE";
    body += "fmt ";
    u32(body, uint32_t(fmt.size()));
    body += fmt;
    body += "LIST";
    u32(body, 3);
    body += "abc";
    body += '\0';
    body += "data";
    u32(body, uint32_t(data.size()));
    body += data;
    std::string out = "RIFF";
    u32(out, uint32_t(body.size()));
    return out + body;
}

// A plucked tone (seeds for models' inputs): decaying harmonics.
Vec tone(double f0, double seconds, double sr) {
    Vec x(Eigen::Index(seconds * sr));
    for (Eigen::Index i = 0; i < x.size(); ++i) {
        const double t = double(i) / sr;
        double s = 0;
        for (int h = 1; h <= 6; ++h) s += std::sin(6.283185307179586 * f0 * h * t) / h;
        x[i] = Real(0.3 * s * std::exp(-3 * t));
    }
    return x;
}

nn::AutoencoderConfig small_ae_config() {
    nn::AutoencoderConfig c;
    c.decoder.z_dims = 3;
    c.decoder.hidden = 8;
    c.decoder.gru_units = 8;
    c.decoder.harmonics = 8;
    c.decoder.noise_bands = 9;
    c.decoder.use_reverb = true;
    c.decoder.reverb_seconds = 0.02;
    c.encoder_hidden = 8;
    return c;
}

nn::KsAutoencoderConfig small_ks_config() {
    nn::KsAutoencoderConfig c;
    c.seconds = 0.25;
    c.hidden = 8;
    c.ks.control_frames = 4;
    return c;
}

// Shared objects the formats feed (made once: what a front end holds between inputs).
struct Shared {
    engine::LiveEngine live;
    // remap training: a performance of a few 808 hits, the problem, a trainer per model kind
    nn::RemapParams remap_params;
    std::vector<nn::Hit> hits;
    nn::RemapProblem problem;
    std::vector<std::unique_ptr<ad::Tape>> remap_tapes;
    std::vector<std::unique_ptr<nn::RemapNet>> remap_nets;
    std::vector<std::unique_ptr<nn::RemapTrainer>> remap_trainers;
    std::string preset_json;
    Vec pluck16k;
    long long wav_count = 0;
    std::string wav_path = "/tmp/ddsp-fuzz-" + std::to_string(::getpid()) + ".wav";
    ~Shared() { std::remove(wav_path.c_str()); }
};

bool finite_all(const Vec& v) { return v.size() == 0 || v.allFinite(); }

// [SECTION] the formats' runs and seeds

std::vector<Format> make_formats(Shared& sh) {
    std::vector<Format> formats;
    fuzz::Rng seed_rng(12345);
    std::string serr;  // set-up errors (the runs have their own)

    // ---- WAV: dsp::wav_read_memory (the CLI's and the worker's reader), then the target policy.
    {
        Format f;
        f.name = "wav";
        f.description = "WAV/RF64 files: dsp::wav_read_memory, engine::prepare_target, engine::Target::set";
        f.kind = 2;
        for (const char* a : {"assets/sounds/pluck_nylon_e3.wav", "assets/sounds/snare_audiophob_1.wav",
                              "assets/sounds/hihat_audiophob_closed.wav", "assets/sounds/tutorial_sine_622hz.wav"}) {
            std::string w = read_asset(a);
            if (w.size() > 60000) w.resize(60000);  // the first part (the data size then says "to the end")
            f.seeds.push_back(w);
        }
        std::vector<uint8_t> bytes;
        const Vec t = tone(440, 0.05, 16000);
        dsp::WavWriteOptions o;
        if (dsp::wav_encode(t, 16000, bytes, serr, o)) f.seeds.push_back(bytes_of(bytes));
        o.format = dsp::WavSampleFormat::float32;
        std::vector<Real> stereo(size_t(t.size()) * 3);
        for (Eigen::Index i = 0; i < t.size(); ++i)
            for (int c = 0; c < 3; ++c) stereo[size_t(i) * 3 + size_t(c)] = t[i] * Real(c + 1) / 3;
        if (dsp::wav_encode(stereo.data(), size_t(t.size()), 3, 44100, bytes, serr, o)) f.seeds.push_back(bytes_of(bytes));
        f.seeds.push_back(make_wav(1, 1, 8000, 8, 300, false, seed_rng));
        f.seeds.push_back(make_wav(1, 2, 22050, 24, 300, false, seed_rng));
        f.seeds.push_back(make_wav(1, 1, 48000, 32, 300, true, seed_rng));
        f.seeds.push_back(make_wav(1, 2, 11025, 12, 300, true, seed_rng));
        f.seeds.push_back(make_wav(3, 1, 96000, 64, 300, false, seed_rng));
        f.seeds.push_back(make_wav(3, 2, 16000, 32, 300, true, seed_rng));
        f.run = [&sh](const std::string& in, Run& r) {
            dsp::Audio audio;
            std::string error;
            const bool ok = dsp::wav_read_memory(reinterpret_cast<const uint8_t*>(in.data()), in.size(), audio, error);
            // The CLI reads files through another byte source: every 8th input, the same verdict and samples.
            if (++sh.wav_count % 8 == 0) {
                std::string werror;
                dsp::Audio from_file;
                if (util::write_text_file(sh.wav_path, in, werror)) {
                    const bool fok = dsp::wav_read_file(sh.wav_path, from_file, werror);
                    r.expect(fok == ok, "wav_read_file and wav_read_memory disagree");
                    if (fok && ok)
                        r.expect(from_file.samples.size() == audio.samples.size() && (from_file.samples == audio.samples).all(),
                                 "wav_read_file decodes other samples");
                    if (!fok) r.check_message(werror, "wav_read_file");
                }
            }
            if (!r.stage(ok, error, "wav_read_memory")) return;
            r.expect(audio.sample_rate_hz >= 1 && audio.sample_rate_hz <= 1000000, "accepted rate out of 1..1e6");
            r.expect(audio.channels >= 1, "accepted zero channels");
            r.expect(finite_all(audio.samples), "non-finite decoded sample");
            r.expect(audio.samples.size() == 0 || audio.samples.abs().maxCoeff() <= 1, "decoded sample beyond +-1");
            r.expect(size_t(audio.samples.size()) <= in.size(), "more samples than input bytes");
            if (audio.samples.size() > 400000) return;  // the policy below resamples: keep inputs quick
            Vec out;
            if (r.stage(engine::prepare_target(audio.samples, audio.sample_rate_hz, 16000, 4, out, error), error,
                        "prepare_target"))
                r.expect(finite_all(out), "non-finite prepared target");
            engine::Target target;
            r.stage(target.set(audio.samples, audio.sample_rate_hz, error), error, "Target::set");
        };
        formats.push_back(std::move(f));
    }

    // ---- parameter files: match::params_parse, engine::prepare_synth (the CLI and the worker),
    // params_validate, a render, and make_stream_preset + the live engine (the worklet).
    {
        Format f;
        f.name = "params";
        f.description = "parameter JSON: params_parse, prepare_synth, params_validate, engine::render, make_stream_preset, LiveEngine";
        f.kind = 1;
        f.dict.keys = {"synth", "sample_rate", "seconds", "params", "options", "loop_order", "oversample",
                       "control_frames", "exc_order", "exc_ms", "window_cents"};
        f.dict.strings = synth::synth_names();
        for (const std::string& name : synth::synth_names()) {
            auto s = synth::make_synth(name);
            synth::SynthConfig cfg;
            cfg.sample_rate_hz = s->default_sample_rate_hz();
            const double seconds = std::min(0.25, s->default_seconds());
            cfg.num_samples = int(seconds * cfg.sample_rate_hz);
            const auto table = s->param_table(cfg);
            for (const auto& spec : table) f.dict.keys.push_back(spec.name);
            f.seeds.push_back(match::params_to_json(name, cfg.sample_rate_hz, seconds, synth::default_values(table), table));
            // random values within the table
            synth::ParamValues v = synth::default_values(table);
            for (const auto& spec : table)
                for (double& x : v[spec.name]) x = spec.min_value + (spec.max_value - spec.min_value) * (seed_rng.below(1000) / 999.0);
            f.seeds.push_back(match::params_to_json(name, cfg.sample_rate_hz, seconds, v, table));
        }
        {
            synth::SynthOptions o = {{"loop_order", 3}, {"oversample", 2}};
            auto s = synth::make_synth("ks", o, serr);
            if (s) {
                synth::SynthConfig cfg;
                cfg.num_samples = 4000;
                const auto table = s->param_table(cfg);
                f.seeds.push_back(match::params_to_json("ks", 16000, 0.25, synth::default_values(table), table, &o));
            }
        }
        f.run = [&sh](const std::string& in, Run& r) {
            std::string error;
            engine::SynthJob job;
            if (!r.stage(engine::prepare_synth_text("", in, 0, job, error), error, "prepare_synth_text")) return;
            // The table at the file's rate and duration: refusing here is not the end (render and
            // the live preset decide for themselves), but the message must still be clean.
            synth::SynthConfig cfg;
            cfg.sample_rate_hz = job.sample_rate_hz;
            cfg.num_samples = int(std::lround(std::min(job.default_seconds(), 3600.0) * job.sample_rate_hz));
            Vec u;
            if (!match::params_validate(job.file, job.name, job.synth->param_table(cfg), u, error)) r.check_message(error, "params_validate");
            if (job.default_seconds() <= 0.5) {
                engine::RenderOptions ro;
                ro.params_label = "params";
                Vec audio;
                if (r.stage(engine::render(job, ro, nullptr, audio, error), error, "engine::render"))
                    r.expect(finite_all(audio), "non-finite render");
            }
            synth::StreamPreset preset;
            if (!r.stage(engine::make_stream_preset(job.file, 0, 0, Vec(), Vec(), preset, error), error, "make_stream_preset"))
                return;
            if (!r.stage(sh.live.load_preset(preset, error), error, "LiveEngine::load_preset")) return;
            std::vector<Real> out(128);
            sh.live.note_on(60, 0.8);
            for (int b = 0; b < 4; ++b) {
                sh.live.process(nullptr, out.data(), 128);
                for (Real x : out) r.expect(std::isfinite(double(x)) && std::fabs(double(x)) <= 1, "live output not finite/clipped");
            }
            sh.live.all_notes_off();
        };
        formats.push_back(std::move(f));
    }

    // ---- notes files (`ddsp stream --notes`): engine::notes_parse, then the notes played.
    {
        Format f;
        f.name = "notes";
        f.description = "notes JSON (ddsp stream --notes): engine::notes_parse, LiveEngine notes";
        f.kind = 1;
        f.dict.keys = {"notes", "time", "duration", "midi", "f0_hz", "velocity"};
        f.seeds = {R"({"notes": [{"time": 0, "duration": 0.5, "midi": 60, "velocity": 0.8}, {"time": 0.25, "f0_hz": 330}]})",
                   R"([{"time": 0.1, "duration": 1, "midi": 127, "velocity": 1}, {"midi": 0}, {}])",
                   R"({"notes": []})",
                   R"([{"time": 3600, "duration": 3600, "f0_hz": 100000, "velocity": 0}])"};
        f.run = [&sh](const std::string& in, Run& r) {
            std::vector<engine::NoteEvent> notes;
            std::string error;
            if (!r.stage(engine::notes_parse(in, notes, error), error, "notes_parse")) return;
            r.expect(notes.size() <= 100000, "more than 100000 notes accepted");
            for (const engine::NoteEvent& n : notes) {
                r.expect(n.time_s >= 0 && n.time_s <= 3600 && n.duration_s >= 0 && n.duration_s <= 3600,
                         "time/duration out of range");
                r.expect(n.midi >= -1 && n.midi <= 127, "midi out of range");
                r.expect(n.f0_hz == 0 || (n.f0_hz >= 1 && n.f0_hz <= 100000), "f0 out of range");
                r.expect(n.velocity >= 0 && n.velocity <= 1, "velocity out of range");
            }
            if (!sh.live.has_preset()) return;
            std::vector<Real> out(128);
            for (size_t i = 0; i < notes.size() && i < 16; ++i) {
                const engine::NoteEvent& n = notes[i];
                const double f0 = n.f0_hz > 0 ? n.f0_hz : n.midi >= 0 ? sh.live.note_pitch_hz(n.midi) : 0.0;
                sh.live.note_on(n.midi >= 0 ? n.midi : int(i % 128), n.velocity, f0);
            }
            sh.live.process(nullptr, out.data(), 128);
            for (Real x : out) r.expect(std::isfinite(double(x)), "live output not finite");
            sh.live.all_notes_off();
        };
        formats.push_back(std::move(f));
    }

    // Model files for the safetensors formats.
    const std::string gm8 = read_asset("assets/models/ddsp_gm8.safetensors");
    const std::string ks_ae = read_asset("assets/models/ks_ae.safetensors");
    ad::Tape scratch(ad::Tape::Mode::forward_only);
    const nn::AutoencoderConfig ae_cfg = small_ae_config();
    nn::Autoencoder small_ae(scratch, ae_cfg, 3);
    const std::string small_ae_file = encode(small_ae.to_file({{"note", "fuzz seed"}}));
    const nn::KsAutoencoderConfig ks_cfg = small_ks_config();
    nn::KsAutoencoder small_ks(scratch, ks_cfg, 3);
    const std::string small_ks_file = encode(small_ks.to_file({{"seed", "7"}}));

    // The remap problem: a performance of 808 hits at 16 kHz.
    {
        nn::RemapParams& p = sh.remap_params;
        p.sample_rate_hz = 16000;
        p.hit_seconds = 0.12;
        auto drum = synth::make_synth("drum808");
        synth::SynthConfig cfg;
        cfg.sample_rate_hz = p.sample_rate_hz;
        cfg.num_samples = int(0.25 * cfg.sample_rate_hz);
        const int spacing = int(0.3 * cfg.sample_rate_hz);
        Vec perf = Vec::Zero(6 * spacing + 1600);
        for (int k = 0; k < 6; ++k) {
            synth::ParamValues v = synth::drum808_presets()[0].second;
            v["noise_gain_db"] = {-24.0 + 3 * k};
            Vec hit;
            if (!synth::render(*drum, v, cfg, hit, serr)) std::exit(2);
            perf.segment(800 + k * spacing, hit.size()) += hit;
        }
        synth::ParamValues values;
        if (!nn::analyse_hits(perf, p, sh.hits, serr) ||
            !nn::remap_preset(synth::drum808_presets()[0].first, values, sh.preset_json, serr) ||
            !sh.problem.init(values, sh.hits, p, serr)) {
            std::fprintf(stderr, "fuzz_inputs: remap set-up: %s\n", serr.c_str());
            std::exit(2);
        }
    }
    std::vector<std::string> remap_files, remap_checkpoints;
    {
        std::vector<int> train;
        for (int i = 0; i < int(sh.hits.size()); ++i) train.push_back(i);
        for (nn::RemapModelKind kind : {nn::RemapModelKind::linear, nn::RemapModelKind::mlp}) {
            nn::RemapTrainOptions opt;
            opt.kind = kind;
            opt.batch = 2;
            sh.remap_tapes.push_back(std::make_unique<ad::Tape>());
            sh.remap_nets.push_back(std::make_unique<nn::RemapNet>(*sh.remap_tapes.back(), kind, sh.problem.num_params(),
                                                                   sh.remap_params.max_modulation, 5));
            sh.remap_trainers.push_back(std::make_unique<nn::RemapTrainer>(sh.problem, train, opt, *sh.remap_nets.back()));
            sh.remap_trainers.back()->step();
            sh.remap_trainers.back()->step();
            remap_checkpoints.push_back(encode(sh.remap_trainers.back()->checkpoint(sh.preset_json)));
            remap_files.push_back(encode(nn::remap_to_file(*sh.remap_nets.back(), sh.preset_json, sh.remap_params)));
        }
    }
    // A ddsp-ae checkpoint after two training steps; a ks-ae checkpoint after one.
    std::string ae_checkpoint, ks_checkpoint;
    {
        nn::TrainOptions opt;
        opt.steps = 2;
        opt.batch = 1;
        nn::Trainer trainer(ae_cfg, opt);
        std::vector<nn::TrainClip> clips(1);
        clips[0].name = "tone";
        clips[0].audio = tone(220, 0.5, 16000);
        if (!nn::analyse_conditioning(clips[0].audio, 16000, ae_cfg.conditioning, clips[0].cond, serr)) std::exit(2);
        trainer.step(clips);
        trainer.step(clips);
        ae_checkpoint = encode(trainer.checkpoint({{"seed", "5"}, {"data", "build/dataset"}}));

        nn::KsTrainOptions kopt;
        kopt.batch = 1;
        nn::KsTrainer ktrainer(ks_cfg, kopt);
        std::vector<nn::KsClip> kclips(1);
        kclips[0].audio = tone(196, ks_cfg.seconds, ks_cfg.sample_rate_hz);
        kclips[0].f0_hz = kclips[0].note_f0_hz = 196;
        if (!ktrainer.model().features(kclips[0].audio, kclips[0].features, serr)) std::exit(2);
        ktrainer.step(kclips);
        ks_checkpoint = encode(ktrainer.checkpoint({{"seed", "18446744073709551615"}}));
    }
    sh.pluck16k = tone(196, 0.3, 16000);

    const fuzz::Dictionary st_dict = {{"dtype", "shape", "data_offsets", "__metadata__"},
                                      {"F32", "F64", "F16", "BF16", "I32", "U8"}};
    fuzz::Dictionary meta_dict;
    meta_dict.keys = {"z_dims", "hidden", "mlp_layers", "gru_units", "harmonics", "noise_bands", "sample_rate",
                      "frame_rate", "use_noise", "use_reverb", "reverb_seconds", "use_centroid", "noise_seed",
                      "encoder_hidden", "mfcc_coefficients", "mfcc_hop", "kl_weight", "variant", "seconds", "hop",
                      "ks", "loop_order", "oversample", "control_frames", "exc_order", "exc_ms", "window_cents",
                      "synth", "params", "hit_seconds", "onset_window_s", "max_modulation", "instruments", "axes"};
    meta_dict.strings = {"meta", "tracker", "sup", "drum808", "ks", "linear", "mlp", "mlp-large"};

    auto safetensors_format = [&](const std::string& name, const std::string& description,
                                  std::vector<std::string> seeds) {
        Format f;
        f.name = name;
        f.description = description;
        f.kind = 3;
        f.seeds = std::move(seeds);
        f.dict = st_dict;
        f.meta_dict = meta_dict;
        return f;
    };
    auto read = [](const std::string& in, nn::TensorFile& file, Run& r) {
        std::string error;
        return r.stage(nn::safetensors_read_memory(reinterpret_cast<const uint8_t*>(in.data()), in.size(), file, error),
                       error, "safetensors_read_memory");
    };

    // ---- safetensors containers alone.
    {
        Format f = safetensors_format("safetensors", "safetensors containers: nn::safetensors_read_memory",
                                      {small_ae_file, small_ks_file, remap_files[0], ae_checkpoint});
        f.run = [read](const std::string& in, Run& r) {
            nn::TensorFile file;
            if (!read(in, file, r)) return;
            for (const nn::Tensor& t : file.tensors) {
                size_t n = 1;
                for (int64_t s : t.shape) {
                    r.expect(s >= 0, "negative dimension accepted");
                    n *= size_t(s);
                }
                r.expect(n == t.data.size(), "tensor size does not match its shape");
            }
            // What was read writes back and reads the same.
            std::vector<uint8_t> bytes;
            std::string error;
            if (nn::safetensors_encode(file, bytes, error)) {
                nn::TensorFile again;
                r.expect(nn::safetensors_read_memory(bytes.data(), bytes.size(), again, error) &&
                             again.tensors.size() == file.tensors.size(),
                         "a file read does not round-trip");
            }
        };
        formats.push_back(std::move(f));
    }

    // ---- the DDSP autoencoder's model file: load_autoencoder (CLI, worker, worklet), the live
    // decoder (worklet), the latent-space metadata (the page's panel).
    {
        Format f = safetensors_format("ddsp-model", "DDSP autoencoder files: load_autoencoder, LiveEngine::load_model, latent_space JSON",
                                      {small_ae_file, gm8});
        f.run = [read, &sh](const std::string& in, Run& r) {
            nn::TensorFile file;
            if (!read(in, file, r)) return;
            std::string error;
            ad::Tape tape(ad::Tape::Mode::forward_only);
            std::unique_ptr<nn::Autoencoder> model = nn::load_autoencoder(tape, file, error);
            if (!r.stage(model != nullptr, error, "load_autoencoder")) return;
            const auto ls = file.metadata.find("latent_space");
            if (ls != file.metadata.end()) {
                util::JsonValue parsed;
                r.stage(util::json_parse(ls->second, parsed, error), error, "latent_space json_parse");
            }
            if (!r.stage(sh.live.load_model(*model, error), error, "LiveEngine::load_model")) return;
            if (!r.stage(sh.live.set_source(engine::LiveEngine::Source::decoder_keys, error), error, "set_source")) return;
            std::vector<Real> out(128);
            sh.live.note_on(60, 0.8);
            for (int b = 0; b < 3; ++b) {
                sh.live.process(nullptr, out.data(), 128);
                for (Real x : out) r.expect(std::isfinite(double(x)), "decoder output not finite");
            }
            sh.live.all_notes_off();
            sh.live.set_source(engine::LiveEngine::Source::synth, error);
        };
        formats.push_back(std::move(f));
    }

    // ---- the string autoencoder's model file: load_ks_autoencoder (CLI match --method amortised,
    // the worker), then a prediction.
    {
        Format f = safetensors_format("ks-model", "string autoencoder files: load_ks_autoencoder, KsAutoencoder::predict",
                                      {small_ks_file, ks_ae});
        f.run = [read, &sh](const std::string& in, Run& r) {
            nn::TensorFile file;
            if (!read(in, file, r)) return;
            std::string error;
            ad::Tape tape(ad::Tape::Mode::forward_only);
            std::unique_ptr<nn::KsAutoencoder> model = nn::load_ks_autoencoder(tape, file, error);
            if (!r.stage(model != nullptr, error, "load_ks_autoencoder")) return;
            if (model->config().sample_rate_hz != 16000 || model->config().seconds > 2) return;  // keep inputs quick
            synth::ParamValues v;
            if (r.stage(model->predict(sh.pluck16k, 196, v, error), error, "predict"))
                for (const auto& kv : v)
                    for (double x : kv.second) r.expect(std::isfinite(x), "non-finite prediction " + kv.first);
        };
        formats.push_back(std::move(f));
    }

    // ---- the remap model file: remap_from_file, remap_preset, the live remap path, a net.
    {
        Format f = safetensors_format("remap-model", "remap model files: remap_from_file, remap_preset, LiveEngine::load_remap, make_remap_net",
                                      remap_files);
        f.run = [read, &sh](const std::string& in, Run& r) {
            nn::TensorFile file;
            if (!read(in, file, r)) return;
            std::string error;
            nn::RemapModelFile model;
            if (!r.stage(nn::remap_from_file(file, model, error), error, "remap_from_file")) return;
            synth::ParamValues values;
            std::string json;
            r.stage(nn::remap_preset(model.preset_json, values, json, error), error, "remap_preset");
            ad::Tape tape;
            r.stage(nn::make_remap_net(tape, model, sh.problem.num_params(), error) != nullptr, error, "make_remap_net");
            if (r.stage(sh.live.load_remap(model, error), error, "LiveEngine::load_remap")) {
                std::vector<Real> in_buf(128), out(128);
                for (int b = 0; b < 3; ++b) {
                    for (int i = 0; i < 128; ++i) in_buf[size_t(i)] = Real(b == 1 && i < 20 ? 0.8 : 0.0);
                    sh.live.process(in_buf.data(), out.data(), 128);
                    for (Real x : out) r.expect(std::isfinite(double(x)), "remap output not finite");
                }
            }
        };
        formats.push_back(std::move(f));
    }

    // ---- training checkpoints: `ddsp train --resume` (config from the file, the seed, restore).
    {
        Format f = safetensors_format("ddsp-checkpoint", "ddsp train --resume: read_autoencoder_config, checkpoint_seed, Trainer::restore",
                                      {ae_checkpoint});
        f.run = [read](const std::string& in, Run& r) {
            nn::TensorFile file;
            if (!read(in, file, r)) return;
            std::string error;
            nn::AutoencoderConfig config;
            if (!r.stage(nn::read_autoencoder_config(file, config, error), error, "read_autoencoder_config")) return;
            uint64_t seed = 0;
            bool found = false;
            if (!r.stage(nn::checkpoint_seed(file, seed, found, error), error, "checkpoint_seed")) return;
            nn::TrainOptions opt;
            nn::Trainer trainer(config, opt);
            if (r.stage(trainer.restore(file, error), error, "Trainer::restore"))
                r.expect(trainer.step_count() >= 0, "negative step count restored");
        };
        formats.push_back(std::move(f));
    }
    {
        Format f = safetensors_format("ks-checkpoint", "ddsp train --model ks-ae --resume: parse_ks_autoencoder_config, checkpoint_seed, KsTrainer::restore",
                                      {ks_checkpoint});
        f.run = [read](const std::string& in, Run& r) {
            nn::TensorFile file;
            if (!read(in, file, r)) return;
            std::string error;
            nn::KsAutoencoderConfig config;
            const auto c = file.metadata.find("config");
            if (!r.stage(c != file.metadata.end(), "no config", "config") ||
                !r.stage(nn::parse_ks_autoencoder_config(c->second, config, error), error, "parse_ks_autoencoder_config"))
                return;
            uint64_t seed = 0;
            bool found = false;
            if (!r.stage(nn::checkpoint_seed(file, seed, found, error), error, "checkpoint_seed")) return;
            nn::KsTrainOptions opt;
            nn::KsTrainer trainer(config, opt);
            r.stage(trainer.restore(file, error), error, "KsTrainer::restore");
        };
        formats.push_back(std::move(f));
    }
    {
        Format f = safetensors_format("remap-checkpoint", "ddsp remap-train --resume: RemapTrainer::restore",
                                      remap_checkpoints);
        f.run = [read, &sh](const std::string& in, Run& r) {
            nn::TensorFile file;
            if (!read(in, file, r)) return;
            std::string error;
            // `remap-train --model K --resume`: the trainer of kind K restores (here K is the file's, so
            // the restore gets past the kind check; the other kind must refuse cleanly too).
            const auto kind = file.metadata.find("model");
            const size_t mine = kind != file.metadata.end() && kind->second == "linear" ? 0 : 1;
            r.stage(sh.remap_trainers[mine]->restore(file, error), error, "RemapTrainer::restore");
            if (!sh.remap_trainers[1 - mine]->restore(file, error)) r.check_message(error, "RemapTrainer::restore (other kind)");
        };
        formats.push_back(std::move(f));
    }

    // ---- model configs alone (the JSON inside the files' "config" metadata).
    {
        Format f;
        f.name = "model-config";
        f.description = "model config JSON: autoencoder_config_from_json, parse_ks_autoencoder_config";
        f.kind = 1;
        f.dict = meta_dict;
        f.seeds = {nn::autoencoder_config_json(ae_cfg), nn::autoencoder_config_json(nn::AutoencoderConfig{}),
                   nn::ks_autoencoder_config_json(ks_cfg), nn::ks_autoencoder_config_json(nn::KsAutoencoderConfig{})};
        f.run = [](const std::string& in, Run& r) {
            // A text naming a variant is the string autoencoder's; the other parser must refuse it
            // cleanly too (and the reverse).
            const bool ks = in.find("variant") != std::string::npos;
            std::string error;
            nn::AutoencoderConfig a;
            nn::KsAutoencoderConfig k;
            if (ks) {
                if (r.stage(nn::parse_ks_autoencoder_config(in, k, error), error, "parse_ks_autoencoder_config"))
                    r.expect(k.seconds >= 0.1 && k.hidden >= 1 && k.hop >= 16, "config out of range accepted");
                if (!nn::autoencoder_config_from_json(in, a, error)) r.check_message(error, "autoencoder_config_from_json");
            } else {
                if (r.stage(nn::autoencoder_config_from_json(in, a, error), error, "autoencoder_config_from_json"))
                    r.expect(a.decoder.z_dims >= 1 && a.decoder.sample_rate_hz >= 1000, "config out of range accepted");
                error.clear();
                if (!nn::parse_ks_autoencoder_config(in, k, error)) r.check_message(error, "parse_ks_autoencoder_config");
            }
        };
        formats.push_back(std::move(f));
    }
    return formats;
}

// [SECTION] crash and hang reporting

std::mutex g_mutex;
std::string g_input;  // the input being run (guarded by g_mutex for the watchdog)
std::string g_label;  // "wav #123 (seed 1)"
std::string g_save_path;
std::atomic<long long> g_started_ns{0};  // 0: idle
std::atomic<bool> g_done{false};

long long now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Async-signal-safe enough: open/write/close on preallocated strings.
void dump_current(const char* why) {
    const int fd = ::open(g_save_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        size_t off = 0;
        while (off < g_input.size()) {
            const ssize_t w = ::write(fd, g_input.data() + off, g_input.size() - off);
            if (w <= 0) break;
            off += size_t(w);
        }
        ::close(fd);
    }
    const std::string msg = std::string("\nfuzz_inputs: ") + why + " on " + g_label + "; input saved to " + g_save_path + "\n";
    if (::write(2, msg.data(), msg.size()) < 0) {
    }
}

#ifdef DDSP_FUZZ_SANITIZE
void on_death() { dump_current("sanitizer error"); }
#endif

#ifndef DDSP_FUZZ_SANITIZE
void on_signal(int sig) {
    dump_current(sig == SIGSEGV ? "SIGSEGV" : sig == SIGABRT ? "SIGABRT" : sig == SIGFPE ? "SIGFPE" : "signal");
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}
#endif

void watchdog(double timeout_s) {
    while (!g_done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const long long t0 = g_started_ns.load();
        if (t0 != 0 && double(now_ns() - t0) * 1e-9 > timeout_s) {
            std::lock_guard<std::mutex> lock(g_mutex);
            dump_current(("hang (over " + std::to_string(int(timeout_s)) + " s)").c_str());
            std::_Exit(3);
        }
    }
}

// [SECTION] driver

struct Options {
    uint64_t seed = 1;
    long long inputs = 0;      // per format; 0: use seconds
    double seconds = 0;        // total, split across formats
    long long index = -1;      // one input
    std::string replay;        // a saved file
    std::string formats;       // comma-separated; empty: all
    std::string out = "fuzz-failures";
    double timeout_s = 60;
    std::vector<std::string> known;  // problems containing one of these count as known, not failures
    bool show_refusals = false;
    bool list = false;
    bool quiet = false;
};

std::string make_input(const Format& f, uint64_t seed, long long index) {
    fuzz::Rng rng(fuzz::mix_seed(seed, f.name, uint64_t(index)));
    std::string d = rng.pick(f.seeds);
    // Mostly one mutation (deep paths need inputs that pass the first checks), sometimes a pile.
    const int rounds = rng.chance(1, 8) ? 2 + int(rng.below(7)) : rng.chance(1, 3) ? 2 : 1;
    for (int k = 0; k < rounds; ++k) {
        const size_t how = rng.below(10);
        if (how < 2) {
            fuzz::mutate_bytes(d, rng, f.seeds, f.dict);
        } else if (f.kind == 1) {
            fuzz::mutate_json_text(d, rng, f.dict);
        } else if (f.kind == 2) {
            fuzz::mutate_wav(d, rng);
        } else if (f.kind == 3) {
            if (how < 6 || !fuzz::mutate_tensor_file(d, rng, f.meta_dict)) fuzz::mutate_safetensors(d, rng, f.dict, f.meta_dict);
        } else {
            fuzz::mutate_bytes(d, rng, f.seeds, f.dict);
        }
    }
    return d;
}

// Runs one input; true if it passed every check.
bool run_one(Format& f, const std::string& input, const std::string& label, const Options& opt, const std::string& save_as) {
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        g_input = input;
        g_label = label;
        g_save_path = save_as;
    }
    g_started_ns.store(now_ns());
    Run r;
    try {
        f.run(input, r);
    } catch (const std::exception& e) {
        r.problems.push_back(std::string("exception escaped: ") + e.what());
    } catch (...) {
        r.problems.push_back("exception escaped (not std::exception)");
    }
    g_started_ns.store(0);
    ++f.inputs;
    if (r.refused) ++f.refused;
    else ++f.accepted;
    if (opt.show_refusals && r.refused) std::fprintf(stderr, "%s refused: %s\n", label.c_str(), Run::printable(r.first_error).c_str());
    if (r.problems.empty()) return true;
    bool all_known = !opt.known.empty();
    for (const std::string& p : r.problems) {
        bool k = false;
        for (const std::string& pattern : opt.known) k = k || p.find(pattern) != std::string::npos;
        all_known = all_known && k;
    }
    if (all_known) {
        if (++f.known <= 2) std::fprintf(stderr, "known issue %s: %s\n", label.c_str(), r.problems[0].c_str());
        return true;
    }
    ++f.failures;
    std::string error;
    util::make_dir(opt.out, error);
    util::write_text_file(save_as, input, error);
    std::fprintf(stderr, "FAIL %s: %s\n  saved to %s\n", label.c_str(), r.problems[0].c_str(), save_as.c_str());
    for (size_t i = 1; i < r.problems.size() && i < 4; ++i) std::fprintf(stderr, "  also: %s\n", r.problems[i].c_str());
    return false;
}

int usage() {
    std::fprintf(stderr,
                 "usage: fuzz_inputs [--seed S] [--inputs N | --seconds T] [--format F[,F...]] [--out DIR] [--timeout S]\n"
                 "                   [--known TEXT]... [--show-refusals] [--quiet]\n"
                 "       fuzz_inputs --seed S --format F --index I   (reproduce one input)\n"
                 "       fuzz_inputs --format F --replay FILE        (run a saved input)\n"
                 "       fuzz_inputs --list\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "fuzz_inputs: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        long long v = 0;
        double d = 0;
        if (a == "--seed" && util::parse_integer(next(), v) && v >= 0) opt.seed = uint64_t(v);
        else if (a == "--inputs" && util::parse_integer(next(), v) && v >= 0) opt.inputs = v;
        else if (a == "--seconds" && util::parse_real(next(), d) && d > 0) opt.seconds = d;
        else if (a == "--index" && util::parse_integer(next(), v) && v >= 0) opt.index = v;
        else if (a == "--timeout" && util::parse_real(next(), d) && d > 0) opt.timeout_s = d;
        else if (a == "--replay") opt.replay = next();
        else if (a == "--format") opt.formats = next();
        else if (a == "--out") opt.out = next();
        else if (a == "--known") opt.known.push_back(next());
        else if (a == "--show-refusals") opt.show_refusals = true;
        else if (a == "--list") opt.list = true;
        else if (a == "--quiet") opt.quiet = true;
        else return usage();
    }
    if (opt.inputs == 0 && opt.seconds == 0) opt.inputs = 200;

    auto shared = std::make_unique<Shared>();
    std::string error;
    if (!shared->live.init(48000, 128, error)) {
        std::fprintf(stderr, "fuzz_inputs: %s\n", error.c_str());
        return 2;
    }
    std::vector<Format> formats = make_formats(*shared);
    if (opt.list) {
        for (const Format& f : formats) std::printf("%-17s %zu seeds  %s\n", f.name.c_str(), f.seeds.size(), f.description.c_str());
        return 0;
    }
    std::vector<Format*> chosen;
    for (Format& f : formats)
        if (opt.formats.empty() || ("," + opt.formats + ",").find("," + f.name + ",") != std::string::npos) chosen.push_back(&f);
    if (chosen.empty()) {
        std::fprintf(stderr, "fuzz_inputs: no format matches '%s' (--list)\n", opt.formats.c_str());
        return 2;
    }
    // The notes format plays through the live engine: give it a preset first.
    {
        synth::StreamPreset preset;
        match::ParamFile pf;
        pf.synth = "sine";
        if (!engine::make_stream_preset(pf, 0, 0, Vec(), Vec(), preset, error) || !shared->live.load_preset(preset, error)) {
            std::fprintf(stderr, "fuzz_inputs: %s\n", error.c_str());
            return 2;
        }
    }

#ifdef DDSP_FUZZ_SANITIZE
    // The sanitizers report crashes (their own SIGSEGV handler included) and call this first.
    __sanitizer_set_death_callback(on_death);
#else
    // Handlers run on their own stack (a stack overflow leaves none).
    static std::vector<char> alt_stack(1 << 16);
    stack_t ss{};
    ss.ss_sp = alt_stack.data();
    ss.ss_size = alt_stack.size();
    sigaltstack(&ss, nullptr);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSEGV, &sa, nullptr);
    std::signal(SIGABRT, on_signal);
    std::signal(SIGFPE, on_signal);
    std::signal(SIGBUS, on_signal);
#endif
    std::thread dog(watchdog, opt.timeout_s);

    auto save_name = [&](const Format& f, long long index) {
        return opt.out + "/" + f.name + "-" + std::to_string(opt.seed) + "-" + std::to_string(index) + ".bin";
    };
    auto label_of = [&](const Format& f, long long index) {
        return f.name + " #" + std::to_string(index) + " (reproduce: fuzz_inputs --seed " + std::to_string(opt.seed) +
               " --format " + f.name + " --index " + std::to_string(index) + ")";
    };

    bool ok = true;
    if (!opt.replay.empty() || opt.index >= 0) {
        if (chosen.size() != 1) {
            std::fprintf(stderr, "fuzz_inputs: --replay and --index take exactly one --format\n");
            g_done = true;
            dog.join();
            return 2;
        }
        Format& f = *chosen[0];
        std::string input;
        if (!opt.replay.empty()) {
            if (!util::read_text_file(opt.replay, input, error)) {
                std::fprintf(stderr, "fuzz_inputs: %s\n", error.c_str());
                g_done = true;
                dog.join();
                return 2;
            }
        } else {
            input = make_input(f, opt.seed, opt.index);
        }
        ok = run_one(f, input, opt.replay.empty() ? label_of(f, opt.index) : f.name + " " + opt.replay, opt,
                     opt.out + "/" + f.name + "-replay.bin");
        std::printf("%s: %s (%zu bytes)\n", f.name.c_str(), ok ? "passed" : "FAILED", input.size());
    } else {
        // --inputs: that many per format, one format after the other. --seconds: rounds of 100
        // inputs per format until the time is up, so every format gets the same count (the slow
        // ones take more of the time).
        const long long t_start = now_ns();
        std::vector<double> busy_s(chosen.size(), 0);
        const long long batch = opt.inputs > 0 ? opt.inputs : 100;
        for (bool more = true; more;) {
            for (size_t k = 0; k < chosen.size(); ++k) {
                Format* f = chosen[k];
                const long long t0 = now_ns();
                const long long first = f->inputs;
                for (long long i = first; i < first + batch; ++i) {
                    {
                        std::lock_guard<std::mutex> lock(g_mutex);  // a crash while mutating names the input too
                        g_input.clear();
                        g_label = "making " + label_of(*f, i);
                        g_save_path = save_name(*f, i);
                    }
                    const std::string input = make_input(*f, opt.seed, i);
                    if (!run_one(*f, input, label_of(*f, i), opt, save_name(*f, i))) ok = false;
                }
                busy_s[k] += double(now_ns() - t0) * 1e-9;
                if (!opt.quiet && opt.inputs == 0 && k + 1 == chosen.size() && f->inputs % 1000 == 0)
                    std::fprintf(stderr, "  %lld inputs per format, %.0f s\n", f->inputs, double(now_ns() - t_start) * 1e-9);
            }
            more = opt.inputs == 0 && double(now_ns() - t_start) * 1e-9 < opt.seconds;
        }
        for (size_t k = 0; k < chosen.size(); ++k) {
            const Format* f = chosen[k];
            std::printf("%s: %lld inputs, %lld failures, %lld accepted, %lld refused", f->name.c_str(), f->inputs, f->failures,
                        f->accepted, f->refused);
            if (!opt.known.empty()) std::printf(", %lld known issues", f->known);
            std::printf(" (%.1f s)\n", busy_s[k]);
        }
        long long total = 0, failures = 0;
        for (Format* f : chosen) total += f->inputs, failures += f->failures;
        std::printf("total: %lld inputs, %lld failures (seed %llu)\n", total, failures, (unsigned long long)opt.seed);
    }
    g_done = true;
    dog.join();
    return ok ? 0 : 1;
}
