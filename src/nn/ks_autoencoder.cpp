// DiffKS's autoencoders; see ks_autoencoder.h.
#include "nn/ks_autoencoder.h"

#include "ad/ops.h"
#include "dsp/pitch.h"
#include "dsp/resample.h"
#include "dsp/wav.h"
#include "match/loss.h"
#include "match/params_json.h"
#include "nn/autoencoder.h"  // tensors_to_state, state_to_tensors
#include "nn/checkpoint.h"
#include "util/file.h"
#include "util/json.h"
#include "util/text.h"

#include <algorithm>
#include <cmath>

namespace ddsp::nn {

namespace {

constexpr const char* kFormat = "ddsp.cpp/ks-ae/1";
constexpr double kMfccScale = 0.05;  // MFCCs (log mel power, orthonormal DCT) to about unit range

// Row r (1 x n) as a column (n x 1): the diagonal of I * r, summed across.
ad::Var row_to_column(ad::Var row) {
    ad::Tape& tape = *row.tape;
    const int n = int(row.cols());
    return ad::sum_cols(tape.constant(Arr(Mat::Identity(n, n).array())) * row);
}

// Column c of x (r x k) as r x 1.
ad::Var column(ad::Var x, int c) {
    ad::Tape& tape = *x.tape;
    Arr sel = Arr::Zero(x.cols(), 1);
    sel(c, 0) = 1;
    return ad::matmul(x, tape.constant(sel));
}

// F x T: row f averages the frames of the f-th of F equal spans of T (at least one frame each).
Arr pooling(int frames_out, int frames_in) {
    Arr p = Arr::Zero(frames_out, frames_in);
    for (int f = 0; f < frames_out; ++f) {
        int a = int(std::floor(double(f) * frames_in / frames_out));
        int b = int(std::floor(double(f + 1) * frames_in / frames_out));
        a = std::min(a, frames_in - 1);
        b = std::max(b, a + 1);
        for (int t = a; t < b; ++t) p(f, t) = Real(1.0 / (b - a));
    }
    return p;
}

}  // namespace

bool ks_variant(const std::string& name, KsVariant& out, std::string& error) {
    if (name == "meta") out = KsVariant::meta;
    else if (name == "tracker") out = KsVariant::tracker;
    else if (name == "sup") out = KsVariant::sup;
    else {
        error = "unknown variant " + util::quote_input(name) + " (meta, tracker, sup)";
        return false;
    }
    return true;
}

const char* ks_variant_name(KsVariant v) {
    return v == KsVariant::meta ? "meta" : v == KsVariant::tracker ? "tracker" : "sup";
}

std::string ks_autoencoder_config_json(const KsAutoencoderConfig& c) {
    return std::string("{\"variant\": ") + util::json_quote(ks_variant_name(c.variant)) +
           ", \"sample_rate\": " + util::json_number(c.sample_rate_hz) + ", \"seconds\": " + util::json_number(c.seconds) +
           ", \"mfcc_coefficients\": " + std::to_string(c.mfcc_coefficients) + ", \"hop\": " + std::to_string(c.hop) +
           ", \"hidden\": " + std::to_string(c.hidden) + ", \"loop_order\": " + std::to_string(c.ks.loop_order) +
           ", \"control_frames\": " + std::to_string(c.ks.control_frames) +
           ", \"exc_order\": " + std::to_string(c.ks.exc_order) + ", \"exc_ms\": " + util::json_number(c.ks.exc_ms) + "}";
}

bool parse_ks_autoencoder_config(const std::string& json, KsAutoencoderConfig& out, std::string& error) {
    util::JsonValue v;
    if (!util::json_parse(json, v, error)) return false;
    if (v.type != util::JsonValue::Type::object) {
        error = "the config is not a JSON object";
        return false;
    }
    KsAutoencoderConfig c;
    const util::JsonValue* variant = v.find("variant");
    if (!variant || variant->type != util::JsonValue::Type::string || !ks_variant(variant->string, c.variant, error)) {
        if (error.empty()) error = "config: no variant";
        return false;
    }
    auto num = [&](const char* key, double lo, double hi, double& out_value) {
        const util::JsonValue* x = v.find(key);
        if (!x || x->type != util::JsonValue::Type::number || !(x->number >= lo && x->number <= hi)) {
            error = std::string("config: '") + key + "' missing or out of range";
            return false;
        }
        out_value = x->number;
        return true;
    };
    double mfcc = 0, hop = 0, hidden = 0, order = 0, frames = 0, exc = 0;
    if (!num("sample_rate", 8000, 96000, c.sample_rate_hz) || !num("seconds", 0.1, 10, c.seconds) ||
        !num("mfcc_coefficients", 1, 128, mfcc) || !num("hop", 16, 4096, hop) || !num("hidden", 1, 1024, hidden) ||
        !num("loop_order", 1, 4, order) || !num("control_frames", 1, 256, frames) || !num("exc_order", 1, 12, exc) ||
        !num("exc_ms", 1, 1000, c.ks.exc_ms))
        return false;
    c.mfcc_coefficients = int(mfcc);
    c.hop = int(hop);
    c.hidden = int(hidden);
    c.ks.loop_order = int(order);
    c.ks.control_frames = int(frames);
    c.ks.exc_order = int(exc);
    out = c;
    return true;
}

// [SECTION] the model

KsAutoencoder::KsAutoencoder(ad::Tape& tape, const KsAutoencoderConfig& config, uint64_t seed)
    : config_(config), store_(tape, seed) {
    num_samples_ = std::max(1024, int(std::lround(config.seconds * config.sample_rate_hz)));
    synth_ = synth::make_ks_synth(config.ks);
    synth_cfg_.sample_rate_hz = config.sample_rate_hz;
    synth_cfg_.num_samples = num_samples_;
    synth_cfg_.seed = 0;
    table_ = synth_->param_table(synth_cfg_);
    std::string error;
    if (!synth::to_unconstrained(table_, synth::default_values(table_), u_default_, error))
        ad::graph_error("KsAutoencoder: " + error);
    num_params_ = int(u_default_.size());
    // Where each parameter sits in u (table order, each `size` entries).
    const int F = config.ks.control_frames, K = config.ks.loop_order, E = config.ks.exc_order;
    int at = 0;
    for (const synth::ParamSpec& p : table_) {
        if (p.name == "f0_hz") f0_index_ = at;
        if (p.name != "f0_hz" && p.name != "residual_mix")
            for (int i = 0; i < p.size; ++i) predicted_.push_back(at + i);
        at += p.size;
    }
    dsp::MfccParams mp;
    mp.coefficients = config.mfcc_coefficients;
    mp.hop = config.hop;
    mp.f_max_hz = std::min(8000.0, 0.5 * config.sample_rate_hz);
    mfcc_ = std::make_unique<dsp::MfccPlan>(mp, config.sample_rate_hz);
    if (!mfcc_->ok()) ad::graph_error("KsAutoencoder: " + mfcc_->error());

    const int C = config.mfcc_coefficients, H = config.hidden;
    in_ = Linear(store_, "ks_encoder.in", C + 1, H);
    gru_ = Gru(store_, "ks_encoder.gru", H, H);
    frame_out_ = Linear(store_, "ks_encoder.frame", H, K + 2);
    global_out_ = Linear(store_, "ks_encoder.global", H, E + 1);
    // Start at the table's defaults: small output weights, the defaults' u as biases.
    Arr fw = frame_out_.w.value() * Real(0.1), fb(1, K + 2);
    Arr gw = global_out_.w.value() * Real(0.1), gb(1, E + 1);
    const int decay_at = f0_index_ + 1;  // table order: f0_hz, decay_s (F), loop_tap0..K (F each), exc_reflection (E), exc_gain_db
    for (int j = 0; j < K + 2; ++j) fb(0, j) = Real(u_default_[decay_at + j * F]);
    const int exc_at = decay_at + (K + 2) * F;
    for (int j = 0; j <= E; ++j) gb(0, j) = Real(u_default_[exc_at + j]);
    store_.set("ks_encoder.frame.w", fw);
    store_.set("ks_encoder.frame.b", fb);
    store_.set("ks_encoder.global.w", gw);
    store_.set("ks_encoder.global.b", gb);
}

Vec KsAutoencoder::fit_length(const Vec& clip) const {
    Vec x = Vec::Zero(num_samples_);
    const Eigen::Index n = std::min<Eigen::Index>(clip.size(), num_samples_);
    x.head(n) = clip.head(n);
    return x;
}

bool KsAutoencoder::features(const Vec& clip, Arr& out, std::string& error) const {
    if (!clip.allFinite()) {
        error = "the clip contains non-finite samples";
        return false;
    }
    const Vec x = fit_length(clip);
    return mfcc_->compute(x.data(), int(x.size()), out, error);
}

ad::Var KsAutoencoder::encode(const Arr& features, double f0_hz) const {
    ad::Tape& tape = store_.tape();
    if (features.rows() < 1 || features.cols() != config_.mfcc_coefficients)
        ad::graph_error("KsAutoencoder: features must be frames x " + std::to_string(config_.mfcc_coefficients));
    const int T = int(features.rows()), F = config_.ks.control_frames, K = config_.ks.loop_order;
    const int E = config_.ks.exc_order;
    // The input, both parts constants: [MFCCs x 0.05 | log2(f0 / 220 Hz)]. A fixed scale, not a
    // per-frame norm: the level's course over frames is what tells the decay.
    const int C = config_.mfcc_coefficients;
    Arr input(T, C + 1);
    input.leftCols(C) = features * Real(kMfccScale);
    input.col(C).setConstant(Real(std::log2(std::max(1.0, f0_hz) / 220.0)));
    const ad::Var x = in_(tape.constant(input));
    const ad::Var h = gru_(x);                                                         // T x H
    const ad::Var frames = frame_out_(ad::matmul(tape.constant(pooling(F, T)), h));    // F x (K + 2)
    const ad::Var global = global_out_(ad::sum_rows(h) * Real(1.0 / T));               // 1 x (E + 1)
    std::vector<ad::Var> parts;
    Vec before = u_default_.head(f0_index_);  // nothing precedes f0 in the table today
    if (before.size()) parts.push_back(tape.constant(Arr(before)));
    Vec f0u(1);
    const synth::ParamSpec& f0spec = table_[0];
    f0u[0] = Real(ad::unbounded_value(std::clamp(f0_hz, f0spec.min_value, f0spec.max_value), f0spec.min_value,
                                      f0spec.max_value, f0spec.scale));
    parts.push_back(tape.constant(Arr(f0u)));
    for (int j = 0; j < K + 2; ++j) parts.push_back(column(frames, j));
    parts.push_back(row_to_column(global));
    const int done = f0_index_ + 1 + (K + 2) * F + E + 1;
    if (done < num_params_) parts.push_back(tape.constant(Arr(u_default_.tail(num_params_ - done))));  // residual_mix
    return ad::concat(parts);
}

ad::Var KsAutoencoder::render(ad::Var u) const { return synth_->build(u, synth_cfg_); }

bool KsAutoencoder::predict(const Vec& clip, double f0_hz, synth::ParamValues& out, std::string& error) const {
    if (!(std::isfinite(f0_hz) && f0_hz >= table_[0].min_value && f0_hz <= table_[0].max_value)) {
        error = "the pitch is outside the string's range";
        return false;
    }
    Arr f;
    if (!features(clip, f, error)) return false;
    ad::Tape& tape = store_.tape();
    const int mark = tape.num_nodes();
    const Vec u = Vec(encode(f, f0_hz).value().col(0));
    tape.truncate(mark);
    if (!u.allFinite()) {
        error = "the encoder's prediction is not finite";
        return false;
    }
    out = to_physical(u);
    return true;
}

synth::ParamValues KsAutoencoder::to_physical(const Vec& u) const { return synth::to_physical(table_, u); }

bool KsAutoencoder::to_unconstrained(const synth::ParamValues& values, Vec& u, std::string& error) const {
    return synth::to_unconstrained(table_, values, u, error);
}

std::map<std::string, Arr> KsAutoencoder::state() const {
    std::map<std::string, Arr> out;
    for (const Param& p : store_.params()) out[p.name] = p.var.value();
    return out;
}

bool KsAutoencoder::load(const std::map<std::string, Arr>& values, std::string& error) {
    for (const Param& p : store_.params()) {
        const auto it = values.find(p.name);
        if (it == values.end()) {
            error = "model: missing parameter " + p.name;
            return false;
        }
        if (it->second.rows() != p.var.rows() || it->second.cols() != p.var.cols() || !it->second.allFinite()) {
            error = "model: " + p.name + " has the wrong shape or is not finite";
            return false;
        }
    }
    for (const auto& kv : values)
        if (!store_.find(kv.first)) {
            error = "model: unknown parameter " + util::quote_input(kv.first);
            return false;
        }
    for (const auto& kv : values) store_.set(kv.first, kv.second);
    return true;
}

TensorFile KsAutoencoder::to_file(const std::map<std::string, std::string>& metadata) const {
    TensorFile f;
    state_to_tensors(state(), f);
    f.metadata = metadata;
    f.metadata["format"] = kFormat;
    f.metadata["config"] = ks_autoencoder_config_json(config_);
    return f;
}

std::unique_ptr<KsAutoencoder> load_ks_autoencoder(ad::Tape& tape, const TensorFile& file, std::string& error) {
    const auto format = file.metadata.find("format");
    if (format == file.metadata.end() || format->second != kFormat) {
        error = "not a ks autoencoder file (metadata \"format\" is not \"" + std::string(kFormat) + "\")";
        return nullptr;
    }
    const auto config = file.metadata.find("config");
    KsAutoencoderConfig c;
    if (config == file.metadata.end()) {
        error = "the model file has no \"config\" metadata";
        return nullptr;
    }
    if (!parse_ks_autoencoder_config(config->second, c, error)) return nullptr;
    std::map<std::string, Arr> weights;
    for (auto& kv : tensors_to_state(file))
        if (kv.first.rfind("adam.", 0) != 0) weights.emplace(kv.first, std::move(kv.second));
    auto model = std::make_unique<KsAutoencoder>(tape, c, 1);
    if (!model->load(weights, error)) return nullptr;
    return model;
}

// [SECTION] training

bool load_ks_dataset(const std::string& dir, const KsAutoencoder& model, std::vector<KsClip>& out, int& yin_missed,
                     std::string& error) {
    const std::string meta_path = dir + "/metadata.jsonl";
    std::string text;
    std::vector<util::JsonLine> rows;
    if (!util::read_text_file(meta_path, text, error)) {
        error = "cannot read " + meta_path + " (make it with scripts/make-dataset.sh --set plucks or --set ks-synthetic)";
        return false;
    }
    if (!util::json_parse_lines(text, meta_path, rows, error)) return false;
    out.clear();
    yin_missed = 0;
    const double sr = model.config().sample_rate_hz;
    for (const util::JsonLine& row : rows) {
        const std::string where = meta_path + ":" + std::to_string(row.line) + ": ";
        const util::JsonValue& v = row.value;
        const util::JsonValue* name = v.find("name");
        const util::JsonValue* split = v.find("split");
        const util::JsonValue* f0 = v.find("f0_hz");
        const util::JsonValue* midi = v.find("midi");
        if (!name || name->type != util::JsonValue::Type::string || name->string.empty() ||
            name->string.find('/') != std::string::npos || !split || split->type != util::JsonValue::Type::string ||
            !((f0 && f0->type == util::JsonValue::Type::number) || (midi && midi->type == util::JsonValue::Type::number))) {
            error = where + "needs name, split and f0_hz or midi";
            return false;
        }
        KsClip c;
        c.name = name->string;
        c.split = split->string;
        c.note_f0_hz = f0 && f0->type == util::JsonValue::Type::number ? f0->number
                                                                        : 440 * std::pow(2.0, (midi->number - 69) / 12);
        const synth::ParamSpec& f0spec = model.table()[0];
        if (!(c.note_f0_hz >= f0spec.min_value && c.note_f0_hz <= f0spec.max_value)) {
            error = where + "f0 outside the string's range (" + util::json_number(f0spec.min_value) + ".." +
                    util::json_number(f0spec.max_value) + " Hz)";
            return false;
        }
        const std::string path = dir + "/wav/" + c.name + ".wav";
        dsp::Audio audio;
        Vec x;
        if (!dsp::wav_read_file(path, audio, error) || !dsp::resample(audio.samples, audio.sample_rate_hz, sr, x, error) ||
            !model.features(x, c.features, error)) {
            error = path + ": " + error;
            return false;
        }
        c.audio = model.fit_length(x);
        c.f0_hz = c.note_f0_hz;
        if (model.config().variant == KsVariant::tracker) {
            dsp::YinParams yp;
            yp.f0_min_hz = 30;
            yp.f0_max_hz = std::min(2000.0, 0.45 * sr);
            double got = 0;
            std::string no_note;
            if (dsp::yin_note_f0_hz(c.audio, sr, yp, got, no_note) && got > 0) c.f0_hz = got;
            else ++yin_missed;
        }
        if (const util::JsonValue* params = v.find("params")) {
            match::ParamFile pf;
            bool ok = false;
            if (params->type == util::JsonValue::Type::string && params->string.find("..") == std::string::npos)
                ok = match::params_read_file(dir + "/" + params->string, pf, error);
            else
                error = "params must be the path of a parameter file inside the data set";
            if (!ok || !match::params_validate(pf, "ks", model.table(), c.u_true, error)) {
                error = where + "params: " + error;
                return false;
            }
        } else if (model.config().variant == KsVariant::sup) {
            error = where + "the sup variant trains on synthetic strings: every clip needs its params";
            return false;
        }
        out.push_back(std::move(c));
    }
    if (out.empty()) {
        error = "no clips in " + meta_path;
        return false;
    }
    return true;
}

ad::Var ks_clip_loss(const KsAutoencoder& model, const KsClip& clip) {
    ad::Tape& tape = model.store().tape();
    const ad::Var u = model.encode(clip.features, clip.f0_hz);
    if (model.config().variant == KsVariant::sup) {
        if (clip.u_true.size() != model.num_params()) ad::graph_error("ks autoencoder: a sup clip needs its parameters");
        // Mean squared error over the predicted entries.
        Arr mask = Arr::Zero(model.num_params(), 1);
        for (int i : model.predicted()) mask(i, 0) = 1;
        const ad::Var d = (u - tape.constant(Arr(clip.u_true))) * tape.constant(mask);
        return ad::sum(ad::square(d)) * Real(1.0 / double(model.predicted().size()));
    }
    match::MrStftLoss loss(model.render(u), model.fit_length(clip.audio),
                           match::MrStftParams::diffks(model.config().sample_rate_hz));
    return loss.loss();
}

KsEvalMetrics evaluate_ks(const KsAutoencoder& model, const std::vector<const KsClip*>& clips) {
    KsEvalMetrics m;
    ad::Tape& tape = model.store().tape();
    const int mark = tape.num_nodes();
    const double sr = model.config().sample_rate_hz;
    for (const KsClip* c : clips) {
        tape.truncate(mark);
        const ad::Var u = model.encode(c->features, c->f0_hz);
        const ad::Var y = model.render(u);
        match::MrStftLoss loss(y, model.fit_length(c->audio), match::MrStftParams::diffks(sr));
        m.mrstft += double(loss.loss().item());
        ++m.clips;
        if (c->u_true.size() == model.num_params()) {
            double e = 0;
            for (int i : model.predicted()) e += std::pow(double(u.value()(i, 0) - c->u_true[i]), 2);
            m.param_mse += e / double(model.predicted().size());
            ++m.param_clips;
        }
        dsp::YinParams yp;
        yp.f0_min_hz = 30;
        yp.f0_max_hz = std::min(2000.0, 0.45 * sr);
        double f0 = 0;
        std::string no_note;
        const Vec audio = y.value().col(0);
        if (dsp::yin_note_f0_hz(audio, sr, yp, f0, no_note) && f0 > 0) {
            m.f0_cents += std::fabs(1200 * std::log2(f0 / c->note_f0_hz));
            ++m.f0_clips;
        }
    }
    tape.truncate(mark);
    if (m.clips) m.mrstft /= m.clips;
    if (m.param_clips) m.param_mse /= m.param_clips;
    if (m.f0_clips) m.f0_cents /= m.f0_clips;
    return m;
}

KsTrainer::KsTrainer(const KsAutoencoderConfig& config, const KsTrainOptions& options)
    : config_(config), options_(options), adam_(ad::AdamParams{options.learning_rate, 0.9, 0.999, 1e-8, options.clip_norm}) {
    model_ = std::make_unique<KsAutoencoder>(tape_, config_, options.seed);
    model_->store().add_to(adam_);
    weights_mark_ = tape_.num_nodes();
}

double KsTrainer::step(const std::vector<KsClip>& train) {
    if (train.empty()) return 0;
    dsp::Rng rng(step_seed(options_.seed, adam_.steps()));
    tape_.truncate(weights_mark_);
    const int b = std::max(1, options_.batch);
    ad::Var total;
    for (int i = 0; i < b; ++i) {
        const ad::Var l = ks_clip_loss(*model_, train[size_t(rng.next_u64() % train.size())]);
        total = i == 0 ? l : total + l;
    }
    const ad::Var loss = total * Real(1.0 / b);
    const double value = double(loss.item());
    tape_.backward(loss);
    const double t = std::min(1.0, double(adam_.steps()) / std::max(1, options_.steps));
    adam_.params().learning_rate =
        options_.learning_rate * std::pow(options_.final_learning_rate / options_.learning_rate, t);
    adam_.step();
    tape_.truncate(weights_mark_);
    return value;
}

double KsTrainer::evaluate(const std::vector<const KsClip*>& clips) {
    if (clips.empty()) return 0;
    double sum = 0;
    for (const KsClip* c : clips) {
        tape_.truncate(weights_mark_);
        sum += double(ks_clip_loss(*model_, *c).item());
    }
    tape_.truncate(weights_mark_);
    return sum / double(clips.size());
}

TensorFile KsTrainer::checkpoint(const std::map<std::string, std::string>& metadata) const {
    TensorFile f = model_->to_file(metadata);
    add_adam_state(adam_, model_->store().params(), f);
    return f;
}

bool KsTrainer::restore(const TensorFile& file, std::string& error) {
    int step = 0;
    std::vector<Arr> m, v;
    std::map<std::string, Arr> weights;
    if (!read_adam_state(file, model_->store().params(), step, m, v, weights, error)) return false;
    const std::map<std::string, Arr> before = model_->state();
    if (!model_->load(weights, error)) return false;
    if (!adam_.restore(step, m, v)) {
        std::string ignored;
        model_->load(before, ignored);
        error = "the checkpoint's Adam moments do not match the model";
        return false;
    }
    return true;
}

}  // namespace ddsp::nn
