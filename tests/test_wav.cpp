#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dsp/wav.h"

using namespace ddsp;
using Bytes = std::vector<std::uint8_t>;

// [SECTION] hand-built WAV files

namespace {

void add16(Bytes& b, std::uint32_t v) {
    b.push_back(std::uint8_t(v & 0xFF));
    b.push_back(std::uint8_t((v >> 8) & 0xFF));
}
void add32(Bytes& b, std::uint32_t v) {
    add16(b, v & 0xFFFF);
    add16(b, v >> 16);
}
void add64(Bytes& b, std::uint64_t v) {
    add32(b, std::uint32_t(v & 0xFFFFFFFFu));
    add32(b, std::uint32_t(v >> 32));
}
void add_tag(Bytes& b, const char* t) {
    b.insert(b.end(), t, t + 4);
}
void add_f32(Bytes& b, float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    add32(b, u);
}
void add_f64(Bytes& b, double f) {
    std::uint64_t u;
    std::memcpy(&u, &f, 8);
    add64(b, u);
}
void add_s24(Bytes& b, std::int32_t v) {
    const std::uint32_t u = std::uint32_t(v) & 0xFFFFFF;
    b.push_back(std::uint8_t(u & 0xFF));
    b.push_back(std::uint8_t((u >> 8) & 0xFF));
    b.push_back(std::uint8_t((u >> 16) & 0xFF));
}

// A chunk with its pad byte; `declared` overrides the size field (to lie about it).
Bytes chunk(const char* id, const Bytes& body, std::int64_t declared = -1) {
    Bytes b;
    add_tag(b, id);
    add32(b, declared >= 0 ? std::uint32_t(declared) : std::uint32_t(body.size()));
    b.insert(b.end(), body.begin(), body.end());
    if (body.size() % 2) b.push_back(0);
    return b;
}

Bytes fmt_body(std::uint16_t tag, int channels, std::uint32_t rate, int bits, int block_align = -1) {
    const int ba = block_align >= 0 ? block_align : channels * ((bits + 7) / 8);
    Bytes b;
    add16(b, tag);
    add16(b, std::uint32_t(channels));
    add32(b, rate);
    add32(b, rate * std::uint32_t(ba));
    add16(b, std::uint32_t(ba));
    add16(b, std::uint32_t(bits));
    return b;
}

const std::uint8_t kGuidTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                    0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

Bytes fmt_ext_body(std::uint16_t sub_tag, int channels, std::uint32_t rate, int container_bits,
                   int valid_bits) {
    Bytes b = fmt_body(0xFFFE, channels, rate, container_bits);
    add16(b, 22);
    add16(b, std::uint32_t(valid_bits));
    add32(b, channels == 2 ? 3 : 0);  // channel mask
    add16(b, sub_tag);
    b.insert(b.end(), kGuidTail, kGuidTail + 14);
    return b;
}

Bytes riff(const std::vector<Bytes>& chunks, const char* magic = "RIFF", std::int64_t riff_size = -1) {
    Bytes b;
    add_tag(b, magic);
    add32(b, 0);
    add_tag(b, "WAVE");
    for (const Bytes& c : chunks) b.insert(b.end(), c.begin(), c.end());
    const std::uint32_t size = riff_size >= 0 ? std::uint32_t(riff_size) : std::uint32_t(b.size() - 8);
    for (int i = 0; i < 4; ++i) b[4 + i] = std::uint8_t((size >> (8 * i)) & 0xFF);
    return b;
}

Bytes pcm16_data(const std::vector<int>& v) {
    Bytes b;
    for (int s : v) add16(b, std::uint32_t(s) & 0xFFFF);
    return b;
}

bool read(const Bytes& b, dsp::Audio& a, std::string& err, const dsp::WavReadOptions& opt = {}) {
    return dsp::wav_read_memory(b.data(), b.size(), a, err, opt);
}

// Reads `b`, expects success, and returns the mono samples as doubles.
std::vector<double> read_ok(const Bytes& b, dsp::Audio& a) {
    std::string err;
    const bool ok = read(b, a, err);
    INFO(err);
    REQUIRE(ok);
    CHECK(err.empty());
    return std::vector<double>(a.samples.data(), a.samples.data() + a.samples.size());
}

// Expects failure with a one-line error containing `needle`.
void expect_error(const Bytes& b, const std::string& needle, const dsp::WavReadOptions& opt = {}) {
    dsp::Audio a;
    std::string err;
    CAPTURE(needle);
    CHECK_FALSE(read(b, a, err, opt));
    CAPTURE(err);
    CHECK(err.find(needle) != std::string::npos);
    CHECK(err.find('\n') == std::string::npos);
}

// Largest |v[i]| (a plain loop: Eigen's AVX-512 maxCoeff trips a GCC 12 -Wmaybe-uninitialized).
double max_abs(const Vec& v) {
    double m = 0;
    for (Eigen::Index i = 0; i < v.size(); ++i) m = std::max(m, std::abs(double(v[i])));
    return m;
}

std::string temp_dir() {
    const std::string dir = "/tmp/ddsp_test_wav_" + std::to_string(getpid());
    mkdir(dir.c_str(), 0700);
    return dir;
}

Bytes valid_pcm16() {
    return riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)),
                 chunk("data", pcm16_data({0, 16384, -16384, 32767, -32768}))});
}

}  // namespace

// [SECTION] writer round trips

TEST_CASE("pcm16 round trip: rounding, clipping and exact values") {
    const std::vector<double> in = {0.0, 0.5, -0.5, 1.0, -1.0, 0.25, 1.0 / 32768, 1.5, -2.0, 0.3};
    Vec x(Eigen::Index(in.size()));
    for (size_t i = 0; i < in.size(); ++i) x[Eigen::Index(i)] = Real(in[i]);
    Bytes bytes;
    std::string err;
    dsp::WavWriteReport rep;
    REQUIRE(dsp::wav_encode(x, 22050, bytes, err, {}, &rep));
    CHECK(bytes.size() == 44 + 2 * in.size());  // the canonical 44-byte header
    CHECK(rep.out_of_range == 2);
    CHECK(rep.non_finite == 0);

    dsp::Audio a;
    const std::vector<double> y = read_ok(bytes, a);
    CHECK(a.sample_rate_hz == 22050);
    CHECK(a.channels == 1);
    CHECK(a.bits_per_sample == 16);
    CHECK(a.format == "pcm_s16");
    CHECK_FALSE(a.data_truncated);
    const std::vector<double> expect = {0.0,  0.5,           -0.5,        32767.0 / 32768,
                                        -1.0, 0.25,          1.0 / 32768, 32767.0 / 32768,
                                        -1.0, 9830.0 / 32768};  // 0.3 * 32768 = 9830.4 rounds to 9830
    REQUIRE(y.size() == expect.size());
    for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == expect[i]);
}

TEST_CASE("float32 round trip keeps values; the reader clamps beyond +-1") {
    const std::vector<float> in = {0.0f, 0.123456789f, -0.987654321f, 1.0f, -1.0f, 1e-30f, 1.5f, -3.0f};
    Vec x(Eigen::Index(in.size()));
    for (size_t i = 0; i < in.size(); ++i) x[Eigen::Index(i)] = Real(in[i]);
    Bytes bytes;
    std::string err;
    dsp::WavWriteOptions opt;
    opt.format = dsp::WavSampleFormat::float32;
    dsp::WavWriteReport rep;
    REQUIRE(dsp::wav_encode(x, 48000, bytes, err, opt, &rep));
    CHECK(rep.out_of_range == 2);
    dsp::Audio a;
    const std::vector<double> y = read_ok(bytes, a);
    CHECK(a.format == "float32");
    CHECK(a.bits_per_sample == 32);
    CHECK(a.clipped_samples == 2);
    REQUIRE(y.size() == in.size());
    for (size_t i = 0; i < 6; ++i) CHECK(y[i] == double(in[i]));
    CHECK(y[6] == 1.0);
    CHECK(y[7] == -1.0);
}

TEST_CASE("NaN and Inf never make a broken file") {
    Vec x(4);
    x << Real(0.5), Real(NAN), Real(INFINITY), Real(-0.5);
    for (auto fmt : {dsp::WavSampleFormat::pcm16, dsp::WavSampleFormat::float32}) {
        dsp::WavWriteOptions opt;
        opt.format = fmt;
        Bytes bytes;
        std::string err;
        dsp::WavWriteReport rep;
        REQUIRE(dsp::wav_encode(x, 16000, bytes, err, opt, &rep));
        CHECK(rep.non_finite == 2);
        dsp::Audio a;
        const std::vector<double> y = read_ok(bytes, a);
        REQUIRE(y.size() == 4);
        CHECK(y[0] == 0.5);
        CHECK(y[1] == 0.0);
        CHECK(y[2] == 0.0);
        CHECK(y[3] == -0.5);

        opt.reject_non_finite = true;
        CHECK_FALSE(dsp::wav_encode(x, 16000, bytes, err, opt));
        CHECK(err.find("NaN") != std::string::npos);
        CHECK(err.find('\n') == std::string::npos);
    }
}

TEST_CASE("multi-channel writes downmix to the channel mean on reading") {
    for (auto fmt : {dsp::WavSampleFormat::pcm16, dsp::WavSampleFormat::float32}) {
        for (int channels : {2, 6}) {  // 6 channels are written as WAVE_FORMAT_EXTENSIBLE
            CAPTURE(channels);
            const int frames = 50;
            std::vector<Real> inter(size_t(frames * channels));
            for (int f = 0; f < frames; ++f)
                for (int c = 0; c < channels; ++c)
                    inter[size_t(f * channels + c)] = Real((c + 1) * 0.125 * ((f % 2) ? 1 : -1) / channels);
            Bytes bytes;
            std::string err;
            dsp::WavWriteOptions opt;
            opt.format = fmt;
            REQUIRE(dsp::wav_encode(inter.data(), frames, channels, 44100, bytes, err, opt));
            dsp::Audio a;
            const std::vector<double> y = read_ok(bytes, a);
            CHECK(a.channels == channels);
            CHECK(a.sample_rate_hz == 44100);
            REQUIRE(y.size() == size_t(frames));
            for (int f = 0; f < frames; ++f) {
                double mean = 0;
                for (int c = 0; c < channels; ++c) mean += double(inter[size_t(f * channels + c)]);
                mean /= channels;
                CHECK(std::abs(y[size_t(f)] - mean) < 1.0 / 32768);
            }
        }
    }
}

TEST_CASE("writer rejects what it cannot write") {
    Bytes bytes;
    std::string err;
    Vec x = Vec::Zero(10);
    CHECK_FALSE(dsp::wav_encode(x, 0, bytes, err));
    CHECK(!err.empty());
    CHECK_FALSE(dsp::wav_encode(x, 2000000, bytes, err));
    CHECK_FALSE(dsp::wav_encode(Vec(), 16000, bytes, err));
    CHECK(err.find("no samples") != std::string::npos);
    CHECK_FALSE(dsp::wav_encode(x.data(), 10, 0, 16000, bytes, err));
}

// [SECTION] formats the writer does not produce

TEST_CASE("8-bit unsigned PCM") {
    const Bytes b = riff({chunk("fmt ", fmt_body(1, 1, 8000, 8)), chunk("data", {0, 128, 255, 64, 192})});
    dsp::Audio a;
    const std::vector<double> y = read_ok(b, a);
    CHECK(a.format == "pcm_u8");
    CHECK(a.bits_per_sample == 8);
    CHECK(y == std::vector<double>{-1.0, 0.0, 127.0 / 128, -0.5, 0.5});
}

TEST_CASE("24-bit PCM") {
    Bytes d;
    for (int v : {0, 0x7FFFFF, -0x800000, 1, -1, 0x400000}) add_s24(d, v);
    const Bytes b = riff({chunk("fmt ", fmt_body(1, 1, 96000, 24)), chunk("data", d)});
    dsp::Audio a;
    const std::vector<double> y = read_ok(b, a);
    CHECK(a.format == "pcm_s24");
    CHECK(a.sample_rate_hz == 96000);
    const double s = 1.0 / 8388608;
    REQUIRE(y.size() == 6);
    CHECK(y[0] == 0.0);
    CHECK(y[1] == doctest::Approx(8388607 * s).epsilon(1e-7));
    CHECK(y[2] == -1.0);
    CHECK(y[3] == doctest::Approx(s).epsilon(1e-7));
    CHECK(y[4] == doctest::Approx(-s).epsilon(1e-7));
    CHECK(y[5] == 0.5);
}

TEST_CASE("32-bit integer PCM") {
    Bytes d;
    for (std::uint32_t v : {0u, 0x80000000u, 0x7FFFFFFFu, 0x40000000u, 0xC0000000u}) add32(d, v);
    const Bytes b = riff({chunk("fmt ", fmt_body(1, 1, 44100, 32)), chunk("data", d)});
    dsp::Audio a;
    const std::vector<double> y = read_ok(b, a);
    CHECK(a.format == "pcm_s32");
    REQUIRE(y.size() == 5);
    CHECK(y[0] == 0.0);
    CHECK(y[1] == -1.0);
    CHECK(y[2] == doctest::Approx(1.0).epsilon(1e-7));
    CHECK(y[2] <= 1.0);
    CHECK(y[3] == 0.5);
    CHECK(y[4] == -0.5);
}

TEST_CASE("12-bit PCM in a 16-bit container") {
    // Left-justified 12-bit samples: 0x7FF0 is the largest, 0x8000 the smallest.
    const Bytes b =
        riff({chunk("fmt ", fmt_body(1, 1, 8000, 12)), chunk("data", pcm16_data({0x4000, -0x8000, 0x0010}))});
    dsp::Audio a;
    const std::vector<double> y = read_ok(b, a);
    CHECK(a.format == "pcm_s12");
    CHECK(a.bits_per_sample == 12);
    CHECK(y == std::vector<double>{0.5, -1.0, 16.0 / 32768});
}

TEST_CASE("64-bit float") {
    Bytes d;
    for (double v : {0.125, -0.75, 1.0, 1e-300, -1.0}) add_f64(d, v);
    const Bytes b =
        riff({chunk("fmt ", fmt_body(3, 1, 16000, 64)), chunk("fact", {5, 0, 0, 0}), chunk("data", d)});
    dsp::Audio a;
    const std::vector<double> y = read_ok(b, a);
    CHECK(a.format == "float64");
    REQUIRE(y.size() == 5);
    CHECK(y[0] == 0.125);
    CHECK(y[1] == -0.75);
    CHECK(y[2] == 1.0);
    CHECK(std::abs(y[3]) < 1e-30);
    CHECK(y[4] == -1.0);
}

TEST_CASE("WAVE_FORMAT_EXTENSIBLE: 24-in-32 PCM and stereo float") {
    Bytes d;
    for (std::uint32_t v : {0x40000000u, 0xC0000000u, 0x00000100u})
        add32(d, v);  // 24 valid bits, left-justified
    Bytes b = riff({chunk("fmt ", fmt_ext_body(1, 1, 48000, 32, 24)), chunk("data", d)});
    dsp::Audio a;
    std::vector<double> y = read_ok(b, a);
    CHECK(a.bits_per_sample == 24);
    CHECK(a.format == "pcm_s24");
    CHECK(y == std::vector<double>{0.5, -0.5, 1.0 / 8388608});

    d.clear();
    for (float v : {0.5f, -0.25f, 1.0f, 1.0f, -0.5f, 0.0f}) add_f32(d, v);
    b = riff({chunk("fmt ", fmt_ext_body(3, 2, 44100, 32, 32)), chunk("data", d)});
    y = read_ok(b, a);
    CHECK(a.channels == 2);
    CHECK(a.format == "float32");
    CHECK(y == std::vector<double>{0.125, 1.0, -0.25});
}

TEST_CASE("stereo 16-bit averages the channels") {
    const Bytes b =
        riff({chunk("fmt ", fmt_body(1, 2, 44100, 16)),
              chunk("data", pcm16_data({16384, -8192, 32767, 32767, -32768, -32768, 100, -100}))});
    dsp::Audio a;
    const std::vector<double> y = read_ok(b, a);
    CHECK(a.channels == 2);
    CHECK(y == std::vector<double>{0.125, 32767.0 / 32768, -1.0, 0.0});
}

TEST_CASE("unknown and odd-sized chunks are skipped with their pad byte") {
    // LIST (odd, 5 bytes) before fmt, an odd 'junk' chunk between fmt and data, an odd data chunk
    // (three 8-bit samples) followed by its pad byte and a trailing chunk.
    const Bytes b = riff({chunk("LIST", {'I', 'N', 'F', 'O', 'x'}), chunk("fmt ", fmt_body(1, 1, 8000, 8)),
                          chunk("junk", {1, 2, 3}), chunk("data", {0, 128, 255}), chunk("id3 ", {9, 9, 9})});
    dsp::Audio a;
    const std::vector<double> y = read_ok(b, a);
    CHECK(y == std::vector<double>{-1.0, 0.0, 127.0 / 128});

    // fmt after data is legal.
    const Bytes c = riff({chunk("data", pcm16_data({16384})), chunk("fmt ", fmt_body(1, 1, 8000, 16))});
    CHECK(read_ok(c, a) == std::vector<double>{0.5});

    // A longer fmt chunk (18 bytes, cbSize 0) and a wrong RIFF size are fine.
    Bytes f = fmt_body(1, 1, 8000, 16);
    add16(f, 0);
    const Bytes e = riff({chunk("fmt ", f), chunk("data", pcm16_data({-16384}))}, "RIFF", 0xFFFFFFFF);
    CHECK(read_ok(e, a) == std::vector<double>{-0.5});
}

TEST_CASE("RF64 with a ds64 chunk") {
    Bytes ds;
    add64(ds, 0);  // RIFF size (ignored)
    add64(ds, 6);  // data size
    add64(ds, 3);  // sample count
    add32(ds, 0);  // table length
    const Bytes b = riff({chunk("ds64", ds), chunk("fmt ", fmt_body(1, 1, 16000, 16)),
                          chunk("data", pcm16_data({16384, 0, -16384}), 0xFFFFFFFF), chunk("LIST", {1, 2})},
                         "RF64", 0xFFFFFFFF);
    dsp::Audio a;
    CHECK(read_ok(b, a) == std::vector<double>{0.5, 0.0, -0.5});
    CHECK_FALSE(a.data_truncated);
}

TEST_CASE("data chunk sizes of 0 or past the end read the whole frames present") {
    const Bytes samples = pcm16_data({16384, -16384, 8192});
    for (std::int64_t declared :
         {std::int64_t(0), std::int64_t(0xFFFFFFFF), std::int64_t(0x7FFFFFFF), std::int64_t(7)}) {
        CAPTURE(declared);
        Bytes b = riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", samples, declared)});
        dsp::Audio a;
        CHECK(read_ok(b, a) == std::vector<double>{0.5, -0.5, 0.25});
        CHECK(a.data_truncated);
        b.push_back(0x11);  // a partial frame at the end is dropped
        CHECK(read_ok(b, a) == std::vector<double>{0.5, -0.5, 0.25});
    }
}

TEST_CASE("duration limit: ten minutes pass by default, longer files are rejected before decoding") {
    Bytes d(1000 * 600, 128);  // 10 min of 8-bit silence at 1 kHz
    Bytes b = riff({chunk("fmt ", fmt_body(1, 1, 1000, 8)), chunk("data", d)});
    dsp::Audio a;
    CHECK(read_ok(b, a).size() == 600000);
    CHECK(a.duration_s() == 600.0);
    d.resize(1000 * 1201, 128);  // 20 min + 1 s
    b = riff({chunk("fmt ", fmt_body(1, 1, 1000, 8)), chunk("data", d)});
    expect_error(b, "limit");
    dsp::WavReadOptions opt;
    opt.max_duration_s = 2000;
    std::string err;
    CHECK(read(b, a, err, opt));
    opt.max_duration_s = 0.5;
    CHECK(read(valid_pcm16(), a, err, opt));  // 5 samples at 16 kHz
    const Bytes c = riff({chunk("fmt ", fmt_body(1, 1, 1, 8)), chunk("data", {1, 2})});
    expect_error(c, "2.0 s long, more than the 0.5 s limit", opt);
}

TEST_CASE("decoded-size limit: refused with a one-line reason before anything is allocated") {
    // 8-bit mono at 1 kHz: 4 bytes decoded per byte of file, so 300 kB of file needs 1.2 MB.
    Bytes d(300000, 128);
    const Bytes b = riff({chunk("fmt ", fmt_body(1, 1, 1000, 8)), chunk("data", d)});
    dsp::WavReadOptions opt;
    opt.max_duration_s = std::numeric_limits<double>::infinity();  // the duration limit lifted
    opt.max_decoded_bytes = 1 << 20;
    expect_error(b, "decoding it needs 1 MB, more than the 1 MB limit", opt);
    opt.max_decoded_bytes = 2 << 20;
    dsp::Audio a;
    std::string err;
    CHECK(read(b, a, err, opt));
    CHECK(a.samples.size() == 300000);
}

// [SECTION] malformed input

TEST_CASE("each malformed file gets a specific error") {
    const Bytes fmt16 = chunk("fmt ", fmt_body(1, 1, 16000, 16));
    const Bytes data16 = chunk("data", pcm16_data({1, 2, 3}));

    expect_error({}, "truncated header");
    expect_error({'R', 'I', 'F', 'F', 0, 0, 0}, "truncated header");
    expect_error({'A', 'B', 'C', 'D', 0}, "not a RIFF/WAVE");
    expect_error(riff({fmt16, data16}, "RIFX"), "not a RIFF/WAVE");
    Bytes avi = riff({fmt16, data16});
    std::memcpy(avi.data() + 8, "AVI ", 4);
    expect_error(avi, "not a RIFF/WAVE");
    expect_error({'f', 'L', 'a', 'C', 0, 0, 0, 34, 0, 0, 0, 0}, "FLAC");
    expect_error({'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0, 0, 0}, "MP3");
    expect_error(riff({}), "missing fmt chunk");
    expect_error(riff({data16}), "missing fmt chunk");
    expect_error(riff({fmt16}), "missing data chunk");
    expect_error(riff({fmt16, chunk("LIST", {1, 2, 3, 4})}), "missing data chunk");
    expect_error(riff({chunk("LIST", {1, 2, 3, 4}, 0x7FFFFFFF), fmt16, data16}), "chunk 'LIST'");
    expect_error(riff({chunk("LIST", {1, 2, 3, 4}, 0x7FFFFFFF), fmt16, data16}), "past the end of the file");
    expect_error(riff({chunk("fmt ", fmt_body(1, 1, 16000, 16), 0xFFFFFFFF), data16}), "chunk 'fmt '");
    expect_error(riff({chunk("fmt ", Bytes(14, 1)), data16}), "fmt chunk too short");
    expect_error(riff({chunk("fmt ", fmt_body(1, 0, 16000, 16)), data16}), "0 channels");
    expect_error(riff({chunk("fmt ", fmt_body(1, 1, 0, 16)), data16}), "sample rate 0 Hz");
    expect_error(riff({chunk("fmt ", fmt_body(1, 1, 2000000, 16)), data16}), "sample rate 2000000 Hz");
    expect_error(riff({chunk("fmt ", fmt_body(1, 1, 0xFFFFFFFF, 16)), data16}), "sample rate");
    expect_error(riff({chunk("fmt ", fmt_body(0x55, 1, 16000, 16)), data16}),
                 "unsupported format tag 0x0055 (MP3)");
    expect_error(riff({chunk("fmt ", fmt_body(2, 1, 16000, 4, 256)), data16}),
                 "unsupported format tag 0x0002");
    expect_error(riff({chunk("fmt ", fmt_body(1, 1, 16000, 40)), data16}), "unsupported PCM bit depth 40");
    expect_error(riff({chunk("fmt ", fmt_body(1, 1, 16000, 0)), data16}), "unsupported PCM bit depth 0");
    expect_error(riff({chunk("fmt ", fmt_body(3, 1, 16000, 16)), data16}), "unsupported float bit depth 16");
    expect_error(riff({chunk("fmt ", fmt_body(1, 2, 16000, 16, 2)), data16}), "block align 2 does not match");
    expect_error(riff({chunk("fmt ", fmt_body(1, 1, 16000, 24, 4)), data16}), "block align 4 does not match");
    expect_error(riff({fmt16, chunk("data", {})}), "0 samples");
    expect_error(riff({fmt16, chunk("data", {7})}), "less than one frame");
    expect_error(riff({chunk("fmt ", fmt_body(1, 2, 16000, 24)), chunk("data", {1, 2, 3, 4, 5})}),
                 "less than one frame");

    Bytes nan_data, inf_data;
    add_f32(nan_data, 0.5f);
    add_f32(nan_data, NAN);
    add_f64(inf_data, 0.5);
    add_f64(inf_data, 0.25);
    add_f64(inf_data, -INFINITY);
    expect_error(riff({chunk("fmt ", fmt_body(3, 1, 16000, 32)), chunk("data", nan_data)}),
                 "frame 1, channel 0 is NaN");
    expect_error(riff({chunk("fmt ", fmt_body(3, 1, 16000, 64)), chunk("data", inf_data)}),
                 "frame 2, channel 0 is infinite");
    expect_error(riff({chunk("fmt ", fmt_body(3, 3, 16000, 64)), chunk("data", inf_data)}),
                 "frame 0, channel 2 is infinite");

    Bytes bad_guid = fmt_ext_body(1, 1, 16000, 16, 16);
    bad_guid[30] ^= 0xFF;
    expect_error(riff({chunk("fmt ", bad_guid), data16}), "sub-format");
    Bytes short_ext = fmt_body(0xFFFE, 1, 16000, 16);
    add16(short_ext, 0);
    expect_error(riff({chunk("fmt ", short_ext), data16}), "EXTENSIBLE fmt chunk too short");
    expect_error(riff({chunk("fmt ", fmt_ext_body(1, 1, 16000, 16, 24)), data16}), "valid bits");
    expect_error(riff({chunk("fmt ", fmt_ext_body(7, 1, 16000, 8, 8)), data16}), "mu-law");
}

// [SECTION] files

TEST_CASE("file read and write") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/tone.wav";
    Vec x(1000);
    for (int i = 0; i < 1000; ++i) x[i] = Real(0.5 * std::sin(2 * 3.14159265358979 * 440 * i / 16000.0));
    std::string err;
    REQUIRE(dsp::wav_write_file(path, x, 16000, err));
    dsp::Audio a;
    REQUIRE(dsp::wav_read_file(path, a, err));
    CHECK(a.sample_rate_hz == 16000);
    REQUIRE(a.samples.size() == 1000);
    CHECK(max_abs(a.samples - x) <= 0.5 / 32768 + 1e-7);

    dsp::WavWriteOptions fopt;
    fopt.format = dsp::WavSampleFormat::float32;
    REQUIRE(dsp::wav_write_file(path, x, 16000, err, fopt));
    REQUIRE(dsp::wav_read_file(path, a, err));
    CHECK(max_abs(a.samples - x) <= 1e-7);  // exact in the float build

    // The file reader applies the same checks as the memory reader.
    const Bytes lie =
        riff({chunk("LIST", {1, 2}, 1000), chunk("fmt ", fmt_body(1, 1, 8000, 16)), chunk("data", {0, 0})});
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(lie.data(), 1, lie.size(), f);
    std::fclose(f);
    CHECK_FALSE(dsp::wav_read_file(path, a, err));
    CHECK(err.find("past the end") != std::string::npos);

    CHECK_FALSE(dsp::wav_read_file(dir + "/missing.wav", a, err));
    CHECK(err.find("missing.wav") != std::string::npos);
    CHECK(err.find('\n') == std::string::npos);
    CHECK_FALSE(dsp::wav_read_file(dir, a, err));  // a directory
    CHECK(!err.empty());
    CHECK_FALSE(dsp::wav_write_file(dir + "/no/such/dir/x.wav", x, 16000, err));
    CHECK(err.find("cannot open") != std::string::npos);
    std::remove(path.c_str());
    rmdir(dir.c_str());
}

// [SECTION] fuzz

namespace {

// Checks the reader's contract on one input; the copy has exactly `size` bytes so ASan sees overreads.
void check_contract(const std::uint8_t* data, std::size_t size, int& n_ok, int& n_fail) {
    std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[size > 0 ? size : 1]);
    if (size > 0) std::memcpy(copy.get(), data, size);
    dsp::Audio a;
    std::string err;
    if (dsp::wav_read_memory(size > 0 ? copy.get() : nullptr, size, a, err)) {
        ++n_ok;
        REQUIRE(err.empty());
        REQUIRE(a.samples.size() > 0);
        REQUIRE(std::size_t(a.samples.size()) <= size);
        REQUIRE(a.samples.allFinite());
        REQUIRE(max_abs(a.samples) <= 1.0);
        REQUIRE(a.sample_rate_hz >= 1);
        REQUIRE(a.sample_rate_hz <= 1000000);
        REQUIRE(a.channels >= 1);
        REQUIRE(!a.format.empty());
    } else {
        ++n_fail;
        REQUIRE(!err.empty());
        REQUIRE(err.find('\n') == std::string::npos);
    }
}

std::vector<Bytes> fuzz_seeds() {
    std::vector<Bytes> seeds;
    std::string err;
    Vec x(64);
    for (int i = 0; i < 64; ++i) x[i] = Real(0.9 * std::sin(0.3 * i));
    Bytes b;
    dsp::wav_encode(x, 16000, b, err);
    seeds.push_back(b);
    dsp::WavWriteOptions fopt;
    fopt.format = dsp::WavSampleFormat::float32;
    std::vector<Real> st(2 * 32, Real(0.25));
    dsp::wav_encode(st.data(), 32, 2, 44100, b, err, fopt);  // float stereo with a fact chunk
    seeds.push_back(b);
    std::vector<Real> six(6 * 16, Real(-0.5));
    dsp::wav_encode(six.data(), 16, 6, 48000, b, err);  // extensible
    seeds.push_back(b);
    Bytes d24;
    for (int i = 0; i < 30; ++i) add_s24(d24, i * 100000 - 1500000);
    seeds.push_back(riff({chunk("LIST", {'I', 'N', 'F', 'O', 'x'}), chunk("fmt ", fmt_body(1, 1, 8000, 24)),
                          chunk("junk", {1, 2, 3}), chunk("data", d24), chunk("id3 ", {9})}));
    Bytes d64;
    for (int i = 0; i < 20; ++i) add_f64(d64, 0.05 * i - 0.5);
    seeds.push_back(
        riff({chunk("fmt ", fmt_body(3, 2, 22050, 64)), chunk("fact", {10, 0, 0, 0}), chunk("data", d64)}));
    Bytes ds;
    add64(ds, 0);
    add64(ds, 40);
    add64(ds, 20);
    add32(ds, 0);
    Bytes d8(40, 200);
    seeds.push_back(riff(
        {chunk("ds64", ds), chunk("fmt ", fmt_ext_body(1, 2, 11025, 8, 8)), chunk("data", d8, 0xFFFFFFFF)},
        "RF64"));
    return seeds;
}

}  // namespace

TEST_CASE("fuzz: mutated and truncated files either decode sanely or fail with one line") {
    std::mt19937 rng(20240611);
    const std::vector<Bytes> seeds = fuzz_seeds();
    int n_ok = 0, n_fail = 0, calls = 0;
    const std::uint32_t extremes[] = {0u,      1u,      2u,      0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u,
                                      0xFFFFu, 0x8000u, 0xFFFEu, 3u,          16u,         1000001u};

    for (const Bytes& seed : seeds) {
        {  // every seed must itself be valid, or the mutations test little
            int ok = 0, fail = 0;
            check_contract(seed.data(), seed.size(), ok, fail);
            REQUIRE(ok == 1);
        }
        // Every truncation of the header and the start of the data, and a few of the rest.
        for (std::size_t len = 0; len <= seed.size(); ++len) {
            if (len > 120 && len % 7 != 0 && len != seed.size()) continue;
            check_contract(seed.data(), len, n_ok, n_fail);
            ++calls;
        }
        for (int iter = 0; iter < 1000; ++iter) {
            Bytes m = seed;
            const int kind = int(rng() % 4);
            const int edits = 1 + int(rng() % 4);
            for (int e = 0; e < edits; ++e) {
                // Mostly the header: that is where the parser's decisions are.
                const std::size_t span = (rng() % 4 == 0) ? m.size() : std::min<std::size_t>(m.size(), 96);
                const std::size_t pos = rng() % span;
                if (kind == 0) {  // random byte flips
                    m[pos] ^= std::uint8_t(1 + rng() % 255);
                } else if (kind == 1 || kind == 2) {  // overwrite a 32- or 16-bit field with an extreme value
                    const std::uint32_t v =
                        (rng() % 5 == 0) ? std::uint32_t(rng()) : extremes[rng() % std::size(extremes)];
                    const int width = kind == 1 ? 4 : 2;
                    const std::size_t at = (pos / width) * width;  // fields are aligned in valid files
                    for (int i = 0; i < width && at + i < m.size(); ++i)
                        m[at + i] = std::uint8_t((v >> (8 * i)) & 0xFF);
                } else {  // float payload poison: NaN / Inf / huge patterns anywhere
                    const std::uint32_t v =
                        (rng() % 2) ? 0x7FC00000u : (rng() % 2 ? 0x7F800000u : 0x7F7FFFFFu);
                    for (int i = 0; i < 4 && pos + i < m.size(); ++i)
                        m[pos + i] = std::uint8_t((v >> (8 * i)) & 0xFF);
                }
            }
            if (rng() % 8 == 0) m.resize(rng() % (m.size() + 1));  // and truncate some of them
            check_contract(m.data(), m.size(), n_ok, n_fail);
            ++calls;
        }
    }
    MESSAGE("fuzz calls: " << calls << ", decoded: " << n_ok << ", rejected: " << n_fail);
    CHECK(calls >= 5000);
    // Both outcomes must be exercised, or the mutations are not reaching the decoder.
    CHECK(n_ok > calls / 10);
    CHECK(n_fail > calls / 10);
}
