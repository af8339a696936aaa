// Whole-file reading and writing (see file.h).
#include "util/file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace ddsp::util {

bool read_text_file(const std::string& path, std::string& out, std::string& error, std::size_t max_bytes) {
    out.clear();
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        error = "cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    char buf[65536];
    bool ok = true;
    for (;;) {
        const std::size_t got = std::fread(buf, 1, sizeof buf, f);
        out.append(buf, got);
        if (out.size() > max_bytes) {
            error = "'" + path + "' is larger than " + std::to_string(max_bytes) + " bytes";
            ok = false;
            break;
        }
        if (got < sizeof buf) {
            if (std::ferror(f)) {
                error = "cannot read '" + path + "': " + std::strerror(errno);
                ok = false;
            }
            break;
        }
    }
    std::fclose(f);
    return ok;
}

namespace {

bool write_mode(const std::string& path, const void* data, std::size_t size, const char* mode, std::string& error) {
    std::FILE* f = std::fopen(path.c_str(), mode);
    if (!f) {
        error = "cannot open '" + path + "' for writing: " + std::strerror(errno);
        return false;
    }
    const bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
    const bool closed = std::fclose(f) == 0;
    if (!ok || !closed) {
        error = "cannot write '" + path + "' (disk full?)";
        return false;
    }
    return true;
}

}  // namespace

bool write_file(const std::string& path, const void* data, std::size_t size, std::string& error) {
    return write_mode(path, data, size, "wb", error);
}

bool append_text_file(const std::string& path, const std::string& text, std::string& error) {
    return write_mode(path, text.data(), text.size(), "ab", error);
}

bool make_dir(const std::string& path, std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (std::filesystem::is_directory(path, ec)) return true;
    error = "cannot create directory '" + path + "'" + (ec ? ": " + ec.message() : "");
    return false;
}

}  // namespace ddsp::util
