// The C++ autoencoder reproduces the PyTorch reference (python/ddsp_torch.py) on the shipped model:
// tests/golden/autoencoder_golden.safetensors holds deterministic inputs and torch's outputs and
// gradients (python/make_golden.py), so this test needs no PyTorch. The golden records the sha256
// of the model file it was made from; a retrained model must regenerate it (scripts/make-golden.sh).
//
// Set DDSP_AUTOENCODER_GOLDEN to check another golden file (its model_file is read from it; a
// relative path is taken from the source directory).
#include <doctest/doctest.h>

#include "ad/ops.h"
#include "ad/tape.h"
#include "nn/autoencoder.h"
#include "nn/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace ddsp;

namespace {

// [SECTION] SHA-256 (FIPS 180-4): the model fingerprint, so a changed file cannot pass by chance

std::string sha256_hex(const std::vector<uint8_t>& message) {
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
    // Padding: 0x80, zeros to 56 mod 64, then the bit length big-endian.
    std::vector<uint8_t> m = message;
    const uint64_t bits = uint64_t(message.size()) * 8;
    m.push_back(0x80);
    while (m.size() % 64 != 56) m.push_back(0);
    for (int i = 7; i >= 0; --i) m.push_back(uint8_t(bits >> (8 * i)));
    for (size_t block = 0; block < m.size(); block += 64) {
        uint32_t w[64];
        for (int i = 0; i < 16; ++i)
            w[i] = uint32_t(m[block + 4 * i]) << 24 | uint32_t(m[block + 4 * i + 1]) << 16 |
                   uint32_t(m[block + 4 * i + 2]) << 8 | uint32_t(m[block + 4 * i + 3]);
        for (int i = 16; i < 64; ++i) {
            const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; ++i) {
            const uint32_t t1 =
                hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        const uint32_t add[8] = {a, b, c, d, e, f, g, hh};
        for (int i = 0; i < 8; ++i) h[i] += add[i];
    }
    std::string hex;
    char buf[9];
    for (uint32_t v : h) {
        std::snprintf(buf, sizeof buf, "%08x", v);
        hex += buf;
    }
    return hex;
}

std::vector<uint8_t> bytes_of(const std::string& s) {
    return std::vector<uint8_t>(s.begin(), s.end());
}

bool read_file_bytes(const std::string& path, std::vector<uint8_t>& out) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    out.clear();
    uint8_t buf[65536];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + got);
    std::fclose(f);
    return true;
}

std::string from_source_dir(const std::string& path) {
    return !path.empty() && path[0] == '/' ? path : std::string(DDSP_SOURCE_DIR) + "/" + path;
}

// A golden tensor as rows x cols (a 1-D tensor of n values is n x 1).
Arr golden_arr(const nn::TensorFile& golden, const std::string& name) {
    const nn::Tensor* t = golden.find(name);
    if (t == nullptr || t->shape.empty() || t->shape.size() > 2) {
        FAIL("golden: tensor ", name, " missing or not 1-D / 2-D");
        return Arr();
    }
    const Eigen::Index rows = t->shape[0], cols = t->shape.size() == 2 ? t->shape[1] : 1;
    Arr a(rows, cols);
    for (Eigen::Index r = 0; r < rows; ++r)
        for (Eigen::Index c = 0; c < cols; ++c) a(r, c) = Real(t->data[size_t(r * cols + c)]);
    return a;
}

Vec golden_vec(const nn::TensorFile& golden, const std::string& name) {
    return golden_arr(golden, name).col(0);
}

double max_abs(const Arr& a) {
    return a.size() ? double(a.abs().maxCoeff()) : 0.0;
}

// Max |cpp - torch| relative to the largest |torch| value of the tensor.
double relative_error(const Arr& cpp, const Arr& torch) {
    REQUIRE(cpp.rows() == torch.rows());
    REQUIRE(cpp.cols() == torch.cols());
    return max_abs(cpp - torch) / std::max(max_abs(torch), 1e-30);
}

}  // namespace

TEST_CASE("sha256: FIPS 180-2 test vectors") {
    CHECK(sha256_hex({}) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex(bytes_of("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(std::vector<uint8_t>(1000000, uint8_t('a'))) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("autoencoder golden: the C++ encoder and decoder reproduce the PyTorch reference") {
    const double kTolerance = 2e-5;  // of each tensor's largest value (see below)
    const char* env = std::getenv("DDSP_AUTOENCODER_GOLDEN");
    const std::string golden_path =
        env ? env : from_source_dir("tests/golden/autoencoder_golden.safetensors");
    nn::TensorFile golden;
    std::string error;
    REQUIRE_MESSAGE(nn::safetensors_read_file(golden_path, golden, error), error);
    REQUIRE(golden.metadata["format"] == "ddsp.cpp/autoencoder-golden/1");

    // The golden belongs to one exact model file.
    const std::string model_path = from_source_dir(golden.metadata["model_file"]);
    std::vector<uint8_t> model_bytes;
    REQUIRE_MESSAGE(read_file_bytes(model_path, model_bytes), "cannot read the model file ", model_path);
    const std::string sha = sha256_hex(model_bytes);
    if (sha != golden.metadata["model_sha256"])
        FAIL(model_path, " has sha256 ", sha, " but ", golden_path, " was made from sha256 ",
             golden.metadata["model_sha256"],
             ": the model changed, so regenerate the golden with "
             "scripts/make-golden.sh (needs python3-torch) and commit it");

    nn::TensorFile model_file;
    REQUIRE_MESSAGE(nn::safetensors_read_memory(model_bytes.data(), model_bytes.size(), model_file, error),
                    error);
    ad::Tape tape;
    const std::unique_ptr<nn::Autoencoder> model = nn::load_autoencoder(tape, model_file, error);
    REQUIRE_MESSAGE(model, error);
    const nn::AutoencoderConfig& cfg = model->config();
    const int n = std::stoi(golden.metadata["num_samples"]);

    // Encoder on the golden MFCCs.
    const nn::Posterior q = model->encoder()(tape, golden_arr(golden, "mfcc"));
    const double err_mu = relative_error(q.mu.value(), golden_arr(golden, "mu"));
    const double err_log_var = relative_error(q.log_var.value(), golden_arr(golden, "log_var"));

    // Decoder on the golden conditioning and z (torch's mu, fed as given).
    nn::Decoder& dec = model->decoder();
    const Vec f0_hz = golden_vec(golden, "f0_hz"), loudness_db = golden_vec(golden, "loudness_db");
    const Vec centroid_hz = cfg.decoder.use_centroid ? golden_vec(golden, "centroid_hz") : Vec();
    const Arr z = golden_arr(golden, "z");
    const ad::Var z_var = tape.variable(z);
    const ad::Var audio = dec.forward(tape, f0_hz, loudness_db, z_var, n, centroid_hz);
    REQUIRE(audio.rows() == n);
    const Arr torch_audio = golden_arr(golden, "audio");
    const double peak = max_abs(torch_audio);
    const double err_amplitude = relative_error(dec.amplitude().value(), golden_arr(golden, "amplitude"));
    const double err_distribution =
        relative_error(dec.distribution().value(), golden_arr(golden, "distribution"));
    const double err_noise = cfg.decoder.use_noise ? relative_error(dec.noise_magnitudes().value(),
                                                                    golden_arr(golden, "noise_magnitudes"))
                                                   : 0;
    const double err_dry = max_abs(dec.dry().value() - golden_arr(golden, "dry")) / peak;
    const double err_audio = max_abs(audio.value() - torch_audio) / peak;
    MESSAGE("C++ vs torch, max |err| relative to each tensor's max: mu ", err_mu, ", log_var ", err_log_var,
            ", amplitude ", err_amplitude, ", distribution ", err_distribution, ", noise ", err_noise,
            "; relative to the audio peak ", peak, ": dry ", err_dry, ", audio ", err_audio);

    // Both sides run in float32 with the same operations in a different order (GEMM blocking, FFT
    // algorithms, sums over harmonics and frames): ~1e-7 relative per op, grown by the GRU recurrence
    // and the exps. Measured at most 2.8e-6 (outputs and gradients; native and wasm; models with and
    // without noise, reverb and centroid), so 2e-5 leaves ~7x headroom. Real convention mistakes are
    // far above it: in torch, interpolating one sample early moves the audio by 0.1 of its peak, the
    // noise FIR one tap off by 8e-3, the reverb one tap late by 0.19, and scaling every control by
    // 1 + 1e-4 by 1e-4.
    CHECK(peak > 1e-3);  // the golden is a sound, not silence
    CHECK(err_mu < kTolerance);
    CHECK(err_log_var < kTolerance);
    CHECK(err_amplitude < kTolerance);
    CHECK(err_distribution < kTolerance);
    CHECK(err_noise < kTolerance);
    CHECK(err_dry < kTolerance);
    CHECK(err_audio < kTolerance);

    // Gradients of sum(audio^2) + KL (z held at the golden's value): training steps agree too.
    tape.backward(ad::sum(ad::square(audio)) + nn::kl_divergence(q));
    int gradients = 0;
    for (const nn::Tensor& t : golden.tensors) {
        if (t.name.rfind("grad.", 0) != 0) continue;
        const std::string name = t.name.substr(5);
        ad::Var v = name == "z" ? z_var : ad::Var();
        for (const nn::Param& p : model->params())
            if (p.name == name) v = p.var;
        REQUIRE_MESSAGE(v.valid(), "golden gradient of an unknown parameter ", name);
        const double err = relative_error(v.grad(), golden_arr(golden, t.name));
        MESSAGE("gradient of ", name, ": max |err| ", err, " of its largest value ", max_abs(v.grad()));
        CHECK(err < kTolerance);
        ++gradients;
    }
    CHECK(gradients >= 8);

    // The comparison can fail: a small move of the latent (0.05 in every dimension, where the
    // training clips spread over ~+-2) changes the audio by ~500x the tolerance (1.1e-2 of the peak).
    const Arr z_moved = z + Real(0.05);
    const ad::Var moved = dec.forward(tape, f0_hz, loudness_db, tape.constant(z_moved), n, centroid_hz);
    const double moved_change = max_abs(moved.value() - torch_audio) / peak;
    MESSAGE("z + 0.05 changes the audio by ", moved_change, " of its peak");
    CHECK(moved_change > 1e-3);
}
