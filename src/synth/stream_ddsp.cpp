// The `ddsp` harmonic-plus-noise voice: DdspSynth::build (ddsp_synth.h) played note by note on the
// audio thread, through synth::HarmonicNoiseStream (stream_harmonic_noise.h), the synthesis code
// nn::StreamDecoder runs too.
//
// Same signal as offline: per control frame g (frame-major values, hop = round(sr / 250))
//   harmonics  weights_k = harmonic_distribution[g][k] / (k + 1) (the 1/k slope), partials at or
//              above Nyquist dropped, the rest normalised to sum amplitude[g]; f0 = the preset's f0
//              frame, clamped to [1 Hz, 0.49 sr]
//   noise      uniform white noise from Rng(seed) through frame g's noise_magnitudes FIR
//   reverb     dry + wet * (dry * ir), ir = Rng(seed ^ 0x9E3779B97F4A7C15) noise (first tap 0) times
//              exp(-t / reverb_decay_s) over min(num_samples, 4 s) taps, unit energy;
//              wet = 10^(reverb_wet_db / 20)
// A note at the preset's pitch, started at sample 0, equals `ddsp render` of the preset over
// [0, num_samples) (tests/test_stream_ddsp.cpp, native float: 3e-7 of the peak for the default
// preset, 5e-6 for one with varying frames, a vibrato and a 0.3 s reverb: float sums in another
// order; the same at 48 kHz against the resampled render after the converter's 102 samples).
// After num_samples the controls hold the last frame: a sustained note, until note-off (50 ms fade).
// start(f0_hz > 0) scales the preset's f0 contour so its median is f0_hz (as DdspSynth::set_pitch_hz
// with follow_analysis); f0_hz <= 0 plays the preset's own frames.
//
// Latency: none. A live decoder must wait for the next frame (and the noise FIR's reach) before a
// sample is final; a preset's frames are all known, so the voice pushes frames ahead of the
// playhead until the next hop is final, renders that hop (dry + reverb) and plays it out.
//
// Live changes: frame controls are read when a frame is pushed, up to 2.5 hops + N/2 ahead of the
// playhead (N = the noise FIR's 128 taps), so a slider is heard within ~15 ms (the test measures the
// new level reached 20 ms after a change); only the reverb needs work on a change: the wet gain glides
// over a hop, a decay change rebuilds the impulse response at the next hop boundary (at most twice
// per 5 ms glide; the IR is swapped, not cross-faded). on_values_changed itself is O(1).
//
// Reverb truncation: the impulse response stops where exp(-t / decay) falls below 1e-6 (-120 dB):
// 13.8 decay_s (0.69 s at the default 0.05 s instead of the clip's 4 s). The dropped tail is
// below -120 dB of the wet path; the energy normalisation uses the kept taps (the rest add < 1e-12).
//
// Cost (native -O3 -march=native, one voice, measured by tests/test_stream_ddsp.cpp at 16 kHz with
// 100 harmonics and 65 bands, 4 s presets): ~3 ms per second of audio for the default preset
// (220 Hz, 0.05 s reverb: 0.69 s of IR kept), ~7-9 ms per second with a 0.3-0.5 s reverb (the whole
// 4 s IR: 1000 partitions of 65 bins). Eight voices at the worst: ~70 ms per second, 7 % of a core;
// most of it is the reverb. Nothing per frame is tabulated ahead: a frame's normalised harmonic
// amplitudes (H multiply-adds) and noise FIR spectrum (two small FFTs) are made when it is pushed,
// once per hop, never per sample; tables for every frame would cost each of the engine's 12 voice
// slots megabytes and a full recompute on every slider glide.
// Memory per voice: ~6 floats per IR tap (IR noise and scratch, IR spectra, input spectra): 1.5 MB
// for a 4 s preset at 16 kHz, 4.6 MB at 48 kHz. Twelve slots of the latter would not fit the
// worklet's fixed 64 MB; one reverb on the engine's mix (it is linear and the same for every voice)
// is the way out if 48 kHz ddsp presets matter.
#include "synth/stream.h"
#include "synth/stream_harmonic_noise.h"

#include "dsp/features.h"
#include "dsp/rng.h"

#include <algorithm>
#include <cmath>

namespace ddsp::synth {

namespace {

class DdspVoice final : public StreamVoice {
public:
    static constexpr double kFrameRateHz = 250;        // DdspSynthParams::frame_rate_hz
    static constexpr double kMaxReverbSeconds = 4;     // DdspSynthParams::max_reverb_s
    static constexpr double kDefaultF0Hz = 220;        // DdspSynthParams::default_f0_hz
    static constexpr double kReverbFloor = 1e-6;       // IR truncation: exp(-t / decay) below -120 dB
    static constexpr uint64_t kIrSeedMix = 0x9E3779B97F4A7C15ull;

protected:
    double release_seconds() const override { return 0.05; }

    bool on_load(std::string& error) override {
        amp_ = index_of("amplitude");
        dist_ = index_of("harmonic_distribution");
        noise_ = index_of("noise_magnitudes");
        decay_ = index_of("reverb_decay_s");
        wet_ = index_of("reverb_wet_db");
        if (amp_ < 0 || dist_ < 0 || noise_ < 0 || decay_ < 0 || wet_ < 0) {
            error = "ddsp: the table is not the ddsp synth's";
            return false;
        }
        const double sr = sample_rate_hz();
        const int n = preset_.cfg.num_samples;
        hop_ = dsp::frame_hop(sr, kFrameRateHz);
        frames_ = preset_.table[size_t(amp_)].size;
        const int dist_size = preset_.table[size_t(dist_)].size, noise_size = preset_.table[size_t(noise_)].size;
        if (frames_ != std::max(1, dsp::frame_count(n, hop_)) || dist_size % frames_ != 0 || noise_size % frames_ != 0) {
            error = "ddsp: the table's frames do not match the preset's duration";
            return false;
        }
        harmonics_ = dist_size / frames_;
        bands_ = noise_size / frames_;

        // f0 per frame as DdspSynth::f0_frames_hz leaves it: non-finite -> the default, clamped.
        f0_frames_.assign(size_t(frames_), Real(1));
        const Vec& given = preset_.f0_frames_hz;
        for (int f = 0; f < frames_; ++f) {
            double v = given.size() > 0 ? double(given[std::min<Eigen::Index>(f, given.size() - 1)])
                                        : (preset_.pitch_hz > 0 ? preset_.pitch_hz : kDefaultF0Hz);
            if (!std::isfinite(v)) v = kDefaultF0Hz;
            f0_frames_[size_t(f)] = clamp_f0_hz(v, sr);
        }
        std::vector<Real> sorted = f0_frames_;
        std::sort(sorted.begin(), sorted.end());
        const size_t m = sorted.size();
        median_f0_hz_ = m % 2 ? double(sorted[m / 2]) : 0.5 * (double(sorted[m / 2 - 1]) + double(sorted[m / 2]));

        slope_.resize(size_t(harmonics_));
        for (int k = 0; k < harmonics_; ++k) slope_[size_t(k)] = Real(1.0 / (k + 1));
        amps_.assign(size_t(harmonics_), Real(0));
        mags_.assign(size_t(bands_), Real(0));
        out_buf_.assign(size_t(hop_), Real(0));

        // The reverb's noise, drawn as DdspSynth::build draws it (no draw for the masked first tap).
        ir_taps_ = std::max(1, std::min(n, int(std::lround(kMaxReverbSeconds * sr))));
        ir_noise_.assign(size_t(ir_taps_), Real(0));
        dsp::Rng ir_rng(preset_.cfg.seed ^ kIrSeedMix);
        for (int i = 1; i < ir_taps_; ++i) ir_noise_[size_t(i)] = Real(ir_rng.uniform(-1, 1));
        ir_.assign(size_t(ir_taps_), Real(0));

        HarmonicNoiseConfig c;
        c.sample_rate_hz = sr;
        c.hop = hop_;
        c.harmonics = harmonics_;
        c.noise_bands = bands_;
        c.noise_seed = preset_.cfg.seed;
        c.max_reverb_taps = ir_taps_;
        if (!synth_.init(c, error)) {
            error = "ddsp: " + error;
            return false;
        }
        synth_.set_clip_end(n);
        update_reverb();
        return true;
    }

    void on_start() override {
        pitch_scale_ = note_f0_hz() > 0 && median_f0_hz_ > 0 ? note_f0_hz() / median_f0_hz_ : 1.0;
        if (value(decay_) != decay_s_) update_reverb();
        wet_gain_ = wet_gain_of(value(wet_));
        synth_.set_wet_gain(wet_gain_, /*ramp=*/false);
        synth_.reset(0);
        out_pos_ = hop_;  // nothing rendered yet
    }

    // O(1): frame controls are read when their frame is pushed; the reverb waits for a hop boundary.
    void on_values_changed() override {
        if (value(decay_) != decay_s_) reverb_dirty_ = true;
        const Real wet = wet_gain_of(value(wet_));
        if (wet != wet_gain_) {
            wet_gain_ = wet;
            synth_.set_wet_gain(wet, /*ramp=*/true);
        }
    }

    void render_block(Real* out, int n) override {
        int done = 0;
        while (done < n) {
            if (out_pos_ == hop_) render_hop();
            const int m = std::min(n - done, hop_ - out_pos_);
            const Real* src = out_buf_.data() + out_pos_;
            for (int i = 0; i < m; ++i) out[done + i] += src[i];
            done += m;
            out_pos_ += m;
        }
    }

private:
    static Real wet_gain_of(Real wet_db) { return std::exp(wet_db * Real(std::log(10.0) / 20)); }

    // The next hop: push frames until it is final (no latency), then dry + reverb.
    void render_hop() {
        if (reverb_dirty_) update_reverb();
        while (synth_.final_samples() < synth_.next_output_sample() + hop_) push_next_frame();
        synth_.emit(out_buf_.data());
        out_pos_ = 0;
    }

    // Frame frames_pushed() of the preset (the last one held past its end), from the current values.
    void push_next_frame() {
        const int g = int(std::min<long long>(synth_.frames_pushed(), frames_ - 1));
        const Real f0 = pitch_scale_ == 1.0 ? f0_frames_[size_t(g)]
                                            : clamp_f0_hz(double(f0_frames_[size_t(g)] * Real(pitch_scale_)), sample_rate_hz());
        const int h0 = g * harmonics_, b0 = g * bands_;
        for (int k = 0; k < harmonics_; ++k) amps_[size_t(k)] = value(dist_, h0 + k) * slope_[size_t(k)];
        normalise_harmonics(value(amp_, g), f0, sample_rate_hz(), amps_.data(), harmonics_);
        for (int k = 0; k < bands_; ++k) mags_[size_t(k)] = value(noise_, b0 + k);
        synth_.push_frame(f0, amps_.data(), mags_.data());
    }

    // ir = noise * exp(-t / decay), truncated below kReverbFloor, at unit energy (the wet gain is
    // applied by the stream). No allocation.
    void update_reverb() {
        decay_s_ = value(decay_);
        const double sr = sample_rate_hz();
        const double keep = std::ceil(-std::log(kReverbFloor) * double(decay_s_) * sr) + 1;
        const int taps = int(std::min<double>(ir_taps_, keep));
        double energy = 0;
        for (int i = 0; i < taps; ++i) {
            const Real env = std::exp(Real(-i / sr) / decay_s_);  // DdspSynth::build's float envelope
            const Real x = ir_noise_[size_t(i)] * env;
            ir_[size_t(i)] = x;
            energy += double(x) * double(x);
        }
        const Real scale = Real(1.0 / std::sqrt(energy + 1e-20));
        for (int i = 0; i < taps; ++i) ir_[size_t(i)] *= scale;
        synth_.set_reverb_ir(ir_.data(), taps);
        reverb_dirty_ = false;
    }

    int amp_ = -1, dist_ = -1, noise_ = -1, decay_ = -1, wet_ = -1;
    int hop_ = 1, frames_ = 1, harmonics_ = 0, bands_ = 0, ir_taps_ = 1;
    std::vector<Real> f0_frames_;  // clamped, per control frame
    double median_f0_hz_ = kDefaultF0Hz, pitch_scale_ = 1;
    std::vector<Real> slope_, amps_, mags_;  // 1 / (k + 1); one frame's controls
    std::vector<Real> ir_noise_, ir_;
    Real decay_s_ = 0, wet_gain_ = 1;        // the values the reverb was last set from
    bool reverb_dirty_ = false;
    HarmonicNoiseStream synth_;
    std::vector<Real> out_buf_;  // hop: the rendered hop being played out
    int out_pos_ = 0;
};

}  // namespace

std::unique_ptr<StreamVoice> make_stream_ddsp_voice() { return std::make_unique<DdspVoice>(); }

}  // namespace ddsp::synth
