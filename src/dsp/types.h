// Shared numeric types. The core library is compiled once with DDSP_REAL=float (what users run)
// and once with DDSP_REAL=double (for central-difference gradient tests); see CMakeLists.txt.
#pragma once

#include <Eigen/Core>
#include <complex>

#ifndef DDSP_REAL
#define DDSP_REAL float
#endif

namespace ddsp {

using Real = DDSP_REAL;
using Complex = std::complex<Real>;

// Column vectors hold signals (one sample per row); 2-D arrays hold frame-wise controls
// (rows = time) or spectrograms (rows = frequency bins, columns = frames).
using Vec = Eigen::Array<Real, Eigen::Dynamic, 1>;
using Arr = Eigen::Array<Real, Eigen::Dynamic, Eigen::Dynamic>;
using Mat = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic>;
using CVec = Eigen::Array<Complex, Eigen::Dynamic, 1>;

constexpr double kPi = 3.14159265358979323846;

}  // namespace ddsp
