// The DDSP decoder (nn/decoder.h) run frame by frame on an audio thread: one frame of controls in,
// hop samples out, with the GRU state, the oscillator phase, the noise filter's overlap-add and
// the reverb's tail carried from one call to the next. Forward only, no tape, no allocation after
// init(), no exceptions, no threads; for the AudioWorklet (wasm) and `ddsp stream` (native).
//
// Same maths as the offline path (Decoder::forward), in the same order where it matters, so the
// stream equals the offline audio delayed by latency_samples() (tests/test_stream_decoder.cpp). The
// network is here; the harmonics, noise and reverb are synth::HarmonicNoiseStream
// (synth/stream_harmonic_noise.h), the same code the `ddsp` synth's streaming voice plays:
//   network    per frame: input MLPs (f0, loudness, [centroid]; z's MLP once per set_z), one GRU
//              step, output MLP + Linear, exp_sigmoid -> amplitude, distribution, noise bands
//   harmonics  frame f sits on sample f * hop; segment [f hop, (f + 1) hop) interpolates frames f
//              and f + 1 (so it is rendered when frame f + 1 arrives). As offline: f0 clamped to
//              [1 Hz, 0.49 sr], partials at or above Nyquist dropped per frame before normalising and
//              silenced per sample; phase = running sum of 2 pi f0 / sr in double, wrapped each
//              sample; one sin and cos per sample, the partials by the Chebyshev recurrence
//              sin((k+1)p) = 2 cos(p) sin(kp) - sin((k-1)p) (one multiply-add per partial and sample,
//              exact to ~1e-12, no drift: nothing to renormalise).
//   noise      the offline white noise (dsp::Rng(noise_seed), uniform [-1, 1], drawn in sample
//              order) cut into the offline blocks (block f = [f hop - hop/2, (f+1) hop - hop/2), the
//              first from 0); each block is convolved by FFT with frame f's FIR (inverse real FFT of
//              the bands, Hann, rotated to tap N/2, N = 2 (bands - 1)) and overlap-added N/2 early.
//   reverb     dry + dry * ir (first tap 0), uniformly partitioned overlap-save FFT convolution with
//              partitions of hop taps, one block per frame: no latency of its own.
//
// Latency: output sample j of the stream is offline sample j - latency_samples(), with
//   latency_samples() = max(hop, hop/2 + N/2)        (N/2 term only with use_noise)
//     hop         linear interpolation toward frame f + 1: segment f waits for the next frame
//     hop/2 + N/2 the noise block of frame f + 1 starts hop/2 before sample (f + 1) hop and its FIR
//                 reaches N/2 samples further back
//   The two overlap, so at the default 16 kHz / 250 Hz / 65 bands: max(64, 32 + 64) = 96 samples
//   (6 ms). The first latency_samples() outputs (before offline sample 0) are 0.
// End of stream: offline, the last frame is held to the end of the clip, its noise block runs to
// the end and no noise exists past the end; a stream has no end, so the last ~max(hop, hop/2 + N/2)
// samples of an offline clip are the one place the two differ (exact_offline_samples()). Push
// frames past the end of a clip to flush it.
//
// Cost at the default size (60 harmonics, 64-unit GRU and MLPs, 65 bands, 0.5 s reverb at 16 kHz):
// per frame ~0.1 M multiply-adds for the network, hop x (live partials) multiply-adds and hop
// sin/cos for the oscillators, one 128-point and three 256-point real FFTs for the noise, two
// 128-point FFTs + 125 partitions x 65 bins of complex multiply-adds for the reverb. Measured for
// the shipped model (test_stream_decoder, native -O3): ~4.6 ms per second of audio (~18 us per
// 64-sample frame, real-time factor ~0.005); the same test in wasm (em++ 3.1.6 -O3 -msimd128, node
// 20): ~10 ms per second. All hot loops are plain loops over contiguous memory (no Eigen at run
// time), so they vectorise in wasm too. Output is at the model's rate (sample_rate_hz()): resampling
// to a device rate is the caller's.
//
//   nn::StreamDecoder sd;
//   if (!sd.init(model, error)) ...               // copies the weights, sizes every buffer
//   sd.set_z(z.data(), z_dims);
//   for (each frame) sd.push_frame(f0_hz, loudness_db, centroid_hz, out);   // writes sd.hop() samples
#pragma once

#include "dsp/types.h"
#include "nn/decoder.h"
#include "synth/stream_harmonic_noise.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ddsp::nn {

class Autoencoder;

struct StreamDecoderStats {
    long long frames = 0;              // push_frame calls since reset()
    long long samples = 0;             // samples written since reset()
    long long sanitised_controls = 0;  // non-finite or out-of-range controls (and z values) replaced
    long long non_finite_resets = 0;   // GRU state or output samples that were not finite and were zeroed
};

class StreamDecoder {
public:
    // Copies the decoder's weights and config; sizes every buffer; reset(). False with a one-line
    // error if the config or the weights do not fit (use_centroid is fine: pass centroid per frame).
    bool init(const Decoder& decoder, std::string& error);
    bool init(const Autoencoder& model, std::string& error);  // its decoder
    // The same from a config and decoder weights by name (as Decoder::state() gives them).
    bool init(const DecoderConfig& config, const std::map<std::string, Arr>& weights, std::string& error);

    // GRU state 0, oscillator phase 0, noise generator reseeded (the offline sequence from its
    // start), overlap-add and reverb buffers 0, frame count 0. Keeps z and the output gain.
    void reset();
    // z_dims values (missing ones 0, non-finite ones 0, clamped to +-1000), used from the next frame
    // on. No-op for a model without z.
    void set_z(const Real* z, int n);
    // Multiplies the output (Conditioning::gain_db's undo: 10^(-gain_db / 20)). Default 1.
    void set_output_gain(Real gain) { output_gain_ = gain; }

    // One frame of controls (the offline decoder's per-frame inputs; centroid_hz is read only with
    // use_centroid); writes hop() samples at the model's rate. Non-finite controls are replaced
    // (f0 NaN -> 0 Hz, f0 clamped to [0, 1e9] Hz, loudness NaN -> -120 dB, clamped to +-1000 dB) so
    // no NaN reaches the state or the output.
    void push_frame(double f0_hz, double loudness_db, double centroid_hz, Real* out);

    int hop() const { return hop_; }
    double sample_rate_hz() const { return config_.sample_rate_hz; }
    // Output sample i of the stream equals offline sample i - latency_samples() (see the top).
    int latency_samples() const { return latency_; }
    // For an offline clip of num_samples (num_samples / hop + 1 frames, pushed in order): the stream
    // equals it on offline samples [0, this). The rest is the clip's end, where offline holds the last
    // frame, runs its last noise block to the end and has no noise past the end (see the top).
    int exact_offline_samples(int num_samples) const;
    int z_dims() const { return config_.z_dims; }
    const DecoderConfig& config() const { return config_; }
    const StreamDecoderStats& stats() const { return stats_; }
    bool ready() const { return ready_; }

    // Per-frame layer of the network: y = x w + b (w: in x out, row-major as Linear stores it),
    // optionally LayerNorm + leaky ReLU (the Mlp's layers).
    struct Dense {
        int in = 0, out = 0;
        std::vector<Real> w, b, gain, bias;  // gain / bias empty for a plain Linear
    };

private:
    DecoderConfig config_;
    bool ready_ = false;
    int hop_ = 1, harmonics_ = 0, bands_ = 0, taps_ = 0, latency_ = 0;
    int inputs_ = 0;       // input MLPs: f0, loudness, [centroid], [z]
    int out_size_ = 0;     // 1 + harmonics + [bands]
    Real output_gain_ = 1;
    StreamDecoderStats stats_;

    // [network]
    std::vector<Dense> f0_mlp_, loudness_mlp_, centroid_mlp_, z_mlp_, out_mlp_;
    Dense out_;
    int gru_units_ = 0;
    std::vector<Real> gru_w_i_, gru_w_h_, gru_b_i_, gru_b_h_;  // I x 3H, H x 3H, 3H, 3H (r, z, n)
    // [gru state h | f0 features | loudness features | (centroid) | (z)]: the output MLP's input;
    // the GRU reads it from the first feature on.
    std::vector<Real> cat_;
    std::vector<Real> gi_, gh_;          // 3H gate projections
    std::vector<Real> mlp_a_, mlp_b_;    // MLP ping-pong scratch
    std::vector<Real> mlp_out_;          // the output MLP's result (hidden)
    std::vector<Real> net_out_;          // 1 + harmonics + bands
    std::vector<Real> z_;                // the current z

    // [synthesis] harmonics, noise and reverb (synth/stream_harmonic_noise.h), shared with the
    // `ddsp` synth's streaming voice
    synth::HarmonicNoiseStream synth_;
    std::vector<Real> amps_;             // harmonics: this frame's harmonic amplitudes
    std::vector<Real> noise_mags_;       // bands: this frame's noise band magnitudes

    void set_z_features();
    void run_network(Real f0_scaled, Real loudness_scaled, Real centroid_scaled);
    void frame_controls(Real f0_clamped);
};

}  // namespace ddsp::nn
