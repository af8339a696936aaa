// Timbre remapping; see remap.h.
#include "nn/remap.h"

#include "ad/ops.h"
#include "dsp/fft.h"
#include "dsp/onset.h"
#include "match/feature_loss.h"
#include "match/params_json.h"
#include "nn/autoencoder.h"
#include "nn/checkpoint.h"
#include "synth/drum808.h"
#include "synth/stream.h"
#include "synth/synth.h"
#include "util/json.h"
#include "util/text.h"

#include <algorithm>
#include <cmath>

namespace ddsp::nn {

const char* const kHitFeatureNames[kHitFeatures] = {"loudness_db", "centroid_oct", "flatness_db", "temporal_centroid_s"};

// [SECTION] features

void OnsetFeatureAnalyser::init(int window, double sample_rate_hz) {
    window_ = std::max(2, window);
    sample_rate_hz_ = sample_rate_hz;
    int size = 2;
    while (size < window_) size <<= 1;
    fft_ = std::make_unique<dsp::RealFft>(size);
    buf_.assign(size_t(size), Real(0));
    spec_.assign(size_t(fft_->num_bins()), Complex(0, 0));
}

std::array<double, kOnsetFeatures> OnsetFeatureAnalyser::operator()(const Real* x) {
    const int size = fft_->size(), window = window_;
    std::fill(buf_.begin(), buf_.end(), Real(0));
    double energy = 0;
    for (int i = 0; i < window; ++i) {
        const double v = std::isfinite(x[i]) ? double(x[i]) : 0.0;
        energy += v * v;
        // Hann window for the spectrum (the RMS is of the plain samples).
        buf_[size_t(i)] = Real(v * (0.5 - 0.5 * std::cos(2 * kPi * (i + 0.5) / window)));
    }
    fft_->forward(buf_.data(), spec_.data());
    double sum_s = 0, sum_fs = 0, sum_p = 0, sum_logp = 0;
    const int bins = fft_->num_bins();
    for (int k = 0; k < bins; ++k) {
        const double s = std::abs(spec_[size_t(k)]);
        sum_s += s;
        sum_fs += s * k * sample_rate_hz_ / size;
        sum_p += s * s;
    }
    const double mean_p = sum_p / bins;
    for (int k = 0; k < bins; ++k) sum_logp += 10 * std::log10(std::norm(spec_[size_t(k)]) + 1e-6 * mean_p + 1e-30);
    std::array<double, kOnsetFeatures> f{};
    f[0] = 10 * std::log10(energy / window + 1e-10);
    f[1] = std::log2((sum_s > 0 ? sum_fs / sum_s : 0.0) / 1000 + 0.05);
    f[2] = sum_p > 0 ? sum_logp / bins - 10 * std::log10(mean_p + 1e-30) : 0.0;
    return f;
}

std::array<double, kOnsetFeatures> onset_features(const Real* x, int n, int start, int window, double sample_rate_hz) {
    OnsetFeatureAnalyser a;
    a.init(window, sample_rate_hz);
    std::vector<Real> seg(size_t(a.window()), Real(0));
    for (int i = 0; i < a.window(); ++i) {
        const int k = start + i;
        if (k >= 0 && k < n) seg[size_t(i)] = x[k];
    }
    return a(seg.data());
}

ad::Var hit_features(ad::Var hit, double sample_rate_hz) {
    match::FeatureLossParams fp;
    fp.sample_rate_hz = sample_rate_hz;
    fp.fft_size = 1024;
    fp.hop = 256;
    const match::TimbreFeatures t = match::timbre_features(hit, fp);
    // Energy-weighted means over frames: the attack, where the energy is, dominates.
    const ad::Var w = t.energy / (ad::sum(t.energy) + Real(1e-12));
    const ad::Var loudness = ad::sum(w * t.loudness_db);
    const ad::Var centroid = ad::sum(w * t.centroid_oct);
    const ad::Var flatness = ad::sum(w * t.flatness_db);
    return ad::concat({loudness, centroid, flatness, t.temporal_centroid_s});  // kHitFeatures x 1
}

bool analyse_hits(const Vec& x, const RemapParams& params, std::vector<Hit>& hits, std::string& error) {
    hits.clear();
    if (x.size() == 0) {
        error = "the performance is empty";
        return false;
    }
    if (!x.allFinite()) {
        error = "the performance contains non-finite samples";
        return false;
    }
    const double sr = params.sample_rate_hz;
    std::vector<double> onsets;
    if (!dsp::detect_onsets(x, sr, dsp::OnsetParams{}, onsets, error)) return false;
    const int hit_n = std::max(1, int(std::lround(params.hit_seconds * sr)));
    const int window = std::max(2, int(std::lround(params.onset_window_s * sr)));
    ad::Tape tape(ad::Tape::Mode::forward_only);
    for (size_t k = 0; k < onsets.size(); ++k) {
        const int start = int(std::lround(onsets[k] * sr));
        const int stop = k + 1 < onsets.size() ? int(std::lround(onsets[k + 1] * sr)) : int(x.size());
        Arr seg = Arr::Zero(hit_n, 1);
        for (int i = 0; i < hit_n && start + i < std::min<int>(stop, int(x.size())); ++i) seg(i, 0) = x[start + i];
        Hit h;
        h.onset_s = onsets[k];
        h.onset = onset_features(x.data(), int(x.size()), start, window, sr);
        tape.truncate(0);
        const Arr f = hit_features(tape.constant(seg), sr).value();
        for (int j = 0; j < kHitFeatures; ++j) h.timbre[size_t(j)] = double(f(j, 0));
        hits.push_back(h);
    }
    return true;
}

// [SECTION] the network

bool remap_model_kind(const std::string& name, RemapModelKind& out, std::string& error) {
    if (name == "linear") out = RemapModelKind::linear;
    else if (name == "mlp") out = RemapModelKind::mlp;
    else if (name == "mlp-large") out = RemapModelKind::mlp_large;
    else {
        error = "unknown model " + util::quote_input(name) + " (linear, mlp, mlp-large)";
        return false;
    }
    return true;
}

const char* remap_model_name(RemapModelKind kind) {
    return kind == RemapModelKind::linear ? "linear" : kind == RemapModelKind::mlp ? "mlp" : "mlp-large";
}

RemapNet::RemapNet(ad::Tape& tape, RemapModelKind kind, int outputs, double max_modulation, uint64_t seed)
    : kind_(kind), store_(tape, seed), max_modulation_(max_modulation) {
    int width = kOnsetFeatures;
    if (kind != RemapModelKind::linear) {
        const int hidden = kind == RemapModelKind::mlp ? 32 : 128;
        const int layers = kind == RemapModelKind::mlp ? 2 : 3;
        mlp_ = Mlp(store_, "remap.mlp", kOnsetFeatures, hidden, layers);
        width = hidden;
    }
    out_ = Linear(store_, "remap.out", width, outputs);
    // Start from "no modulation": the output layer's weights small, so d ~ 0 at first.
    Arr w = out_.w.value() * Real(0.1);
    store_.set("remap.out.w", w);
}

ad::Var RemapNet::operator()(ad::Var x) const {
    ad::Tape& tape = *x.tape;
    Arr m(1, kOnsetFeatures), s(1, kOnsetFeatures);
    for (int j = 0; j < kOnsetFeatures; ++j) {
        m(0, j) = Real(mean[size_t(j)]);
        s(0, j) = Real(1.0 / std::max(1e-6, scale[size_t(j)]));
    }
    ad::Var h = (x - tape.constant(m)) * tape.constant(s);
    if (kind_ != RemapModelKind::linear) h = mlp_(h);
    return ad::tanh(out_(h)) * Real(max_modulation_);
}

// [SECTION] the problem

bool RemapProblem::init(const synth::ParamValues& preset, const std::vector<Hit>& hits, const RemapParams& params,
                        std::string& error) {
    params_ = params;
    hits_ = hits;
    synth_ = synth::make_synth("drum808");
    cfg_.sample_rate_hz = params.sample_rate_hz;
    cfg_.num_samples = std::max(64, int(std::lround(params.hit_seconds * params.sample_rate_hz)));
    cfg_.seed = 0;
    if (!synth::to_unconstrained(synth_->param_table(cfg_), preset, u0_, error)) return false;
    if (hits_.empty()) {
        error = "the performance has no hits (no onsets found)";
        return false;
    }
    ad::Tape tape(ad::Tape::Mode::forward_only);
    const Arr f = hit_features(synth_->build(tape.constant(u0_), cfg_), cfg_.sample_rate_hz).value();
    for (int j = 0; j < kHitFeatures; ++j) preset_features_[size_t(j)] = double(f(j, 0));
    mean_.fill(0);
    for (const Hit& h : hits_)
        for (int j = 0; j < kHitFeatures; ++j) mean_[size_t(j)] += h.timbre[size_t(j)] / double(hits_.size());
    return true;
}

ad::Var RemapProblem::loss(ad::Var d, const std::vector<int>& which, std::vector<ad::Var>* per_feature) const {
    ad::Tape& tape = *d.tape;
    const int p = num_params();
    const ad::Var identity = tape.constant(Arr(Mat::Identity(p, p).array()));
    const ad::Var u0 = tape.constant(u0_);
    Arr inv_scale(kHitFeatures, 1), base(kHitFeatures, 1);
    for (int j = 0; j < kHitFeatures; ++j) {
        inv_scale(j, 0) = Real(1.0 / kHitFeatureScale[j]);
        base(j, 0) = Real(preset_features_[size_t(j)] - mean_[size_t(j)]);
    }
    const ad::Var inv = tape.constant(inv_scale);
    ad::Var total_abs;
    for (size_t r = 0; r < which.size(); ++r) {
        const Hit& h = hits_[size_t(which[r])];
        // Row r of d as a column: sum_cols(I * row).
        const ad::Var d_col = ad::sum_cols(identity * ad::slice(d, int(r), 1));
        const ad::Var f = hit_features(synth_->build(u0 + d_col, cfg_), cfg_.sample_rate_hz);
        // Wanted: f - preset features = h - mean, i.e. f - (preset - mean) - h = 0.
        Arr target(kHitFeatures, 1);
        for (int j = 0; j < kHitFeatures; ++j) target(j, 0) = Real(h.timbre[size_t(j)]) + base(j, 0);
        const ad::Var err = ad::abs(f - tape.constant(target));
        total_abs = r == 0 ? err : total_abs + err;
    }
    const Real n = Real(std::max<size_t>(1, which.size()));
    if (per_feature) {
        per_feature->clear();
        for (int j = 0; j < kHitFeatures; ++j) per_feature->push_back(ad::slice(total_abs, j, 1) / n);
    }
    return ad::sum(total_abs * inv) / (n * Real(kHitFeatures));
}

bool remap_preset(const std::string& name_or_json, synth::ParamValues& values, std::string& json, std::string& error) {
    auto synth = synth::make_synth("drum808");
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = 44100;
    const auto table = synth->param_table(cfg);
    values.clear();
    const size_t first = name_or_json.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || name_or_json[first] != '{') {
        std::string names;
        for (const auto& [name, v] : synth::drum808_presets()) {
            names += (names.empty() ? "" : ", ") + name;
            if (name == name_or_json) values = v;
        }
        if (values.empty()) {
            error = "unknown preset " + util::quote_input(name_or_json) + " (" + names + ")";
            return false;
        }
    } else {
        match::ParamFile file;
        if (!match::params_parse(name_or_json, file, error)) return false;
        if (file.synth != "drum808") {
            error = "remapping plays the drum808 synth, not " + util::quote_input(file.synth);
            return false;
        }
        Vec u;
        if (!match::params_validate(file, "drum808", table, u, error)) return false;
        values = synth::to_physical(table, u);
    }
    json = match::params_to_json("drum808", 44100, 0, values, table);
    return true;
}

// [SECTION] training and baselines

namespace {

Arr onset_matrix(const RemapProblem& problem, const std::vector<int>& which) {
    Arr x(int(which.size()), kOnsetFeatures);
    for (size_t r = 0; r < which.size(); ++r)
        for (int j = 0; j < kOnsetFeatures; ++j) x(int(r), j) = Real(problem.hits()[size_t(which[r])].onset[size_t(j)]);
    return x;
}

}  // namespace

RemapTrainer::RemapTrainer(const RemapProblem& problem, std::vector<int> train, const RemapTrainOptions& options,
                           RemapNet& net)
    : problem_(problem), train_(std::move(train)), options_(options), net_(net),
      adam_(ad::AdamParams{options.learning_rate, 0.9, 0.999, 1e-8, 1.0}), sampler_seed_(options.seed ^ 0x5EEDull) {
    // Input normalisation from the training hits.
    for (int j = 0; j < kOnsetFeatures; ++j) {
        double m = 0, v = 0;
        for (int i : train_) m += problem.hits()[size_t(i)].onset[size_t(j)] / double(train_.size());
        for (int i : train_) v += std::pow(problem.hits()[size_t(i)].onset[size_t(j)] - m, 2) / double(train_.size());
        net.mean[size_t(j)] = train_.empty() ? 0.0 : m;
        net.scale[size_t(j)] = std::max(1e-3, std::sqrt(v));
    }
    net.store().add_to(adam_);
    mark_ = net.store().tape().num_nodes();
    rng_ = std::make_unique<dsp::Rng>(sampler_seed_);
    order_ = train_;
    cursor_ = order_.size();
    pick_.resize(size_t(std::max(1, std::min(options.batch, int(train_.size())))));
}

void RemapTrainer::next_batch() {
    for (int& p : pick_) {  // epochs of shuffled hits
        if (cursor_ >= order_.size()) {
            for (size_t i = order_.size() - 1; i > 0; --i) std::swap(order_[i], order_[size_t(rng_->below(int(i + 1)))]);
            cursor_ = 0;
        }
        p = order_[cursor_++];
    }
}

double RemapTrainer::step() {
    if (train_.empty()) return 0;
    next_batch();
    ad::Tape& tape = net_.store().tape();
    tape.truncate(mark_);
    const ad::Var loss = problem_.loss(net_(tape.constant(onset_matrix(problem_, pick_))), pick_);
    tape.backward(loss);
    adam_.step();
    const double value = double(loss.item());
    tape.truncate(mark_);
    return value;
}

TensorFile RemapTrainer::checkpoint(const std::string& preset_json) const {
    TensorFile file = remap_to_file(net_, preset_json, problem_.params());
    add_adam_state(adam_, net_.store().params(), file);
    return file;
}

bool RemapTrainer::restore(const TensorFile& file, std::string& error) {
    int step = 0;
    std::vector<Arr> m, v;
    std::map<std::string, Arr> weights;
    if (!read_adam_state(file, net_.store().params(), step, m, v, weights, error)) {
        if (error.rfind("not a training checkpoint", 0) == 0) error = "not a remap training checkpoint (no checkpoint_step metadata)";
        return false;
    }
    RemapModelFile model;
    if (!remap_from_file(file, model, error)) return false;
    if (model.kind != net_.kind()) {
        error = std::string("the checkpoint is a '") + remap_model_name(model.kind) + "' model, not '" +
                remap_model_name(net_.kind()) + "'";
        return false;
    }
    ad::Tape scratch(ad::Tape::Mode::forward_only);
    auto loaded = make_remap_net(scratch, model, problem_.num_params(), error);
    if (!loaded) return false;
    if (!adam_.restore(step, m, v)) {
        error = "the checkpoint's Adam moments do not fit the model";
        return false;
    }
    for (const Param& p : loaded->store().params()) net_.store().set(p.name, p.var.value());
    net_.mean = model.mean;
    net_.scale = model.scale;
    // Replay the batch sampler to the checkpoint's step.
    rng_ = std::make_unique<dsp::Rng>(sampler_seed_);
    order_ = train_;
    cursor_ = order_.size();
    for (int s = 0; s < step && !train_.empty(); ++s) next_batch();
    return true;
}

void train_remap(const RemapProblem& problem, const std::vector<int>& train, const RemapTrainOptions& options,
                 RemapNet& net, std::vector<double>& losses) {
    losses.clear();
    if (train.empty()) return;
    RemapTrainer trainer(problem, train, options, net);
    for (int step = 0; step < options.steps; ++step) losses.push_back(trainer.step());
}

std::array<double, kHitFeatures> remap_errors(const RemapProblem& problem, const std::vector<int>& which,
                                              const RemapNet* net) {
    std::array<double, kHitFeatures> out{};
    if (which.empty()) return out;
    ad::Tape scratch(ad::Tape::Mode::forward_only);
    ad::Tape& tape = net ? net->store().tape() : scratch;
    const int mark = tape.num_nodes();
    const ad::Var d = net ? (*net)(tape.constant(onset_matrix(problem, which)))
                          : tape.constant(Arr(Arr::Zero(int(which.size()), problem.num_params())));
    std::vector<ad::Var> per;
    problem.loss(d, which, &per);
    for (int j = 0; j < kHitFeatures; ++j) out[size_t(j)] = double(per[size_t(j)].item());
    tape.truncate(mark);
    return out;
}

std::array<double, kHitFeatures> remap_direct_errors(const RemapProblem& problem, const std::vector<int>& which,
                                                     int steps, double learning_rate) {
    std::array<double, kHitFeatures> out{};
    if (which.empty()) return out;
    ad::Tape tape;
    const ad::Var raw = tape.variable(Arr(Arr::Zero(int(which.size()), problem.num_params())));
    // Bounded as the network's output is: d = max * tanh(raw).
    const ad::Var d = ad::tanh(raw) * Real(problem.params().max_modulation);
    std::vector<ad::Var> per;
    const ad::Var loss = problem.loss(d, which, &per);
    ad::AdamParams ap;
    ap.learning_rate = learning_rate;
    ad::Adam adam(ap);
    adam.add(raw);
    for (int s = 0; s < steps; ++s) {
        tape.backward(loss);
        adam.step();
        tape.forward();
    }
    for (int j = 0; j < kHitFeatures; ++j) out[size_t(j)] = double(per[size_t(j)].item());
    return out;
}

// [SECTION] the model file

namespace {
std::string json_array(const std::array<double, kOnsetFeatures>& a) {
    std::string s = "[";
    for (size_t i = 0; i < a.size(); ++i) s += (i ? ", " : "") + util::json_number(a[i]);
    return s + "]";
}
bool read_array(const std::string& text, std::array<double, kOnsetFeatures>& out, std::string& error) {
    util::JsonValue v;
    if (!util::json_parse(text, v, error)) return false;
    if (v.type != util::JsonValue::Type::array || v.array.size() != size_t(kOnsetFeatures)) {
        error = "expected an array of " + std::to_string(kOnsetFeatures) + " numbers";
        return false;
    }
    for (size_t i = 0; i < out.size(); ++i) {
        if (v.array[i].type != util::JsonValue::Type::number || !std::isfinite(v.array[i].number)) {
            error = "expected numbers";
            return false;
        }
        out[i] = v.array[i].number;
    }
    return true;
}
}  // namespace

TensorFile remap_to_file(const RemapNet& net, const std::string& preset_json, const RemapParams& params) {
    TensorFile file;
    std::map<std::string, Arr> state;
    for (const Param& p : net.store().params()) state[p.name] = p.var.value();
    state_to_tensors(state, file);
    file.metadata["format"] = "ddsp.cpp/remap/1";
    file.metadata["model"] = remap_model_name(net.kind());
    file.metadata["preset"] = preset_json;
    file.metadata["input_mean"] = json_array(net.mean);
    file.metadata["input_scale"] = json_array(net.scale);
    file.metadata["params"] = "{\"sample_rate\": " + util::json_number(params.sample_rate_hz) +
                              ", \"hit_seconds\": " + util::json_number(params.hit_seconds) +
                              ", \"onset_window_s\": " + util::json_number(params.onset_window_s) +
                              ", \"max_modulation\": " + util::json_number(params.max_modulation) + "}";
    return file;
}

bool remap_from_file(const TensorFile& file, RemapModelFile& out, std::string& error) {
    auto meta = [&](const char* key, std::string& value) {
        const auto it = file.metadata.find(key);
        if (it == file.metadata.end()) {
            error = std::string("not a remap model: no '") + key + "' metadata";
            return false;
        }
        value = it->second;
        return true;
    };
    std::string format, model, mean, scale, params;
    RemapModelFile r;
    if (!meta("format", format)) return false;
    if (format != "ddsp.cpp/remap/1") {
        error = "not a remap model (format " + util::quote_input(format) + ")";
        return false;
    }
    if (!meta("model", model) || !meta("preset", r.preset_json) || !meta("input_mean", mean) ||
        !meta("input_scale", scale) || !meta("params", params))
        return false;
    if (!remap_model_kind(model, r.kind, error)) return false;
    if (!read_array(mean, r.mean, error) || !read_array(scale, r.scale, error)) {
        error = "input normalisation: " + error;
        return false;
    }
    util::JsonValue pv;
    if (!util::json_parse(params, pv, error)) return false;
    auto num = [&](const char* key, double lo, double hi, double& v) {
        const util::JsonValue* x = pv.find(key);
        if (!x || x->type != util::JsonValue::Type::number || !(x->number >= lo && x->number <= hi)) {
            error = std::string("params: '") + key + "' missing or out of range";
            return false;
        }
        v = x->number;
        return true;
    };
    if (!num("sample_rate", 8000, 192000, r.params.sample_rate_hz) || !num("hit_seconds", 0.01, 2, r.params.hit_seconds) ||
        !num("onset_window_s", 1e-4, 0.1, r.params.onset_window_s) ||
        !num("max_modulation", 0, 10, r.params.max_modulation))
        return false;
    // A training checkpoint is a model file too: its Adam moments are not weights.
    for (auto& kv : tensors_to_state(file))
        if (kv.first.rfind("adam.", 0) != 0) r.weights.emplace(kv.first, std::move(kv.second));
    out = std::move(r);
    return true;
}

std::unique_ptr<RemapNet> make_remap_net(ad::Tape& tape, const RemapModelFile& file, int outputs, std::string& error) {
    auto net = std::make_unique<RemapNet>(tape, file.kind, outputs, file.params.max_modulation, 0);
    if (file.weights.size() != net->store().params().size()) {
        error = "the model's weights do not fit a '" + std::string(remap_model_name(file.kind)) + "' network";
        return nullptr;
    }
    for (const Param& p : net->store().params()) {
        const auto it = file.weights.find(p.name);
        if (it == file.weights.end() || !net->store().set(p.name, it->second) || !it->second.allFinite()) {
            error = "weight '" + p.name + "' is missing, has the wrong shape or is not finite";
            return nullptr;
        }
    }
    net->mean = file.mean;
    net->scale = file.scale;
    return net;
}

// [SECTION] the network without a tape

bool RemapForward::init(const RemapModelFile& model, int outputs, std::string& error) {
    // The architecture from a net built the same way (names and shapes), the values from the file.
    ad::Tape tape(ad::Tape::Mode::forward_only);
    auto net = make_remap_net(tape, model, outputs, error);
    if (!net) return false;
    auto get = [&](const std::string& name, std::vector<double>& out, int& rows, int& cols) {
        const Param* p = net->store().find(name);
        if (!p) return false;
        const Arr& v = p->var.value();
        rows = int(v.rows());
        cols = int(v.cols());
        out.resize(size_t(v.size()));
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c) out[size_t(r * cols + c)] = double(v(r, c));
        return true;
    };
    layers_.clear();
    int rows = 0, cols = 0;
    for (int i = 0;; ++i) {
        const std::string prefix = "remap.mlp." + std::to_string(i);
        Layer l;
        if (!get(prefix + ".linear.w", l.w, l.in, l.out)) break;
        get(prefix + ".linear.b", l.b, rows, cols);
        get(prefix + ".norm.gain", l.gain, rows, cols);
        get(prefix + ".norm.bias", l.bias, rows, cols);
        layers_.push_back(std::move(l));
    }
    Layer out;
    if (!get("remap.out.w", out.w, out.in, out.out) || !get("remap.out.b", out.b, rows, cols)) {
        error = "the model has no output layer";
        return false;
    }
    layers_.push_back(std::move(out));
    mean_ = net->mean;
    scale_ = net->scale;
    max_modulation_ = model.params.max_modulation;
    outputs_ = outputs;
    size_t widest = size_t(kOnsetFeatures);
    for (const Layer& l : layers_) widest = std::max(widest, size_t(l.out));
    a_.assign(widest, 0.0);
    b_.assign(widest, 0.0);
    return true;
}

void RemapForward::operator()(const double* onset, double* d) {
    for (int j = 0; j < kOnsetFeatures; ++j)
        a_[size_t(j)] = (std::isfinite(onset[j]) ? onset[j] - mean_[size_t(j)] : 0.0) / std::max(1e-6, scale_[size_t(j)]);
    for (const Layer& l : layers_) {
        for (int o = 0; o < l.out; ++o) {
            double acc = l.b[size_t(o)];
            for (int i = 0; i < l.in; ++i) acc += a_[size_t(i)] * l.w[size_t(i * l.out + o)];
            b_[size_t(o)] = acc;
        }
        if (!l.gain.empty()) {  // LayerNorm (eps 1e-5, biased variance), then leaky ReLU (0.01)
            double m = 0, v = 0;
            for (int o = 0; o < l.out; ++o) m += b_[size_t(o)] / l.out;
            for (int o = 0; o < l.out; ++o) v += (b_[size_t(o)] - m) * (b_[size_t(o)] - m) / l.out;
            const double inv = 1.0 / std::sqrt(v + 1e-5);
            for (int o = 0; o < l.out; ++o) {
                const double y = l.gain[size_t(o)] * (b_[size_t(o)] - m) * inv + l.bias[size_t(o)];
                b_[size_t(o)] = y > 0 ? y : 0.01 * y;
            }
        }
        std::swap(a_, b_);  // same sizes: no allocation
    }
    for (int k = 0; k < outputs_; ++k) d[k] = max_modulation_ * std::tanh(a_[size_t(k)]);
}

// [SECTION] playing a performance

bool remap_render(const RemapModelFile& model, const synth::ParamValues& preset_values, const Vec& x,
                  const std::vector<Hit>& hits, Vec& out, std::string& error) {
    const double sr = model.params.sample_rate_hz;
    synth::StreamPreset preset;
    preset.synth = "drum808";
    preset.cfg.sample_rate_hz = sr;
    preset.cfg.num_samples = std::max(1, int(std::lround(model.params.hit_seconds * sr)));
    preset.table = synth::make_synth("drum808")->param_table(preset.cfg);
    Vec u0;
    if (!synth::to_unconstrained(preset.table, preset_values, u0, error)) {
        error = "preset: " + error;
        return false;
    }
    ad::Tape tape(ad::Tape::Mode::forward_only);
    auto net = make_remap_net(tape, model, int(u0.size()), error);
    if (!net) return false;
    out = Vec::Zero(x.size() + preset.cfg.num_samples);
    if (hits.empty()) return true;
    Arr onset(int(hits.size()), kOnsetFeatures);
    for (size_t i = 0; i < hits.size(); ++i)
        for (int j = 0; j < kOnsetFeatures; ++j) onset(int(i), j) = Real(hits[i].onset[size_t(j)]);
    const Arr d = (*net)(tape.constant(onset)).value();
    std::vector<Real> block(256);
    auto voice = synth::make_stream_voice("drum808");
    for (size_t i = 0; i < hits.size(); ++i) {
        Vec u = u0;
        for (int k = 0; k < int(u.size()); ++k) u[k] += d(int(i), k);
        preset.values = synth::to_physical(preset.table, u);
        if (!voice->load(preset, error)) return false;
        voice->start(0, 1);
        const long long at = std::llround(hits[i].onset_s * sr);
        for (long long pos = at; pos < out.size() && voice->active(); pos += static_cast<long long>(block.size())) {
            const int n = int(std::min<long long>(static_cast<long long>(block.size()), out.size() - pos));
            std::fill(block.begin(), block.end(), Real(0));
            voice->render_add(block.data(), n);
            for (int k = 0; k < n; ++k) out[Eigen::Index(pos + k)] += block[size_t(k)];
        }
    }
    return true;
}

}  // namespace ddsp::nn
