// safetensors: round trips, deterministic bytes, hand-built files with every supported dtype, and
// malformed files that must fail with a one-line error (and no crash under ASan).
#include <doctest/doctest.h>

#include "nn/safetensors.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace ddsp::nn;

namespace {

std::vector<uint8_t> le_u64(uint64_t v) {
    std::vector<uint8_t> b(8);
    for (int i = 0; i < 8; ++i) b[i] = uint8_t(v >> (8 * i));
    return b;
}

void append_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

void append_f32(std::vector<uint8_t>& out, float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    append_le(out, bits, 4);
}

void append_f64(std::vector<uint8_t>& out, double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    append_le(out, bits, 8);
}

// A file from a header text and a data buffer, with the header length field filled in.
std::vector<uint8_t> make_file(const std::string& header, const std::vector<uint8_t>& buffer) {
    // Sized up front (GCC 12 warns falsely about inserting into a fresh 8-byte vector).
    std::vector<uint8_t> out(8 + header.size() + buffer.size());
    const std::vector<uint8_t> length = le_u64(header.size());
    std::copy(length.begin(), length.end(), out.begin());
    std::copy(header.begin(), header.end(), out.begin() + 8);
    std::copy(buffer.begin(), buffer.end(), out.begin() + 8 + std::ptrdiff_t(header.size()));
    return out;
}

uint32_t bits_of(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (bits_of(a[i]) != bits_of(b[i])) return false;
    return true;
}

// Reading must fail with a non-empty one-line error; returns the error for further checks.
std::string read_error(const std::vector<uint8_t>& bytes) {
    TensorFile f;
    f.tensors.push_back({"stale", {}, {1}});
    f.metadata["stale"] = "x";
    std::string error;
    const bool ok = safetensors_read_memory(bytes.data(), bytes.size(), f, error);
    CHECK_FALSE(ok);
    CHECK(f.tensors.empty());  // a failed read leaves nothing half-filled
    CHECK(f.metadata.empty());
    CHECK_FALSE(error.empty());
    CHECK(error.find('\n') == std::string::npos);
    return error;
}

std::string read_error(const std::string& header, const std::vector<uint8_t>& buffer) {
    return read_error(make_file(header, buffer));
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string temp_path(const char* tag) {
    static std::mt19937_64 rng(uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
    return "/tmp/ddsp_test_safetensors_" + std::string(tag) + "_" + std::to_string(rng()) + ".safetensors";
}

TensorFile sample_file() {
    TensorFile f;
    f.tensors.push_back({"scalar", {}, {3.25f}});
    f.tensors.push_back({"b.vector", {5}, {1.0f, -2.0f, 1e-30f, 1e30f, -0.0f}});
    Tensor cube{"a.cube", {2, 3, 4}, {}};
    for (int i = 0; i < 24; ++i) cube.data.push_back(std::sin(0.7f * float(i)) * 100.0f);
    f.tensors.push_back(cube);
    f.tensors.push_back({"empty", {0, 7}, {}});
    f.tensors.push_back({"special", {3},
                         {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min(),
                          std::numeric_limits<float>::quiet_NaN()}});
    f.metadata["format"] = "pt";
    f.metadata["note"] = "quote \" backslash \\ newline \n unicode \xc3\xa9";
    return f;
}

}  // namespace

TEST_CASE("round trip in memory is bit-exact, sorted by name, header aligned") {
    const TensorFile in = sample_file();
    std::vector<uint8_t> bytes;
    std::string error;
    REQUIRE_MESSAGE(safetensors_encode(in, bytes, error), error);

    uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; --i) header_bytes = header_bytes << 8 | bytes[std::size_t(i)];
    CHECK(header_bytes % 8 == 0);
    CHECK(bytes.size() == 8 + header_bytes + 4 * (1 + 5 + 24 + 0 + 3));
    const std::string header(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(header_bytes));
    CHECK(header.front() == '{');
    CHECK(header.find("\"__metadata__\"") < header.find("\"a.cube\""));
    CHECK(header.find("\"a.cube\"") < header.find("\"b.vector\""));
    CHECK(header.find("\"b.vector\"") < header.find("\"scalar\""));

    TensorFile out;
    REQUIRE_MESSAGE(safetensors_read_memory(bytes.data(), bytes.size(), out, error), error);
    CHECK(out.metadata == in.metadata);
    REQUIRE(out.tensors.size() == in.tensors.size());
    for (const Tensor& t : in.tensors) {
        CAPTURE(t.name);
        const Tensor* r = out.find(t.name);
        REQUIRE(r != nullptr);
        CHECK(r->shape == t.shape);
        CHECK(same_bits(r->data, t.data));
    }
    CHECK(out.find("missing") == nullptr);
    // Written in name order, so read back in name order.
    CHECK(out.tensors[0].name == "a.cube");
    CHECK(out.tensors[4].name == "special");
    CHECK(out.find("scalar")->shape.empty());
    CHECK(out.find("scalar")->data.size() == 1);
}

TEST_CASE("encoding is deterministic and independent of tensor order") {
    TensorFile a = sample_file();
    TensorFile b = sample_file();
    std::reverse(b.tensors.begin(), b.tensors.end());
    std::vector<uint8_t> bytes_a, bytes_b, bytes_a2;
    std::string error;
    REQUIRE(safetensors_encode(a, bytes_a, error));
    REQUIRE(safetensors_encode(b, bytes_b, error));
    REQUIRE(safetensors_encode(a, bytes_a2, error));
    CHECK(bytes_a == bytes_b);
    CHECK(bytes_a == bytes_a2);

    // Re-encoding what was read gives the same bytes again.
    TensorFile read;
    REQUIRE(safetensors_read_memory(bytes_a.data(), bytes_a.size(), read, error));
    std::vector<uint8_t> bytes_c;
    REQUIRE(safetensors_encode(read, bytes_c, error));
    CHECK(bytes_c == bytes_a);
}

TEST_CASE("exact bytes of a tiny file") {
    TensorFile f;
    f.tensors.push_back({"w", {2}, {1.0f, -2.0f}});
    std::vector<uint8_t> bytes;
    std::string error;
    REQUIRE(safetensors_encode(f, bytes, error));
    const std::string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    std::string padded = header;
    padded.append((8 - header.size() % 8) % 8, ' ');
    std::vector<uint8_t> buffer;
    append_f32(buffer, 1.0f);
    append_f32(buffer, -2.0f);
    CHECK(bytes == make_file(padded, buffer));
    // 1.0f is 00 00 80 3f little-endian.
    CHECK(bytes[bytes.size() - 8 + 3] == 0x3f);
    CHECK(bytes[bytes.size() - 8 + 2] == 0x80);

    TensorFile empty;
    REQUIRE(safetensors_encode(empty, bytes, error));
    CHECK(bytes == make_file("{}      ", {}));
}

TEST_CASE("file round trip and file errors") {
    const std::string path = temp_path("roundtrip");
    const TensorFile in = sample_file();
    std::string error;
    REQUIRE_MESSAGE(safetensors_write_file(path, in, error), error);
    TensorFile out;
    REQUIRE_MESSAGE(safetensors_read_file(path, out, error), error);
    CHECK(out.metadata == in.metadata);
    REQUIRE(out.tensors.size() == in.tensors.size());
    for (const Tensor& t : in.tensors) CHECK(same_bits(out.find(t.name)->data, t.data));

    // A corrupt file: the error names the path.
    {
        std::FILE* f = std::fopen(path.c_str(), "wb");
        REQUIRE(f != nullptr);
        std::fputs("garbage", f);
        std::fclose(f);
    }
    CHECK_FALSE(safetensors_read_file(path, out, error));
    CHECK(contains(error, path));
    CHECK(error.find('\n') == std::string::npos);
    std::remove(path.c_str());

    CHECK_FALSE(safetensors_read_file("/nonexistent_dir_ddsp/x.safetensors", out, error));
    CHECK(contains(error, "/nonexistent_dir_ddsp/x.safetensors"));
    CHECK_FALSE(safetensors_write_file("/nonexistent_dir_ddsp/x.safetensors", in, error));
    CHECK(contains(error, "/nonexistent_dir_ddsp/x.safetensors"));
}

TEST_CASE("hand-built file with F16, BF16, F64 and F32 decodes to the right floats") {
    // Offsets are deliberately not in header order, and the header has trailing spaces.
    const std::string header =
        "{\"__metadata__\": {\"k\": \"v\"},"
        " \"half\": {\"dtype\": \"F16\", \"shape\": [7], \"data_offsets\": [0, 14]},"
        " \"double\": {\"dtype\": \"F64\", \"shape\": [2, 2], \"data_offsets\": [24, 56]},"
        " \"brain\": {\"dtype\": \"BF16\", \"shape\": [5], \"data_offsets\": [14, 24]},"
        " \"single\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [56, 60]}}   ";
    std::vector<uint8_t> buffer;
    // float16 bit patterns (numpy): 1, -2.5, 65504, smallest subnormal, 0.333 (rounded), -0, inf
    for (uint64_t h : {15360, 49408, 31743, 1, 13652, 32768, 31744}) append_le(buffer, h, 2);
    // bfloat16 bit patterns (torch): 1, -2.5, 3e38 (rounded), 1e-40 (rounded, subnormal), 0.333
    for (uint64_t b : {16256, 0xC020, 32610, 1, 16042}) append_le(buffer, b, 2);
    for (double d : {0.1, -1e300, 1e-50, 123456789.0}) append_f64(buffer, d);
    append_f32(buffer, 42.5f);
    REQUIRE(buffer.size() == 60);

    const std::vector<uint8_t> bytes = make_file(header, buffer);
    TensorFile f;
    std::string error;
    REQUIRE_MESSAGE(safetensors_read_memory(bytes.data(), bytes.size(), f, error), error);
    CHECK(f.metadata.at("k") == "v");
    REQUIRE(f.tensors.size() == 4);
    CHECK(f.tensors[0].name == "half");  // header order

    const Tensor* half = f.find("half");
    REQUIRE(half);
    CHECK(half->shape == std::vector<int64_t>{7});
    CHECK(half->data[0] == 1.0f);
    CHECK(half->data[1] == -2.5f);
    CHECK(half->data[2] == 65504.0f);
    CHECK(half->data[3] == std::ldexp(1.0f, -24));
    CHECK(half->data[4] == 0x1.55p-2f);
    CHECK(half->data[5] == 0.0f);
    CHECK(std::signbit(half->data[5]));
    CHECK(std::isinf(half->data[6]));
    CHECK(half->data[6] > 0);

    const Tensor* brain = f.find("brain");
    REQUIRE(brain);
    CHECK(brain->data[0] == 1.0f);
    CHECK(brain->data[1] == -2.5f);
    CHECK(brain->data[2] == 0x1.c4p+127f);
    CHECK(brain->data[3] == std::ldexp(1.0f, -133));
    CHECK(brain->data[4] == 0x1.54p-2f);

    const Tensor* dbl = f.find("double");
    REQUIRE(dbl);
    CHECK(dbl->shape == std::vector<int64_t>{2, 2});
    CHECK(dbl->data[0] == 0.1f);
    CHECK(std::isinf(dbl->data[1]));
    CHECK(dbl->data[1] < 0);
    CHECK(dbl->data[2] == 0.0f);
    CHECK(dbl->data[3] == 123456792.0f);  // nearest float

    const Tensor* single = f.find("single");
    REQUIRE(single);
    CHECK(single->shape.empty());
    CHECK(single->data == std::vector<float>{42.5f});
}

TEST_CASE("every truncation of a valid file fails cleanly") {
    TensorFile in;
    in.tensors.push_back({"x", {3}, {1, 2, 3}});
    in.tensors.push_back({"y", {}, {4}});
    in.metadata["m"] = "n";
    std::vector<uint8_t> bytes;
    std::string error;
    REQUIRE(safetensors_encode(in, bytes, error));
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n);
        // A fresh allocation of exactly n bytes, so ASan sees any read past the end.
        std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + std::ptrdiff_t(n));
        std::unique_ptr<uint8_t[]> exact(new uint8_t[n ? n : 1]);
        if (n) std::memcpy(exact.get(), prefix.data(), n);
        TensorFile out;
        CHECK_FALSE(safetensors_read_memory(exact.get(), n, out, error));
        CHECK_FALSE(error.empty());
        CHECK(error.find('\n') == std::string::npos);
    }
    // Extra bytes at the end are data that belongs to no tensor.
    bytes.push_back(0);
    CHECK(contains(read_error(bytes), "belong to no tensor"));
}

TEST_CASE("malformed headers give one-line errors") {
    const std::vector<uint8_t> four(4, 0);
    const std::string ok_entry = "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";

    SUBCASE("header length") {
        CHECK(contains(read_error(le_u64(0)), "header length is 0"));
        std::vector<uint8_t> bytes = le_u64(1000);
        bytes.resize(100, ' ');
        CHECK(contains(read_error(bytes), "exceeds"));
        CHECK(contains(read_error(le_u64(uint64_t(200) << 20)), "limit"));
        CHECK(contains(read_error(le_u64(~uint64_t(0))), "limit"));
    }
    SUBCASE("not JSON or not an object") {
        CHECK(contains(read_error("not json", {}), "JSON"));
        CHECK(contains(read_error("{\"t\":", {}), "JSON"));
        CHECK(contains(read_error("[1,2]", {}), "expected an object"));
        CHECK(contains(read_error(std::string("{}\0", 3), {}), "JSON"));
        CHECK(contains(read_error("{\"t\":[]}", {}), "tensor 't'"));
        CHECK(contains(read_error("{" + ok_entry + "," + ok_entry + "}", four), "duplicate"));
        CHECK(contains(read_error("{\"__metadata__\":{\"a\":1}," + ok_entry + "}", four), "__metadata__"));
        CHECK(contains(read_error("{\"__metadata__\":[]," + ok_entry + "}", four), "__metadata__"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", four),
                       "unknown key"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", four), "missing data_offsets"));
    }
    SUBCASE("dtypes") {
        std::string e = read_error("{\"t\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", four);
        CHECK(contains(e, "U8 is not supported"));
        CHECK(contains(e, "'t'"));
        e = read_error("{\"t\":{\"dtype\":\"XYZ\",\"shape\":[1],\"data_offsets\":[0,4]}}", four);
        CHECK(contains(e, "unknown dtype 'XYZ'"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four),
                       "not supported"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", four), "dtype"));
    }
    SUBCASE("data_offsets") {
        std::vector<uint8_t> eight(8, 0);
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", four),
                       "beyond"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", four),
                       "before begin"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", four),
                       "data_offsets"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", four),
                       "data_offsets"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4.5]}}", four),
                       "data_offsets"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e300]}}", four),
                       "data_offsets"));
        // Overlap: both tensors use bytes 0..4, the buffer is 8 bytes.
        CHECK(contains(read_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                                  eight),
                       "overlaps"));
        // Gap: bytes 0..4 unused.
        CHECK(contains(read_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", eight),
                       "gap of 4 bytes"));
        // Unused tail.
        CHECK(contains(read_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", eight),
                       "belong to no tensor"));
    }
    SUBCASE("shapes") {
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", four),
                       "shape needs 8"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", four),
                       "shape needs 2"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", four),
                       "non-negative"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", four),
                       "non-negative"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", four),
                       "non-negative"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", four),
                       "shape must be an array"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,4]}}", four),
                       "non-negative"));
        // Products that overflow 64 bits, and a product that fits but wraps when multiplied by 4.
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                                  "\"data_offsets\":[0,4]}}",
                                  four),
                       "too large"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F64\",\"shape\":[9007199254740992,4096],"
                                  "\"data_offsets\":[0,4]}}",
                                  four),
                       "too large"));
        CHECK(contains(read_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],"
                                  "\"data_offsets\":[0,4]}}",
                                  four),
                       "non-negative"));  // above 2^53: not an exact integer in JSON
        // A zero dimension makes a huge shape empty.
        TensorFile f;
        std::string error;
        const std::vector<uint8_t> bytes =
            make_file("{\"t\":{\"dtype\":\"F32\",\"shape\":[0,9007199254740992],\"data_offsets\":[0,0]}}", {});
        CHECK(safetensors_read_memory(bytes.data(), bytes.size(), f, error));
        CHECK(f.find("t")->data.empty());
    }
}

TEST_CASE("writing rejects inconsistent tensors") {
    std::vector<uint8_t> bytes;
    std::string error;
    auto encode_error = [&](const TensorFile& f) {
        CHECK_FALSE(safetensors_encode(f, bytes, error));
        CHECK(error.find('\n') == std::string::npos);
        return error;
    };
    TensorFile f;
    f.tensors.push_back({"w", {2, 2}, {1, 2, 3}});
    CHECK(contains(encode_error(f), "'w'"));
    f.tensors[0] = {"w", {-1}, {}};
    CHECK(contains(encode_error(f), "negative"));
    f.tensors[0] = {"w", {int64_t(1) << 40, int64_t(1) << 40}, {}};
    CHECK(contains(encode_error(f), "too large"));
    f.tensors[0] = {"w", {1}, {1}};
    f.tensors.push_back({"w", {1}, {2}});
    CHECK(contains(encode_error(f), "duplicate"));
    f.tensors[1] = {"__metadata__", {1}, {2}};
    CHECK(contains(encode_error(f), "invalid tensor name"));
    f.tensors[1] = {"", {1}, {2}};
    CHECK(contains(encode_error(f), "invalid tensor name"));
    f.tensors[1] = {"bad\xff", {1}, {2}};
    CHECK(contains(encode_error(f), "UTF-8"));
    f.tensors.pop_back();
    f.metadata["k"] = "bad\xc3";
    CHECK(contains(encode_error(f), "UTF-8"));
}
