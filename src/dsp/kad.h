// Kernel audio distance (KAD; Chung et al., "KAD: No More FAD! An Effective and Efficient
// Evaluation Metric for Audio Generation", 2025), from the paper's description: the maximum mean
// discrepancy between two sets of embeddings under a characteristic kernel, estimated without bias.
//
//   MMD^2_u = 1/(m(m-1)) sum_{i != j} k(a_i, a_j) + 1/(n(n-1)) sum_{i != j} k(b_i, b_j)
//             - 2/(m n) sum_{i, j} k(a_i, b_j),       k(x, y) = exp(-|x - y|^2 / (2 sigma^2))
//
// sigma is the median pairwise distance within the reference set A (the paper's choice), so the
// value does not depend on the embedding's overall scale. The U-statistic is zero in expectation when
// A and B are drawn from one distribution (it can then be slightly negative) and grows as they part.
// KAD is reported as 1000 x MMD^2_u, as in the paper.
//
// Embeddings here (the paper's PANNs, VGGish, CLAP or CDPAM networks cannot be installed on this
// machine): MFCC statistics (mfcc_embedding below) or, in nn, the DDSP encoder's latent.
#pragma once

#include "dsp/types.h"

#include <string>

namespace ddsp::dsp {

struct KadResult {
    double mmd2 = 0;       // the unbiased estimate
    double kad = 0;        // 1000 x mmd2
    double bandwidth = 0;  // sigma
};

// a: m x d, b: n x d (rows are embeddings), m, n >= 2, finite. False with a one-line error otherwise.
// bandwidth <= 0: the median pairwise distance within a (a set of identical rows: 1).
bool kad(const Mat& a, const Mat& b, double bandwidth, KadResult& out, std::string& error);

// The median of the pairwise Euclidean distances between rows of x (0 for fewer than two rows).
double median_pairwise_distance(const Mat& x);

// MFCC statistics of a clip: the mean and the standard deviation over frames of 20 MFCCs (c1..c20;
// c0, the level, left out so the embedding describes timbre) at 16 kHz (x is resampled from
// sample_rate_hz): 40 values.
bool mfcc_embedding(const Vec& x, double sample_rate_hz, Vec& out, std::string& error);

}  // namespace ddsp::dsp
