// Seeded mutations for the fuzz driver (fuzz_inputs.cpp): byte-level (bit flips, interesting
// bytes and integers, insert/delete/duplicate ranges, truncation, splicing), JSON trees (numbers to
// huge/negative/NaN-like text, wrong types, duplicate keys, deep nesting, removed and added keys),
// WAV headers (chunk sizes, format tags, channels, rates, bits, chunk order, RF64) and safetensors
// (header length, dtype/shape/offsets in the JSON header, metadata values, tensor data).
//
// Everything is a function of an Rng seeded per input, so an input is reproduced from (seed,
// format, index) alone.
#pragma once

#include "util/json.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ddsp::fuzz {

// splitmix64: small, fast and the same everywhere.
class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed) {}
    uint64_t next() {
        uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return n == 0 ? 0 : size_t(next() % n); }
    bool chance(int num, int den) { return below(size_t(den)) < size_t(num); }
    template <class T>
    const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

private:
    uint64_t s_;
};

uint64_t mix_seed(uint64_t seed, const std::string& name, uint64_t index);

// Dictionaries a format adds to the mutators: key names and string values it knows.
struct Dictionary {
    std::vector<std::string> keys;
    std::vector<std::string> strings;
};

// [SECTION] byte level
void mutate_bytes(std::string& data, Rng& rng, const std::vector<std::string>& seeds, const Dictionary& dict);

// [SECTION] JSON
// A JSON text: parsed and mutated as a tree (then written back, possibly with raw number text such
// as NaN or 1e999 and duplicate keys), or as text (tokens, nesting) when it does not parse.
void mutate_json_text(std::string& text, Rng& rng, const Dictionary& dict);
// The tree form, exposed for the safetensors header.
void mutate_json_tree(util::JsonValue& root, Rng& rng, const Dictionary& dict);
std::string json_write(const util::JsonValue& v);

// [SECTION] WAV
void mutate_wav(std::string& data, Rng& rng);

// [SECTION] safetensors
// Container-level (header length, header JSON: dtype, shape, offsets, metadata) on the bytes;
// `meta_dict` is used for the JSON embedded in metadata values (model configs, presets).
void mutate_safetensors(std::string& data, Rng& rng, const Dictionary& dict, const Dictionary& meta_dict);
// Model-level: decode, change tensors (drop, rename, reshape with data, NaN/Inf/huge values,
// duplicate) or metadata values (their embedded JSON), encode again (a well-formed container).
// False if the input does not decode.
bool mutate_tensor_file(std::string& data, Rng& rng, const Dictionary& meta_dict);

}  // namespace ddsp::fuzz
