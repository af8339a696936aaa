#include "cli/common.h"

#include "dsp/resample.h"
#include "dsp/wav.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace ddsp::cli {

std::string one_line(std::string s) {
    for (char& c : s)
        if ((unsigned char)c < 0x20 || c == 0x7F) c = ' ';
    return s;
}

int fail(const char* cmd, const std::string& message, int code) {
    std::fprintf(stderr, "ddsp %s: %s\n", cmd, one_line(message).c_str());
    return code;
}

void note(const char* cmd, const std::string& message) {
    std::fprintf(stderr, "ddsp %s: %s\n", cmd, one_line(message).c_str());
}

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

bool parse_command(const CommandSpec& spec, int argc, char** argv, Args& args, int& exit_code) {
    std::string error;
    if (!args.parse(spec, argc, argv, error)) {
        exit_code = fail(spec.name, error, kExitUsage);
        return false;
    }
    if (args.help) {
        print_help(spec);
        exit_code = kExitOk;
        return false;
    }
    return true;
}

bool choose_synth(const Args& args, const char* params_option, SynthChoice& out, std::string& error) {
    out = SynthChoice();
    if (params_option && args.has(params_option)) {
        if (!match::params_read_file(args.str(params_option), out.file, error)) return false;
        out.have_file = true;
    }
    if (args.has("--synth")) {
        out.name = args.str("--synth");
        if (out.have_file && out.file.synth != out.name) {
            error = "'" + args.str(params_option) + "' holds parameters for synth '" + out.file.synth + "', not '" +
                    out.name + "'";
            return false;
        }
    } else if (out.have_file) {
        out.name = out.file.synth;
    } else {
        error = "missing --synth";
        return false;
    }
    out.synth = synth::make_synth(out.name);
    if (!out.synth) {
        std::string names;
        for (const std::string& n : synth::synth_names()) names += (names.empty() ? "" : ", ") + n;
        error = "unknown synth '" + out.name + "' (synths: " + names + ")";
        return false;
    }
    return true;
}

bool choose_sample_rate(const Args& args, const SynthChoice& choice, int& sample_rate_hz, std::string& error) {
    double sr = choice.synth->default_sample_rate_hz();
    if (choice.have_file && choice.file.sample_rate_hz > 0) sr = choice.file.sample_rate_hz;
    if (args.has("--sr")) {
        int v = 0;
        if (!args.get_int("--sr", v, 1000, 384000, error)) return false;
        sr = v;
    }
    if (!(sr >= 1000 && sr <= 384000) || sr != std::floor(sr)) {
        error = "sample rate " + fmt("%g", sr) + " Hz is not an integer in [1000, 384000]";
        return false;
    }
    sample_rate_hz = int(sr);
    return true;
}

bool choose_max_seconds(const Args& args, const synth::Synth& synth, double& max_seconds, std::string& error) {
    max_seconds = std::max(synth.default_seconds(), 4.0);
    return args.get_double("--max-seconds", max_seconds, 0.01, 600, error);
}

bool choose_loss(const Args& args, match::LossKind& kind, std::string& error) {
    kind = match::LossKind::mrstft;
    if (!args.has("--loss")) return true;
    if (!match::parse_loss(args.str("--loss"), kind)) {
        error = "unknown loss '" + args.str("--loss") + "' (losses: mrstft, linear, diffks, timbre)";
        return false;
    }
    return true;
}

bool load_target(const char* cmd, const std::string& path, int sample_rate_hz, double max_seconds, Vec& out,
                 std::string& error) {
    dsp::Audio audio;
    if (!dsp::wav_read_file(path, audio, error)) {
        error = path + ": " + error;
        return false;
    }
    if (audio.data_truncated) note(cmd, "note: '" + path + "' is truncated; using the samples present");
    const double rate = audio.sample_rate_hz;
    const Eigen::Index keep = Eigen::Index(std::ceil(max_seconds * rate));
    if (audio.samples.size() > keep) {
        note(cmd, "note: '" + path + "' is " + fmt("%.2f", audio.duration_s()) + " s long; using its first " +
                      fmt("%g", max_seconds) + " s (see --max-seconds)");
        audio.samples.conservativeResize(keep);
    }
    if (!dsp::resample(audio.samples, rate, sample_rate_hz, out, error)) {
        error = path + ": " + error;
        return false;
    }
    if (out.size() < 64) {
        error = path + ": too short (" + std::to_string(out.size()) + " samples at " + std::to_string(sample_rate_hz) +
                " Hz; need at least 64)";
        return false;
    }
    if (!out.allFinite()) {
        error = path + ": contains non-finite samples";
        return false;
    }
    if (out.abs().maxCoeff() < Real(1e-5)) {
        error = path + ": the recording is silent (peak below -100 dBFS)";
        return false;
    }
    return true;
}

bool make_dir(const std::string& path, std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (std::filesystem::is_directory(path, ec)) return true;
    error = "cannot create directory '" + path + "'" + (ec ? ": " + ec.message() : "");
    return false;
}

}  // namespace ddsp::cli
