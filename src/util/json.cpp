// Strict JSON reader and writer (see json.h).
//
// Index
//   [SECTION] strict numbers in text
//   [SECTION] JSON reader
//   [SECTION] JSON writing
#include "util/json.h"
#include "util/text.h"

#include "util/text.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ddsp::util {

// [SECTION] strict numbers in text

bool parse_real(const std::string& text, double& out) {
    if (text.empty() || std::isspace((unsigned char)text[0])) return false;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (*end != '\0' || errno == ERANGE || !std::isfinite(v)) return false;
    out = v;
    return true;
}

bool parse_integer(const std::string& text, long long& out) {
    if (text.empty() || std::isspace((unsigned char)text[0])) return false;
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE) return false;
    out = v;
    return true;
}

std::string format_g(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

// [SECTION] JSON reader

const JsonValue* JsonValue::find(const std::string& key) const {
    if (type != Type::object) return nullptr;
    for (const auto& kv : object)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

const char* json_type_name(JsonValue::Type type) {
    switch (type) {
        case JsonValue::Type::null: return "null";
        case JsonValue::Type::boolean: return "a boolean";
        case JsonValue::Type::number: return "a number";
        case JsonValue::Type::string: return "a string";
        case JsonValue::Type::array: return "an array";
        case JsonValue::Type::object: return "an object";
    }
    return "?";
}

namespace {

class Parser {
public:
    Parser(const std::string& text, const JsonLimits& limits) : s_(text), limits_(limits) {}

    bool parse(JsonValue& out, std::string& error) {
        if (s_.size() > limits_.max_bytes) {
            error = "JSON: the text is " + std::to_string(s_.size()) + " bytes (limit " +
                    std::to_string(limits_.max_bytes) + ")";
            return false;
        }
        if (s_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;  // UTF-8 byte-order mark
        skip_ws();
        if (pos_ >= s_.size()) return fail(error, "empty document");
        if (!value(out, 0, error)) return false;
        skip_ws();
        if (pos_ != s_.size()) return fail(error, "unexpected text after the value");
        return true;
    }

private:
    const std::string& s_;
    JsonLimits limits_;
    std::size_t pos_ = 0;
    std::size_t values_ = 0;

    // "JSON: byte 19 (line 3, column 5): ...": the offset for tools, line and column (1-based,
    // in bytes) for people reading the file in an editor.
    bool fail(std::string& error, const std::string& what) const {
        const std::size_t end = std::min(pos_, s_.size());
        std::size_t line = 1, line_start = 0;
        for (std::size_t i = 0; i < end; ++i)
            if (s_[i] == '\n') {
                ++line;
                line_start = i + 1;
            }
        error = "JSON: byte " + std::to_string(pos_) + " (line " + std::to_string(line) + ", column " +
                std::to_string(end - line_start + 1) + "): " + what;
        return false;
    }
    int peek() const { return pos_ < s_.size() ? (unsigned char)s_[pos_] : -1; }
    void skip_ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }
    bool literal(const char* word) {
        const std::size_t n = std::strlen(word);
        if (s_.compare(pos_, n, word) != 0) return false;
        pos_ += n;
        return true;
    }

    bool value(JsonValue& out, int depth, std::string& error) {
        out = JsonValue();
        out.offset = pos_;
        if (++values_ > limits_.max_values)
            return fail(error, "more than " + std::to_string(limits_.max_values) + " values (the limit of a file read here)");
        const int c = peek();
        if (c == '{' || c == '[') {
            if (depth >= limits_.max_depth) return fail(error, "nesting deeper than " + std::to_string(limits_.max_depth));
            return c == '{' ? object(out, depth, error) : array(out, depth, error);
        }
        if (c == '"') {
            out.type = JsonValue::Type::string;
            return string(out.string, error);
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            out.type = JsonValue::Type::number;
            return number(out.number, error);
        }
        if (literal("true")) {
            out.type = JsonValue::Type::boolean;
            out.boolean = true;
            return true;
        }
        if (literal("false")) {
            out.type = JsonValue::Type::boolean;
            return true;
        }
        if (literal("null")) return true;
        if (c < 0) return fail(error, "unexpected end of text");
        if (literal("NaN") || literal("nan") || literal("Infinity") || literal("inf")) {
            pos_ = out.offset;
            return fail(error, "NaN and Infinity are not JSON numbers");
        }
        // Quoted as hex unless printable ASCII: the byte comes from the user's file.
        return fail(error, "unexpected character " + quote_byte((unsigned char)c));
    }

    bool object(JsonValue& out, int depth, std::string& error) {
        out.type = JsonValue::Type::object;
        ++pos_;  // {
        skip_ws();
        if (peek() == '}') {
            ++pos_;
            return true;
        }
        for (;;) {
            skip_ws();
            if (peek() != '"') return fail(error, "expected a string key");
            const std::size_t key_at = pos_;
            std::string key;
            if (!string(key, error)) return false;
            for (const auto& kv : out.object)
                if (kv.first == key) {
                    pos_ = key_at;
                    return fail(error, "duplicate key " + quote_input(key));
                }
            skip_ws();
            if (peek() != ':') return fail(error, "expected ':' after a key");
            ++pos_;
            skip_ws();
            out.object.emplace_back(std::move(key), JsonValue());
            if (!value(out.object.back().second, depth + 1, error)) return false;
            skip_ws();
            const int c = peek();
            ++pos_;
            if (c == '}') return true;
            if (c != ',') {
                --pos_;
                return fail(error, "expected ',' or '}'");
            }
        }
    }

    bool array(JsonValue& out, int depth, std::string& error) {
        out.type = JsonValue::Type::array;
        ++pos_;  // [
        skip_ws();
        if (peek() == ']') {
            ++pos_;
            return true;
        }
        for (;;) {
            skip_ws();
            out.array.emplace_back();
            if (!value(out.array.back(), depth + 1, error)) return false;
            skip_ws();
            const int c = peek();
            ++pos_;
            if (c == ']') return true;
            if (c != ',') {
                --pos_;
                return fail(error, "expected ',' or ']'");
            }
        }
    }

    static void append_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }

    bool hex4(unsigned& cp, std::string& error) {
        cp = 0;
        for (int i = 0; i < 4; ++i, ++pos_) {
            const int c = peek();
            unsigned d;
            if (c >= '0' && c <= '9') d = unsigned(c - '0');
            else if (c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
            else return fail(error, "bad \\u escape (four hex digits expected)");
            cp = cp * 16 + d;
        }
        return true;
    }

    // Length of a valid UTF-8 sequence starting at pos_, or 0.
    std::size_t utf8_length() const {
        std::uint32_t cp;
        std::size_t n;
        return utf8_decode(s_, pos_, cp, n) ? n : 0;
    }

    bool string(std::string& out, std::string& error) {
        ++pos_;  // opening quote
        out.clear();
        for (;;) {
            const int c = peek();
            if (c < 0) return fail(error, "unterminated string");
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20) return fail(error, "control character in a string (escape it)");
            if (c == '\\') {
                ++pos_;
                const int e = peek();
                ++pos_;
                switch (e) {
                    case '"': out += '"'; break;
                    case '\\': out += '\\'; break;
                    case '/': out += '/'; break;
                    case 'b': out += '\b'; break;
                    case 'f': out += '\f'; break;
                    case 'n': out += '\n'; break;
                    case 'r': out += '\r'; break;
                    case 't': out += '\t'; break;
                    case 'u': {
                        unsigned cp;
                        if (!hex4(cp, error)) return false;
                        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(error, "unpaired low surrogate in \\u escape");
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                            unsigned lo;
                            if (!(peek() == '\\' && pos_ + 1 < s_.size() && s_[pos_ + 1] == 'u'))
                                return fail(error, "unpaired high surrogate in \\u escape");
                            pos_ += 2;
                            if (!hex4(lo, error)) return false;
                            if (lo < 0xDC00 || lo > 0xDFFF) return fail(error, "unpaired high surrogate in \\u escape");
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        }
                        append_utf8(out, cp);
                        break;
                    }
                    default: --pos_; return fail(error, "bad escape in a string");
                }
                continue;
            }
            if (c < 0x80) {
                out += char(c);
                ++pos_;
                continue;
            }
            const std::size_t n = utf8_length();
            if (n == 0) return fail(error, "invalid UTF-8 in a string");
            out.append(s_, pos_, n);
            pos_ += n;
        }
    }

    bool number(double& out, std::string& error) {
        const std::size_t start = pos_;
        const auto digits = [&]() {
            const std::size_t from = pos_;
            while (peek() >= '0' && peek() <= '9') ++pos_;
            return pos_ - from;
        };
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
            if (peek() >= '0' && peek() <= '9') return fail(error, "leading zeros are not allowed in numbers");
        } else if (digits() == 0) {
            return fail(error, "bad number");
        }
        if (peek() == '.') {
            ++pos_;
            if (digits() == 0) return fail(error, "bad number (digits expected after '.')");
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (digits() == 0) return fail(error, "bad number (digits expected in the exponent)");
        }
        // strtod on a bounded copy: the grammar above already matched, so it consumes all of it.
        const std::string text = s_.substr(start, pos_ - start);
        out = std::strtod(text.c_str(), nullptr);
        if (!std::isfinite(out)) {
            pos_ = start;
            return fail(error, "number " + (text.size() > 24 ? text.substr(0, 24) + "..." : text) +
                                   " is too large for a double");
        }
        return true;
    }
};

}  // namespace

bool json_parse(const std::string& text, JsonValue& out, std::string& error, const JsonLimits& limits) {
    Parser p(text, limits);
    return p.parse(out, error);
}

bool json_parse_lines(const std::string& text, const std::string& name, std::vector<JsonLine>& out,
                      std::string& error) {
    out.clear();
    size_t start = 0;
    for (int line = 1; start < text.size(); ++line) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string row = text.substr(start, end - start);
        start = end + 1;
        if (row.empty()) continue;
        JsonLine l;
        l.line = line;
        if (!json_parse(row, l.value, error)) {
            error = name + ":" + std::to_string(line) + ": " + error;
            return false;
        }
        out.push_back(std::move(l));
    }
    return true;
}

// [SECTION] JSON writing

std::string json_quote(const std::string& s) {
    // Always valid JSON and valid UTF-8, whatever the bytes: a path or name taken from input may be
    // neither (invalid bytes become U+FFFD); controls and C1 are written as \u escapes.
    std::string out = "\"";
    char buf[8];
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp;
        std::size_t n;
        if (!utf8_decode(s, i, cp, n)) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        switch (cp) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (is_unsafe_code_point(cp)) {
                    std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
                    out += buf;
                } else {
                    out.append(s, i, n);
                }
        }
        i += n;
    }
    return out + "\"";
}

std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[40];
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", v);
        if (std::strcmp(buf, "-0") == 0) return "0";
    } else {
        std::snprintf(buf, sizeof buf, "%.9g", v);
    }
    return buf;
}

}  // namespace ddsp::util
