// Text taken from input, made safe for a one-line error message: quote_input("ks\x1b[31m") is
// 'ks\x1b[31m' with the escape spelled out. Printable ASCII and well-formed UTF-8 characters other
// than controls stay as they are; control characters (C0, DEL, C1) and bytes that are not UTF-8
// become \xNN (each byte); the result is cut to about max_bytes of input with "..." after it, so a
// megabyte of junk in a file never becomes a megabyte of message.
#pragma once

#include <cstddef>
#include <string>

namespace ddsp::util {

// In single quotes.
std::string quote_input(const std::string& text, std::size_t max_bytes = 64);
// Without quotes.
std::string escape_input(const std::string& text, std::size_t max_bytes = 64);

}  // namespace ddsp::util
