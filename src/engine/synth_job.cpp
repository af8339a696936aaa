#include "engine/synth_job.h"

#include "dsp/recording_check.h"
#include "util/json.h"
#include "util/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ddsp::engine {

using util::format_g;

// [SECTION] choosing the synth

double SynthJob::default_seconds() const {
    return have_file && file.seconds > 0 ? file.seconds : synth->default_seconds();
}

std::string unknown_synth_error(const std::string& name) {
    std::string names;
    for (const std::string& n : synth::synth_names()) names += (names.empty() ? "" : ", ") + n;
    return "unknown synth " + util::quote_input(name) + " (synths: " + names + ")";
}

bool prepare_synth_text(const std::string& synth_name, const std::string& params_text, double rate_override_hz,
                        SynthJob& out, std::string& error, const synth::SynthOptions* options) {
    match::ParamFile file;
    const bool have_file = params_text.find_first_not_of(" \t\r\n") != std::string::npos;
    if (have_file && !match::params_parse(params_text, file, error)) {
        error = "params: " + error;
        return false;
    }
    if (!prepare_synth(synth_name, have_file ? &file : nullptr, rate_override_hz, out, error, options)) {
        if (have_file && !synth_name.empty() && file.synth != synth_name) error = "params: " + error;
        return false;
    }
    return true;
}

bool fit_target(SynthJob& job, Target& target, double max_target_seconds, TargetFit& out, std::string& error) {
    out.samples = target.at(*job.synth, job.sample_rate_hz, max_target_seconds, error);
    if (!out.samples) return false;
    out.cfg.sample_rate_hz = job.sample_rate_hz;
    out.cfg.num_samples = int(out.samples->size());
    if (!target.analysis(*job.synth, out.cfg, max_target_seconds, out.analysis, error)) return false;
    job.synth->use_analysis(out.analysis);
    return true;
}

bool parse_synth_options(const std::string& text, synth::SynthOptions& out, std::string& error) {
    size_t start = 0;
    while (start <= text.size()) {
        const size_t end = std::min(text.find(',', start), text.size());
        const std::string item = text.substr(start, end - start);
        const size_t eq = item.find('=');
        const std::string name = eq == std::string::npos ? "" : item.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
        char* stop = nullptr;
        const double v = value.empty() ? 0 : std::strtod(value.c_str(), &stop);
        if (name.empty() || value.empty() || *stop != '\0' || !std::isfinite(v)) {
            error = "synth option '" + item + "' is not NAME=NUMBER";
            return false;
        }
        out[name] = v;
        start = end + 1;
    }
    return true;
}

bool prepare_synth(const std::string& synth_name, const match::ParamFile* file, double rate_override_hz,
                   SynthJob& out, std::string& error, const synth::SynthOptions* options) {
    out = SynthJob();
    out.have_file = file != nullptr;
    if (file) out.file = *file;
    out.name = synth_name.empty() && file ? file->synth : synth_name;
    if (out.name.empty()) {
        error = "no synth given";
        return false;
    }
    if (file && file->synth != out.name) {
        error = "these are parameters for synth '" + file->synth + "', not '" + out.name + "'";
        return false;
    }
    if (file) out.options = file->options;
    if (options)
        for (const auto& [k, v] : *options) out.options[k] = v;
    if (!synth::make_synth(out.name)) {
        error = unknown_synth_error(out.name);
        return false;
    }
    out.synth = synth::make_synth(out.name, out.options, error);
    if (!out.synth) return false;
    return choose_rate(*out.synth, file, rate_override_hz, out.sample_rate_hz, error);
}

bool choose_rate(const synth::Synth& synth, const match::ParamFile* file, double rate_override_hz, int& out,
                 std::string& error) {
    double rate = synth.default_sample_rate_hz();
    if (file && file->sample_rate_hz > 0) rate = file->sample_rate_hz;
    if (rate_override_hz > 0) rate = rate_override_hz;
    if (!(rate >= dsp::kMinRecordingRateHz && rate <= dsp::kMaxRecordingRateHz) || rate != std::floor(rate)) {
        error = "sample rate " + format_g(rate) + " Hz is not an integer in [1000, 384000]";
        return false;
    }
    out = int(rate);
    return true;
}

// [SECTION] rendering with overrides

bool render(SynthJob& job, const RenderOptions& options, Target* target, Vec& audio, std::string& error) {
    const int sr = job.sample_rate_hz;
    const double seconds = options.seconds > 0 ? options.seconds : job.default_seconds();
    if (!(seconds > 0 && seconds <= 60)) {
        error = "duration " + format_g(seconds) + " s is outside (0, 60]";
        return false;
    }
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = sr;
    cfg.num_samples = std::max(1, int(std::lround(seconds * sr)));
    cfg.seed = options.seed;
    const bool pitched = options.f0_hz > 0;
    const bool use_target = target && !(pitched && !job.synth->analysis_fits_any_pitch());
    if (use_target) {
        const Vec* prepared = target->at(*job.synth, sr, options.max_target_seconds, error);
        if (!prepared) return false;
        if (options.seconds <= 0) cfg.num_samples = int(prepared->size());
        synth::AnalysisPtr analysis;
        if (!target->analysis(*job.synth, cfg, options.max_target_seconds, analysis, error)) return false;
        job.synth->use_analysis(std::move(analysis));
    }
    synth::ParamValues values = job.have_file ? job.file.values : synth::ParamValues{};
    if ((pitched && !job.synth->set_pitch_hz(options.f0_hz, use_target, values, cfg, error)) ||
        !synth::render(*job.synth, values, cfg, audio, error)) {
        if (!options.params_label.empty()) error = options.params_label + ": " + error;
        return false;
    }
    return true;
}

// [SECTION] tables and defaults

std::string synths_json() {
    using util::json_number;
    using util::json_quote;
    std::string out = "[";
    bool first = true;
    for (const std::string& name : synth::synth_names()) {
        const auto s = synth::make_synth(name);
        synth::SynthConfig cfg;
        cfg.sample_rate_hz = s->default_sample_rate_hz();
        cfg.num_samples = int(std::lround(s->default_seconds() * cfg.sample_rate_hz));
        out += first ? "\n  " : ",\n  ";
        first = false;
        out += "{\"name\": " + json_quote(name) + ", \"description\": " + json_quote(s->description()) +
               ", \"sample_rate\": " + json_number(cfg.sample_rate_hz) +
               ", \"seconds\": " + json_number(s->default_seconds()) +
               ", \"params\": " + param_table_json(s->param_table(cfg), "  ") + "}";
    }
    return out + "\n]\n";
}

std::string param_table_json(const std::vector<synth::ParamSpec>& table, const std::string& indent) {
    using util::json_number;
    using util::json_quote;
    std::string out = "[";
    for (size_t i = 0; i < table.size(); ++i) {
        const synth::ParamSpec& p = table[i];
        out += std::string(i ? "," : "") + "\n" + indent + "  {\"name\": " + json_quote(p.name) +
               ", \"unit\": " + json_quote(p.unit) + ", \"min\": " + json_number(p.min_value) +
               ", \"max\": " + json_number(p.max_value) + ", \"default\": " + json_number(p.default_value) +
               ", \"scale\": " + (p.scale == ad::Scale::log ? "\"log\"" : "\"linear\"") +
               ", \"size\": " + std::to_string(p.size) + ", \"global\": " + (p.global ? "true" : "false") +
               ", \"description\": " + json_quote(p.description) + "}";
    }
    return out + "\n" + indent + "]";
}

std::string method_names() { return "gradient, genetic, cmaes, hybrid"; }
std::string loss_names() { return "mrstft, linear, diffks, timbre"; }

std::string defaults_json() {
    using util::json_number;
    using util::json_quote;
    const match::MatchParams p;
    return "{\"method\": " + json_quote(match::method_name(p.method)) + ", \"loss\": " +
           json_quote(match::loss_name(p.loss)) + ", \"steps\": " + std::to_string(p.max_steps) +
           ", \"learning_rate\": " + json_number(p.learning_rate) + ", \"population\": " + std::to_string(p.population) +
           ", \"time_budget_s\": " + json_number(p.time_budget_s) + ", \"seed\": " + std::to_string(p.seed) +
           ", \"min_match_seconds\": " + json_number(kMinMatchSeconds) + "}";
}

}  // namespace ddsp::engine
