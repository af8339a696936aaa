#include "util/quote.h"

#include <cstdint>
#include <cstdio>

namespace ddsp::util {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (1..4), or 0 if the bytes there are not one.
std::size_t utf8_length(const std::string& s, std::size_t i, std::uint32_t& cp) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    std::size_t len = 0;
    if (c < 0x80) {
        cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1Fu;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0Fu;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07u;
    else return 0;
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

}  // namespace

std::string escape_input(const std::string& text, std::size_t max_bytes) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size() && i < max_bytes) {
        std::uint32_t cp = 0;
        const std::size_t len = utf8_length(text, i, cp);
        const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
        if (len == 0 || control) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(text[i]));
            out += buf;
            ++i;
        } else {
            out.append(text, i, len);
            i += len;
        }
    }
    if (i < text.size()) out += "...";
    return out;
}

std::string quote_input(const std::string& text, std::size_t max_bytes) {
    return "'" + escape_input(text, max_bytes) + "'";
}

}  // namespace ddsp::util
