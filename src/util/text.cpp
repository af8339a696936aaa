// Safe printing of text taken from input (see text.h).
#include "util/text.h"

#include <cstdio>

namespace ddsp::util {

bool utf8_decode(const std::string& s, std::size_t pos, std::uint32_t& code_point, std::size_t& length) {
    const auto byte = [&](std::size_t i) { return (unsigned char)s[i]; };
    const unsigned char b0 = byte(pos);
    if (b0 < 0x80) {
        code_point = b0;
        length = 1;
        return true;
    }
    std::uint32_t cp;
    std::size_t n;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        cp = b0 & 0x1Fu;
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        cp = b0 & 0x0Fu;
        n = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        cp = b0 & 0x07u;
        n = 4;
    } else {
        return false;  // a continuation byte, an overlong lead (C0, C1) or F5..FF
    }
    if (pos + n > s.size()) return false;
    for (std::size_t i = 1; i < n; ++i) {
        const unsigned char b = byte(pos + i);
        if ((b & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3Fu);
    }
    const std::uint32_t shortest = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (cp < shortest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    code_point = cp;
    length = n;
    return true;
}

bool is_valid_utf8(const std::string& s) {
    std::uint32_t cp;
    std::size_t n;
    for (std::size_t i = 0; i < s.size(); i += n)
        if (!utf8_decode(s, i, cp, n)) return false;
    return true;
}

bool is_unsafe_code_point(std::uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

std::string printable(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    char buf[16];
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp = 0;
        std::size_t n = 0;
        if (!utf8_decode(s, i, cp, n) || (n == 1 && is_unsafe_code_point(cp))) {
            std::snprintf(buf, sizeof buf, "\\x%02X", (unsigned char)s[i]);
            out += buf;
            ++i;
        } else if (is_unsafe_code_point(cp)) {  // the page's safeText writes the same escapes
            std::snprintf(buf, sizeof buf, cp < 0x100 ? "\\x%02X" : "\\u%04X", unsigned(cp));
            out += buf;
            i += n;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

std::string escape_input(const std::string& text, std::size_t max_bytes) {
    std::size_t end = 0;
    while (end < text.size()) {
        std::uint32_t cp;
        std::size_t n;
        if (!utf8_decode(text, end, cp, n)) n = 1;
        if (end + n > max_bytes) break;
        end += n;
    }
    return printable(text.substr(0, end)) + (end < text.size() ? "..." : "");
}

std::string quote_input(const std::string& text, std::size_t max_bytes) {
    return "'" + escape_input(text, max_bytes) + "'";
}

std::string quote_byte(unsigned char c) {
    if (c >= 0x20 && c < 0x7F) return std::string("'") + char(c) + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", c);
    return buf;
}

}  // namespace ddsp::util
