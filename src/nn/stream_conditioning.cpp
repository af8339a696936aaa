#include "nn/stream_conditioning.h"

#include "dsp/features.h"
#include "dsp/fft.h"

#include <algorithm>
#include <cmath>

namespace ddsp::nn {

namespace {

bool fail(std::string& error, const char* msg) {
    error = msg;
    return false;
}

constexpr double kFloorDb = -120.0;      // loudness floor, as offline
constexpr double kSilentPeakDb = -100.0;  // offline leaves a clip with a lower peak unscaled
constexpr Real kMaxSample = Real(1000);   // clamp: keeps every sum finite in float

// Largest power of two (>= 64) whose length is at most 32 ms.
int default_window(double sample_rate_hz) {
    const double want = 0.032 * sample_rate_hz * (1.0 + 1e-9);
    int n = 64;
    while (n < (1 << 20) && n * 2.0 <= want) n *= 2;
    return n;
}

// One-pole coefficient for a time constant in frames (0: follow at once).
double one_pole(double time_s, double frame_s) { return time_s > 0 ? std::exp(-frame_s / time_s) : 0.0; }

}  // namespace

bool StreamConditioner::init(double sample_rate_hz, const ConditioningParams& params, std::string& error) {
    return init(sample_rate_hz, params, StreamOptions(), error);
}

bool StreamConditioner::init(double sample_rate_hz, const ConditioningParams& params, const StreamOptions& options,
                             std::string& error) {
    if (!(sample_rate_hz >= 1000) || !(sample_rate_hz <= 1e6)) return fail(error, "stream: sample rate outside 1 kHz..1 MHz");
    if (!(params.frame_rate_hz > 0)) return fail(error, "stream: frame_rate_hz must be positive");
    if (!(params.fit_peak_loudness_lo_db <= params.fit_peak_loudness_hi_db))
        return fail(error, "stream: need fit_peak_loudness_lo_db <= fit_peak_loudness_hi_db");
    if (options.window != 0 && (options.window < 64 || !dsp::is_power_of_two(options.window)))
        return fail(error, "stream: window must be a power of two >= 64 (or 0)");
    if (options.on_frames < 1 || options.off_frames < 1) return fail(error, "stream: on_frames and off_frames must be >= 1");
    if (!(options.stay_confidence >= 0 && options.stay_confidence <= 1))
        return fail(error, "stream: stay_confidence must be in 0..1");
    if (!std::isfinite(options.gate_loudness_db) || !(options.release_db_per_s >= 0) ||
        !(options.gain_down_s >= 0) || !(options.gain_up_s >= 0) || std::isnan(options.initial_peak_db))
        return fail(error, "stream: level options must be finite and non-negative");
    if (options.queue_frames < 1) return fail(error, "stream: queue_frames must be >= 1");

    sample_rate_hz_ = sample_rate_hz;
    params_ = params;
    options_ = options;
    hop_ = dsp::frame_hop(sample_rate_hz, params.frame_rate_hz);
    window_ = options.window > 0 ? options.window : default_window(sample_rate_hz);

    // YIN: the longest lag is window / 2 - 1 (ceil(rate / f0_min) lands on it), the integration window
    // one longest period (offline's default), so the segment is window - 1 samples and, centred,
    // reads window / 2 - 1 samples ahead: the same as the loudness window.
    yin_params_ = dsp::YinParams();
    yin_params_.hop = hop_;
    yin_params_.f0_min_hz = sample_rate_hz / (window_ / 2 - 1.5);
    yin_params_.f0_max_hz = options.f0_max_hz;
    if (!yin_.init(sample_rate_hz, yin_params_, error)) return false;
    yin_segment_ = yin_.segment_length();

    loudness_params_ = dsp::LoudnessParams();
    loudness_params_.hop = hop_;
    loudness_params_.fft_size = window_;
    loudness_params_.floor_db = kFloorDb;
    if (!loudness_.init(sample_rate_hz, loudness_params_, error)) return false;
    magnitude_.assign(window_ / 2 + 1, 0.0);

    const int yin_ahead = yin_segment_ - 1 - yin_segment_ / 2;
    const int loud_ahead = window_ - 1 - window_ / 2;
    latency_ = std::max(yin_ahead, loud_ahead);
    const int behind = std::max(yin_segment_ / 2, window_ / 2);  // samples before the centre
    ring_size_ = latency_ + behind + 1;
    ring_.assign(2 * size_t(ring_size_), Real(0));
    queue_.assign(size_t(options.queue_frames), StreamFrame());

    fallback_f0_hz_ = params.unvoiced_f0_hz > 0 ? params.unvoiced_f0_hz : 110.0;
    const double frame_s = hop_ / sample_rate_hz;
    release_db_per_frame_ = options.release_db_per_s * frame_s;
    gain_down_coef_ = one_pole(options.gain_down_s, frame_s);
    gain_up_coef_ = one_pole(options.gain_up_s, frame_s);
    reset();
    return true;
}

void StreamConditioner::reset() {
    std::fill(ring_.begin(), ring_.end(), Real(0));
    queue_head_ = queue_count_ = 0;
    samples_in_ = next_frame_ = dropped_ = 0;
    voiced_ = false;
    on_count_ = off_count_ = 0;
    have_f0_ = false;
    held_f0_hz_ = fallback_f0_hz_;
    peak_db_ = options_.initial_peak_db < 1e8 ? options_.initial_peak_db : params_.fit_peak_loudness_lo_db;
    gain_db_ = 0.0;
}

int StreamConditioner::push(const Real* x, int n) {
    if (!x || n <= 0 || ring_size_ == 0) return 0;
    int ready = 0;
    for (int i = 0; i < n; ++i) {
        Real v = x[i];
        v = std::isfinite(v) ? std::clamp(v, -kMaxSample, kMaxSample) : Real(0);
        const int pos = int(samples_in_ % ring_size_);
        ring_[pos] = v;
        ring_[pos + ring_size_] = v;
        // Frame next_frame_ is complete once sample next_frame_ * hop + latency has arrived.
        if (samples_in_ == next_frame_ * hop_ + latency_) {
            analyse_frame();
            ++next_frame_;
            ++ready;
        }
        ++samples_in_;
    }
    return ready;
}

bool StreamConditioner::pop(StreamFrame& out) {
    if (queue_count_ == 0) return false;
    out = queue_[queue_head_];
    queue_head_ = (queue_head_ + 1) % int(queue_.size());
    --queue_count_;
    return true;
}

void StreamConditioner::analyse_frame() {
    // [SECTION] Windows out of the ring: sample t lives at t mod ring_size_, and the mirror makes any
    // slice of up to ring_size_ samples contiguous. Times before 0 read the zeros the ring starts with.
    const int64_t centre = next_frame_ * hop_;
    auto slice = [&](int64_t start) {
        const int64_t m = ((start % ring_size_) + ring_size_) % ring_size_;
        return ring_.data() + m;
    };
    const dsp::YinFrame yf = yin_.analyse(slice(centre - yin_segment_ / 2));
    const double raw_db = loudness_.analyse(slice(centre - window_ / 2));

    // [SECTION] Spectral centroid from the loudness FFT (magnitudes as dsp::spectral_features)
    const Complex* spec = loudness_.spectrum();
    const int bins = int(magnitude_.size());
    for (int k = 0; k < bins; ++k) magnitude_[k] = std::abs(std::complex<double>(spec[k]));
    double centroid_hz = 0.0;
    dsp::spectrum_centroid_and_flatness(magnitude_.data(), bins, sample_rate_hz_ / window_, -100.0, &centroid_hz,
                                        nullptr);

    // [SECTION] Voicing with hysteresis
    const bool above_gate = raw_db > options_.gate_loudness_db;
    const bool strong = yf.voiced && above_gate;
    const bool weak = !yf.silent && above_gate && yf.confidence >= options_.stay_confidence;
    if (!voiced_) {
        on_count_ = strong ? on_count_ + 1 : 0;
        if (on_count_ >= options_.on_frames) {
            voiced_ = true;
            off_count_ = 0;
        }
    } else {
        off_count_ = weak || strong ? 0 : off_count_ + 1;
        if (off_count_ >= options_.off_frames) {
            voiced_ = false;
            on_count_ = 0;
        }
    }
    if (voiced_ && yf.voiced && std::isfinite(yf.f0_hz) && yf.f0_hz > 0) {
        held_f0_hz_ = yf.f0_hz;
        have_f0_ = true;
    }

    // [SECTION] Causal level fitting
    if (params_.fit_level) {
        // Attack on anything above the gate (a cough counts: erring quiet is safe); release only
        // while a note is voiced, so room noise in a pause never raises the gain.
        if (above_gate) peak_db_ = std::max(raw_db, peak_db_);
        if (voiced_) peak_db_ = std::max(raw_db, peak_db_ - release_db_per_frame_);
        double target_db = 0.0;
        if (peak_db_ > kSilentPeakDb) {  // as offline: silence stays as it is
            if (peak_db_ > params_.fit_peak_loudness_hi_db) target_db = params_.fit_peak_loudness_hi_db - peak_db_;
            if (peak_db_ < params_.fit_peak_loudness_lo_db) target_db = params_.fit_peak_loudness_lo_db - peak_db_;
        }
        const double coef = target_db < gain_db_ ? gain_down_coef_ : gain_up_coef_;
        gain_db_ = target_db + coef * (gain_db_ - target_db);
    } else {
        gain_db_ = 0.0;
    }

    // [SECTION] The frame (every field finite)
    StreamFrame fr;
    fr.index = next_frame_;
    fr.voiced = voiced_;
    fr.f0_hz = have_f0_ ? held_f0_hz_ : fallback_f0_hz_;
    fr.raw_loudness_db = raw_db;
    // A frame at the floor stays there (offline would lift it by a positive gain).
    fr.loudness_db = raw_db <= kFloorDb ? kFloorDb : std::max(kFloorDb, raw_db + gain_db_);
    fr.centroid_hz = std::isfinite(centroid_hz) ? centroid_hz : 0.0;
    fr.confidence = std::isfinite(yf.confidence) ? yf.confidence : 0.0;
    fr.gain_db = gain_db_;

    const int cap = int(queue_.size());
    if (queue_count_ == cap) {  // the caller is not popping: keep the newest
        queue_head_ = (queue_head_ + 1) % cap;
        --queue_count_;
        ++dropped_;
    }
    queue_[(queue_head_ + queue_count_) % cap] = fr;
    ++queue_count_;
}

}  // namespace ddsp::nn
