// Whole-file reading and writing (see file.h).
#include "util/file.h"

#include <unistd.h>

#include <atomic>
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
    // A device or pipe (/dev/stdout, a fifo) is written in place: renaming onto it would replace it.
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
        return write_mode(path, data, size, "wb", error);

    // Next to the destination (rename is atomic within one file system); unique per process and call.
    static std::atomic<unsigned> counter{0};
    const std::string tmp = path + ".tmp-" + std::to_string(long(getpid())) + "-" + std::to_string(counter++);
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
        error = "cannot open '" + path + "' for writing: " + std::strerror(errno);
        return false;
    }
    bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
    ok = std::fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;  // the bytes are on disk before the name points at them
    ok = std::fclose(f) == 0 && ok;
    if (!ok) {
        std::remove(tmp.c_str());
        error = "cannot write '" + path + "' (disk full?)";
        return false;
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = "cannot replace '" + path + "': " + std::strerror(errno);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
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
