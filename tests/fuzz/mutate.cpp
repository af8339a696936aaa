#include "mutate.h"

#include "nn/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace ddsp::fuzz {

uint64_t mix_seed(uint64_t seed, const std::string& name, uint64_t index) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a of the format's name
    for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
    Rng r(seed ^ (h * 0x9E3779B97F4A7C15ull) ^ (index * 0xD1B54A32D192ED03ull));
    r.next();
    return r.next();
}

namespace {

// [SECTION] helpers

const std::vector<uint8_t> kInterestingBytes = {0x00, 0xFF, 0x7F, 0x80, 0x9B, 0x1B, 0x0A, 0x0D, 0x22, 0x5C, 0x01, 0xC0, 0xED, 0xF4};

uint64_t interesting_u64(Rng& rng, size_t width, uint64_t current, uint64_t file_size) {
    const uint64_t top = width >= 8 ? ~0ull : (1ull << (8 * width)) - 1;
    const std::vector<uint64_t> v = {0,
                                     1,
                                     2,
                                     3,
                                     7,
                                     8,
                                     16,
                                     top,
                                     top >> 1,
                                     (top >> 1) + 1,
                                     top - 1,
                                     current + 1,
                                     current - 1,
                                     current * 2,
                                     current / 2,
                                     current + 8,
                                     file_size,
                                     file_size + 1,
                                     file_size - 8,
                                     0x10000,
                                     0xFFFF,
                                     0x8000,
                                     0x7FFFFFFF,
                                     0x80000000,
                                     1000000,
                                     1000001,
                                     rng.next()};
    return rng.pick(v) & top;
}

uint64_t get_le(const std::string& d, size_t at, size_t width) {
    uint64_t v = 0;
    for (size_t i = 0; i < width && at + i < d.size(); ++i) v |= uint64_t(uint8_t(d[at + i])) << (8 * i);
    return v;
}

void put_le(std::string& d, size_t at, size_t width, uint64_t v) {
    for (size_t i = 0; i < width && at + i < d.size(); ++i) d[at + i] = char(uint8_t(v >> (8 * i)));
}

std::string random_bytes(Rng& rng, size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = char(uint8_t(rng.next()));
    return s;
}

// [SECTION] JSON values

const char* const kRawMarker = "\x01\x02raw:";  // a "string" node written as raw text

util::JsonValue raw(const std::string& text) {
    util::JsonValue v;
    v.type = util::JsonValue::Type::string;
    v.string = kRawMarker + text;
    return v;
}

util::JsonValue num(double x) {
    util::JsonValue v;
    v.type = util::JsonValue::Type::number;
    v.number = x;
    return v;
}

util::JsonValue str(const std::string& s) {
    util::JsonValue v;
    v.type = util::JsonValue::Type::string;
    v.string = s;
    return v;
}

const std::vector<std::string> kNumberTexts = {
    "1e309", "-1e309", "1E400", "NaN", "nan", "Infinity", "-Infinity", "-0", "0", "1e-320", "4.9e-324",
    "4294967296", "4294967295", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
    "18446744073709551615", "18446744073709551616", "1.5", "-1", "1e15", "1e300", "-1e300",
    "123456789012345678901234567890", "0.0000001", "2", "3", "7", "8", "15", "16", "17", "63", "64", "65", "127",
    "128", "255", "256", "257", "1000", "1024", "1025", "4096", "4097", "65536", "65537", "384000", "384001",
    "1000000", "0x10", "01", "+1", ".5", "5.", "1e", "--1", "1.0e+", "0.5", "0.25", "0.999999", "1.0000001",
    "-0.5", "100000", "3600", "3601", "1e9", "1000000000", "1000000001"};

const std::vector<std::string> kStrings = {"", "x", std::string(5000, 'a'), std::string("\0", 1), "\x1b[31m", "\x7f",
                                           "\xc2\x85", "\xc2\x9b", "\xe2\x80\xa8", "\xc3\xa9", "\xf0\x9f\x8e\xb8", "\n",
                                           "\t", "\\", "\"", "F32", "F64", "F16", "BF16", "I32", "U8", "BOOL", "F8_E4M3",
                                           "I64", "ks", "ddsp", "drum808", "drum", "sine", "mlp", "linear", "mlp-large",
                                           "meta", "tracker", "sup", "ddsp.cpp/autoencoder/1", "ddsp.cpp/ks-ae/1",
                                           "ddsp.cpp/remap/1", "null", "0", "-1", "1e999", "NaN", "{}", "[]", "{\"a\":1}",
                                           "__metadata__", "adam.m.x", "adam.v.x"};

util::JsonValue random_value(Rng& rng, const Dictionary& dict, int depth = 0) {
    switch (rng.below(depth > 2 ? 5 : 7)) {
        case 0: return raw(rng.pick(kNumberTexts));
        case 1: return num(double(int64_t(rng.next() % 2001) - 1000) / (rng.chance(1, 2) ? 1 : 7));
        case 2: {
            util::JsonValue v;
            v.type = util::JsonValue::Type::boolean;
            v.boolean = rng.chance(1, 2);
            return v;
        }
        case 3: return util::JsonValue{};
        case 4: return str(!dict.strings.empty() && rng.chance(1, 2) ? rng.pick(dict.strings) : rng.pick(kStrings));
        case 5: {
            util::JsonValue v;
            v.type = util::JsonValue::Type::array;
            const size_t n = rng.below(5);
            for (size_t i = 0; i < n; ++i) v.array.push_back(random_value(rng, dict, depth + 1));
            return v;
        }
        default: {
            util::JsonValue v;
            v.type = util::JsonValue::Type::object;
            const size_t n = rng.below(4);
            for (size_t i = 0; i < n; ++i)
                v.object.emplace_back(dict.keys.empty() || rng.chance(1, 4) ? rng.pick(kStrings) : rng.pick(dict.keys),
                                      random_value(rng, dict, depth + 1));
            return v;
        }
    }
}

void collect(util::JsonValue& v, std::vector<util::JsonValue*>& out) {
    out.push_back(&v);
    for (auto& e : v.array) collect(e, out);
    for (auto& kv : v.object) collect(kv.second, out);
}

void write_string(const std::string& s, std::string& out) {
    out += '"';
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += char(c);  // bytes >= 0x80 as they are (maybe not UTF-8: the reader must refuse)
        }
    }
    out += '"';
}

void write_value(const util::JsonValue& v, std::string& out) {
    switch (v.type) {
        case util::JsonValue::Type::null: out += "null"; break;
        case util::JsonValue::Type::boolean: out += v.boolean ? "true" : "false"; break;
        case util::JsonValue::Type::number: {
            char buf[40];
            std::snprintf(buf, sizeof buf, "%.17g", v.number);
            out += std::isfinite(v.number) ? buf : "1e999";
            break;
        }
        case util::JsonValue::Type::string:
            if (v.string.rfind(kRawMarker, 0) == 0) out += v.string.substr(std::strlen(kRawMarker));
            else write_string(v.string, out);
            break;
        case util::JsonValue::Type::array:
            out += '[';
            for (size_t i = 0; i < v.array.size(); ++i) {
                if (i) out += ',';
                write_value(v.array[i], out);
            }
            out += ']';
            break;
        case util::JsonValue::Type::object:
            out += '{';
            for (size_t i = 0; i < v.object.size(); ++i) {
                if (i) out += ',';
                write_string(v.object[i].first, out);
                out += ':';
                write_value(v.object[i].second, out);
            }
            out += '}';
            break;
    }
}

// [SECTION] JSON text without a tree: tokens and nesting

void mutate_json_tokens(std::string& text, Rng& rng, const Dictionary& dict) {
    // Token boundaries: structural characters, quotes and number starts.
    std::vector<size_t> marks;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == '"' ||
            ((c == '-' || (c >= '0' && c <= '9')) && (i == 0 || !(text[i - 1] >= '0' && text[i - 1] <= '9'))))
            marks.push_back(i);
    }
    if (marks.empty()) marks.push_back(0);
    const size_t at = marks[rng.below(marks.size())];
    switch (rng.below(6)) {
        case 0: text.insert(at, rng.pick(kNumberTexts)); break;
        case 1: {
            std::string s;
            write_string(!dict.keys.empty() && rng.chance(1, 2) ? rng.pick(dict.keys) : rng.pick(kStrings), s);
            text.insert(at, rng.chance(1, 2) ? s + ":" : s);
            break;
        }
        case 2: {
            const std::vector<std::string> punct = {"{", "}", "[", "]", ",", ":", "\"", ",,", "{}", "[]", "null", "true",
                                                    "/*", "//", "\\u", "\\ud800", "\xef\xbb\xbf"};
            text.insert(at, rng.pick(punct));
            break;
        }
        case 3: {  // deep nesting around the rest, closed or not
            const std::vector<size_t> depths = {62, 63, 64, 65, 100, 1000, 100000};
            const size_t d = rng.pick(depths);
            const bool obj = rng.chance(1, 3);
            std::string open, close;
            for (size_t i = 0; i < d; ++i) open += obj ? "{\"a\":" : "[";
            if (rng.chance(3, 4))
                for (size_t i = 0; i < d; ++i) close += obj ? "}" : "]";
            text = open + "0" + close;
            break;
        }
        case 4:
            if (at < text.size()) text.erase(at, 1 + rng.below(8));
            break;
        default: {  // duplicate a stretch between two marks
            const size_t b = marks[rng.below(marks.size())];
            const size_t lo = std::min(at, b), hi = std::max(at, b);
            if (hi > lo && hi - lo < 100000) text.insert(hi, text.substr(lo, hi - lo));
        }
    }
}

}  // namespace

std::string json_write(const util::JsonValue& v) {
    std::string out;
    write_value(v, out);
    return out;
}

// [SECTION] byte level

void mutate_bytes(std::string& d, Rng& rng, const std::vector<std::string>& seeds, const Dictionary& dict) {
    const size_t n = d.size();
    const size_t at = rng.below(n + 1);
    switch (rng.below(11)) {
        case 0:
            if (n) d[rng.below(n)] ^= char(1u << rng.below(8));
            break;
        case 1:
            if (n) d[rng.below(n)] = char(rng.pick(kInterestingBytes));
            break;
        case 2: {
            const size_t width = size_t(1) << rng.below(4);
            if (n >= width) {
                const size_t p = rng.below(n - width + 1);
                put_le(d, p, width, interesting_u64(rng, width, get_le(d, p, width), n));
            }
            break;
        }
        case 3: d.insert(at, random_bytes(rng, 1 + rng.below(16))); break;
        case 4:
            if (n) d.erase(rng.below(n), 1 + rng.below(std::max<size_t>(1, std::min<size_t>(n, rng.chance(1, 4) ? 4096 : 16))));
            break;
        case 5:
            if (n) {
                const size_t from = rng.below(n), len = 1 + rng.below(std::min<size_t>(n - from, 256));
                d.insert(rng.below(n + 1), d.substr(from, len));
            }
            break;
        case 6: d.resize(rng.chance(1, 2) ? rng.below(std::min<size_t>(n, 64) + 1) : at); break;
        case 7:
            if (!seeds.empty()) {  // splice: a prefix of this, a suffix of another seed
                const std::string& other = rng.pick(seeds);
                const size_t cut = rng.below(other.size() + 1);
                d = d.substr(0, at) + other.substr(cut);
            }
            break;
        case 8:
            if (n) {
                const size_t from = rng.below(n), len = 1 + rng.below(std::min<size_t>(n - from, 64));
                d.replace(from, len, random_bytes(rng, len));
            }
            break;
        case 9: {
            const std::string& word =
                !dict.keys.empty() && rng.chance(1, 2) ? rng.pick(dict.keys) : rng.pick(kStrings);
            d.insert(at, word);
            break;
        }
        default:
            if (n) {  // repeat a byte many times
                d.insert(at, std::string(1 + rng.below(rng.chance(1, 8) ? 70000 : 64), d[rng.below(n)]));
            }
    }
}

// [SECTION] JSON

void mutate_json_tree(util::JsonValue& root, Rng& rng, const Dictionary& dict) {
    std::vector<util::JsonValue*> nodes;
    collect(root, nodes);
    util::JsonValue& v = *nodes[rng.below(nodes.size())];
    switch (rng.below(10)) {
        case 0:  // an interesting number, as text
            v = raw(rng.pick(kNumberTexts));
            break;
        case 1:  // scaled, negated, nudged
            if (v.type == util::JsonValue::Type::number) {
                const std::vector<double> f = {-1, 2, 0.5, 10, 0.1, 1e6, 1e-6, 0};
                const double k = rng.pick(f);
                v.number = rng.chance(1, 3) ? v.number + (rng.chance(1, 2) ? 1 : -1) : v.number * k;
            } else {
                v = random_value(rng, dict);
            }
            break;
        case 2: v = random_value(rng, dict); break;  // another type
        case 3:
            if (v.type == util::JsonValue::Type::object && !v.object.empty()) {
                const size_t i = rng.below(v.object.size());
                switch (rng.below(4)) {
                    case 0: v.object.erase(v.object.begin() + long(i)); break;
                    case 1: v.object.push_back(v.object[i]); break;  // duplicate key
                    case 2:
                        v.object[i].first = !dict.keys.empty() && rng.chance(2, 3) ? rng.pick(dict.keys) : rng.pick(kStrings);
                        break;
                    default: std::swap(v.object[i].second, v.object[rng.below(v.object.size())].second);
                }
            } else if (v.type == util::JsonValue::Type::string) {
                v.string = !dict.strings.empty() && rng.chance(1, 2) ? rng.pick(dict.strings) : rng.pick(kStrings);
            } else {
                v = str(rng.pick(kStrings));
            }
            break;
        case 4: {  // a key the format knows (or not), with some value
            util::JsonValue* obj = &v;
            if (obj->type != util::JsonValue::Type::object) obj = &root;
            if (obj->type == util::JsonValue::Type::object)
                obj->object.emplace_back(dict.keys.empty() || rng.chance(1, 5) ? rng.pick(kStrings) : rng.pick(dict.keys),
                                         random_value(rng, dict));
            break;
        }
        case 5:
            if (v.type == util::JsonValue::Type::array) {
                switch (rng.below(5)) {
                    case 0: v.array.clear(); break;
                    case 1:
                        if (!v.array.empty()) v.array.erase(v.array.begin() + long(rng.below(v.array.size())));
                        break;
                    case 2:
                        if (!v.array.empty()) v.array.push_back(v.array[rng.below(v.array.size())]);
                        break;
                    case 3: {  // many more
                        const size_t k = 1 + rng.below(rng.chance(1, 4) ? 20000 : 300);
                        const util::JsonValue e = v.array.empty() ? num(1) : v.array[rng.below(v.array.size())];
                        for (size_t i = 0; i < k; ++i) v.array.push_back(e);
                        break;
                    }
                    default:
                        if (!v.array.empty()) v.array[rng.below(v.array.size())] = random_value(rng, dict);
                }
            } else {
                util::JsonValue a;
                a.type = util::JsonValue::Type::array;
                a.array.push_back(v);
                v = a;  // a scalar where a list may be expected, or the reverse
            }
            break;
        case 6: {  // nesting around a node
            const std::vector<int> depths = {1, 2, 10, 62, 63, 64, 65, 200};
            const int d = rng.pick(depths);
            util::JsonValue inner = v;
            for (int i = 0; i < d; ++i) {
                util::JsonValue w;
                if (rng.chance(1, 2)) {
                    w.type = util::JsonValue::Type::array;
                    w.array.push_back(std::move(inner));
                } else {
                    w.type = util::JsonValue::Type::object;
                    w.object.emplace_back("a", std::move(inner));
                }
                inner = std::move(w);
            }
            v = std::move(inner);
            break;
        }
        case 7:  // a number made fractional / integral / sign-flipped text
            if (v.type == util::JsonValue::Type::number) {
                v.number = rng.chance(1, 2) ? std::floor(v.number) + 0.5 : -v.number;
            } else {
                v = num(0.5);
            }
            break;
        case 8:
            if (v.type == util::JsonValue::Type::string) {  // a control character or bad byte in a string
                const std::vector<std::string> bad = {std::string("\0", 1), "\x1b", "\x07", "\x7f", "\x80", "\xff",
                                                      "\xc2\x9b", "\xc0\xaf", "\xed\xa0\x80", "\n"};
                v.string.insert(rng.below(v.string.size() + 1), rng.pick(bad));
            } else {
                v = str(rng.pick(kStrings));
            }
            break;
        default: {  // a deep copy of another node in place of this one
            const util::JsonValue copy = *nodes[rng.below(nodes.size())];
            v = copy;
        }
    }
}

void mutate_json_text(std::string& text, Rng& rng, const Dictionary& dict) {
    util::JsonValue root;
    std::string error;
    util::JsonLimits limits;
    limits.max_depth = 300;  // deeper texts get token mutations (our own recursion stays shallow)
    if (rng.chance(4, 5) && util::json_parse(text, root, error, limits)) {
        mutate_json_tree(root, rng, dict);
        text = json_write(root);
    } else {
        mutate_json_tokens(text, rng, dict);
    }
}

// [SECTION] WAV

namespace {

struct Chunk {
    std::string id;
    std::string body;
    uint64_t declared = 0;
};

bool split_wav(const std::string& d, std::vector<Chunk>& chunks) {
    if (d.size() < 12 || (d.compare(0, 4, "RIFF") != 0 && d.compare(0, 4, "RF64") != 0) || d.compare(8, 4, "WAVE") != 0)
        return false;
    size_t p = 12;
    while (p + 8 <= d.size()) {
        Chunk c;
        c.id = d.substr(p, 4);
        c.declared = get_le(d, p + 4, 4);
        const size_t len = size_t(std::min<uint64_t>(c.declared, d.size() - p - 8));
        c.body = d.substr(p + 8, len);
        chunks.push_back(c);
        p += 8 + len + (len & 1);
    }
    return !chunks.empty();
}

std::string join_wav(const std::vector<Chunk>& chunks, bool fix_sizes, bool rf64) {
    std::string body = "WAVE";
    for (const Chunk& c : chunks) {
        std::string h = c.id.substr(0, 4);
        h.resize(4, ' ');
        h.append(4, '\0');
        put_le(h, 4, 4, fix_sizes ? c.body.size() : c.declared);
        body += h + c.body;
        if (c.body.size() & 1) body += '\0';
    }
    std::string out = rf64 ? "RF64" : "RIFF";
    out.append(4, '\0');
    put_le(out, 4, 4, rf64 ? 0xFFFFFFFFu : body.size());
    return out + body;
}

}  // namespace

void mutate_wav(std::string& d, Rng& rng) {
    std::vector<Chunk> chunks;
    if (!split_wav(d, chunks)) {
        Dictionary none;
        mutate_bytes(d, rng, {}, none);
        return;
    }
    size_t fmt = chunks.size(), data = chunks.size();
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (chunks[i].id == "fmt " && fmt == chunks.size()) fmt = i;
        if (chunks[i].id == "data" && data == chunks.size()) data = i;
    }
    bool fix_sizes = rng.chance(3, 4), rf64 = d.compare(0, 4, "RF64") == 0;
    switch (rng.below(9)) {
        case 0:
        case 1:
        case 2:
            if (fmt < chunks.size()) {  // a fmt field
                std::string& f = chunks[fmt].body;
                if (f.size() < 40) f.resize(rng.chance(1, 2) ? 40 : f.size(), '\0');
                struct Field {
                    size_t at, width;
                    std::vector<uint64_t> values;
                };
                const std::vector<Field> fields = {
                    {0, 2, {0, 1, 2, 3, 6, 7, 0x11, 0x55, 0xFFFE, 0xFFFF}},           // format tag
                    {2, 2, {0, 1, 2, 3, 6, 8, 255, 256, 0x7FFF, 0xFFFF}},             // channels
                    {4, 4, {0, 1, 7999, 8000, 44100, 1000000, 1000001, 0x7FFFFFFF, 0xFFFFFFFF}},  // rate
                    {8, 4, {0, 1, 0xFFFFFFFF}},                                       // byte rate
                    {12, 2, {0, 1, 2, 3, 4, 5, 6, 8, 0xFFFF}},                        // block align
                    {14, 2, {0, 1, 4, 7, 8, 9, 12, 16, 17, 20, 24, 25, 31, 32, 33, 48, 64, 65, 255, 0xFFFF}},  // bits
                    {16, 2, {0, 1, 22, 0xFFFF}},                                      // extension size
                    {18, 2, {0, 1, 8, 12, 16, 24, 31, 32, 33, 64, 0xFFFF}},           // valid bits
                    {20, 4, {0, 1, 3, 0xFFFFFFFF}},                                   // channel mask
                    {24, 2, {0, 1, 2, 3, 6, 7, 0xFFFE}},                              // sub-format tag
                };
                const Field& fld = rng.pick(fields);
                if (f.size() >= fld.at + fld.width)
                    put_le(f, fld.at, fld.width, rng.chance(4, 5) ? rng.pick(fld.values) : rng.next());
                if (rng.chance(1, 4)) f.resize(rng.below(f.size() + 1));  // a short fmt chunk
            }
            break;
        case 3: {  // a declared size
            fix_sizes = false;
            Chunk& c = chunks[rng.below(chunks.size())];
            c.declared = interesting_u64(rng, 4, c.body.size(), d.size());
            for (Chunk& o : chunks)
                if (&o != &c) o.declared = o.body.size();
            break;
        }
        case 4: {  // order: duplicate, drop or move a chunk
            const size_t i = rng.below(chunks.size());
            switch (rng.below(3)) {
                case 0: chunks.insert(chunks.begin() + long(rng.below(chunks.size() + 1)), chunks[i]); break;
                case 1: chunks.erase(chunks.begin() + long(i)); break;
                default: std::swap(chunks[i], chunks[rng.below(chunks.size())]);
            }
            if (chunks.empty()) chunks.push_back({"data", "", 0});
            break;
        }
        case 5: {  // an unknown chunk (odd sizes pad), or one claiming to run past the end
            Chunk c;
            const std::vector<std::string> ids = {"LIST", "fact", "bext", "junk", "JUNK", "ds64", "\0\0\0\0", "cue "};
            c.id = rng.pick(ids);
            c.body = random_bytes(rng, rng.below(40));
            c.declared = c.body.size();
            chunks.insert(chunks.begin() + long(rng.below(chunks.size() + 1)), c);
            break;
        }
        case 6: {  // RF64 with a ds64 chunk of some sizes
            rf64 = true;
            Chunk ds;
            ds.id = "ds64";
            ds.body.assign(28, '\0');
            const uint64_t data_size = data < chunks.size() ? chunks[data].body.size() : 0;
            const std::vector<uint64_t> sizes = {0, data_size, data_size + 1, ~0ull, 1ull << 40, 1ull << 62};
            put_le(ds.body, 0, 8, rng.pick(sizes));
            put_le(ds.body, 8, 8, rng.pick(sizes));
            put_le(ds.body, 16, 8, rng.pick(sizes));
            ds.declared = 28;
            const bool have_data = data < chunks.size();
            chunks.insert(chunks.begin(), ds);
            if (have_data && rng.chance(1, 2)) {
                fix_sizes = false;
                for (Chunk& o : chunks) o.declared = o.body.size();
                chunks[data + 1].declared = 0xFFFFFFFF;
            }
            break;
        }
        case 7:
            if (data < chunks.size()) {  // the samples: NaN/Inf/huge floats, odd length
                std::string& b = chunks[data].body;
                if (!b.empty()) {
                    const std::vector<uint32_t> floats = {0x7FC00000u, 0x7F800000u, 0xFF800000u, 0x7F7FFFFFu, 0x00000001u,
                                                          0x80000000u, 0x3F800001u, 0xBF800000u};
                    const size_t k = 1 + rng.below(8);
                    for (size_t i = 0; i < k; ++i)
                        put_le(b, (rng.below(b.size()) / 4) * 4, 4, rng.chance(3, 4) ? rng.pick(floats) : rng.next());
                    if (rng.chance(1, 4)) b.resize(b.size() - rng.below(std::min<size_t>(b.size(), 7) + 1));
                }
            }
            break;
        default: {
            Dictionary none;
            d = join_wav(chunks, fix_sizes, rf64);
            mutate_bytes(d, rng, {}, none);
            return;
        }
    }
    d = join_wav(chunks, fix_sizes, rf64);
}

// [SECTION] safetensors

void mutate_safetensors(std::string& d, Rng& rng, const Dictionary& dict, const Dictionary& meta_dict) {
    if (d.size() < 8) {
        mutate_bytes(d, rng, {}, dict);
        return;
    }
    const uint64_t n = get_le(d, 0, 8);
    if (n > d.size() - 8) {
        mutate_bytes(d, rng, {}, dict);
        return;
    }
    std::string header = d.substr(8, size_t(n)), buffer = d.substr(8 + size_t(n));
    bool fix_length = rng.chance(4, 5);
    switch (rng.below(6)) {
        case 0:  // the length field
            put_le(d, 0, 8, interesting_u64(rng, 8, n, d.size()));
            return;
        case 1:
        case 2: {  // the header as a JSON tree: dtype, shape, offsets, keys, metadata
            util::JsonValue root;
            std::string error;
            util::JsonLimits limits;
            limits.max_depth = 300;  // deeper texts get token mutations (our own recursion stays shallow)
            if (!util::json_parse(header, root, error, limits) || root.type != util::JsonValue::Type::object ||
                root.object.empty()) {
                mutate_json_text(header, rng, dict);
                break;
            }
            auto& entry = root.object[rng.below(root.object.size())];
            util::JsonValue& t = entry.second;
            if (entry.first == "__metadata__" && t.type == util::JsonValue::Type::object && !t.object.empty()) {
                auto& kv = t.object[rng.below(t.object.size())];
                if (kv.second.type == util::JsonValue::Type::string && rng.chance(3, 4)) {
                    // metadata values are text, often JSON (configs, presets): mutate that JSON
                    if (rng.chance(3, 4)) {
                        mutate_json_text(kv.second.string, rng, meta_dict);
                    } else {
                        const std::vector<std::string> vals = {"", "-1", "0", "1", "99999999999999999999",
                                                               "18446744073709551615", "18446744073709551616",
                                                               " 1", "1e3", "0x10", "1000000001", "2147483648", "x"};
                        kv.second.string = rng.pick(vals);
                    }
                } else {
                    mutate_json_tree(t, rng, meta_dict);
                }
            } else if (t.type == util::JsonValue::Type::object && rng.chance(3, 4)) {
                util::JsonValue* dtype = nullptr;
                util::JsonValue* shape = nullptr;
                util::JsonValue* offsets = nullptr;
                for (auto& kv : t.object) {
                    if (kv.first == "dtype") dtype = &kv.second;
                    if (kv.first == "shape") shape = &kv.second;
                    if (kv.first == "data_offsets") offsets = &kv.second;
                }
                const size_t which = rng.below(3);
                if (which == 0 && dtype) {
                    const std::vector<std::string> dt = {"F32", "F64", "F16", "BF16", "I8", "U8", "I16", "I32", "I64",
                                                         "BOOL", "F8_E5M2", "", "f32", "F32 "};
                    *dtype = str(rng.pick(dt));
                } else if (which == 1 && shape && shape->type == util::JsonValue::Type::array) {
                    const std::vector<std::string> dims = {"0", "1", "-1", "2", "3", "2147483647", "2147483648",
                                                           "4294967296", "9223372036854775807", "18446744073709551616",
                                                           "4611686018427387904", "1.5", "1e3", "1e20"};
                    switch (rng.below(4)) {
                        case 0:
                            if (!shape->array.empty()) shape->array[rng.below(shape->array.size())] = raw(rng.pick(dims));
                            break;
                        case 1: shape->array.push_back(raw(rng.pick(dims))); break;
                        case 2:
                            if (!shape->array.empty()) shape->array.pop_back();
                            break;
                        default:
                            if (shape->array.size() >= 2) std::swap(shape->array[0], shape->array[1]);
                    }
                } else if (offsets && offsets->type == util::JsonValue::Type::array && offsets->array.size() == 2) {
                    util::JsonValue& o = offsets->array[rng.below(2)];
                    const double cur = o.type == util::JsonValue::Type::number ? o.number : 0;
                    const std::vector<double> deltas = {-1, 1, -4, 4, 8};
                    switch (rng.below(4)) {
                        case 0: o.number = cur + rng.pick(deltas); break;
                        case 1: std::swap(offsets->array[0], offsets->array[1]); break;
                        case 2: o = raw(rng.pick(kNumberTexts)); break;
                        default: o.number = double(buffer.size()) + rng.below(3);
                    }
                } else {
                    mutate_json_tree(t, rng, dict);
                }
            } else {
                mutate_json_tree(root, rng, dict);
            }
            header = json_write(root);
            break;
        }
        case 3: {  // the header as text
            mutate_json_text(header, rng, dict);
            break;
        }
        case 4:
            if (!buffer.empty()) {  // the data: NaN, Inf, huge, denormal floats; odd bytes
                const std::vector<uint32_t> floats = {0x7FC00000u, 0x7F800000u, 0xFF800000u, 0x7F7FFFFFu, 0x00000001u,
                                                      0x80000000u, 0x4B800000u, 0xCB800000u};
                const size_t k = 1 + rng.below(rng.chance(1, 8) ? 10000 : 8);
                for (size_t i = 0; i < k; ++i) put_le(buffer, (rng.below(buffer.size()) / 4) * 4, 4, rng.pick(floats));
                if (rng.chance(1, 6)) buffer.resize(rng.below(buffer.size() + 1));
            }
            break;
        default:  // padding, prefix bytes
            if (rng.chance(1, 2)) header.append(rng.below(16), rng.chance(1, 2) ? ' ' : '\0');
            else header.insert(0, rng.chance(1, 2) ? "\xef\xbb\xbf" : " ");
            fix_length = true;
    }
    std::string out(8, '\0');
    put_le(out, 0, 8, fix_length ? header.size() : n);
    d = out + header + buffer;
}

bool mutate_tensor_file(std::string& d, Rng& rng, const Dictionary& meta_dict) {
    nn::TensorFile file;
    std::string error;
    if (!nn::safetensors_read_memory(reinterpret_cast<const uint8_t*>(d.data()), d.size(), file, error)) return false;
    const int rounds = 1 + int(rng.below(3));
    for (int r = 0; r < rounds; ++r) {
        const size_t kind = rng.below(file.tensors.empty() ? 1 : 7);
        if (kind == 0 && !file.metadata.empty()) {  // a metadata value
            auto it = file.metadata.begin();
            std::advance(it, long(rng.below(file.metadata.size())));
            if (rng.chance(4, 5)) mutate_json_text(it->second, rng, meta_dict);
            else if (rng.chance(1, 2)) file.metadata.erase(it);
            else it->second = rng.pick(kStrings);
            continue;
        }
        if (file.tensors.empty()) break;
        nn::Tensor& t = file.tensors[rng.below(file.tensors.size())];
        switch (kind) {
            case 1: file.tensors.erase(file.tensors.begin() + long(&t - file.tensors.data())); break;
            case 2:
                if (rng.chance(1, 2)) t.name += rng.chance(1, 2) ? "x" : "\x1b";
                else t.name = "adam.m." + t.name;
                break;
            case 3: {  // reshape, data resized to match
                std::vector<int64_t> shape = t.shape;
                const std::vector<int64_t> dims = {0, 1, 2, 3, 5, 17, 64, 257};
                if (shape.empty() || rng.chance(1, 4)) shape.push_back(rng.pick(dims));
                else shape[rng.below(shape.size())] = rng.chance(1, 2) ? rng.pick(dims) : shape[rng.below(shape.size())] + 1;
                if (rng.chance(1, 6) && !shape.empty()) shape.pop_back();
                int64_t count = 1;
                for (int64_t s : shape) count *= s;
                if (count > 4000000) break;
                t.shape = shape;
                t.data.resize(size_t(count), 0.5f);
                break;
            }
            case 4: {  // values: NaN, Inf, huge, denormal, zero
                const std::vector<float> vals = {std::numeric_limits<float>::quiet_NaN(),
                                                 std::numeric_limits<float>::infinity(),
                                                 -std::numeric_limits<float>::infinity(),
                                                 std::numeric_limits<float>::max(),
                                                 std::numeric_limits<float>::denorm_min(),
                                                 0.0f,
                                                 -1e30f,
                                                 1e10f};
                if (!t.data.empty()) {
                    if (rng.chance(1, 4)) std::fill(t.data.begin(), t.data.end(), rng.pick(vals));
                    else
                        for (size_t i = 0, k = 1 + rng.below(8); i < k; ++i) t.data[rng.below(t.data.size())] = rng.pick(vals);
                }
                break;
            }
            case 5: {  // duplicate under another name
                nn::Tensor c = t;
                c.name = t.name + "_copy";
                file.tensors.push_back(c);
                break;
            }
            default: {  // a scalar or empty tensor
                t.shape = rng.chance(1, 2) ? std::vector<int64_t>{} : std::vector<int64_t>{0};
                t.data.assign(t.shape.empty() ? 1 : 0, 1.0f);
            }
        }
    }
    std::vector<uint8_t> bytes;
    if (!nn::safetensors_encode(file, bytes, error)) return false;
    d.assign(bytes.begin(), bytes.end());
    return true;
}

}  // namespace ddsp::fuzz
