// The live engine; see live.h.
#include "engine/live.h"

#include "engine/synth_job.h"
#include "nn/autoencoder.h"
#include "synth/ddsp_synth.h"
#include "util/json.h"

#include <algorithm>
#include <cmath>

namespace ddsp::engine {

// [SECTION] presets

double midi_to_hz(double midi) { return 440.0 * std::pow(2.0, (midi - 69.0) / 12.0); }

namespace {

constexpr double kKeyAttackS = 0.01, kKeyReleaseS = 0.15, kKeyGlideS = 0.02;  // decoder from the keyboard
constexpr double kSilentDb = -120;
// A note's loudness from its velocity: the shipped model's training notes peak between -42 and
// -14 dB (A-weighted); velocity 1 plays at -14 dB, 0.5 at -28.
double velocity_to_db(double velocity) { return -42.0 + 28.0 * std::clamp(velocity, 0.0, 1.0); }

double median(Vec v) {
    if (v.size() == 0) return 0;
    std::sort(v.data(), v.data() + v.size());
    const Eigen::Index m = v.size() / 2;
    return v.size() % 2 ? double(v[m]) : 0.5 * (double(v[m - 1]) + double(v[m]));
}

double preset_pitch_hz(const synth::StreamPreset& p) {
    auto first = [&](const char* name) {
        const auto it = p.values.find(name);
        return it != p.values.end() && !it->second.empty() ? it->second[0] : 0.0;
    };
    if (p.synth == "ks") return first("f0_hz");
    if (p.synth == "sine") return first("frequency_hz");
    if (p.synth == "drum808") return first("osc1_freq_hz");
    if (p.synth == "drum") return first("mode_freq_hz");
    if (p.synth == "ddsp") return median(p.f0_frames_hz);
    return 0;
}

// The output stage: NaN/Inf become 0 and samples clip at +-1 (what a DAC does anyway; a single
// voice of any synth stays inside, a loud chord may not).
inline Real clip(Real x) {
    if (!std::isfinite(x)) return 0;
    return std::clamp(x, Real(-1), Real(1));
}

}  // namespace

namespace {

// The preset of a prepared job (its synth with or without an analysis applied) for cfg.
bool preset_of_job(SynthJob& job, const synth::SynthConfig& cfg, const Vec& excitation_head, const Vec& f0_frames_hz,
                   synth::StreamPreset& out, std::string& error) {
    // The streaming ks kernel (synth/stream.cpp) follows the table's loop order, control frames and
    // excitation order and the exc_ms option; it runs at the I/O rate whatever oversample says.
    synth::StreamPreset p;
    p.synth = job.name;
    if (job.options.count("exc_ms")) p.exc_ms = job.options.at("exc_ms");
    p.cfg = cfg;
    p.table = job.synth->param_table(p.cfg);
    const synth::ParamValues given = job.have_file ? job.file.values : synth::ParamValues{};
    if (!synth::resolve_stream_values(p.table, {}, given, p.values, error)) return false;
    if (!excitation_head.allFinite() || !f0_frames_hz.allFinite()) {
        error = "preset: the excitation and the f0 frames must be finite";
        return false;
    }
    if (p.synth == "ks" || p.synth == "drum") p.excitation_head = excitation_head;
    if (p.synth == "ddsp") {
        auto* d = static_cast<synth::DdspSynth*>(job.synth.get());
        if (f0_frames_hz.size() > 0) d->set_f0_track(f0_frames_hz, d->params().frame_rate_hz);
        p.f0_frames_hz = d->f0_frames_hz(p.cfg);
    }
    p.pitch_hz = preset_pitch_hz(p);
    out = std::move(p);
    return true;
}

}  // namespace

bool make_stream_preset(const match::ParamFile& file, double rate_override_hz, uint64_t seed,
                        const Vec& excitation_head, const Vec& f0_frames_hz, synth::StreamPreset& out,
                        std::string& error) {
    SynthJob job;
    if (!prepare_synth("", &file, rate_override_hz, job, error)) return false;
    const double seconds = job.default_seconds();
    if (!(seconds > 0 && seconds <= 60)) {
        error = "preset duration " + util::format_g(seconds) + " s is outside (0, 60]";
        return false;
    }
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = job.sample_rate_hz;
    cfg.num_samples = std::max(1, int(std::lround(seconds * job.sample_rate_hz)));
    cfg.seed = seed;
    return preset_of_job(job, cfg, excitation_head, f0_frames_hz, out, error);
}

bool make_stream_preset(SynthJob& job, Target& target, uint64_t seed, synth::StreamPreset& out, std::string& error) {
    TargetFit fit;
    if (!fit_target(job, target, 0, fit, error)) return false;
    fit.cfg.seed = seed;
    // ks keeps the recording's first samples as its residual excitation (KsSynth::analyse), drum
    // as its transient (DrumSynth::analyse).
    Vec head;
    const double exc_ms = job.options.count("exc_ms") ? job.options.at("exc_ms") : 25.0;
    const Eigen::Index keep = std::max<Eigen::Index>(4096, Eigen::Index(exc_ms * 1e-3 * fit.cfg.sample_rate_hz) + 64);
    if (job.name == "ks" || job.name == "drum") head = fit.samples->head(std::min<Eigen::Index>(fit.samples->size(), keep));
    // The ddsp synth now plays its analysed f0 track: preset_of_job reads it from the synth.
    return preset_of_job(job, fit.cfg, head, Vec(), out, error);
}

bool stream_preset_from_text(const std::string& params_text, uint64_t seed, const Vec& excitation_head,
                             const Vec& f0_frames_hz, synth::StreamPreset& out, std::string& error) {
    match::ParamFile file;
    if (!match::params_parse(params_text, file, error)) {
        error = "params: " + error;
        return false;
    }
    return make_stream_preset(file, 0, seed, excitation_head, f0_frames_hz, out, error);
}

// [SECTION] the engine

bool LiveEngine::init(double output_rate_hz, int max_block, std::string& error) {
    if (!(output_rate_hz >= 8000 && output_rate_hz <= 384000) || output_rate_hz != std::floor(output_rate_hz)) {
        error = "live: the output rate must be a whole number of Hz in [8000, 384000]";
        return false;
    }
    if (max_block < 1 || max_block > 8192) {
        error = "live: the block size must be in [1, 8192]";
        return false;
    }
    output_rate_hz_ = output_rate_hz;
    max_block_ = max_block;
    stats_ = LiveStats{};
    stats_.sample_rate_hz = output_rate_hz;
    loaded_ = false;
    return true;
}

bool LiveEngine::load_preset(const synth::StreamPreset& preset, std::string& error) {
    std::vector<std::unique_ptr<synth::StreamVoice>> voices;
    for (int i = 0; i < kVoiceSlots; ++i) {
        auto v = synth::make_stream_voice(preset.synth);
        if (!v) {
            error = "live: the '" + preset.synth + "' synth has no streaming kernel";
            return false;
        }
        if (!v->load(preset, error, voices.empty() ? nullptr : voices[0].get())) return false;
        voices.push_back(std::move(v));
    }
    dsp::StreamResampler rs;
    dsp::ResampleParams rp;
    rp.passband = 0.85;  // a shorter filter: 2.1 ms from 16 kHz (see live.h)
    const int max_in = int(std::ceil(max_block_ * preset.cfg.sample_rate_hz / output_rate_hz_)) + 4;
    if (!rs.init(preset.cfg.sample_rate_hz, output_rate_hz_, max_in + 256, rp, error)) return false;
    voices_ = std::move(voices);
    resampler_ = std::move(rs);
    preset_ = voices_[0]->preset();
    values_ = preset_.values;
    mix_.assign(size_t(max_in + 256), Real(0));
    std::fill(std::begin(voice_note_), std::end(voice_note_), -1);
    std::fill(std::begin(voice_age_), std::end(voice_age_), 0);
    loaded_ = true;
    return true;
}

bool LiveEngine::set_params(const synth::ParamValues& changes, std::string& error) {
    if (!loaded_) {
        error = "live: no preset loaded";
        return false;
    }
    synth::ParamValues next;
    if (!synth::resolve_stream_values(preset_.table, values_, changes, next, error)) return false;
    values_ = std::move(next);
    for (size_t i = 0; i < voices_.size(); ++i) voices_[i]->set_values(values_, i ? voices_[0].get() : nullptr);
    return true;
}

int LiveEngine::find_voice_for(int midi) const {
    for (int i = 0; i < int(voices_.size()); ++i)
        if (voice_note_[i] == midi && voices_[size_t(i)]->active() && !voices_[size_t(i)]->released()) return i;
    return -1;
}

// A slot for a new note or hit: with kPolyphony notes held, the oldest held one is stolen (a short
// fade, no click); then a free slot, else the oldest released voice (cut).
int LiveEngine::take_voice() {
    int held = 0, oldest = -1;
    for (int i = 0; i < int(voices_.size()); ++i) {
        const auto& v = voices_[size_t(i)];
        if (v->active() && !v->released()) {
            ++held;
            if (oldest < 0 || voice_age_[i] < voice_age_[oldest]) oldest = i;
        }
    }
    if (held >= kPolyphony && oldest >= 0) {
        voices_[size_t(oldest)]->choke(kStealSeconds);
        ++stats_.steals;
    }
    return allocate_voice();
}

int LiveEngine::allocate_voice() {
    int best = -1;
    for (int i = 0; i < int(voices_.size()); ++i)
        if (!voices_[size_t(i)]->active()) return i;
    for (int i = 0; i < int(voices_.size()); ++i)
        if (voices_[size_t(i)]->released() && (best < 0 || voice_age_[i] < voice_age_[best])) best = i;
    return best >= 0 ? best : 0;
}

double LiveEngine::note_pitch_hz(int midi) const {
    if (loaded_ && (preset_.synth == "drum808" || preset_.synth == "drum") && preset_.pitch_hz > 0) {
        const double home = std::round(69 + 12 * std::log2(preset_.pitch_hz / 440.0));
        return preset_.pitch_hz * std::pow(2.0, (midi - home) / 12.0);
    }
    return midi_to_hz(midi);
}

void LiveEngine::note_on(int midi, double velocity, double f0_hz) {
    if (midi < 0 || midi > 127) return;
    if (!(velocity > 0)) {  // also NaN
        note_off(midi);
        return;
    }
    if (source_ == Source::decoder_keys) {
        // Monophonic: the newest note sounds; releasing it returns to the one held before.
        int k = 0;
        for (int i = 0; i < key_count_; ++i)
            if (key_stack_[i] != midi) key_stack_[k++] = key_stack_[i];
        key_count_ = std::min(k, 15);
        key_stack_[key_count_++] = midi;
        if (key_level_db_ <= kSilentDb + 1) key_f0_hz_ = midi_to_hz(midi);  // no glide from silence
        key_target_db_ = velocity_to_db(std::min(velocity, 1.0));
        ++stats_.notes;
        return;
    }
    if (!loaded_) return;
    velocity = std::min(velocity, 1.0);
    int slot = find_voice_for(midi);
    if (slot < 0) slot = take_voice();
    voices_[size_t(slot)]->start(std::isfinite(f0_hz) ? f0_hz : 0.0, velocity);
    voice_note_[slot] = midi;
    voice_age_[slot] = ++age_counter_;
    ++stats_.notes;
}

void LiveEngine::note_off(int midi) {
    if (source_ == Source::decoder_keys) {
        int k = 0;
        for (int i = 0; i < key_count_; ++i)
            if (key_stack_[i] != midi) key_stack_[k++] = key_stack_[i];
        key_count_ = k;
        if (key_count_ == 0) key_target_db_ = kSilentDb;
        return;
    }
    const int slot = find_voice_for(midi);
    if (slot >= 0) voices_[size_t(slot)]->release();
}

void LiveEngine::all_notes_off() {
    key_count_ = 0;
    key_target_db_ = kSilentDb;
    for (auto& v : voices_)
        if (v->active()) v->choke(kStealSeconds);
}

void LiveEngine::process(const Real* input, Real* out, int frames) {
    ++stats_.quanta;
    stats_.frames += frames;
    int done = 0;
    while (done < frames) {
        const int n = std::min(frames - done, max_block_);
        // Onsets of this block trigger their hits before the block renders.
        if (remap_loaded_ && source_ == Source::remap_input) run_remap_detector(input ? input + done : nullptr, n);
        int produced = 0;
        if (loaded_) {
            // Render what the rate converter needs for n outputs, in pieces that fit the mix buffer.
            int need = resampler_.inputs_needed(n);
            while (need > 0) {
                const int m = std::min(need, int(mix_.size()));
                std::fill(mix_.begin(), mix_.begin() + m, Real(0));
                for (auto& v : voices_)
                    if (v->active()) v->render_add(mix_.data(), m);
                resampler_.push(mix_.data(), m);
                need -= m;
            }
            produced = resampler_.pull(out + done, n);
        }
        for (int i = produced; i < n; ++i) out[done + i] = 0;
        if (model_loaded_ && source_ != Source::synth) run_decoder(input ? input + done : nullptr, out + done, n);
        Real peak = Real(stats_.output_peak);
        for (int i = 0; i < n; ++i) {
            Real& y = out[done + i];
            if (!std::isfinite(y)) ++stats_.non_finite;
            else if (std::fabs(y) > 1) ++stats_.clipped;
            y = clip(y);
            peak = std::max(peak, std::fabs(y));
        }
        stats_.output_peak = peak;
        done += n;
    }
    int active = 0;
    for (auto& v : voices_) active += v->active() ? 1 : 0;
    stats_.voices_active = active;
}

double LiveEngine::take_peak() {
    const double p = stats_.output_peak;
    stats_.output_peak = 0;
    return p;
}

}  // namespace ddsp::engine

namespace ddsp::engine {

// [SECTION] the decoder path

bool LiveEngine::load_model(const nn::Autoencoder& model, std::string& error) {
    const double model_rate = model.config().decoder.sample_rate_hz;
    nn::StreamDecoder decoder;
    if (!decoder.init(model, error)) return false;
    nn::StreamConditioner conditioner;
    nn::ConditioningParams cp = model.config().conditioning;
    if (!conditioner.init(model_rate, cp, error)) return false;
    if (conditioner.hop() != decoder.hop()) {
        error = "live: the analyser's hop and the decoder's differ";
        return false;
    }
    // The analysis side needs f0 and loudness, not the top octave's last 2 kHz: a wider transition
    // band there (passband 0.7) halves that converter's delay (16 kHz: 1.1 ms instead of 2.1).
    dsp::ResampleParams rp_in, rp_out;
    rp_in.passband = 0.7;
    rp_out.passband = 0.85;
    const int model_chunk = int(std::ceil(max_block_ * model_rate / output_rate_hz_)) + 8;
    dsp::StreamResampler down, up;
    if (!down.init(output_rate_hz_, model_rate, max_block_, rp_in, error) ||
        !up.init(model_rate, output_rate_hz_, model_chunk + 512, rp_out, error))
        return false;
    decoder_ = std::move(decoder);
    conditioner_ = std::move(conditioner);
    dec_down_ = std::move(down);
    dec_up_ = std::move(up);
    const int hop = decoder_.hop();
    dec_in_.assign(size_t(model_chunk + 512), Real(0));
    dec_hop_.assign(size_t(hop), Real(0));
    dec_out_.assign(size_t(max_block_), Real(0));
    // The input path's queue starts with enough silence that the decoder is never late: the
    // down-converter's delay, the analysis look-ahead and one frame of granularity.
    prefill_ = dec_down_.latency_samples() + conditioner_.latency_samples() + hop;
    fifo_.assign(size_t(prefill_ + 4 * hop + model_chunk + 1024), Real(0));
    model_loaded_ = true;
    reset_decoder_path();
    return true;
}

void LiveEngine::set_z(const Real* z, int n) {
    if (model_loaded_) decoder_.set_z(z, n);
}

bool LiveEngine::set_source(Source source, std::string& error) {
    if (source == Source::remap_input && !remap_loaded_) {
        error = "live: no remap model loaded";
        return false;
    }
    if ((source == Source::decoder_keys || source == Source::decoder_input) && !model_loaded_) {
        error = "live: no decoder model loaded";
        return false;
    }
    if (source != source_) {
        source_ = source;
        if (model_loaded_) reset_decoder_path();
        remap_pending_at_ = -1;
    }
    return true;
}

// [SECTION] timbre remapping

namespace {
// An onset: the 1 ms energy envelope 9 dB above what it was 8 and 16 ms before (a rise measured
// locally, so a soft hit after a loud one counts as the offline detector would count it; a 300 ms
// average would still hold the loud hit).
constexpr double kOnsetFastS = 0.001;                     // the energy envelope's time constant
constexpr double kOnsetLookbackS[2] = {0.008, 0.016};     // where the rise is measured from
constexpr double kOnsetRatio = 8;                         // +9 dB
constexpr double kOnsetFloor = 1e-5;                      // -50 dBFS mean square
constexpr double kOnsetGapS = 0.05;                       // at most 20 hits a second
}  // namespace

bool LiveEngine::load_remap(const nn::RemapModelFile& model, std::string& error) {
    match::ParamFile file;
    if (!match::params_parse(model.preset_json, file, error) || file.synth != "drum808") {
        error = "remap: the model's preset is not a drum808 parameter file";
        return false;
    }
    file.seconds = model.params.hit_seconds;
    synth::StreamPreset preset;
    if (!make_stream_preset(file, model.params.sample_rate_hz, 0, Vec(), Vec(), preset, error)) return false;
    Vec u0;
    if (!synth::to_unconstrained(preset.table, preset.values, u0, error)) return false;
    nn::RemapForward net;
    if (!net.init(model, int(u0.size()), error)) return false;
    if (!load_preset(preset, error)) return false;
    remap_net_ = std::move(net);
    remap_u0_.assign(u0.data(), u0.data() + u0.size());
    remap_d_.assign(remap_u0_.size(), 0.0);
    remap_u_.assign(remap_u0_.size(), 0.0);
    const int window = std::max(16, int(std::lround(model.params.onset_window_s * output_rate_hz_)));
    onset_analyser_.init(window, output_rate_hz_);
    int cap = 1;
    while (cap < window + 2 * max_block_ + 16) cap <<= 1;
    remap_ring_.assign(size_t(cap), Real(0));
    remap_window_.assign(size_t(window), Real(0));
    env_fast_k_ = 1 - std::exp(-1 / (kOnsetFastS * output_rate_hz_));
    env_fast_ = 0;
    for (int k = 0; k < 2; ++k) env_lookback_[k] = std::max(1, int(std::lround(kOnsetLookbackS[k] * output_rate_hz_)));
    int env_cap = 1;
    while (env_cap <= env_lookback_[1]) env_cap <<= 1;
    env_ring_.assign(size_t(env_cap), 0.0);
    remap_pos_ = 0;
    remap_pending_at_ = -1;
    remap_last_onset_ = -1000000;
    remap_loaded_ = true;
    return true;
}

int LiveEngine::remap_latency_samples() const {
    return remap_loaded_ ? onset_analyser_.window() + note_latency_samples() : 0;
}

void LiveEngine::run_remap_detector(const Real* input, int frames) {
    const long long mask = static_cast<long long>(remap_ring_.size()) - 1;
    const int window = onset_analyser_.window();
    const long long gap = std::llround(kOnsetGapS * output_rate_hz_);
    for (int i = 0; i < frames; ++i) {
        const Real x = input && std::isfinite(input[i]) ? input[i] : Real(0);
        remap_ring_[size_t(remap_pos_ & mask)] = x;
        const double e = double(x) * double(x);
        env_fast_ += env_fast_k_ * (e - env_fast_);
        const long long env_mask = static_cast<long long>(env_ring_.size()) - 1;
        const double before = std::max(env_ring_[size_t((remap_pos_ - env_lookback_[0]) & env_mask)],
                                       env_ring_[size_t((remap_pos_ - env_lookback_[1]) & env_mask)]);
        env_ring_[size_t(remap_pos_ & env_mask)] = env_fast_;
        if (remap_pending_at_ < 0 && remap_pos_ - remap_last_onset_ >= gap && env_fast_ > kOnsetFloor &&
            env_fast_ > kOnsetRatio * before) {
            // The attack began about one fast time constant ago.
            remap_pending_at_ = std::max(0LL, remap_pos_ - std::llround(kOnsetFastS * output_rate_hz_));
            remap_last_onset_ = remap_pos_;
        }
        if (remap_pending_at_ >= 0 && remap_pos_ - remap_pending_at_ + 1 >= window) {
            for (int k = 0; k < window; ++k) remap_window_[size_t(k)] = remap_ring_[size_t((remap_pending_at_ + k) & mask)];
            const std::array<double, nn::kOnsetFeatures> f = onset_analyser_(remap_window_.data());
            remap_net_(f.data(), remap_d_.data());
            for (size_t k = 0; k < remap_u_.size(); ++k) remap_u_[k] = remap_u0_[k] + remap_d_[k];
            const int slot = take_voice();
            voices_[size_t(slot)]->set_unconstrained(remap_u_.data());
            voices_[size_t(slot)]->start(0, 1);
            voices_[size_t(slot)]->release();  // a hit rings out (no note to lift)
            voice_note_[slot] = -1;
            voice_age_[slot] = ++age_counter_;
            ++stats_.onsets;
            remap_pending_at_ = -1;
        }
        ++remap_pos_;
    }
}

void LiveEngine::reset_decoder_path() {
    decoder_.reset();
    conditioner_.reset();
    dec_down_.reset();
    dec_up_.reset();
    fifo_read_ = 0;
    fifo_count_ = 0;
    key_count_ = 0;
    key_level_db_ = key_target_db_ = kSilentDb;
    if (source_ == Source::decoder_input) {
        std::fill(dec_hop_.begin(), dec_hop_.end(), Real(0));
        for (int left = prefill_; left > 0; left -= int(dec_hop_.size()))
            fifo_push(dec_hop_.data(), std::min(left, int(dec_hop_.size())));
    }
}

int LiveEngine::input_latency_samples() const {
    if (!model_loaded_) return 0;
    const double model_rate = decoder_.sample_rate_hz();
    // Content arriving at the input at model-rate time i leaves the decoder at stream index
    // i + decoder latency, queued behind prefill_ samples, then the up-converter's delay.
    const double model_samples = double(prefill_ + decoder_.latency_samples());
    return int(std::lround(model_samples * output_rate_hz_ / model_rate)) + dec_up_.latency_samples();
}

int LiveEngine::decoder_key_latency_samples() const {
    if (!model_loaded_) return 0;
    return int(std::lround(decoder_.latency_samples() * output_rate_hz_ / decoder_.sample_rate_hz())) +
           dec_up_.latency_samples();
}

void LiveEngine::fifo_push(const Real* x, int n) {
    const int cap = int(fifo_.size());
    n = std::min(n, cap - fifo_count_);  // cannot happen at the sizes above; never overrun
    for (int i = 0; i < n; ++i) fifo_[size_t((fifo_read_ + fifo_count_ + i) % cap)] = x[i];
    fifo_count_ += n;
}

int LiveEngine::fifo_pop(Real* x, int n) {
    const int cap = int(fifo_.size());
    n = std::min(n, fifo_count_);
    for (int i = 0; i < n; ++i) x[i] = fifo_[size_t((fifo_read_ + i) % cap)];
    fifo_read_ = (fifo_read_ + n) % cap;
    fifo_count_ -= n;
    return n;
}

void LiveEngine::run_decoder(const Real* input, Real* out, int frames) {
    const int hop = decoder_.hop();
    const double frame_s = hop / decoder_.sample_rate_hz();
    if (source_ == Source::decoder_input) {
        // Input -> model rate -> analysis frames -> decoder -> queue.
        if (input) {
            dec_down_.push(input, frames);
        } else {
            std::fill(dec_out_.begin(), dec_out_.begin() + frames, Real(0));
            dec_down_.push(dec_out_.data(), frames);
        }
        const int n = dec_down_.pull(dec_in_.data(), int(dec_in_.size()));
        conditioner_.push(dec_in_.data(), n);
        nn::StreamFrame fr;
        while (conditioner_.pop(fr)) {
            stats_.input_f0_hz = fr.f0_hz;
            stats_.input_loudness_db = fr.loudness_db;
            stats_.input_voiced = fr.voiced;
            decoder_.set_output_gain(Real(std::pow(10.0, -fr.gain_db / 20.0)));
            decoder_.push_frame(fr.f0_hz, fr.loudness_db, fr.centroid_hz, dec_hop_.data());
            fifo_push(dec_hop_.data(), hop);
            ++stats_.decoder_frames;
        }
    } else {
        // Keyboard: frames on demand; the last held note's pitch (gliding), loudness enveloped.
        const int need = dec_up_.inputs_needed(frames);
        while (fifo_count_ < need) {
            if (key_count_ > 0) {
                const double f = midi_to_hz(key_stack_[key_count_ - 1]);
                key_f0_hz_ *= std::pow(f / key_f0_hz_, std::min(1.0, frame_s / kKeyGlideS));
            }
            const double tau = key_target_db_ > key_level_db_ ? kKeyAttackS : kKeyReleaseS;
            key_level_db_ += (key_target_db_ - key_level_db_) * std::min(1.0, frame_s / tau);
            decoder_.set_output_gain(1);
            decoder_.push_frame(key_f0_hz_, key_level_db_, 0.0, dec_hop_.data());
            fifo_push(dec_hop_.data(), hop);
            ++stats_.decoder_frames;
        }
    }
    const int need = dec_up_.inputs_needed(frames);
    const int m = fifo_pop(dec_in_.data(), std::min(need, int(dec_in_.size())));
    dec_up_.push(dec_in_.data(), m);
    const int got = dec_up_.pull(dec_out_.data(), frames);
    for (int i = 0; i < got; ++i) out[i] += dec_out_[size_t(i)];
    stats_.decoder_underruns += frames - got;
}

}  // namespace ddsp::engine
