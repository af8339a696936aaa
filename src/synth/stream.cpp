// Streaming kernels: the shared voice machinery (values, ramps, control blocks) and the `sine`,
// `drum808` and `ks` voices. The `ddsp` voice is in stream_ddsp.cpp. Each kernel follows its
// synth's forward pass step by step; comments name the offline function it mirrors.
#include "synth/stream.h"

#include "dsp/rng.h"
#include "dsp/spline.h"
#include "util/text.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ddsp::synth {

std::unique_ptr<StreamVoice> make_stream_ddsp_voice();  // stream_ddsp.cpp
std::unique_ptr<StreamVoice> make_stream_drum_voice();  // stream_drum.cpp

// [SECTION] values

bool resolve_stream_values(const std::vector<ParamSpec>& table, const ParamValues& base, const ParamValues& changes,
                           ParamValues& out, std::string& error) {
    for (const auto& change : changes) {
        const std::string& name = change.first;
        const std::vector<double>& v = change.second;
        const auto it = std::find_if(table.begin(), table.end(), [&](const ParamSpec& s) { return s.name == name; });
        if (it == table.end()) {
            error = "unknown parameter " + util::quote_input(name);
            return false;
        }
        if (v.size() != 1 && int(v.size()) != it->size) {
            error = "parameter " + util::quote_input(name) + " takes 1 or " + std::to_string(it->size) + " values, got " +
                    std::to_string(v.size());
            return false;
        }
        for (double x : v)
            if (!std::isfinite(x)) {
                error = "parameter " + util::quote_input(name) + " is not a finite number";
                return false;
            }
    }
    ParamValues result;
    for (const ParamSpec& s : table) {
        std::vector<double> v(size_t(s.size), s.default_value);
        const auto from_base = base.find(s.name);
        if (from_base != base.end() && int(from_base->second.size()) == s.size) v = from_base->second;
        const auto change = changes.find(s.name);
        if (change != changes.end()) {
            if (change->second.size() == 1) std::fill(v.begin(), v.end(), change->second[0]);
            else v = change->second;
        }
        for (double& x : v) x = std::isfinite(x) ? std::clamp(x, s.min_value, s.max_value) : s.default_value;
        result[s.name] = std::move(v);
    }
    out = std::move(result);
    return true;
}

// [SECTION] the voice machinery

bool StreamVoice::load(const StreamPreset& preset, std::string& error, const StreamVoice* loaded_alike) {
    if (loaded_alike && (loaded_alike->preset_.synth != preset.synth || loaded_alike->scaled_target_.empty()))
        loaded_alike = nullptr;
    preset_ = loaded_alike ? loaded_alike->preset_ : preset;
    active_ = false;
    released_ = false;
    if (!(preset_.cfg.sample_rate_hz >= 1000 && preset_.cfg.sample_rate_hz <= 384000)) {
        error = preset_.synth + ": stream rate must be in [1000, 384000] Hz";
        return false;
    }
    preset_.cfg.num_samples = std::max(1, preset_.cfg.num_samples);
    offsets_ = table_offsets(preset_.table);
    const int total = table_size(preset_.table);
    scaled_now_.assign(size_t(total), 0.0);
    physical_.assign(size_t(total), Real(0));
    if (loaded_alike) {  // the same preset, already resolved and converted by another voice
        scaled_now_ = loaded_alike->scaled_target_;
        exact_target_ = loaded_alike->exact_target_;
    } else {
        ParamValues resolved;
        if (!resolve_stream_values(preset_.table, preset_.values, {}, resolved, error)) return false;
        preset_.values = std::move(resolved);
        exact_target_.assign(size_t(total), Real(0));
        to_scaled(preset_.values, scaled_now_, exact_target_);
    }
    scaled_target_ = scaled_now_;
    changed_.clear();
    changed_.reserve(size_t(total));
    ramp_left_ = 0;
    ramp_samples_ = std::max(1, int(std::lround(kRampSeconds * preset_.cfg.sample_rate_hz)));
    physical_ = exact_target_;
    return on_load(error);
}

// The values exactly as the differentiable synth sees them (physical -> u -> bounded() on a tape,
// in Real: a sine's frequency off by one float step drifts 1e-4 of a cycle in a second), stored in
// the table's scale for glides (log for log parameters). Allocates (a small tape).
void StreamVoice::to_scaled(const ParamValues& values, std::vector<double>& out, std::vector<Real>& exact) const {
    Vec u;
    std::string error;
    if (to_unconstrained(preset_.table, values, u, error)) {
        ad::Tape tape(ad::Tape::Mode::forward_only);
        const ParamGraph graph(preset_.table, tape.constant(u));
        for (size_t p = 0; p < preset_.table.size(); ++p) {
            const ParamSpec& s = preset_.table[p];
            const Arr v = graph[s.name].value();
            for (int i = 0; i < s.size; ++i) exact[size_t(offsets_[p] + i)] = v(i, 0);
        }
    } else {  // values come resolved (in range), so this is only a guard: clamp them here
        for (size_t p = 0; p < preset_.table.size(); ++p) {
            const ParamSpec& s = preset_.table[p];
            const auto it = values.find(s.name);
            for (int i = 0; i < s.size; ++i) {
                double x = it != values.end() && int(it->second.size()) == s.size ? it->second[size_t(i)] : s.default_value;
                exact[size_t(offsets_[p] + i)] = Real(std::clamp(std::isfinite(x) ? x : s.default_value, s.min_value, s.max_value));
            }
        }
    }
    for (size_t p = 0; p < preset_.table.size(); ++p) {
        const ParamSpec& s = preset_.table[p];
        for (int i = 0; i < s.size; ++i) {
            const double x = double(exact[size_t(offsets_[p] + i)]);
            out[size_t(offsets_[p] + i)] = s.scale == ad::Scale::log ? std::log(std::max(x, 1e-30)) : x;
        }
    }
}

void StreamVoice::update_physical(const std::vector<int>& indices) {
    size_t p = 0;
    for (int i : indices) {
        while (p + 1 < preset_.table.size() && offsets_[p + 1] <= i) ++p;
        const double x = scaled_now_[size_t(i)];
        // At the glide's end: exactly the value the differentiable synth would use.
        physical_[size_t(i)] = ramp_left_ == 0 ? exact_target_[size_t(i)]
                                               : Real(preset_.table[p].scale == ad::Scale::log ? std::exp(x) : x);
    }
}

void StreamVoice::set_values(const ParamValues& values, const StreamVoice* set_alike) {
    if (set_alike && set_alike->scaled_target_.size() == scaled_target_.size()) {
        scaled_target_ = set_alike->scaled_target_;  // same sizes: no allocation
        exact_target_ = set_alike->exact_target_;
    } else {
        to_scaled(values, scaled_target_, exact_target_);
    }
    changed_.clear();  // capacity reserved in load(): no allocation
    for (size_t i = 0; i < scaled_target_.size(); ++i)
        if (scaled_target_[i] != scaled_now_[i]) changed_.push_back(int(i));
    ramp_left_ = changed_.empty() ? 0 : ramp_samples_;
}

void StreamVoice::set_unconstrained(const double* u) {
    for (size_t p = 0; p < preset_.table.size(); ++p) {
        const ParamSpec& s = preset_.table[p];
        for (int i = 0; i < s.size; ++i) {
            const size_t k = size_t(offsets_[p] + i);
            const double x = ad::bounded_value(std::isfinite(u[k]) ? u[k] : 0.0, s.min_value, s.max_value, s.scale);
            physical_[k] = exact_target_[k] = Real(x);
            scaled_now_[k] = scaled_target_[k] = s.scale == ad::Scale::log ? std::log(std::max(x, 1e-30)) : x;
        }
    }
    ramp_left_ = 0;
    on_values_changed();
}

void StreamVoice::start(double f0_hz, double velocity) {
    note_f0_hz_ = std::isfinite(f0_hz) && f0_hz > 0 ? f0_hz : 0.0;
    velocity_ = Real(std::isfinite(velocity) ? std::clamp(velocity, 0.0, 1.0) : 0.0);
    t_ = 0;
    active_ = true;
    released_ = false;
    fade_left_ = fade_total_ = 0;
    on_start();
}

int StreamVoice::index_of(const char* name) const {
    for (size_t p = 0; p < preset_.table.size(); ++p)
        if (preset_.table[p].name == name) return int(p);
    return -1;
}

void StreamVoice::render_add(Real* out, int n) {
    int done = 0;
    while (active_ && done < n) {
        int m = std::min(kControlBlock, n - done);
        if (ramp_left_ > 0) {
            // A glide moves the changed values one sample at a time (linear in the table's scale,
            // exactly there at the end): no steps for a zipper.
            m = 1;
            for (int i : changed_) {
                const size_t k = size_t(i);
                scaled_now_[k] = ramp_left_ == 1 ? scaled_target_[k]
                                                 : scaled_now_[k] + (scaled_target_[k] - scaled_now_[k]) / ramp_left_;
            }
            --ramp_left_;
            update_physical(changed_);
            on_values_changed();
        }
        std::fill(scratch_, scratch_ + m, Real(0));
        render_block(scratch_, m);
        Real* o = out + done;
        if (fade_total_ > 0) {
            for (int i = 0; i < m; ++i) {
                const Real g = fade_left_ > 0 ? Real(fade_left_--) / Real(fade_total_) : Real(0);
                o[i] += scratch_[i] * velocity_ * g;
            }
            if (fade_left_ <= 0) active_ = false;
        } else {
            for (int i = 0; i < m; ++i) o[i] += scratch_[i] * velocity_;
        }
        done += m;
        t_ += m;
    }
}

void StreamVoice::choke(double seconds) {
    released_ = true;
    const int n = std::max(1, int(std::lround(seconds * sample_rate_hz())));
    // An ongoing fade that ends sooner keeps its own ramp.
    if (fade_total_ > 0 && fade_left_ <= n) return;
    // Start from the current gain of an ongoing fade so the ramp is continuous.
    const double g = fade_total_ > 0 ? double(fade_left_) / fade_total_ : 1.0;
    fade_total_ = n;
    fade_left_ = int(std::lround(g * n));
}

// [SECTION] spline (the forward pass of ad::upsample(cubic), op for op)

void NaturalSpline::fit(const Real* y, int frames) {
    frames_ = std::max(1, frames);
    y_.assign(y, y + frames_);
    m2_.assign(size_t(frames_), Real(0));
    rhs_.assign(size_t(frames_), Real(0));
    if (frames_ < 3) return;
    if (system_.frames() != frames_) system_.init(frames_);
    system_.second_derivatives(y_.data(), rhs_.data(), m2_.data());
}

Real NaturalSpline::at(double position) const {
    if (frames_ == 1) return y_[0];
    const double p = std::clamp(position, 0.0, double(frames_ - 1));
    int k = int(std::floor(p));
    if (k >= frames_ - 1) k = std::max(0, frames_ - 2);
    return dsp::spline_at(y_.data(), frames_ >= 3 ? m2_.data() : nullptr, k, Real(p - k));
}

namespace {

constexpr double kLn1000 = 6.907755278982137;
constexpr double kSilence = 1e-5;  // -100 dB: a voice below this for a while is over

Real db_to_amplitude(Real db) { return std::exp(db * Real(std::log(10.0) / 20.0)); }

// [SECTION] sine: amplitude * sin(2 pi f t) (sine.cpp's SineNode)

class SineVoice final : public StreamVoice {
protected:
    double release_seconds() const override { return 0.03; }
    bool on_load(std::string& error) override {
        freq_ = index_of("frequency_hz");
        amp_ = index_of("amplitude");
        if (freq_ < 0 || amp_ < 0) {
            error = "sine: the table lacks frequency_hz or amplitude";
            return false;
        }
        return true;
    }
    void on_start() override {
        phase_cycles_ = 0;
        on_values_changed();
        restart_phasor();
    }
    void on_values_changed() override {
        const double f = note_f0_hz() > 0 ? note_f0_hz() : double(value(freq_));
        f_ = double(Real(std::min(f, 0.95 * sample_rate_hz() / 2)));  // the tape holds f as Real
        const double step = 2 * kPi * std::fmod(f_ / sample_rate_hz(), 1.0);
        wc_ = std::cos(step);
        ws_ = std::sin(step);
    }
    void render_block(Real* out, int n) override {
        const Real a = value(amp_);
        for (int i = 0; i < n; ++i) {
            // SineNode restarts its phasor exactly every 256 samples; so does the stream.
            if ((t_ + i) % 256 == 0) restart_phasor();
            out[i] += Real(s_) * a;
            const double c_next = c_ * wc_ - s_ * ws_;
            s_ = s_ * wc_ + c_ * ws_;
            c_ = c_next;
            phase_cycles_ += f_ / sample_rate_hz();
            if (phase_cycles_ >= 1) phase_cycles_ -= std::floor(phase_cycles_);
        }
    }

private:
    // SineNode restarts from sin/cos of 2 pi fmod(f i0 / sr, 1); the stream's running phase is the
    // same sum (and stays right when the frequency glides).
    void restart_phasor() {
        const double phase = 2 * kPi * std::fmod(phase_cycles_, 1.0);
        c_ = std::cos(phase);
        s_ = std::sin(phase);
    }
    int freq_ = -1, amp_ = -1;
    double f_ = 0, wc_ = 1, ws_ = 0, c_ = 1, s_ = 0, phase_cycles_ = 0;
};

// [SECTION] drum808 (drum808.cpp's Drum808VoiceNode, forward)

class Drum808Voice final : public StreamVoice {
public:
    void release() override { released_ = true; }  // a hit rings out

protected:
    double release_seconds() const override { return 0.005; }
    bool on_load(std::string& error) override {
        const char* names[] = {"osc1_freq_hz",  "osc1_pitch_mod", "osc2_freq_hz",    "osc2_pitch_mod", "pitch_decay_ms",
                               "osc1_decay_ms", "osc2_decay_ms",  "noise_decay_ms",  "noise_cutoff_hz", "noise_q",
                               "osc1_gain_db",  "osc2_gain_db",   "noise_gain_db",   "drive_db"};
        for (int i = 0; i < 14; ++i) {
            idx_[i] = index_of(names[i]);
            if (idx_[i] < 0) {
                error = std::string("drum808: the table lacks ") + names[i];
                return false;
            }
        }
        attack_samples_ = std::max(1, int(std::lround(0.001 * sample_rate_hz())));
        return true;
    }
    void on_start() override {
        rng_ = dsp::Rng(preset_.cfg.seed);
        acc_[0] = acc_[1] = 0;
        x1_ = x2_ = 0;
        y1_ = y2_ = 0;
        quiet_samples_ = 0;
        on_values_changed();
    }
    void on_values_changed() override {
        const double sr = sample_rate_hz();
        // The tuning: oscillator 1 goes to the note and oscillator 2 keeps its ratio (set_pitch_hz).
        Real f1 = value(idx_[0]), f2 = value(idx_[2]);
        if (note_f0_hz() > 0) {
            const double ratio = note_f0_hz() / double(f1);
            f2 = Real(std::min(double(f2) * ratio, 0.45 * sr));
            f1 = Real(std::min(note_f0_hz(), 0.45 * sr));
        }
        const Real c = Real(2 * kPi / sr);
        fc_[0] = f1 * c;
        fc_[1] = f2 * c;
        mod_[0] = value(idx_[1]);
        mod_[1] = value(idx_[3]);
        decay_[0] = value(idx_[5]);
        decay_[1] = value(idx_[6]);
        pitch_decay_ = value(idx_[4]);
        noise_decay_ = value(idx_[7]);
        // highpass_coeffs(), op for op.
        const Real w0 = value(idx_[8]) * Real(2 * kPi / sr);
        const Real cos_w0 = std::cos(w0);
        const Real alpha = std::sin(w0) / (value(idx_[9]) * Real(2));
        const Real inv_a0 = Real(1) / (alpha + Real(1));
        b0_ = (cos_w0 + Real(1)) * inv_a0 * Real(0.5);
        a1_ = cos_w0 * inv_a0 * Real(-2);
        a2_ = (Real(1) - alpha) * inv_a0;
        amp_[0] = db_to_amplitude(value(idx_[10]));
        amp_[1] = db_to_amplitude(value(idx_[11]));
        noise_amp_ = db_to_amplitude(value(idx_[12]));
        drive_ = db_to_amplitude(value(idx_[13]));
    }
    void render_block(Real* out, int n) override {
        const double sr = sample_rate_hz();
        Real peak = 0;
        for (int k = 0; k < n; ++k) {
            const long long i = t_ + k;
            const long long since = i - attack_samples_;
            const Real D = Real(since > 0 ? -kLn1000 * 1000.0 * double(since) / sr : 0.0);
            const Real A = Real(i < attack_samples_ ? double(i + 1) / attack_samples_ - 1.0 : 0.0);
            const Real pitch_env = std::exp(D / pitch_decay_) + A;
            Real osc = 0;
            for (int j = 0; j < 2; ++j) {
                const Real w = (pitch_env * mod_[j] + Real(1)) * fc_[j];
                // Exclusive running sum of w in double, wrapped to [0, 2 pi).
                acc_[j] += double(w);
                if (acc_[j] >= 2 * kPi || acc_[j] < 0) acc_[j] -= 2 * kPi * std::floor(acc_[j] / (2 * kPi));
                const Real phase = Real(acc_[j]) - w;
                const Real env = std::exp(D / decay_[j]) + A;
                osc += std::sin(phase) * (env * amp_[j]);
            }
            const Real noise_env = std::exp(D / noise_decay_) + A;
            const Real x = Real(rng_.uniform(-1.0, 1.0)) * noise_env;
            // Second difference, then the all-pole part of the high-pass (same order of roundings).
            Real acc = x - x1_ * Real(2) + x2_;
            if (i == 0) acc = x;
            else if (i == 1) acc = x - x1_ * Real(2);
            acc -= a1_ * y1_;
            if (i >= 2) acc -= a2_ * y2_;
            x2_ = x1_;
            x1_ = x;
            y2_ = y1_;
            y1_ = acc;
            const Real mix = osc + (acc * b0_) * noise_amp_;
            const Real y = std::tanh(mix * drive_);
            out[k] += y;
            peak = std::max(peak, std::fabs(y));
        }
        // Over once every envelope has decayed: the output stays under -100 dB for 50 ms.
        if (t_ > attack_samples_ && peak < Real(kSilence)) {
            quiet_samples_ += n;
            if (quiet_samples_ > 0.05 * sr) active_ = false;
        } else {
            quiet_samples_ = 0;
        }
    }

private:
    int idx_[14] = {};
    int attack_samples_ = 1;
    dsp::Rng rng_;
    double acc_[2] = {0, 0};
    Real fc_[2] = {}, mod_[2] = {}, decay_[2] = {1, 1}, amp_[2] = {};
    Real pitch_decay_ = 1, noise_decay_ = 1, b0_ = 0, a1_ = 0, a2_ = 0, noise_amp_ = 0, drive_ = 1;
    Real x1_ = 0, x2_ = 0, y1_ = 0, y2_ = 0;
    long long quiet_samples_ = 0;
};

// [SECTION] ks (ks.cpp's KsSynth::build, forward; oversample 1)

class KsVoice final : public StreamVoice {
public:
    static constexpr double kF0MinHz = 30;

protected:
    double release_seconds() const override { return 0.08; }  // note-off damps the string this fast
    bool on_load(std::string& error) override {
        f0_ = index_of("f0_hz");
        decay_ = index_of("decay_s");
        refl_ = index_of("exc_reflection");
        gain_db_ = index_of("exc_gain_db");
        mix_ = index_of("residual_mix");
        K_ = -1;
        while (index_of(("loop_tap" + std::to_string(K_ + 1)).c_str()) >= 0) ++K_;
        if (f0_ < 0 || decay_ < 0 || refl_ < 0 || gain_db_ < 0 || mix_ < 0 || K_ < 0 || K_ > 4) {
            error = "ks: the table is not the ks synth's";
            return false;
        }
        for (int k = 0; k <= K_; ++k) taps_[k] = index_of(("loop_tap" + std::to_string(k)).c_str());
        frames_ = preset_.table[size_t(decay_)].size;
        order_ = preset_.table[size_t(refl_)].size;
        const double sr = sample_rate_hz();
        f0_max_hz_ = std::max(kF0MinHz * 1.5, std::min({4200.0, sr / 8, 0.4 * sr}));
        max_delay_ = int(std::ceil(sr / kF0MinHz)) + 2;
        int cap = 1;
        while (cap < max_delay_ + K_ + 4) cap <<= 1;
        ring_.assign(size_t(cap), Real(0));
        mask_ = cap - 1;
        n_exc_max_ = std::max(1, int(std::lround(std::clamp(preset_.exc_ms, 1.0, 1000.0) * 1e-3 * sr)));
        burst_.assign(size_t(n_exc_max_), Real(0));
        log_frames_.assign(size_t(frames_), Real(0));
        splines_.resize(size_t(K_ + 2));
        for (auto& s : splines_) s.fit(log_frames_.data(), frames_);  // sizes them
        // Noise once per preset (ks.cpp draws it per render with the same seed).
        noise_.assign(size_t(n_exc_max_), Real(0));
        dsp::Rng rng(preset_.cfg.seed);
        const int n_exc = std::min(preset_.cfg.num_samples, n_exc_max_);
        for (int i = 0; i < n_exc; ++i) noise_[size_t(i)] = Real(rng.normal());
        if (n_exc > 0) {
            // noise -= noise.mean(): Eigen's sum, in the same (vectorised) order.
            const Eigen::Map<const Vec> nm(noise_.data(), n_exc);
            const Real mean = nm.mean();
            for (int i = 0; i < n_exc; ++i) noise_[size_t(i)] -= mean;
        }
        return true;
    }

    void on_start() override {
        std::fill(ring_.begin(), ring_.end(), Real(0));
        quiet_samples_ = 0;
        on_values_changed();
    }

    void on_values_changed() override {
        for (int k = 0; k <= K_; ++k) fit_log(splines_[size_t(k)], taps_[k]);
        fit_log(splines_[size_t(K_ + 1)], decay_);
        const double f = note_f0_hz() > 0 ? note_f0_hz() : double(value(f0_));
        f0_hz_ = Real(std::clamp(f, kF0MinHz, f0_max_hz_));
        n_exc_ = std::min(preset_.cfg.num_samples, n_exc_max_);
        level_ = db_to_amplitude(value(gain_db_));
        residual_mix_ = has_head() ? value(mix_) : Real(0);
        make_burst();
        controls_valid_ = false;
    }

    void render_block(Real* out, int n) override {
        const double sr = sample_rate_hz();
        const long long N = preset_.cfg.num_samples;
        Real peak = 0;
        for (int k = 0; k < n; ++k) {
            const long long t = t_ + k;
            // Time-varying loop controls until the preset's end, then held.
            if (t < N || !controls_valid_) {
                compute_controls(N > 1 ? double(std::min(t, N - 1)) * (frames_ - 1) / double(N - 1) : 0.0, sr);
                controls_valid_ = t >= N;
            }
            Real exc = 0;
            if (t < n_exc_) {
                exc = burst_[size_t(t)];
                if (residual_mix_ > 0) exc = exc * (Real(1) - residual_mix_) + residual(t) * residual_mix_;
            }
            // y[t] = exc[t] + sum_k c_k ((1 - frac) y[t - base - k] + frac y[t - base - k - 1])
            Real fb = 0;
            for (int j = 0; j <= K_; ++j) {
                const long long lag = t - base_ - j;
                fb += coef_[j] * ((Real(1) - frac_) * ring_[size_t(lag & mask_)] + frac_ * ring_[size_t((lag - 1) & mask_)]);
            }
            Real y = exc + fb;
            if (!std::isfinite(y)) y = 0;  // cannot happen with legal values; never let it loop
            ring_[size_t(t & mask_)] = y;
            out[k] += y;
            peak = std::max(peak, std::fabs(y));
        }
        if (t_ > n_exc_ && peak < Real(kSilence)) {
            quiet_samples_ += n;
            if (quiet_samples_ > max_delay_ * 2) active_ = false;  // two periods of the lowest string
        } else {
            quiet_samples_ = 0;
        }
    }

private:
    bool has_head() const {
        return preset_.excitation_head.size() > 0;
    }
    void fit_log(NaturalSpline& s, int param) {
        for (int i = 0; i < frames_; ++i) log_frames_[size_t(i)] = std::log(value(param, i));
        s.fit(log_frames_.data(), frames_);
    }

    // The coloured noise burst: noise through 1 / (1 + sum a_i z^-i) (reflection_to_direct), times
    // sqrt(prod(1 - k^2)) and the level.
    void make_burst() {
        Real a[12] = {};
        for (int m = 0; m < order_; ++m) {
            const Real km = value(refl_, m);
            Real next[12] = {};
            for (int i = 0; i < m; ++i) next[i] = a[i] + km * a[m - 1 - i];
            next[m] = km;
            std::memcpy(a, next, sizeof a);
        }
        Real norm = 1;
        for (int i = 0; i < order_; ++i) {
            const Real k = value(refl_, i);
            norm = i == 0 ? Real(1) - k * k : norm * (Real(1) - k * k);
        }
        const Real scale = std::sqrt(norm) * level_;
        for (int t = 0; t < n_exc_; ++t) {
            Real y = noise_[size_t(t)];
            for (int i = 1; i <= order_ && i <= t; ++i) y -= a[i - 1] * burst_raw(t - i);
            burst_[size_t(t)] = y;  // unscaled for the recursion
        }
        for (int t = 0; t < n_exc_; ++t) burst_[size_t(t)] *= scale;
    }
    Real burst_raw(int t) const { return burst_[size_t(t)]; }

    // The recording's head inverse-filtered through the current loop (ks.cpp's residual).
    Real residual(long long t) const {
        const Vec& h = preset_.excitation_head;
        const long long have = std::min<long long>(h.size(), n_exc_);
        if (t >= have) return 0;
        Real r = h[Eigen::Index(t)];
        for (int j = 0; j <= K_; ++j) {
            const long long l0 = t - base_ - j, l1 = l0 - 1;
            if (l0 >= 0) r -= coef_[j] * (Real(1) - frac_) * h[Eigen::Index(l0)];
            if (l1 >= 0) r -= coef_[j] * frac_ * h[Eigen::Index(l1)];
        }
        return r;
    }

    // ks.cpp: normalised taps, loop gain from the T60, phase delay of the loop filter at f0, and
    // the fractional delay of tap 0.
    void compute_controls(double position, double sr) {
        Real b[5], sum = 0;
        for (int k = 0; k <= K_; ++k) {
            b[k] = std::exp(splines_[size_t(k)].at(position));
            sum = k == 0 ? b[k] : sum + b[k];
        }
        for (int k = 0; k <= K_; ++k) b[k] = b[k] / sum;
        const Real decay = std::exp(splines_[size_t(K_ + 1)].at(position));
        const Real f0 = f0_hz_;
        const Real gain = std::exp(Real(-3 * std::log(10.0)) / (f0 * decay));
        const Real w0 = f0 * Real(2 * kPi / sr);
        Real re = 0, im = 0;
        for (int k = 0; k <= K_; ++k) {
            const double off = k - 0.5 * K_;
            re += b[k] * std::cos(w0 * Real(off));
            if (off != 0) im += b[k] * std::sin(w0 * Real(-off));
        }
        const Real tau = Real(0.5 * K_) - Real(std::atan2(double(im), double(re))) / w0;
        Real delay = Real(sr) / f0 - tau;
        delay = std::clamp(delay, Real(1), Real(max_delay_));
        if (!std::isfinite(delay)) delay = Real(max_delay_);
        base_ = int(std::floor(delay));
        frac_ = delay - Real(base_);
        for (int k = 0; k <= K_; ++k) coef_[k] = gain * b[k];
    }

    int f0_ = -1, decay_ = -1, refl_ = -1, gain_db_ = -1, mix_ = -1, K_ = 0, taps_[5] = {};
    int frames_ = 1, order_ = 1;
    double f0_max_hz_ = 2000;
    int max_delay_ = 1;
    std::vector<Real> ring_, burst_, noise_, log_frames_;
    long long mask_ = 0;
    int n_exc_max_ = 1, n_exc_ = 0;
    std::vector<NaturalSpline> splines_;  // taps 0..K, then decay
    Real f0_hz_ = 220, level_ = 0, residual_mix_ = 0;
    bool controls_valid_ = false;
    int base_ = 1;
    Real frac_ = 0, coef_[5] = {};
    long long quiet_samples_ = 0;
};

}  // namespace

std::unique_ptr<StreamVoice> make_stream_voice(const std::string& synth) {
    if (synth == "sine") return std::make_unique<SineVoice>();
    if (synth == "drum808") return std::make_unique<Drum808Voice>();
    if (synth == "drum") return make_stream_drum_voice();
    if (synth == "ks") return std::make_unique<KsVoice>();
    if (synth == "ddsp") return make_stream_ddsp_voice();
    return nullptr;
}

}  // namespace ddsp::synth
