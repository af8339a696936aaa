// safetensors read/write: the weight-file format of model hubs, so networks trained in Python
// (or here) load without a pickle reader.
//
// Layout of a file:
//   8 bytes   N, the header length, unsigned 64-bit little-endian
//   N bytes   UTF-8 JSON object, possibly padded at the end with spaces:
//               {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//                "__metadata__": {"key": "value", ...}}        (metadata optional, strings only)
//   rest      the byte buffer; offsets are relative to its start, little-endian elements,
//             row-major. The tensors tile the buffer exactly: no gaps, no overlaps.
//
// Reading accepts F32, and converts F64, F16 and BF16 to float (F64 beyond the float range
// becomes +-inf). Other dtypes (integers, BOOL, F8...) are rejected with an error naming the
// tensor. Everything is validated because files come from users: header length (non-zero,
// <= 100 MB, within the file), strict JSON (see util/json.h), unknown keys, shapes
// (non-negative integers, overflow-checked products), byte size == element count * dtype size,
// offsets within the buffer, tiling. Errors are one line; file functions prefix the path.
//
// Writing always stores F32, tensors sorted by name (data in the same order), metadata first,
// header padded with spaces to a multiple of 8 bytes so the buffer starts 8-byte aligned. The
// same TensorFile always encodes to the same bytes.
// Nothing here throws (except std::bad_alloc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ddsp::nn {

struct Tensor {
    std::string name;
    std::vector<int64_t> shape;  // empty: a scalar with one element
    std::vector<float> data;     // row-major, size == product of shape
};

struct TensorFile {
    std::vector<Tensor> tensors;  // read: in header order
    std::map<std::string, std::string> metadata;

    const Tensor* find(const std::string& name) const;  // nullptr if absent
};

// Largest header accepted on reading (the reference implementation uses the same bound).
constexpr uint64_t safetensors_max_header_bytes = uint64_t(100) << 20;

bool safetensors_read_memory(const uint8_t* bytes, std::size_t size, TensorFile& out, std::string& error);
bool safetensors_read_file(const std::string& path, TensorFile& out, std::string& error);

// Fails if a name is empty, "__metadata__", duplicated or not UTF-8, or if a shape has a negative
// dimension or does not match the data size.
bool safetensors_encode(const TensorFile& file, std::vector<uint8_t>& out, std::string& error);
bool safetensors_write_file(const std::string& path, const TensorFile& file, std::string& error);

}  // namespace ddsp::nn
