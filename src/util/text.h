// Text taken from input (file names, bytes of a bad file, names in a parameter file) made safe to
// print: a message quoting it must not carry a terminal control sequence or invalid UTF-8 into a
// terminal, a log or the page.
#pragma once

#include <cstdint>
#include <string>

namespace ddsp::util {

// Decodes the UTF-8 sequence at s[pos]: its code point and length, or false for a byte that does not
// start a valid, shortest-form sequence (surrogates and code points above U+10FFFF are invalid).
bool utf8_decode(const std::string& s, std::size_t pos, std::uint32_t& code_point, std::size_t& length);

// True if the whole string is valid UTF-8.
bool is_valid_utf8(const std::string& s);

// True for what must never reach a terminal or a status line verbatim: C0 controls, DEL, C1
// controls (U+0080..U+009F: U+009B is a control sequence introducer on some terminals), the line
// and paragraph separators and the bidirectional overrides/isolates (which reorder what follows).
bool is_unsafe_code_point(std::uint32_t code_point);

// One printable line: valid UTF-8 kept; an invalid byte, a C0/DEL byte or a C1 control becomes
// "\xNN", any other unsafe code point "\uXXXX" (as the page's safeText writes them). Printable ASCII
// and ordinary Unicode text are unchanged.
std::string printable(const std::string& s);

// Text from input for a one-line message, as printable() escapes it and cut after about max_bytes of
// input (at a character boundary, "..." after it), so a megabyte of junk in a file never becomes a
// megabyte of message. quote_input puts it in single quotes: quote_input("ks\x1b[31m") is 'ks\x1B[31m'.
std::string escape_input(const std::string& text, std::size_t max_bytes = 64);
std::string quote_input(const std::string& text, std::size_t max_bytes = 64);

// A byte for a message: 'a' when printable ASCII, else 0xNN.
std::string quote_byte(unsigned char c);

}  // namespace ddsp::util
