#include "dsp/recording_check.h"
#include "nn/train.h"

#include "nn/checkpoint.h"
#include "ad/ops.h"
#include "dsp/pitch.h"
#include "dsp/resample.h"
#include "dsp/rng.h"
#include "dsp/wav.h"
#include "util/file.h"
#include "util/json.h"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace ddsp::nn {

namespace {

const util::JsonValue* field(const util::JsonValue& v, const char* key, util::JsonValue::Type type) {
    const util::JsonValue* f = v.find(key);
    return f && f->type == type ? f : nullptr;
}

}  // namespace

// [SECTION] dataset

bool load_dataset(const std::string& dir, double sample_rate_hz, const ConditioningParams& params,
                  std::vector<TrainClip>& out, std::string& error) {
    const std::string meta_path = dir + "/metadata.jsonl";
    std::string text;
    std::vector<util::JsonLine> rows;
    if (!util::read_text_file(meta_path, text, error)) {
        error = "cannot read " + meta_path + " (make it with scripts/make-dataset.sh)";
        return false;
    }
    if (!util::json_parse_lines(text, meta_path, rows, error)) return false;
    out.clear();
    ConditioningParams as_recorded = params;
    as_recorded.fit_level = false;  // the training set defines the level range
    for (const util::JsonLine& row : rows) {
        const int line_no = row.line;
        const util::JsonValue& v = row.value;
        const auto* name = field(v, "name", util::JsonValue::Type::string);
        const auto* inst = field(v, "instrument", util::JsonValue::Type::string);
        const auto* split = field(v, "split", util::JsonValue::Type::string);
        const auto* midi = field(v, "midi", util::JsonValue::Type::number);
        const auto* vel = field(v, "velocity", util::JsonValue::Type::number);
        if (!name || !inst || !split || !midi || !vel || name->string.find('/') != std::string::npos) {
            error = meta_path + ":" + std::to_string(line_no) + ": needs name, instrument, split, midi, velocity";
            return false;
        }
        TrainClip c;
        c.name = name->string;
        c.instrument = inst->string;
        c.split = split->string;
        c.midi = int(midi->number);
        c.velocity = int(vel->number);
        const std::string path = dir + "/wav/" + c.name + ".wav";
        dsp::Audio audio;
        if (!dsp::wav_read_file(path, audio, error) ||
            !dsp::resample(audio.samples, audio.sample_rate_hz, sample_rate_hz, c.audio, error) ||
            !analyse_conditioning(c.audio, sample_rate_hz, as_recorded, c.cond, error)) {
            error = path + ": " + error;
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

// [SECTION] training

Trainer::Trainer(const AutoencoderConfig& config, const TrainOptions& options)
    : config_(config), options_(options), adam_(ad::AdamParams{options.learning_rate, 0.9, 0.999, 1e-8, options.clip_norm}) {
    model_ = std::make_unique<Autoencoder>(tape_, config_, options.seed);
    for (const Param& p : model_->params()) adam_.add(p.var);
    weights_mark_ = tape_.num_nodes();
}

double Trainer::learning_rate() const {
    const double t = std::min(1.0, double(adam_.steps()) / std::max(1, options_.steps));
    return options_.learning_rate * std::pow(options_.final_learning_rate / options_.learning_rate, t);
}

StepResult Trainer::step(const std::vector<TrainClip>& train) {
    StepResult r;
    if (train.empty()) return r;
    dsp::Rng rng(step_seed(options_.seed, adam_.steps()));
    tape_.truncate(weights_mark_);
    const match::MrStftParams mp = match::MrStftParams::ddsp();
    std::vector<ad::Var> losses, recon, kls;
    std::vector<std::unique_ptr<match::MrStftLoss>> holders;
    const int b = std::max(1, options_.batch);
    for (int i = 0; i < b; ++i) {
        const TrainClip& clip = train[size_t(rng.next_u64() % train.size())];
        Arr eps(1, model_->z_dims());
        for (Eigen::Index j = 0; j < eps.size(); ++j) eps(0, j) = Real(rng.normal());
        const Autoencoder::Output o = model_->forward(tape_, clip.cond, &eps);
        holders.push_back(std::make_unique<match::MrStftLoss>(o.audio, clip.audio, mp));
        recon.push_back(holders.back()->loss());
        kls.push_back(o.kl);
    }
    ad::Var rec_sum = recon[0], kl_sum = kls[0];
    for (int i = 1; i < b; ++i) {
        rec_sum = rec_sum + recon[size_t(i)];
        kl_sum = kl_sum + kls[size_t(i)];
    }
    const ad::Var loss = (rec_sum + kl_sum * Real(config_.kl_weight)) * Real(1.0 / b);
    r.loss = loss.item();
    r.reconstruction = rec_sum.item() / b;
    r.kl = kl_sum.item() / b;
    tape_.backward(loss);
    adam_.params().learning_rate = learning_rate();
    r.applied = adam_.step();
    return r;
}

TensorFile Trainer::checkpoint(const std::map<std::string, std::string>& metadata) const {
    TensorFile f = model_->to_file(metadata);
    add_adam_state(adam_, model_->params(), f);
    return f;
}

bool Trainer::restore(const TensorFile& file, std::string& error) {
    int step = 0;
    std::vector<Arr> m, v;
    std::map<std::string, Arr> weights;
    if (!read_adam_state(file, model_->params(), step, m, v, weights, error)) return false;
    const std::map<std::string, Arr> before = model_->state();
    if (!model_->load(weights, error)) return false;
    if (!adam_.restore(step, m, v)) {
        std::string ignored;
        model_->load(before, ignored);
        error = "checkpoint's Adam moments do not match the model";
        return false;
    }
    return true;
}

// [SECTION] evaluation

namespace {

double f0_l1_cents(const Vec& recon, const TrainClip& clip) {
    dsp::YinParams yin;
    yin.hop = clip.cond.hop;
    dsp::PitchTrack a, b;
    std::string error;
    if (!dsp::yin_track(recon, clip.cond.sample_rate_hz, yin, a, error) ||
        !dsp::yin_track(clip.audio, clip.cond.sample_rate_hz, yin, b, error))
        return 0;
    double sum = 0;
    int n = 0;
    for (Eigen::Index f = 0; f < std::min(a.f0_hz.size(), b.f0_hz.size()); ++f)
        if (a.voiced[f] && b.voiced[f]) {
            sum += std::fabs(1200 * std::log2(double(a.f0_hz[f]) / double(b.f0_hz[f])));
            ++n;
        }
    return n ? sum / n : 0;
}

}  // namespace

EvalMetrics evaluate(const Autoencoder& model, const std::vector<const TrainClip*>& clips) {
    EvalMetrics m;
    const match::MrStftParams mp = match::MrStftParams::ddsp();
    // One forward-only copy of the weights; each clip's graph is built on it and dropped after.
    ad::Tape tape(ad::Tape::Mode::forward_only);
    Autoencoder copy(tape, model.config(), 1);
    std::string error;
    copy.load(model.state(), error);
    const int mark = tape.num_nodes();
    for (const TrainClip* clip : clips) {
        tape.truncate(mark);
        const Autoencoder::Output o = copy.forward(tape, clip->cond);
        const Vec recon = o.audio.value().col(0);
        m.mrstft += match::mrstft_distance(recon, clip->audio, mp);
        m.kl += o.kl.item();
        m.f0_l1_cents += f0_l1_cents(recon, *clip);
        Conditioning rc;
        ConditioningParams measure = model.config().conditioning;
        measure.fit_level = false;  // the reconstruction's own loudness
        if (analyse_conditioning(recon, clip->cond.sample_rate_hz, measure, rc, error)) {
            double sum = 0;
            int n = 0;
            for (Eigen::Index f = 0; f < std::min(rc.loudness_db.size(), clip->cond.loudness_db.size()); ++f)
                if (clip->cond.loudness_db[f] > -70) {
                    sum += std::fabs(double(rc.loudness_db[f] - clip->cond.loudness_db[f]));
                    ++n;
                }
            m.loudness_l1_db += n ? sum / n : 0;
        }
        ++m.clips;
    }
    if (m.clips) {
        m.mrstft /= m.clips;
        m.kl /= m.clips;
        m.f0_l1_cents /= m.clips;
        m.loudness_l1_db /= m.clips;
    }
    return m;
}

std::string latent_space_json(const Autoencoder& model, const std::vector<const TrainClip*>& clips) {
    const int d = model.z_dims();
    std::vector<std::string> names;
    std::vector<Arr> sums;
    std::vector<int> counts;
    Arr all(Eigen::Index(clips.size()), d);
    for (size_t i = 0; i < clips.size(); ++i) {
        const Arr mu = model.encode_mean(clips[i]->cond);
        all.row(Eigen::Index(i)) = mu.row(0);
        const auto it = std::find(names.begin(), names.end(), clips[i]->instrument);
        const size_t k = size_t(it - names.begin());
        if (it == names.end()) {
            names.push_back(clips[i]->instrument);
            sums.push_back(Arr::Zero(1, d));
            counts.push_back(0);
        }
        sums[k] += mu;
        ++counts[k];
    }
    const Eigen::RowVectorXd origin = all.cast<double>().matrix().colwise().mean();
    const Eigen::MatrixXd centred = all.cast<double>().matrix().rowwise() - origin;
    // Principal directions: eigenvectors of the covariance with the largest eigenvalues.
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(centred.transpose() * centred / std::max<double>(1, clips.size()));
    Eigen::MatrixXd axes(2, d);
    for (int a = 0; a < 2; ++a) axes.row(a) = eig.eigenvectors().col(d - 1 - std::min(a, d - 1)).transpose();
    auto vec = [](const Eigen::RowVectorXd& v) {
        std::string s = "[";
        for (Eigen::Index i = 0; i < v.size(); ++i) s += (i ? ", " : "") + util::json_number(v[i]);
        return s + "]";
    };
    double extent[2] = {0, 0};
    std::string inst = "[";
    for (size_t k = 0; k < names.size(); ++k) {
        const Eigen::RowVectorXd mean = (sums[k] / Real(counts[k])).cast<double>().matrix();
        for (int a = 0; a < 2; ++a) extent[a] = std::max(extent[a], std::fabs((mean - origin).dot(axes.row(a))));
        inst += std::string(k ? ", " : "") + "{\"name\": " + util::json_quote(names[k]) + ", \"clips\": " +
                std::to_string(counts[k]) + ", \"mean\": " + vec(mean) + "}";
    }
    inst += "]";
    std::string s = "{\"instruments\": " + inst;
    s += ", \"axes\": [" + vec(axes.row(0)) + ", " + vec(axes.row(1)) + "]";
    s += ", \"origin\": " + vec(origin);
    s += ", \"scale\": [" + util::json_number(std::max(1e-3, 1.25 * extent[0])) + ", " +
         util::json_number(std::max(1e-3, 1.25 * extent[1])) + "]}";
    return s;
}

// [SECTION] fine-tuning

std::unique_ptr<FineTuner> FineTuner::create(const TensorFile& weights, const Vec& audio, const FineTuneOptions& opt,
                                             std::string& error) {
    std::unique_ptr<FineTuner> ft(new FineTuner());
    ft->options_ = opt;
    ft->tape_ = std::make_unique<ad::Tape>();
    ft->model_ = load_autoencoder(*ft->tape_, weights, error);
    if (!ft->model_) return nullptr;
    ft->config_ = ft->model_->config();
    const double sr = ft->config_.decoder.sample_rate_hz;
    Vec x = audio.head(std::min<Eigen::Index>(audio.size(), Eigen::Index(opt.max_seconds * sr)));
    if (!dsp::check_recording(x, error, sr, 1024)) {  // a few of the encoder's frames at least
        error = "the recording " + error;
        return nullptr;
    }
    Conditioning c;
    if (!analyse_conditioning(x, sr, ft->config_.conditioning, c, error)) return nullptr;
    ad::Tape& tape = *ft->tape_;
    ft->z_ = tape.variable(ft->model_->encode_mean(c));
    const Autoencoder::Output o = ft->model_->forward(tape, c, nullptr, ft->z_);
    ft->audio_ = o.audio;
    ft->mrstft_ = std::make_unique<match::MrStftLoss>(o.audio, x, match::MrStftParams::ddsp());
    ft->loss_ = ft->mrstft_->loss();
    ft->decoder_adam_ = ad::Adam(ad::AdamParams{opt.learning_rate, 0.9, 0.999, 1e-8, opt.clip_norm});
    for (const Param& p : ft->model_->decoder().params()) ft->decoder_adam_.add(p.var);
    ft->z_adam_ = ad::Adam(ad::AdamParams{opt.z_learning_rate, 0.9, 0.999, 1e-8, 0});
    ft->z_adam_.add(ft->z_);
    return ft;
}

double FineTuner::step() {
    const double before = loss_.item();
    tape_->backward(loss_);
    const bool ok_d = decoder_adam_.step();
    if (ok_d) z_adam_.step();
    tape_->forward();
    if (ok_d) ++steps_;
    return before;
}

double FineTuner::loss() const { return loss_.item(); }

Vec FineTuner::render() const { return audio_.value().col(0); }

TensorFile FineTuner::weights(const std::map<std::string, std::string>& metadata) const {
    return model_->to_file(metadata);
}

}  // namespace ddsp::nn
