// Whole-file reading and writing, the only file writer in the core: parameter files, WAV,
// safetensors, reports and PNGs all go through write_file. Binary-safe; errors are one line naming
// the path (the error convention of the whole core: `bool f(..., std::string& error)`, the message
// one line without a trailing period, callers prefix context such as the file name).
#pragma once

#include <cstddef>
#include <string>

namespace ddsp::util {

// Reads a whole file; refuses files over max_bytes.
bool read_text_file(const std::string& path, std::string& out, std::string& error,
                    std::size_t max_bytes = std::size_t(64) << 20);
// Writes (replaces) a whole file atomically: the bytes go to a temporary file next to it, which is
// synced and renamed over the destination, so a crash or a kill mid-way never leaves a half-written
// file in place of a good one (devices and pipes are written in place).
bool write_file(const std::string& path, const void* data, std::size_t size, std::string& error);
inline bool write_text_file(const std::string& path, const std::string& text, std::string& error) {
    return write_file(path, text.data(), text.size(), error);
}
// Appends to a file (created if missing): log lines.
bool append_text_file(const std::string& path, const std::string& text, std::string& error);
// Creates a directory and its parents; fine if it exists.
bool make_dir(const std::string& path, std::string& error);

}  // namespace ddsp::util
