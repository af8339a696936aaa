#include "nn/autoencoder.h"

#include "ad/ops.h"
#include "util/json.h"
#include "util/text.h"

#include <cmath>

namespace ddsp::nn {

namespace {

const char* const kFormat = "ddsp.cpp/autoencoder/1";

// Tensor shapes: rows x cols, except a column vector (n x 1) stored as [n, 1] too, so a file
// round-trips exactly.
Tensor to_tensor(const std::string& name, const Arr& a) {
    Tensor t;
    t.name = name;
    t.shape = {int64_t(a.rows()), int64_t(a.cols())};
    t.data.resize(size_t(a.size()));
    for (Eigen::Index r = 0; r < a.rows(); ++r)
        for (Eigen::Index c = 0; c < a.cols(); ++c) t.data[size_t(r * a.cols() + c)] = float(a(r, c));
    return t;
}

}  // namespace

std::string autoencoder_config_json(const AutoencoderConfig& c) {
    using util::json_number;
    const DecoderConfig& d = c.decoder;
    auto b = [](bool v) { return std::string(v ? "true" : "false"); };
    std::string s = "{";
    s += "\"z_dims\": " + std::to_string(d.z_dims);
    s += ", \"hidden\": " + std::to_string(d.hidden);
    s += ", \"mlp_layers\": " + std::to_string(d.mlp_layers);
    s += ", \"gru_units\": " + std::to_string(d.gru_units);
    s += ", \"harmonics\": " + std::to_string(d.harmonics);
    s += ", \"noise_bands\": " + std::to_string(d.noise_bands);
    s += ", \"sample_rate\": " + json_number(d.sample_rate_hz);
    s += ", \"frame_rate\": " + json_number(d.frame_rate_hz);
    s += ", \"use_noise\": " + b(d.use_noise);
    s += ", \"use_reverb\": " + b(d.use_reverb);
    s += ", \"reverb_seconds\": " + json_number(d.reverb_seconds);
    s += ", \"use_centroid\": " + b(d.use_centroid);
    s += ", \"noise_seed\": " + std::to_string(d.noise_seed);
    s += ", \"encoder_hidden\": " + std::to_string(c.encoder_hidden);
    s += ", \"mfcc_coefficients\": " + std::to_string(c.conditioning.mfcc_coefficients);
    s += ", \"mfcc_hop\": " + std::to_string(c.conditioning.mfcc_hop);
    s += ", \"kl_weight\": " + json_number(c.kl_weight);
    s += "}";
    return s;
}

bool autoencoder_config_from_json(const std::string& json, AutoencoderConfig& out, std::string& error) {
    util::JsonValue root;
    if (!util::json_parse(json, root, error)) return false;
    if (root.type != util::JsonValue::Type::object) {
        error = "model config: not a JSON object";
        return false;
    }
    AutoencoderConfig c;
    DecoderConfig& d = c.decoder;
    for (const auto& kv : root.object) {
        const std::string& k = kv.first;
        const util::JsonValue& v = kv.second;
        const bool is_bool = v.type == util::JsonValue::Type::boolean;
        const bool is_num = v.type == util::JsonValue::Type::number;
        auto integer = [&](int& dst, int lo, int hi) {
            if (!is_num || v.number != std::floor(v.number) || v.number < lo || v.number > hi) {
                error = "model config: " + k + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
                return false;
            }
            dst = int(v.number);
            return true;
        };
        auto real = [&](double& dst, double lo, double hi) {
            if (!is_num || !(v.number >= lo && v.number <= hi)) {
                error = "model config: " + k + " out of range";
                return false;
            }
            dst = v.number;
            return true;
        };
        auto flag = [&](bool& dst) {
            if (!is_bool) {
                error = "model config: " + k + " must be true or false";
                return false;
            }
            dst = v.boolean;
            return true;
        };
        bool ok = true;
        int seed = 0;
        if (k == "z_dims") ok = integer(d.z_dims, 0, 256);
        else if (k == "hidden") ok = integer(d.hidden, 1, 4096);
        else if (k == "mlp_layers") ok = integer(d.mlp_layers, 1, 16);
        else if (k == "gru_units") ok = integer(d.gru_units, 1, 4096);
        else if (k == "harmonics") ok = integer(d.harmonics, 1, 1024);
        else if (k == "noise_bands") ok = integer(d.noise_bands, 2, 4097);
        else if (k == "sample_rate") ok = real(d.sample_rate_hz, 1000, 384000);
        else if (k == "frame_rate") ok = real(d.frame_rate_hz, 1, 1000);
        else if (k == "use_noise") ok = flag(d.use_noise);
        else if (k == "use_reverb") ok = flag(d.use_reverb);
        else if (k == "reverb_seconds") ok = real(d.reverb_seconds, 0, 10);
        else if (k == "use_centroid") ok = flag(d.use_centroid);
        else if (k == "noise_seed") { ok = integer(seed, 0, 1 << 30); d.noise_seed = uint64_t(seed); }
        else if (k == "encoder_hidden") ok = integer(c.encoder_hidden, 1, 4096);
        else if (k == "mfcc_coefficients") ok = integer(c.conditioning.mfcc_coefficients, 1, 128);
        else if (k == "mfcc_hop") ok = integer(c.conditioning.mfcc_hop, 1, 65536);
        else if (k == "kl_weight") ok = real(c.kl_weight, 0, 1e6);
        else {
            error = "model config: unknown key " + util::quote_input(k);
            return false;
        }
        if (!ok) return false;
    }
    if (d.use_noise && ((d.noise_bands - 1) & (d.noise_bands - 2)) != 0) {
        error = "model config: noise_bands - 1 must be a power of two";
        return false;
    }
    if (d.use_reverb && !(d.reverb_seconds * d.sample_rate_hz >= 2)) {
        error = "model config: reverb_seconds too short";
        return false;
    }
    if (d.z_dims < 1) {
        error = "model config: the autoencoder needs z_dims >= 1";
        return false;
    }
    c.conditioning.frame_rate_hz = d.frame_rate_hz;
    out = c;
    return true;
}

Autoencoder::Autoencoder(ad::Tape& tape, const AutoencoderConfig& config, uint64_t seed)
    : config_(config), tape_(&tape), encoder_store_(tape, seed ^ 0x5DEECE66Dull) {
    config_.conditioning.frame_rate_hz = config_.decoder.frame_rate_hz;
    if (config_.decoder.z_dims < 1) ad::graph_error("Autoencoder: z_dims must be >= 1");
    encoder_ = Encoder(encoder_store_, EncoderConfig{config_.conditioning.mfcc_coefficients, config_.encoder_hidden,
                                                     config_.decoder.z_dims});
    decoder_ = std::make_unique<Decoder>(tape, config_.decoder, seed);
}

Autoencoder::Output Autoencoder::forward(ad::Tape& tape, const Conditioning& c, const Arr* eps, ad::Var z_override) {
    if (&tape != tape_) ad::graph_error("Autoencoder::forward: not the model's tape");
    Output out;
    if (z_override.valid()) {
        out.z = z_override;
    } else {
        out.posterior = encoder_(tape, c.mfcc);
        out.z = eps ? sample_latent(out.posterior, *eps) : out.posterior.mu;
        out.kl = kl_divergence(out.posterior);
    }
    out.audio = decoder_->forward(tape, c.f0_hz, c.loudness_db, out.z, c.num_samples,
                                  config_.decoder.use_centroid ? c.centroid_hz : Vec());
    if (c.gain_db != 0) out.audio = out.audio * Real(std::pow(10.0, -c.gain_db / 20));  // level fitting, undone
    return out;
}

Arr Autoencoder::encode_mean(const Conditioning& c) const {
    ad::Tape scratch(ad::Tape::Mode::forward_only);
    ParamStore store(scratch, 0);
    const EncoderConfig ec = encoder_.config();
    Encoder enc(store, ec);
    for (const Param& p : encoder_store_.params()) store.set(p.name, p.var.value());
    return enc(scratch, c.mfcc).mu.value();
}

std::vector<Param> Autoencoder::params() const {
    std::vector<Param> all = encoder_store_.params();
    for (const Param& p : decoder_->params()) all.push_back(p);
    return all;
}

long long Autoencoder::num_values() const { return encoder_store_.num_values() + decoder_->num_values(); }

std::map<std::string, Arr> Autoencoder::state() const {
    std::map<std::string, Arr> out = decoder_->state();
    for (const Param& p : encoder_store_.params()) out[p.name] = p.var.value();
    return out;
}

bool Autoencoder::load(const std::map<std::string, Arr>& values, std::string& error) {
    std::map<std::string, Arr> enc, dec;
    for (const auto& kv : values) (kv.first.rfind("encoder.", 0) == 0 ? enc : dec)[kv.first] = kv.second;
    for (const Param& p : encoder_store_.params()) {
        const auto it = enc.find(p.name);
        if (it == enc.end()) {
            error = "model: missing parameter " + p.name;
            return false;
        }
        if (it->second.rows() != p.var.rows() || it->second.cols() != p.var.cols()) {
            error = "model: " + p.name + " has the wrong shape";
            return false;
        }
    }
    for (const auto& kv : enc)
        if (!encoder_store_.find(kv.first)) {
            error = "model: unknown parameter " + util::quote_input(kv.first);
            return false;
        }
    // The decoder checks its part all-or-nothing before the encoder's is written.
    if (!decoder_->load(dec, error)) return false;
    for (const auto& kv : enc) encoder_store_.set(kv.first, kv.second);
    return true;
}

TensorFile Autoencoder::to_file(const std::map<std::string, std::string>& extra_metadata) const {
    TensorFile f;
    state_to_tensors(state(), f);
    f.metadata = extra_metadata;
    f.metadata["format"] = kFormat;
    f.metadata["config"] = autoencoder_config_json(config_);
    return f;
}

bool read_autoencoder_config(const TensorFile& file, AutoencoderConfig& out, std::string& error) {
    const auto format = file.metadata.find("format");
    if (format == file.metadata.end() || format->second != kFormat) {
        error = "not a ddsp.cpp autoencoder file (metadata \"format\" is not \"" + std::string(kFormat) + "\")";
        return false;
    }
    const auto config = file.metadata.find("config");
    if (config == file.metadata.end()) {
        error = "model file has no \"config\" metadata";
        return false;
    }
    AutoencoderConfig c;
    if (!autoencoder_config_from_json(config->second, c, error)) return false;
    // The config decides how much a model allocates before its weights are read: a 0.5 MB file
    // whose config says 4096 hidden units in 16 layers made ~2.6 GB of random weights (found by
    // fuzzing). A model has at least these weights (the out MLP's first layer sees 2 inputs x hidden
    // + the GRU; three MLPs of mlp_layers; the decoder's and the encoder's GRU; the output layer),
    // and a file that does not hold that many values cannot be this model.
    const DecoderConfig& d = c.decoder;
    const double h = d.hidden, g = d.gru_units, e = c.encoder_hidden;
    const double needed = 3 * g * g + 3 * e * e + (2 * h + g) * h + 3.0 * (d.mlp_layers - 1) * h * h + h * (1 + d.harmonics);
    double present = 0;
    for (const Tensor& t : file.tensors)
        if (t.name.rfind("adam.", 0) != 0) present += double(t.data.size());
    if (present < needed) {
        error = "model config: its sizes need at least " + util::format_g(needed) + " weights, the file has " +
                util::format_g(present);
        return false;
    }
    out = c;
    return true;
}

bool load_weights(const TensorFile& file, Autoencoder& model, std::string& error) {
    for (const Tensor& t : file.tensors)
        if (t.shape.size() != 2) {
            error = "model: tensor " + util::quote_input(t.name) + " is not two-dimensional";
            return false;
        }
    // A training checkpoint is a model file plus Adam's moments ("adam.*"): it loads as a model.
    std::map<std::string, Arr> state = tensors_to_state(file);
    for (auto it = state.begin(); it != state.end();) it = it->first.rfind("adam.", 0) == 0 ? state.erase(it) : std::next(it);
    return model.load(state, error);
}

std::unique_ptr<Autoencoder> load_autoencoder(ad::Tape& tape, const TensorFile& file, std::string& error) {
    AutoencoderConfig config;
    if (!read_autoencoder_config(file, config, error)) return nullptr;
    auto model = std::make_unique<Autoencoder>(tape, config, 1);
    if (!load_weights(file, *model, error)) return nullptr;
    return model;
}

Vec render_with_latent(const Autoencoder& model, const Conditioning& c, const Arr& z) {
    ad::Tape tape(ad::Tape::Mode::forward_only);
    Autoencoder copy(tape, model.config(), 1);
    std::string error;
    if (!copy.load(model.state(), error)) ad::graph_error("render_with_latent: " + error);
    return copy.forward(tape, c, nullptr, tape.constant(z)).audio.value().col(0);
}

std::map<std::string, Arr> tensors_to_state(const TensorFile& file) {
    std::map<std::string, Arr> out;
    for (const Tensor& t : file.tensors) {
        if (t.shape.size() != 2) continue;
        Arr a(t.shape[0], t.shape[1]);
        for (Eigen::Index r = 0; r < a.rows(); ++r)
            for (Eigen::Index c = 0; c < a.cols(); ++c) a(r, c) = Real(t.data[size_t(r * a.cols() + c)]);
        out[t.name] = a;
    }
    return out;
}

void state_to_tensors(const std::map<std::string, Arr>& state, TensorFile& out) {
    for (const auto& kv : state) out.tensors.push_back(to_tensor(kv.first, kv.second));
}

}  // namespace ddsp::nn
