// The C++ timbre-remapping network and onset features reproduce the PyTorch reference
// (python/remap_torch.py): tests/golden/remap_golden.safetensors (python/make_remap_golden.py)
// holds three models trained by `ddsp remap-train` (linear, mlp, mlp-large), onset-feature inputs
// and torch's modulations for them, and torch's onset features of a few stored segments, so this
// test needs no PyTorch. Regenerate the golden when the model file format or the network changes:
//   /usr/bin/python3 python/make_remap_golden.py   (after building `ddsp`)
#include <doctest/doctest.h>

#include "ad/tape.h"
#include "nn/remap.h"
#include "nn/safetensors.h"
#include "util/json.h"

#include "golden_util.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace ddsp;

namespace {

nn::TensorFile read_golden() { return golden::read("tests/golden/remap_golden.safetensors", "ddsp.cpp/remap-golden/1"); }

// A golden tensor as rows x cols (a 1-D tensor of n values is n x 1), in double.
std::vector<double> golden_values(const nn::TensorFile& golden, const std::string& name, int& rows, int& cols) {
    const nn::Tensor* t = &golden::tensor(golden, name);
    REQUIRE((t->shape.size() == 1 || t->shape.size() == 2));
    rows = int(t->shape[0]);
    cols = t->shape.size() == 2 ? int(t->shape[1]) : 1;
    return std::vector<double>(t->data.begin(), t->data.end());
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, sep);) out.push_back(item);
    return out;
}

// The model file of `kind` as `ddsp remap-train` wrote it: the golden's "kind/remap.*" tensors and
// "kind/*" metadata with the prefix removed.
nn::TensorFile model_file(const nn::TensorFile& golden, const std::string& kind) {
    return golden::unprefixed(golden, kind + "/", "remap.");
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
    return m;
}

}  // namespace

TEST_CASE("remap golden: RemapForward and RemapNet reproduce the PyTorch reference's modulations") {
    // torch computes d in float64 from the float32 weights. RemapForward runs in double: measured
    // at most 6.0e-8. RemapNet runs in float on the tape: measured 2.4e-7 (linear), 2.0e-6 (mlp),
    // 6.4e-6 (mlp-large), the last two on the row at the input mean, where the tape's float copy of
    // input_mean leaves exactly 0 while torch (and RemapForward) see ~2e-7 left over, and the first
    // layer's tiny spread there (bias only: variance ~2e-4) amplifies that ~30x through LayerNorm;
    // elsewhere RemapNet is within 7.2e-7. Convention mistakes are far above 1e-5 (checked below
    // against torch's outputs with them): a LayerNorm eps of 1e-3 instead of 1e-5 moves d by ~8e-3,
    // a leaky slope of 0.2 instead of 0.01 by ~0.3; even eps 1e-6 moves it by ~6e-5
    // (make_remap_golden.py prints these).
    const double kTolerance = 1e-5;
    const nn::TensorFile golden = read_golden();
    const std::vector<std::string> kinds = split(golden.metadata.at("kinds"), ',');
    REQUIRE(kinds.size() == 3);
    for (const std::string& kind : kinds) {
        CAPTURE(kind);
        const nn::TensorFile file = model_file(golden, kind);
        nn::RemapModelFile model;
        std::string error;
        REQUIRE_MESSAGE(nn::remap_from_file(file, model, error), error);
        CHECK(nn::remap_model_name(model.kind) == kind);
        int n = 0, cols = 0, outputs = 0;
        const std::vector<double> x = golden_values(golden, kind + "/x", n, cols);
        REQUIRE(cols == nn::kOnsetFeatures);
        const std::vector<double> d_torch = golden_values(golden, kind + "/d", n, outputs);
        REQUIRE(outputs == 14);  // the drum808's parameters

        // The audio thread's path, row by row.
        nn::RemapForward forward;
        REQUIRE_MESSAGE(forward.init(model, outputs, error), error);
        REQUIRE(forward.outputs() == outputs);
        std::vector<double> d_forward(size_t(n) * size_t(outputs));
        for (int r = 0; r < n; ++r)
            forward(x.data() + size_t(r) * nn::kOnsetFeatures, d_forward.data() + size_t(r) * size_t(outputs));

        // The tape's path, all rows at once.
        ad::Tape tape;
        const std::unique_ptr<nn::RemapNet> net = nn::make_remap_net(tape, model, outputs, error);
        REQUIRE_MESSAGE(net, error);
        Arr xa(n, nn::kOnsetFeatures);
        for (int r = 0; r < n; ++r)
            for (int j = 0; j < nn::kOnsetFeatures; ++j) xa(r, j) = Real(x[size_t(r * nn::kOnsetFeatures + j)]);
        const Arr d_tape = (*net)(tape.constant(xa)).value();
        REQUIRE(d_tape.rows() == n);
        REQUIRE(d_tape.cols() == outputs);
        std::vector<double> d_net(size_t(n) * size_t(outputs));
        for (int r = 0; r < n; ++r)
            for (int k = 0; k < outputs; ++k) d_net[size_t(r * outputs + k)] = double(d_tape(r, k));

        double peak = 0;
        for (double v : d_torch) peak = std::max(peak, std::abs(v));
        const double err_forward = max_abs_diff(d_forward, d_torch), err_net = max_abs_diff(d_net, d_torch);
        int worst = 0;  // RemapNet's worst row
        for (size_t i = 0; i < d_net.size(); ++i)
            if (std::abs(d_net[i] - d_torch[i]) == err_net) worst = int(i) / outputs;
        MESSAGE(kind, ": max |d - torch| RemapForward ", err_forward, ", RemapNet ", err_net, " (row ", worst, " of ",
                n, "; max |d| ", peak, ")");
        CHECK(peak > 0.1);  // the models modulate: a zero map would pass trivially
        CHECK(err_forward < kTolerance);
        CHECK(err_net < kTolerance);

        // The comparison can fail: torch's outputs with a wrong LayerNorm eps or leaky slope are far
        // from the C++'s.
        if (model.kind != nn::RemapModelKind::linear) {
            for (const char* wrong : {"d.eps_1e-3", "d.slope_0.2"}) {
                const double miss = max_abs_diff(d_forward, golden_values(golden, kind + "/" + wrong, n, cols));
                MESSAGE(kind, ": torch with ", std::string(wrong), " differs from the C++ by ", miss);
                CHECK(miss > 100 * kTolerance);
            }
        }
    }
}

TEST_CASE("remap golden: onset_features reproduces the PyTorch reference's features") {
    // torch runs the FFT and the sums in float64 on the same float32 windowed samples; the C++'s
    // FFT is float32. Measured at most 6.8e-7 (padded_48k); 1e-5 leaves ~15x headroom, while a
    // periodic Hann window moves the features by >= 8e-4, a symmetric one over W - 1 samples by
    // >= 1e-4, a twice larger FFT by >= 2.6e-4 and the window one sample late by >= 1.6e-3.
    const double kTolerance = 1e-5;
    const nn::TensorFile golden = read_golden();
    const std::vector<std::string> names = split(golden.metadata.at("features"), ',');
    REQUIRE(names.size() == 3);
    for (const std::string& name : names) {
        CAPTURE(name);
        util::JsonValue p;
        std::string error;
        REQUIRE_MESSAGE(util::json_parse(golden.metadata.at("features/" + name), p, error), error);
        REQUIRE(p.find("start"));
        REQUIRE(p.find("window"));
        REQUIRE(p.find("sample_rate"));
        const int start = int(p.find("start")->number), window = int(p.find("window")->number);
        const double sr = p.find("sample_rate")->number;
        int n = 0, cols = 0;
        const std::vector<double> x = golden_values(golden, "features/" + name + "/x", n, cols);
        const std::vector<double> f_torch = golden_values(golden, "features/" + name + "/f", n, cols);
        REQUIRE(f_torch.size() == size_t(nn::kOnsetFeatures));
        std::vector<Real> signal(x.begin(), x.end());
        const auto f = nn::onset_features(signal.data(), int(signal.size()), start, window, sr);
        const std::vector<double> f_cpp(f.begin(), f.end());
        const double err = max_abs_diff(f_cpp, f_torch);
        MESSAGE(name, " (", window, " samples at ", sr, " Hz): C++ ", f_cpp[0], ", ", f_cpp[1], ", ", f_cpp[2],
                "; max |err| ", err);
        CHECK(err < kTolerance);
    }
}
