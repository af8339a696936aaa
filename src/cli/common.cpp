#include "cli/common.h"

#include "dsp/wav.h"
#include "util/file.h"
#include "util/json.h"
#include "util/text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace ddsp::cli {

std::string one_line(const std::string& s) { return util::printable(s); }

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
    match::ParamFile file;
    const bool have_file = params_option && args.has(params_option);
    if (have_file && !match::params_read_file(args.str(params_option), file, error)) return false;
    if (!args.has("--synth") && !have_file) {
        error = "missing --synth";
        return false;
    }
    const std::string name = args.has("--synth") ? args.str("--synth") : file.synth;
    if (have_file && file.synth != name) {
        error = "'" + args.str(params_option) + "' holds parameters for synth '" + file.synth + "', not '" + name + "'";
        return false;
    }
    synth::SynthOptions options;
    if (args.has("--synth-options") && !engine::parse_synth_options(args.str("--synth-options"), options, error)) {
        error = "--synth-options: " + error;
        return false;
    }
    return engine::prepare_synth(name, have_file ? &file : nullptr, 0, out, error, &options);
}

bool choose_sample_rate(const Args& args, const SynthChoice& choice, int& sample_rate_hz, std::string& error) {
    int override_hz = 0;
    if (args.has("--sr") && !args.get_int("--sr", override_hz, 1000, 384000, error)) return false;
    return engine::choose_rate(*choice.synth, choice.file_or_null(), override_hz, sample_rate_hz, error);
}

bool choose_max_seconds(const Args& args, const synth::Synth& synth, double& max_seconds, std::string& error) {
    max_seconds = engine::match_seconds_for(synth);
    return args.get_double("--max-seconds", max_seconds, 0.01, 600, error);
}

bool choose_loss(const Args& args, match::LossKind& kind, std::string& error) {
    kind = match::LossKind::mrstft;
    if (!args.has("--loss")) return true;
    if (!match::parse_loss(args.str("--loss"), kind)) {
        error = "unknown loss '" + args.str("--loss") + "' (losses: " + engine::loss_names() + ")";
        return false;
    }
    return true;
}

namespace {

// Reads a WAV file (mono downmix), with the notes both loaders print: truncated, and longer than
// the part a match uses.
bool read_recording(const char* cmd, const std::string& path, double max_seconds, dsp::Audio& audio,
                    std::string& error) {
    if (!dsp::wav_read_file(path, audio, error)) {
        error = path + ": " + error;
        return false;
    }
    if (audio.data_truncated) note(cmd, "note: '" + path + "' is truncated; using the samples present");
    if (audio.samples.size() > engine::kept_samples(max_seconds, audio.sample_rate_hz))
        note(cmd, "note: '" + path + "' is " + fmt("%.2f", audio.duration_s()) + " s long; using its first " +
                      fmt("%g", max_seconds) + " s (see --max-seconds)");
    return true;
}

}  // namespace

bool load_target(const char* cmd, const std::string& path, int sample_rate_hz, double max_seconds, Vec& out,
                 std::string& error) {
    dsp::Audio audio;
    if (!read_recording(cmd, path, max_seconds, audio, error)) return false;
    if (!engine::prepare_target(audio.samples, audio.sample_rate_hz, sample_rate_hz, max_seconds, out, error)) {
        error = path + ": " + error;
        return false;
    }
    return true;
}

bool load_recording(const char* cmd, const std::string& path, double max_seconds, engine::Target& target,
                    std::string& error) {
    dsp::Audio audio;
    if (!read_recording(cmd, path, max_seconds, audio, error)) return false;
    if (!target.set(std::move(audio.samples), audio.sample_rate_hz, error)) {
        error = path + ": " + error;
        return false;
    }
    return true;
}

bool parse_latent_option(const Args& args, int z_dims, Arr& z, std::string& error) {
    std::stringstream ss(args.str("--z"));
    std::string item;
    std::vector<double> values;
    while (std::getline(ss, item, ',')) {
        double v = 0;
        if (!parse_double(item, v) || std::fabs(v) > 100) {
            error = "--z: bad value '" + item + "'";
            return false;
        }
        values.push_back(v);
    }
    if (int(values.size()) != z_dims) {
        error = "--z needs " + std::to_string(z_dims) + " values";
        return false;
    }
    for (int i = 0; i < z_dims; ++i) z(0, i) = Real(values[size_t(i)]);
    return true;
}

// [SECTION] folders of recordings

bool wav_files(const std::string& input, std::vector<std::string>& files, std::string& error) {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec)) {
        for (const auto& e : std::filesystem::directory_iterator(input, ec)) {
            std::string ext = e.path().extension().string();
            std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            if (e.is_regular_file() && ext == ".wav") files.push_back(e.path().string());
        }
        std::sort(files.begin(), files.end());
        if (files.empty()) {
            error = input + ": no .wav files in this folder";
            return false;
        }
    } else {
        files.push_back(input);
    }
    return true;
}

bool trim_training_log(const std::string& path, int step, std::string& error) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return true;
    std::string text, kept;
    if (step > 0 && !util::read_text_file(path, text, error)) return false;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = text.find('\n', start);
        if (end == std::string::npos) break;  // no newline: cut short by a kill
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        util::JsonValue v;
        std::string e;
        const util::JsonValue* s = util::json_parse(line, v, e) ? v.find("step") : nullptr;
        if (!s || s->type != util::JsonValue::Type::number || s->number > step) break;
        kept += line + "\n";
    }
    return util::write_text_file(path, kept, error);
}

void remove_stale_temporaries(const std::string& dir) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.is_regular_file(ec) && e.path().filename().string().find(".tmp-") != std::string::npos)
            std::filesystem::remove(e.path(), ec);
}

std::string shipped_model(const std::string& file) {
#ifdef DDSP_MODELS_DIR
    const std::string path = std::string(DDSP_MODELS_DIR) + "/" + file;
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path;
#endif
    (void)file;
    return "";
}

}  // namespace ddsp::cli
