#include "synth/synth.h"

#include "synth/registry.h"
#include "util/json.h"
#include "util/text.h"

#include <cmath>
#include <cstdio>

namespace ddsp::synth {

std::vector<std::string> synth_names() {
    std::vector<std::string> names;
    for (const SynthFactory& f : synth_factories()) names.push_back(f.name);
    return names;
}

std::unique_ptr<Synth> make_synth(const std::string& name) {
    for (const SynthFactory& f : synth_factories())
        if (name == f.name) return f.make();
    return nullptr;
}

std::unique_ptr<Synth> make_synth(const std::string& name, const SynthOptions& options, std::string& error) {
    for (const SynthFactory& f : synth_factories()) {
        if (name != f.name) continue;
        if (options.empty()) return f.make();
        if (!f.make_with_options) {
            error = "synth " + util::quote_input(name) + " has no options";
            return nullptr;
        }
        return f.make_with_options(options, error);
    }
    error = "unknown synth " + util::quote_input(name);
    return nullptr;
}

std::string synth_option_names(const std::string& name) {
    for (const SynthFactory& f : synth_factories())
        if (name == f.name) return f.option_names ? f.option_names() : std::string();
    return "";
}

ParamValues Synth::initial_values(const SynthConfig& cfg) const { return default_values(param_table(cfg)); }

bool Synth::analyse_target(const Vec& target, const SynthConfig& cfg, std::string& error) {
    AnalysisPtr analysis;
    if (!analyse(target, cfg, analysis, error)) return false;
    use_analysis(std::move(analysis));
    return true;
}

bool Synth::set_pitch_hz(double f0_hz, bool follow_analysis, ParamValues& values, const SynthConfig& cfg,
                         std::string& error) {
    error = "synth '" + name() + "' has no pitch to set";
    return false;
}

int table_size(const std::vector<ParamSpec>& table) {
    int n = 0;
    for (const ParamSpec& p : table) n += p.size;
    return n;
}

std::vector<int> table_offsets(const std::vector<ParamSpec>& table) {
    std::vector<int> offsets;
    int at = 0;
    for (const ParamSpec& p : table) {
        offsets.push_back(at);
        at += p.size;
    }
    return offsets;
}

ParamGraph::ParamGraph(const std::vector<ParamSpec>& table, ad::Var u)
    : table_(table), offsets_(table_offsets(table)), u_(u) {
    if (u.rows() != table_size(table) || u.cols() != 1) ad::graph_error("ParamGraph: u does not fit the table");
}

const ParamSpec& ParamGraph::spec(const std::string& name) const {
    for (const ParamSpec& p : table_)
        if (p.name == name) return p;
    ad::graph_error("unknown synth parameter '" + name + "'");
}

ad::Var ParamGraph::operator[](const std::string& name) const {
    for (size_t i = 0; i < table_.size(); ++i) {
        const ParamSpec& p = table_[i];
        if (p.name != name) continue;
        return ad::bounded(ad::slice(u_, offsets_[i], p.size), Real(p.min_value), Real(p.max_value), p.scale);
    }
    ad::graph_error("unknown synth parameter '" + name + "'");
}

ParamValues default_values(const std::vector<ParamSpec>& table) {
    ParamValues v;
    for (const ParamSpec& p : table) v[p.name] = std::vector<double>(size_t(p.size), p.default_value);
    return v;
}

using util::format_g;

bool to_unconstrained(const std::vector<ParamSpec>& table, const ParamValues& values, Vec& u, std::string& error) {
    for (const auto& [name, vals] : values) {
        bool known = false;
        for (const ParamSpec& p : table) known = known || p.name == name;
        if (!known) {
            error = "unknown parameter " + util::quote_input(name);
            return false;
        }
    }
    u.resize(table_size(table));
    int at = 0;
    for (const ParamSpec& p : table) {
        auto it = values.find(p.name);
        std::vector<double> vals = it != values.end() ? it->second : std::vector<double>(size_t(p.size), p.default_value);
        if (vals.size() == 1 && p.size > 1) {  // a scalar fills a vector
            const double fill = vals[0];          // (not a reference into the vector assign() frees)
            vals.assign(size_t(p.size), fill);
        }
        if (int(vals.size()) != p.size) {
            error = "parameter '" + p.name + "' needs " + std::to_string(p.size) + " values, got " +
                    std::to_string(vals.size());
            return false;
        }
        for (double v : vals) {
            if (!std::isfinite(v)) {
                error = "parameter '" + p.name + "' is not a finite number";
                return false;
            }
            // Allow a hair of rounding outside the range (values printed to JSON and read back).
            const double slack = 1e-6 * (p.max_value - p.min_value);
            if (v < p.min_value - slack || v > p.max_value + slack) {
                error = "parameter '" + p.name + "' = " + format_g(v) + " is outside [" + format_g(p.min_value) + ", " +
                        format_g(p.max_value) + "]" + (p.unit.empty() ? "" : " " + p.unit);
                return false;
            }
            u[at++] = Real(ad::unbounded_value(v, p.min_value, p.max_value, p.scale));
        }
    }
    return true;
}

ParamValues to_physical(const std::vector<ParamSpec>& table, const Vec& u) {
    ParamValues out;
    int at = 0;
    for (const ParamSpec& p : table) {
        std::vector<double>& vals = out[p.name];
        for (int i = 0; i < p.size; ++i)
            vals.push_back(ad::bounded_value(double(u[at++]), p.min_value, p.max_value, p.scale));
    }
    return out;
}

Vec physical_derivative(const std::vector<ParamSpec>& table, const Vec& u) {
    Vec d(u.size());
    int at = 0;
    for (const ParamSpec& p : table) {
        for (int i = 0; i < p.size; ++i, ++at) {
            const double s = 1.0 / (1.0 + std::exp(-double(u[at])));
            const double ds = s * (1 - s);
            const double value = ad::bounded_value(double(u[at]), p.min_value, p.max_value, p.scale);
            d[at] = Real(p.scale == ad::Scale::log ? value * (std::log(p.max_value) - std::log(p.min_value)) * ds
                                                   : (p.max_value - p.min_value) * ds);
        }
    }
    return d;
}

bool render(Synth& synth, const ParamValues& values, const SynthConfig& cfg, Vec& audio, std::string& error) {
    const std::vector<ParamSpec> table = synth.param_table(cfg);
    Vec u;
    if (!to_unconstrained(table, values, u, error)) return false;
    ad::Tape tape(ad::Tape::Mode::forward_only);
    ad::Var out = synth.build(tape.constant(u), cfg);
    audio = out.value().col(0);
    for (Eigen::Index i = 0; i < audio.size(); ++i)
        if (!std::isfinite(audio[i])) {
            error = "synth '" + synth.name() + "' produced a non-finite sample";
            return false;
        }
    return true;
}

}  // namespace ddsp::synth
