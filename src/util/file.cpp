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

// Opens `open_path` with `mode` and writes the bytes; errors name `path` (what the caller asked
// for, when `open_path` is its temporary). sync: flushed to disk before closing.
bool write_mode(const std::string& open_path, const std::string& path, const void* data, std::size_t size,
                const char* mode, bool sync, std::string& error) {
    std::FILE* f = std::fopen(open_path.c_str(), mode);
    if (!f) {
        error = "cannot open '" + path + "' for writing: " + std::strerror(errno);
        return false;
    }
    bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
    if (sync) {
        ok = std::fflush(f) == 0 && ok;
        ok = fsync(fileno(f)) == 0 && ok;  // the bytes are on disk before the name points at them
    }
    ok = std::fclose(f) == 0 && ok;
    if (!ok) error = "cannot write '" + path + "' (disk full?)";
    return ok;
}

}  // namespace

bool write_file(const std::string& path, const void* data, std::size_t size, std::string& error) {
    // A device or pipe (/dev/stdout, a fifo) is written in place: renaming onto it would replace it.
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
        return write_mode(path, path, data, size, "wb", false, error);

    // Next to the destination (rename is atomic within one file system); unique per process and call.
    static std::atomic<unsigned> counter{0};
    const std::string tmp = path + ".tmp-" + std::to_string(long(getpid())) + "-" + std::to_string(counter++);
    if (!write_mode(tmp, path, data, size, "wb", true, error)) {
        std::remove(tmp.c_str());
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
    return write_mode(path, path, text.data(), text.size(), "ab", false, error);
}

bool make_dir(const std::string& path, std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (std::filesystem::is_directory(path, ec)) return true;
    error = "cannot create directory '" + path + "'" + (ec ? ": " + ec.message() : "");
    return false;
}

}  // namespace ddsp::util
