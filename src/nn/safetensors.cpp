// safetensors read/write (see safetensors.h).
//
// Index
//   [SECTION] element conversion
//   [SECTION] reading
//   [SECTION] writing
#include "nn/safetensors.h"

#include "util/file.h"
#include "util/json.h"
#include "util/text.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

namespace ddsp::nn {

using util::JsonValue;

const Tensor* TensorFile::find(const std::string& name) const {
    for (const Tensor& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

namespace {

// [SECTION] element conversion
// Bytes are assembled explicitly so the code does not depend on the host's byte order.

uint64_t load_u64_le(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

uint32_t load_u32_le(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

uint16_t load_u16_le(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }

float float_from_bits(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

float f16_to_float(uint16_t h) {
    const uint32_t sign = uint32_t(h >> 15) << 31;
    const uint32_t exponent = (h >> 10) & 0x1f;
    const uint32_t mantissa = h & 0x3ff;
    if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float
        const float magnitude = std::ldexp(float(mantissa), -24);
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31) return float_from_bits(sign | 0x7f800000u | mantissa << 13);  // inf / NaN
    return float_from_bits(sign | (exponent - 15 + 127) << 23 | mantissa << 13);
}

float bf16_to_float(uint16_t b) { return float_from_bits(uint32_t(b) << 16); }

float f64_to_float(uint64_t bits) {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    // Out-of-range conversion is undefined behaviour in C++: saturate to inf explicitly.
    if (d > double(std::numeric_limits<float>::max())) return std::numeric_limits<float>::infinity();
    if (d < -double(std::numeric_limits<float>::max())) return -std::numeric_limits<float>::infinity();
    return float(d);
}

void store_u64_le(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}

void store_f32_le(uint8_t* p, float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    for (int i = 0; i < 4; ++i) p[i] = uint8_t(bits >> (8 * i));
}

// [SECTION] reading

enum class Dtype { f32, f64, f16, bf16 };

struct Entry {
    std::string name;
    Dtype dtype = Dtype::f32;
    std::size_t element_bytes = 4;
    std::vector<int64_t> shape;
    uint64_t count = 1;
    uint64_t begin = 0, end = 0;
};

// Integers in JSON arrive as doubles: accept only exact non-negative integers up to 2^53.
bool json_to_u64(const JsonValue& v, uint64_t& out) {
    if (v.type != JsonValue::Type::number) return false;
    const double d = v.number;
    if (!(d >= 0) || d > 9007199254740992.0 || d != std::floor(d)) return false;
    out = uint64_t(d);
    return true;
}

bool parse_dtype(const std::string& name, Dtype& dtype, std::size_t& bytes, std::string& error) {
    if (name == "F32") {
        dtype = Dtype::f32, bytes = 4;
    } else if (name == "F64") {
        dtype = Dtype::f64, bytes = 8;
    } else if (name == "F16") {
        dtype = Dtype::f16, bytes = 2;
    } else if (name == "BF16") {
        dtype = Dtype::bf16, bytes = 2;
    } else {
        static const char* const known[] = {"BOOL", "U8",  "I8",  "U16",     "I16",     "U32",      "I32",
                                            "U64",  "I64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3",
                                            "F6_E3M2", "F4", "C64"};
        const bool is_known = std::find(std::begin(known), std::end(known), name) != std::end(known);
        error = (is_known ? "dtype " + name + " is not supported" : "unknown dtype " + util::quote_input(name)) +
                " (supported: F32, F64, F16, BF16)";
        return false;
    }
    return true;
}

bool parse_entry(const std::string& name, const JsonValue& v, Entry& e, std::string& error) {
    const std::string where = "tensor " + util::quote_input(name) + ": ";
    if (v.type != JsonValue::Type::object) {
        error = where + "expected an object, got " + util::json_type_name(v.type);
        return false;
    }
    for (const auto& kv : v.object) {
        if (kv.first != "dtype" && kv.first != "shape" && kv.first != "data_offsets") {
            error = where + "unknown key " + util::quote_input(kv.first);
            return false;
        }
    }
    e.name = name;
    const JsonValue* dtype = v.find("dtype");
    const JsonValue* shape = v.find("shape");
    const JsonValue* offsets = v.find("data_offsets");
    if (!dtype || !shape || !offsets) {
        error = where + "missing " + (!dtype ? "dtype" : !shape ? "shape" : "data_offsets");
        return false;
    }
    if (dtype->type != JsonValue::Type::string) {
        error = where + "dtype must be a string";
        return false;
    }
    if (!parse_dtype(dtype->string, e.dtype, e.element_bytes, error)) {
        error = where + error;
        return false;
    }
    if (shape->type != JsonValue::Type::array) {
        error = where + "shape must be an array";
        return false;
    }
    e.count = 1;
    bool zero = false;  // a zero dimension makes the count 0 whatever the other dimensions are
    for (const JsonValue& d : shape->array) {
        uint64_t n = 0;
        if (!json_to_u64(d, n)) {
            error = where + "shape dimensions must be non-negative integers";
            return false;
        }
        e.shape.push_back(int64_t(n));
        if (n == 0) zero = true;
        // Overflow check: count * n * element_bytes must fit in 64 bits.
        if (!zero && e.count > std::numeric_limits<uint64_t>::max() / e.element_bytes / n) {
            error = where + "shape is too large";
            return false;
        }
        if (!zero) e.count *= n;
    }
    if (zero) e.count = 0;
    if (offsets->type != JsonValue::Type::array || offsets->array.size() != 2 ||
        !json_to_u64(offsets->array[0], e.begin) || !json_to_u64(offsets->array[1], e.end)) {
        error = where + "data_offsets must be [begin, end] with non-negative integers";
        return false;
    }
    if (e.end < e.begin) {
        error = where + "data_offsets end " + std::to_string(e.end) + " is before begin " + std::to_string(e.begin);
        return false;
    }
    if (e.end - e.begin != e.count * e.element_bytes) {
        error = where + "data_offsets hold " + std::to_string(e.end - e.begin) + " bytes but the shape needs " +
                std::to_string(e.count * e.element_bytes);
        return false;
    }
    return true;
}

bool read_memory(const uint8_t* bytes, std::size_t size, TensorFile& out, std::string& error) {
    if (size < 8) {
        error = "safetensors: " + std::to_string(size) + " bytes is too short for the 8-byte header length";
        return false;
    }
    const uint64_t header_bytes = load_u64_le(bytes);
    if (header_bytes == 0) {
        error = "safetensors: header length is 0";
        return false;
    }
    if (header_bytes > safetensors_max_header_bytes) {
        error = "safetensors: header length " + std::to_string(header_bytes) + " is larger than the limit of " +
                std::to_string(safetensors_max_header_bytes) + " bytes";
        return false;
    }
    if (header_bytes > size - 8) {
        error = "safetensors: header length " + std::to_string(header_bytes) + " exceeds the " +
                std::to_string(size - 8) + " bytes after the length field (truncated file?)";
        return false;
    }
    const std::string header(reinterpret_cast<const char*>(bytes) + 8, std::size_t(header_bytes));
    JsonValue root;
    util::JsonLimits limits;
    limits.max_bytes = std::size_t(safetensors_max_header_bytes);
    if (!util::json_parse(header, root, error, limits)) {
        error = "safetensors header: " + error;
        return false;
    }
    if (root.type != JsonValue::Type::object) {
        error = std::string("safetensors header: expected an object, got ") + util::json_type_name(root.type);
        return false;
    }

    const uint8_t* buffer = bytes + 8 + header_bytes;
    const uint64_t buffer_bytes = size - 8 - header_bytes;
    std::vector<Entry> entries;
    std::set<std::string> names;
    for (const auto& kv : root.object) {
        if (kv.first == "__metadata__") {
            if (kv.second.type != JsonValue::Type::object) {
                error = "safetensors header: __metadata__ must be an object";
                return false;
            }
            for (const auto& m : kv.second.object) {
                if (m.second.type != JsonValue::Type::string) {
                    error = "safetensors header: __metadata__ value " + util::quote_input(m.first) +
                            " must be a string, got " + util::json_type_name(m.second.type);
                    return false;
                }
                out.metadata[m.first] = m.second.string;
            }
            continue;
        }
        if (!names.insert(kv.first).second) {  // json_parse already rejects duplicate keys
            error = "safetensors header: duplicate tensor " + util::quote_input(kv.first);
            return false;
        }
        Entry e;
        if (!parse_entry(kv.first, kv.second, e, error)) {
            error = "safetensors header: " + error;
            return false;
        }
        if (e.end > buffer_bytes) {
            error = "safetensors header: tensor " + util::quote_input(e.name) + ": data_offsets end " +
                    std::to_string(e.end) + " is beyond the " + std::to_string(buffer_bytes) + "-byte data buffer";
            return false;
        }
        entries.push_back(std::move(e));
    }

    // The tensors must tile the buffer: walk them in offset order.
    std::vector<const Entry*> by_offset;
    for (const Entry& e : entries) by_offset.push_back(&e);
    std::stable_sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t cursor = 0;
    const Entry* previous = nullptr;
    for (const Entry* e : by_offset) {
        if (e->begin < cursor) {
            error = "safetensors header: tensor " + util::quote_input(e->name) + " overlaps tensor " +
                    util::quote_input(previous->name);
            return false;
        }
        if (e->begin > cursor) {
            error = "safetensors header: gap of " + std::to_string(e->begin - cursor) + " bytes before tensor " +
                    util::quote_input(e->name);
            return false;
        }
        cursor = e->end;
        previous = e;
    }
    if (cursor != buffer_bytes) {
        error = "safetensors: " + std::to_string(buffer_bytes - cursor) +
                " bytes at the end of the data buffer belong to no tensor";
        return false;
    }

    out.tensors.reserve(entries.size());
    for (const Entry& e : entries) {
        Tensor t;
        t.name = e.name;
        t.shape = e.shape;
        t.data.resize(std::size_t(e.count));
        const uint8_t* p = buffer + e.begin;
        for (std::size_t i = 0; i < t.data.size(); ++i, p += e.element_bytes) {
            switch (e.dtype) {
                case Dtype::f32: t.data[i] = float_from_bits(load_u32_le(p)); break;
                case Dtype::f64: t.data[i] = f64_to_float(load_u64_le(p)); break;
                case Dtype::f16: t.data[i] = f16_to_float(load_u16_le(p)); break;
                case Dtype::bf16: t.data[i] = bf16_to_float(load_u16_le(p)); break;
            }
        }
        out.tensors.push_back(std::move(t));
    }
    return true;
}

}  // namespace

bool safetensors_read_memory(const uint8_t* bytes, std::size_t size, TensorFile& out, std::string& error) {
    // Filled separately so that a failed read leaves `out` empty rather than half-filled.
    TensorFile parsed;
    out = TensorFile();
    if (!read_memory(bytes, size, parsed, error)) return false;
    out = std::move(parsed);
    return true;
}

bool safetensors_read_file(const std::string& path, TensorFile& out, std::string& error) {
    out = TensorFile();
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        error = "cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    std::vector<uint8_t> bytes;
    uint8_t chunk[65536];
    for (;;) {
        const std::size_t got = std::fread(chunk, 1, sizeof chunk, f);
        bytes.insert(bytes.end(), chunk, chunk + got);
        if (got < sizeof chunk) break;
    }
    const bool read_failed = std::ferror(f) != 0;
    std::fclose(f);
    if (read_failed) {
        error = "cannot read '" + path + "'";
        return false;
    }
    if (!safetensors_read_memory(bytes.data(), bytes.size(), out, error)) {
        error = "'" + path + "': " + error;
        return false;
    }
    return true;
}

// [SECTION] writing

bool safetensors_encode(const TensorFile& file, std::vector<uint8_t>& out, std::string& error) {
    out.clear();
    std::vector<const Tensor*> sorted;
    for (const Tensor& t : file.tensors) sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](const Tensor* a, const Tensor* b) { return a->name < b->name; });

    // A string the JSON reader accepts back (valid UTF-8), quoted.
    auto quote_checked = [&error](const std::string& s, const std::string& what, std::string& quoted) {
        quoted = util::json_quote(s);  // (shows invalid bytes as U+FFFD)
        if (!util::is_valid_utf8(s)) {
            error = "safetensors: " + what + " " + quoted + " is not valid UTF-8";
            return false;
        }
        return true;
    };

    std::string header = "{";
    std::string quoted;
    if (!file.metadata.empty()) {
        header += "\"__metadata__\":{";
        bool first = true;
        for (const auto& kv : file.metadata) {
            if (!first) header += ",";
            first = false;
            if (!quote_checked(kv.first, "metadata key", quoted)) return false;
            header += quoted + ":";
            if (!quote_checked(kv.second, "metadata value", quoted)) return false;
            header += quoted;
        }
        header += "}";
    }
    uint64_t offset = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        const Tensor& t = *sorted[i];
        const std::string where = "safetensors: tensor " + util::quote_input(t.name) + ": ";
        if (t.name.empty() || t.name == "__metadata__") {
            error = "safetensors: invalid tensor name " + util::quote_input(t.name);
            return false;
        }
        if (i > 0 && sorted[i - 1]->name == t.name) {
            error = "safetensors: duplicate tensor " + util::quote_input(t.name);
            return false;
        }
        if (!quote_checked(t.name, "tensor name", quoted)) return false;
        uint64_t count = 1;
        for (const int64_t d : t.shape) {
            if (d < 0) {
                error = where + "negative dimension " + std::to_string(d);
                return false;
            }
            if (d != 0 && count > std::numeric_limits<uint64_t>::max() / 4 / uint64_t(d)) {
                error = where + "shape is too large";
                return false;
            }
            count *= uint64_t(d);
        }
        if (count != t.data.size()) {
            error = where + "shape holds " + std::to_string(count) + " elements but data has " +
                    std::to_string(t.data.size());
            return false;
        }
        header += (header.size() > 1 ? "," : "") + quoted + ":{\"dtype\":\"F32\",\"shape\":[";
        for (std::size_t k = 0; k < t.shape.size(); ++k) header += (k ? "," : "") + std::to_string(t.shape[k]);
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + 4 * count) + "]}";
        offset += 4 * count;
    }
    header += "}";
    // Spaces (allowed after JSON) so that the buffer after the 8-byte length starts 8-byte aligned.
    header.append((8 - header.size() % 8) % 8, ' ');

    out.resize(8 + header.size() + std::size_t(offset));
    store_u64_le(out.data(), header.size());
    std::memcpy(out.data() + 8, header.data(), header.size());
    uint8_t* p = out.data() + 8 + header.size();
    for (const Tensor* t : sorted)
        for (const float v : t->data) {
            store_f32_le(p, v);
            p += 4;
        }
    return true;
}

bool safetensors_write_file(const std::string& path, const TensorFile& file, std::string& error) {
    std::vector<uint8_t> bytes;
    if (!safetensors_encode(file, bytes, error)) {
        error = "'" + path + "': " + error;
        return false;
    }
    return util::write_file(path, bytes.data(), bytes.size(), error);
}

}  // namespace ddsp::nn
