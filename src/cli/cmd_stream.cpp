// `ddsp stream`: the audio thread's engine (engine/live.h) run natively, block by block, as the
// studio's AudioWorklet runs it: a synth's streaming kernel playing a list of notes, or the
// autoencoder's decoder playing a recording frame by frame. Prints the real-time factor and the
// latency.
#include "cli/commands.h"
#include "cli/common.h"

#include "dsp/resample.h"
#include "dsp/wav.h"
#include "nn/autoencoder.h"
#include "nn/conditioning.h"
#include "engine/live.h"
#include "engine/notes.h"
#include "util/file.h"
#include "util/json.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

namespace ddsp::cli {

namespace {

// --model mode: the input WAV plays the part of the microphone (at the output rate, block by
// block) through the live timbre-transfer path.
int stream_model(const char* cmd, const Args& args, int out_rate, int block) {
    std::string error;
    if (!args.require("--input", error)) return fail(cmd, error, kExitUsage);
    nn::TensorFile file;
    if (!nn::safetensors_read_file(args.str("--model"), file, error)) return fail(cmd, error);
    ad::Tape tape(ad::Tape::Mode::forward_only);
    std::unique_ptr<nn::Autoencoder> model = nn::load_autoencoder(tape, file, error);
    if (!model) return fail(cmd, args.str("--model") + ": " + error);
    const int model_rate = int(model->config().decoder.sample_rate_hz);

    // The "microphone": the input at the output rate.
    Vec mic;
    if (!load_target(cmd, args.str("--input"), out_rate, 600, mic, error)) return fail(cmd, error);
    // The panel's z: --z, else the input's own encoding (what `ddsp autoencode` uses).
    Arr z = Arr::Zero(1, std::max(1, model->z_dims()));
    if (args.has("--z")) {
        if (!parse_latent_option(args, model->z_dims(), z, error)) return fail(cmd, error, kExitUsage);
    } else if (model->z_dims() > 0) {
        Vec x;
        nn::Conditioning c;
        if (!load_target(cmd, args.str("--input"), model_rate, 30, x, error) ||
            !nn::analyse_conditioning(x, model_rate, model->config().conditioning, c, error))
            return fail(cmd, args.str("--input") + ": " + error);
        z = model->encode_mean(c);
    }

    engine::LiveEngine live;
    if (!live.init(out_rate, block, error) || !live.load_model(*model, error) ||
        !live.set_source(engine::LiveEngine::Source::decoder_input, error))
        return fail(cmd, error);
    live.set_z(z.data(), model->z_dims());
    // The tail: the path's latency plus a little.
    const long long total = mic.size() + std::llround(0.1 * out_rate) + live.input_latency_samples();
    Vec out(total);
    std::vector<Real> in(static_cast<size_t>(block)), buf(static_cast<size_t>(block));
    double busy_s = 0;
    for (long long pos = 0; pos < total; pos += block) {
        const int m = int(std::min<long long>(block, total - pos));
        for (int i = 0; i < m; ++i) in[size_t(i)] = pos + i < mic.size() ? mic[Eigen::Index(pos + i)] : Real(0);
        const auto t0 = std::chrono::steady_clock::now();
        live.process(in.data(), buf.data(), m);
        busy_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (int i = 0; i < m; ++i) out[Eigen::Index(pos + i)] = buf[size_t(i)];
    }
    dsp::WavWriteOptions wopt;
    wopt.format = dsp::WavSampleFormat::float32;
    if (!dsp::wav_write_file(args.str("--output"), out, out_rate, error, wopt)) return fail(cmd, error);
    const double seconds = double(total) / out_rate;
    const int latency = live.input_latency_samples();
    std::printf("{\"model\": %s, \"seconds\": %s, \"sample_rate\": %d, \"model_sample_rate\": %d, \"block\": %d, "
                "\"real_time_factor\": %s, \"latency_samples\": %d, \"latency_ms\": %s, \"underruns\": %lld}\n",
                util::json_quote(args.str("--model")).c_str(), util::json_number(seconds).c_str(), out_rate, model_rate,
                block, util::json_number(busy_s / seconds).c_str(), latency,
                util::json_number(1000.0 * latency / out_rate).c_str(), live.stats().decoder_underruns);
    return kExitOk;
}

}  // namespace

int cmd_stream(int argc, char** argv) {
    static const CommandSpec spec = {
        "stream",
        "stream (--synth S --params P.json [--target T.wav] --notes N.json | --model M.safetensors --input in.wav\n"
        "                   [--z V1,V2,...]) [--sr HZ] [--block N] [--seconds T] [--seed K] -o out.wav",
        "Runs the studio's audio-thread engine natively, block by block: the synth's streaming kernel\n"
        "(8 voices, the same code as the AudioWorklet) plays the notes of N.json,\n"
        "  {\"notes\": [{\"time\": 0, \"duration\": 0.5, \"midi\": 60, \"velocity\": 0.8}, ...]}\n"
        "(without midi or f0_hz a note plays at the preset's own pitch; on a drum a key transposes the\n"
        "preset's tuning, the key nearest it playing the preset as it is). The\n"
        "synth runs at the preset's rate and is resampled to --sr (default 48000). --target gives the\n"
        "recording a preset was matched to (ks's residual excitation, ddsp's f0 track), as in render.\n"
        "A note at the preset's pitch at time 0 equals `ddsp render` of the preset (after the latency).\n"
        "With --model, in.wav plays the microphone's part in live timbre transfer: converted to the\n"
        "model's rate, analysed frame by frame (YIN f0, A-weighted loudness, causal level fitting) and\n"
        "decoded with the latent --z (default: the input's own encoding, as `ddsp autoencode`).\n"
        "Prints JSON: the real-time factor and the latency (input to output for --model).",
        {
            {"--synth", nullptr, true, "synth name; optional if --params names one", "S"},
            {"--params", nullptr, true, "parameter file (JSON, physical units)", "P.json"},
            {"--target", nullptr, true, "the recording the parameters were matched to (WAV)", "T.wav"},
            {"--notes", nullptr, true, "notes to play (JSON)", "N.json"},
            {"--sr", nullptr, true, "output sample rate in Hz (8000..384000, default 48000)", "HZ"},
            {"--block", nullptr, true, "samples per block (1..8192, default 128: Web Audio's quantum)", "N"},
            {"--seconds", nullptr, true, "output duration (default: the last note's end plus 2 s)", "T"},
            {"--seed", nullptr, true, "seed of the synth's noise sources (default 0)", "K"},
            {"--model", nullptr, true, "DDSP autoencoder (safetensors from ddsp train)", "M.safetensors"},
            {"--input", nullptr, true, "the live input for --model (WAV)", "in.wav"},
            {"--z", nullptr, true, "latent for --model, comma-separated", "V1,V2,..."},
            {"--output", "-o", true, "output WAV file (float32)", "out.wav"},
        }};
    const char* cmd = "stream";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;

    std::string error;
    int out_rate = 48000, block = 128;
    double seconds = 0;
    uint64_t seed = 0;
    if (!args.get_int("--sr", out_rate, 8000, 384000, error) || !args.get_int("--block", block, 1, 8192, error) ||
        !args.get_double("--seconds", seconds, 0.001, 3600, error) || !args.get_u64("--seed", seed, error) ||
        !args.require("--output", error))
        return fail(cmd, error, kExitUsage);
    if (args.has("--model")) {
        if (args.has("--synth") || args.has("--params") || args.has("--notes") || args.has("--target"))
            return fail(cmd, "--model takes --input, not --synth/--params/--notes/--target", kExitUsage);
        return stream_model(cmd, args, out_rate, block);
    }
    if (!args.require("--notes", error)) return fail(cmd, error, kExitUsage);

    SynthChoice choice;
    if (!choose_synth(args, "--params", choice, error)) return fail(cmd, error);
    synth::StreamPreset preset;
    if (args.has("--target")) {
        engine::Target target;
        if (!load_recording(cmd, args.str("--target"), engine::match_seconds_for(*choice.synth), target, error))
            return fail(cmd, error);
        if (!engine::make_stream_preset(choice, target, seed, preset, error)) return fail(cmd, error);
    } else {
        match::ParamFile file = choice.file;
        if (!choice.have_file) file.synth = choice.name;
        if (!engine::make_stream_preset(file, 0, seed, Vec(), Vec(), preset, error))
            return fail(cmd, (choice.have_file ? args.str("--params") + ": " : std::string()) + error);
    }

    std::string notes_text;
    std::vector<engine::NoteEvent> notes;
    if (!util::read_text_file(args.str("--notes"), notes_text, error) || !engine::notes_parse(notes_text, notes, error))
        return fail(cmd, args.str("--notes") + ": " + error);

    engine::LiveEngine live;
    if (!live.init(out_rate, block, error) || !live.load_preset(preset, error)) return fail(cmd, error);
    double end_s = 0;
    for (const engine::NoteEvent& e : notes) end_s = std::max(end_s, e.time_s + e.duration_s);
    if (!(seconds > 0)) seconds = end_s + 2.0;
    const long long total = std::max<long long>(1, std::llround(seconds * out_rate));
    if (total > 3600LL * 384000) return fail(cmd, "the output would be longer than an hour");

    // Events at block boundaries, as the worklet receives messages between quanta.
    struct Event {
        long long frame;
        bool on;
        size_t note;
    };
    std::vector<Event> events;
    for (size_t i = 0; i < notes.size(); ++i) {
        events.push_back({std::llround(notes[i].time_s * out_rate), true, i});
        events.push_back({std::llround((notes[i].time_s + notes[i].duration_s) * out_rate), false, i});
    }
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
        return a.frame != b.frame ? a.frame < b.frame : (!a.on && b.on);  // offs first at one frame
    });
    // Each note's key for note_off: its MIDI number, or a free key for pitch-given notes.
    auto key_of = [&](size_t i) { return notes[i].midi >= 0 ? notes[i].midi : int(i % 128); };

    Vec out(total);
    std::vector<Real> buf(static_cast<size_t>(block));
    size_t next = 0;
    double busy_s = 0;
    for (long long pos = 0; pos < total; pos += block) {
        while (next < events.size() && events[next].frame < pos + block) {
            const Event& e = events[next++];
            const engine::NoteEvent& n = notes[e.note];
            if (e.on) {
                const double f0 = n.f0_hz > 0 ? n.f0_hz : n.midi >= 0 ? live.note_pitch_hz(n.midi) : 0.0;
                live.note_on(key_of(e.note), n.velocity, f0);
            } else {
                live.note_off(key_of(e.note));
            }
        }
        const int m = int(std::min<long long>(block, total - pos));
        const auto t0 = std::chrono::steady_clock::now();
        live.process(nullptr, buf.data(), m);
        busy_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (int i = 0; i < m; ++i) out[Eigen::Index(pos + i)] = buf[size_t(i)];
    }
    dsp::WavWriteOptions wopt;
    wopt.format = dsp::WavSampleFormat::float32;
    if (!dsp::wav_write_file(args.str("--output"), out, out_rate, error, wopt)) return fail(cmd, error);
    const double rtf = busy_s / seconds;
    const int latency = live.note_latency_samples();
    std::printf("{\"synth\": %s, \"seconds\": %s, \"sample_rate\": %d, \"block\": %d, \"real_time_factor\": %s, "
                "\"latency_samples\": %d, \"latency_ms\": %s, \"steals\": %lld}\n",
                util::json_quote(preset.synth).c_str(), util::json_number(seconds).c_str(), out_rate, block,
                util::json_number(rtf).c_str(), latency, util::json_number(1000.0 * latency / out_rate).c_str(),
                live.stats().steals);
    return kExitOk;
}

}  // namespace ddsp::cli
