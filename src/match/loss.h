// Multi-resolution STFT loss, built on an autodiff tape.
//
// For each resolution r with magnitude spectrograms S (reconstruction) and T (target):
//   linear_weight * mean|S - T| + log_weight * mean|log(S + floor) - log(T + floor)|
//   + convergence_weight * ||S - T||_F / ||T||_F
// summed over resolutions. Magnitudes are divided by the window's sum, so a full-scale sine
// peaks at 0.5 whatever the FFT size and `log_floor` reads as an amplitude (1e-5 = -100 dBFS).
//
// Why that floor: DDSP and auraloss put 1e-7 on raw magnitudes, far below float32 FFT rounding
// noise (~1e-7 of a frame's peak), where the log term's gradient 1/(S + floor) is dominated by
// rounding and a 1e-6 relative change of the signal can move it by orders of magnitude. 1e-5
// of full scale sits above that noise and still spans 100 dB of decay. tests/test_loss.cpp
// checks the gradient is stable at this floor.
//
// Options from the differentiable Karplus-Strong paper: A-weighting of both spectrograms, and
// gain invariance (each resolution rescales S by the least-squares gain <S,T>/<S,S>, so a
// reconstruction that is right but too quiet is not penalised).
#pragma once

#include "ad/ops.h"
#include "dsp/stft.h"

#include <vector>

namespace ddsp::match {

struct MrStftParams {
    std::vector<int> fft_sizes = {2048, 1024, 512, 256, 128, 64};
    std::vector<int> hops;         // empty: fft_size / 4
    std::vector<int> win_lengths;  // empty: fft_size
    double linear_weight = 1;
    double log_weight = 1;
    double convergence_weight = 0;
    double log_floor = 1e-5;
    bool normalize_by_window = true;  // false: raw |X| (as torch.stft returns)
    bool a_weighting = false;
    bool gain_invariant = false;
    double sample_rate_hz = 16000;  // for A-weighting

    // DDSP (Engel et al. 2020): FFT 2048..64, hop n/4, linear + log magnitude.
    static MrStftParams ddsp();
    // Differentiable Karplus-Strong: FFT 1024/2048/512, hops 120/240/50, windows 600/1200/240,
    // A-weighted and gain-invariant.
    static MrStftParams diffks(double sample_rate_hz);

    std::vector<dsp::StftConfig> configs() const;
};

// A loss of one signal against a fixed target, living on the signal's tape.
class TargetLoss {
public:
    virtual ~TargetLoss() = default;
    virtual ad::Var loss() const = 0;
    // Replaces the target (same length) in place; re-run the tape's forward() afterwards.
    virtual void set_target(const Vec& target) = 0;
};

class MrStftLoss : public TargetLoss {
public:
    // Adds the loss of `x` (a column on x's tape) against `target` (same length) to x's tape.
    MrStftLoss(ad::Var x, const Vec& target, const MrStftParams& params = {});

    ad::Var loss() const override { return loss_; }
    void set_target(const Vec& target) override;
    const MrStftParams& params() const { return params_; }

private:
    struct Resolution {
        dsp::StftConfig cfg;
        Real scale = 1;
        Arr weight;         // A-weighting per bin (bins x 1), empty if off
        ad::Var target;     // T (weighted)
        ad::Var log_target; // log(T + floor)
        double target_norm = 1;
        ad::Var convergence_norm;  // 1 / ||T||, a constant on the tape
    };
    MrStftParams params_;
    std::vector<Resolution> res_;
    ad::Var loss_;
    int num_samples_ = 0;

    void compute_target(Resolution& r, const Vec& target, Arr& mag, Arr& log_mag, double& norm) const;
};

// Plain (no tape) distance between two signals with the same loss, for reporting.
double mrstft_distance(const Vec& x, const Vec& target, const MrStftParams& params = {});

}  // namespace ddsp::match
