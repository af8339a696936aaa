// A small strict JSON reader and writer, and strict numbers in text; the bottom of the core
// (every layer above writes its JSON with these, and reads user files with json_parse).
//
// The reader is RFC 8259 without extensions: no comments, no trailing commas, no NaN or
// Infinity, duplicate keys rejected, numbers that overflow a double rejected, strings must be
// valid UTF-8 (a leading UTF-8 byte-order mark is skipped). Depth and size are limited because
// files come from users (a 100000-deep document parses in nlohmann-json and then crashes whatever
// recurses over it first). Errors are one line with the byte offset, line and column:
// "JSON: byte 17 (line 2, column 5): ...".
// Nothing here throws.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace ddsp::util {

// [SECTION] strict numbers in text (command-line values, "name:index" axes)

// The whole string must be the number: no leading space, no trailing characters, no overflow;
// parse_real also refuses NaN and infinity.
bool parse_real(const std::string& text, double& out);
bool parse_integer(const std::string& text, long long& out);
// A number for a message, printf's "%g" (6 significant digits): "outside 1000..384000".
std::string format_g(double v);

// [SECTION] JSON

struct JsonValue {
    enum class Type { null, boolean, number, string, array, object };
    Type type = Type::null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<JsonValue> array;
    std::vector<std::pair<std::string, JsonValue>> object;  // file order, unique keys
    std::size_t offset = 0;                                 // byte offset of the value in the text

    const JsonValue* find(const std::string& key) const;  // nullptr if absent or not an object
};

const char* json_type_name(JsonValue::Type type);

struct JsonLimits {
    std::size_t max_bytes = std::size_t(64) << 20;  // a 4 s ddsp preset is ~1 MB
    int max_depth = 64;
    // Each value costs ~100 bytes parsed, so 64 MB of "[0,0,..." would need 3 GB (more than wasm
    // has): the count is limited too. 2 million values is a ~20 MB file (~80 s of a ddsp preset).
    std::size_t max_values = 2000000;
};

bool json_parse(const std::string& text, JsonValue& out, std::string& error, const JsonLimits& limits = {});

// A JSON-lines text (a data set's metadata.jsonl) read from `name`: one value per non-empty line,
// each with its 1-based line number. An unparsable line fails with "name:N: ...".
struct JsonLine {
    int line = 0;
    JsonValue value;
};
bool json_parse_lines(const std::string& text, const std::string& name, std::vector<JsonLine>& out,
                      std::string& error);

// Writing: a quoted, escaped string; a number with 9 significant digits (every float round-trips),
// integers without exponent up to 1e15, and `null` for NaN/Inf (JSON has no spelling for them).
std::string json_quote(const std::string& s);
std::string json_number(double v);

}  // namespace ddsp::util
