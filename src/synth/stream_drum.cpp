// The modal drum's streaming kernel: drum.cpp's DrumVoiceNode forward, sample by sample. The band
// noises are made once per preset (drum_noise_bands, the same period and seed as the offline
// render) and loop after it; the recording's first 10 ms (StreamPreset::excitation_head) is the
// transient. Keys transpose every mode by the ratio that takes the first to the note
// (DrumSynth::set_pitch_hz).
#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "synth/drum.h"
#include "synth/stream.h"

namespace ddsp::synth {

namespace {

constexpr double kLn1000 = 6.907755278982137;
constexpr double kSilence = 1e-5;  // -100 dB, as the other kernels

// The band noises depend only on (period, rate, seed), so the voices of one preset (the live
// engine has 8) share one copy: at 44.1 kHz a 1.5 s drum's is 4 MB, and eight copies grew the
// worklet's memory by 34 MB (the soak test, tests/browser/soak.mjs). Kept while a voice holds it.
std::shared_ptr<const Arr> shared_noise_bands(int n, double sample_rate_hz, uint64_t seed) {
    static std::mutex mutex;
    static std::weak_ptr<const Arr> last;
    static int last_n = 0;
    static double last_rate = 0;
    static uint64_t last_seed = 0;
    std::lock_guard<std::mutex> lock(mutex);
    std::shared_ptr<const Arr> noise = last.lock();
    if (noise && last_n == n && last_rate == sample_rate_hz && last_seed == seed) return noise;
    noise = std::make_shared<const Arr>(drum_noise_bands(n, sample_rate_hz, seed));
    last = noise;
    last_n = n, last_rate = sample_rate_hz, last_seed = seed;
    return noise;
}

class DrumVoice final : public StreamVoice {
public:
    void release() override { released_ = true; }  // a hit rings out

protected:
    double release_seconds() const override { return 0.005; }

    bool on_load(std::string& error) override {
        const char* names[] = {"mode_freq_hz",   "mode_decay_ms",  "mode_gain_db",  "glide_depth",
                               "glide_decay_ms", "band_gain_db",   "band_attack_ms", "band_decay_ms",
                               "drive_db",       "transient_mix"};
        for (int i = 0; i < kInputs; ++i) {
            idx_[i] = index_of(names[i]);
            if (idx_[i] < 0) {
                error = std::string("drum: the table lacks ") + names[i];
                return false;
            }
        }
        const double sr = sample_rate_hz();
        const int n = std::max(1, preset_.cfg.num_samples);
        noise_ = shared_noise_bands(n, sr, preset_.cfg.seed);
        // The transient's window, as DrumVoiceNode's.
        const Vec& head = preset_.excitation_head;
        const int n_tr = std::min<int>({n, int(head.size()), int(std::lround(kDrumTransientMs * 1e-3 * sr))});
        window_head_.assign(size_t(std::max(0, n_tr)), 0);
        window_.assign(window_head_.size(), 0);
        const int hold = n_tr / 2;
        for (int i = 0; i < n_tr; ++i) {
            window_[size_t(i)] = Real(i < hold ? 1.0 : 0.5 + 0.5 * std::cos(kPi * (i - hold + 1) / (n_tr - hold + 1)));
            window_head_[size_t(i)] = head[i];
        }
        return true;
    }

    void on_start() override {
        for (double& a : acc_) a = 0;
        quiet_samples_ = 0;
        on_values_changed();
    }

    void on_values_changed() override {
        const double sr = sample_rate_hz();
        const Real c = Real(2 * kPi / sr);
        double ratio = 1;
        if (note_f0_hz() > 0) ratio = note_f0_hz() / double(value(idx_[0], 0));
        for (int k = 0; k < kDrumModes; ++k) {
            const Real f = note_f0_hz() > 0 ? Real(std::min(double(value(idx_[0], k)) * ratio, 0.45 * sr)) : value(idx_[0], k);
            fc_[k] = f * c;
            decay_[k] = value(idx_[1], k);
            amp_[k] = db_to_amplitude(value(idx_[2], k));
        }
        glide_depth_ = value(idx_[3]);
        glide_decay_ = value(idx_[4]);
        for (int b = 0; b < kDrumBands; ++b) {
            band_amp_[b] = db_to_amplitude(value(idx_[5], b));
            attack_[b] = value(idx_[6], b);
            band_decay_[b] = value(idx_[7], b);
        }
        drive_ = db_to_amplitude(value(idx_[8]));
        mix_ = value(idx_[9]);
    }

    void render_block(Real* out, int n) override {
        const double sr = sample_rate_hz();
        const long long period = noise_->rows();
        Real peak = 0;
        for (int j = 0; j < n; ++j) {
            const long long i = t_ + j;
            const Real D = Real(-kLn1000 * 1000.0 * double(i) / sr);
            const Real t_ms = Real(1000.0 * double(i) / sr);
            const Real ratio = std::exp(D / glide_decay_) * glide_depth_ + Real(1);
            Real s = 0;
            for (int k = 0; k < kDrumModes; ++k) {
                const Real phase = Real(acc_[k]);  // exclusive running sum, wrapped in double
                acc_[k] += double(ratio * fc_[k]);
                if (acc_[k] >= 2 * kPi) acc_[k] -= 2 * kPi * std::floor(acc_[k] / (2 * kPi));
                s += std::exp(D / decay_[k]) * std::sin(phase) * amp_[k];
            }
            const long long row = i % period;
            for (int b = 0; b < kDrumBands; ++b)
                s += (Real(1) - std::exp(t_ms * (Real(-1) / attack_[b]))) * std::exp(D / band_decay_[b]) *
                     (*noise_)(Eigen::Index(row), b) * band_amp_[b];
            Real y = std::tanh(s * drive_) / drive_;
            if (i < (long long)window_.size()) y += mix_ * window_[size_t(i)] * (window_head_[size_t(i)] - y);
            out[j] += y;
            peak = std::max(peak, std::fabs(y));
        }
        // Over once every envelope has decayed: the output stays under -100 dB for 50 ms.
        if (t_ > (long long)window_.size() && peak < Real(kSilence)) {
            quiet_samples_ += n;
            if (quiet_samples_ > 0.05 * sr) active_ = false;
        } else {
            quiet_samples_ = 0;
        }
    }

private:
    static constexpr int kInputs = 10;
    static Real db_to_amplitude(Real db) { return std::exp(db * Real(std::log(10.0) / 20.0)); }

    int idx_[kInputs] = {};
    std::shared_ptr<const Arr> noise_;  // (period x bands), shared by the preset's voices
    std::vector<Real> window_, window_head_;
    double acc_[kDrumModes] = {};
    Real fc_[kDrumModes] = {}, decay_[kDrumModes] = {}, amp_[kDrumModes] = {};
    Real band_amp_[kDrumBands] = {}, attack_[kDrumBands] = {}, band_decay_[kDrumBands] = {};
    Real glide_depth_ = 0, glide_decay_ = 1, drive_ = 1, mix_ = 0;
    long long quiet_samples_ = 0;
};

}  // namespace

std::unique_ptr<StreamVoice> make_stream_drum_voice() { return std::make_unique<DrumVoice>(); }

}  // namespace ddsp::synth
