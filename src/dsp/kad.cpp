// Kernel audio distance; see kad.h.
#include "dsp/kad.h"

#include "dsp/mfcc.h"
#include "dsp/resample.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ddsp::dsp {

namespace {

double squared_distance(const Mat& x, Eigen::Index i, const Mat& y, Eigen::Index j) {
    double s = 0;
    for (Eigen::Index k = 0; k < x.cols(); ++k) {
        const double d = double(x(i, k)) - double(y(j, k));
        s += d * d;
    }
    return s;
}

}  // namespace

double median_pairwise_distance(const Mat& x) {
    std::vector<double> d;
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        for (Eigen::Index j = i + 1; j < x.rows(); ++j) d.push_back(std::sqrt(squared_distance(x, i, x, j)));
    if (d.empty()) return 0;
    const size_t mid = d.size() / 2;
    std::nth_element(d.begin(), d.begin() + std::ptrdiff_t(mid), d.end());
    double m = d[mid];
    if (d.size() % 2 == 0) m = 0.5 * (m + *std::max_element(d.begin(), d.begin() + std::ptrdiff_t(mid)));
    return m;
}

bool kad(const Mat& a, const Mat& b, double bandwidth, KadResult& out, std::string& error) {
    if (a.rows() < 2 || b.rows() < 2) {
        error = "KAD needs at least 2 embeddings in each set (got " + std::to_string(a.rows()) + " and " +
                std::to_string(b.rows()) + ")";
        return false;
    }
    if (a.cols() != b.cols() || a.cols() == 0) {
        error = "the two sets' embeddings differ in size (" + std::to_string(a.cols()) + " and " +
                std::to_string(b.cols()) + ")";
        return false;
    }
    if (!a.allFinite() || !b.allFinite()) {
        error = "an embedding is not finite";
        return false;
    }
    double sigma = bandwidth > 0 && std::isfinite(bandwidth) ? bandwidth : median_pairwise_distance(a);
    if (!(sigma > 0)) sigma = 1;  // all of A identical: any scale will do
    const double inv = 1 / (2 * sigma * sigma);
    const Eigen::Index m = a.rows(), n = b.rows();
    double kaa = 0, kbb = 0, kab = 0;
    for (Eigen::Index i = 0; i < m; ++i)
        for (Eigen::Index j = i + 1; j < m; ++j) kaa += 2 * std::exp(-squared_distance(a, i, a, j) * inv);
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = i + 1; j < n; ++j) kbb += 2 * std::exp(-squared_distance(b, i, b, j) * inv);
    for (Eigen::Index i = 0; i < m; ++i)
        for (Eigen::Index j = 0; j < n; ++j) kab += std::exp(-squared_distance(a, i, b, j) * inv);
    out.mmd2 = kaa / double(m * (m - 1)) + kbb / double(n * (n - 1)) - 2 * kab / double(m * n);
    out.kad = 1000 * out.mmd2;
    out.bandwidth = sigma;
    return true;
}

bool mfcc_embedding(const Vec& x, double sample_rate_hz, Vec& out, std::string& error) {
    constexpr int kRate = 16000, kCoefficients = 21;  // c0..c20; c0 is dropped
    Vec y;
    if (!resample(x, sample_rate_hz, kRate, y, error)) return false;
    MfccParams p;
    p.coefficients = kCoefficients;
    p.hop = 256;
    Arr c;
    if (!mfcc(y, kRate, p, c, error)) return false;
    if (c.rows() < 2) {
        error = "the clip is too short for MFCC statistics";
        return false;
    }
    out.resize(2 * (kCoefficients - 1));
    for (int k = 1; k < kCoefficients; ++k) {
        const double mean = c.col(k).template cast<double>().mean();
        const double var = (c.col(k).template cast<double>() - mean).square().mean();
        out[k - 1] = Real(mean);
        out[kCoefficients - 1 + k - 1] = Real(std::sqrt(var));
    }
    if (!out.allFinite()) {
        error = "the clip's MFCCs are not finite";
        return false;
    }
    return true;
}

}  // namespace ddsp::dsp
