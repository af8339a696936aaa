// WAV reading and writing; see wav.h for the policy on malformed input.
//
// [SECTION] byte sources (memory, file)
// [SECTION] chunk parsing
// [SECTION] sample decoding
// [SECTION] reading entry points
// [SECTION] writing
#include "dsp/wav.h"

#include "util/file.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

namespace ddsp::dsp {

namespace {

constexpr int kMaxSampleRateHz = 1000000;
constexpr std::uint16_t kTagPcm = 0x0001;
constexpr std::uint16_t kTagFloat = 0x0003;
constexpr std::uint16_t kTagExtensible = 0xFFFE;
// Bytes 2..15 of the KSDATAFORMAT_SUBTYPE_* GUIDs; bytes 0..1 hold the plain format tag.
constexpr std::uint8_t kGuidTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                        0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

std::uint16_t le16(const std::uint8_t* p) {
    return std::uint16_t(p[0] | (p[1] << 8));
}
std::uint32_t le32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) |
           (std::uint32_t(p[3]) << 24);
}
std::uint64_t le64(const std::uint8_t* p) {
    return le32(p) | (std::uint64_t(le32(p + 4)) << 32);
}

void put16(std::vector<std::uint8_t>& out, std::uint32_t v) {
    out.push_back(std::uint8_t(v & 0xFF));
    out.push_back(std::uint8_t((v >> 8) & 0xFF));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    put16(out, v & 0xFFFF);
    put16(out, v >> 16);
}
void put_tag(std::vector<std::uint8_t>& out, const char* tag) {
    out.insert(out.end(), tag, tag + 4);
}

// A chunk id for messages: printable ASCII kept, anything else shown as '?', so errors stay one line.
std::string printable_id(const std::uint8_t* p) {
    std::string s(4, '?');
    for (int i = 0; i < 4; ++i)
        if (p[i] >= 0x20 && p[i] < 0x7F) s[i] = char(p[i]);
    return s;
}

// [SECTION] byte sources (memory, file)

// Random access to the input; the parser never reads past size().
class ByteSource {
  public:
    virtual ~ByteSource() = default;
    virtual std::uint64_t size() const = 0;
    // Copies n bytes at offset into dst; the caller keeps offset + n <= size().
    virtual bool read(std::uint64_t offset, std::uint8_t* dst, std::size_t n, std::string& error) = 0;
};

class MemorySource : public ByteSource {
  public:
    MemorySource(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    std::uint64_t size() const override { return size_; }
    bool read(std::uint64_t offset, std::uint8_t* dst, std::size_t n, std::string& error) override {
        if (offset > size_ || n > size_ - offset) {
            error = "internal error: read past the end of the buffer";
            return false;
        }
        if (n > 0) std::memcpy(dst, data_ + offset, n);
        return true;
    }

  private:
    const std::uint8_t* data_;
    std::size_t size_;
};

// Reads only the header chunks and the data it decodes, so a huge file costs no more memory than
// the (bounded) decoded signal.
class FileSource : public ByteSource {
  public:
    ~FileSource() override {
        if (f_) std::fclose(f_);
    }
    bool open(const std::string& path, std::string& error) {
        f_ = std::fopen(path.c_str(), "rb");
        if (!f_) {
            error = "cannot open '" + path + "': " + std::strerror(errno);
            return false;
        }
        if (fseeko(f_, 0, SEEK_END) != 0) {
            error = "cannot seek in '" + path + "': " + std::strerror(errno);
            return false;
        }
        const off_t end = ftello(f_);
        if (end < 0) {
            error = "cannot get the size of '" + path + "': " + std::strerror(errno);
            return false;
        }
        size_ = std::uint64_t(end);
        path_ = path;
        return true;
    }
    std::uint64_t size() const override { return size_; }
    bool read(std::uint64_t offset, std::uint8_t* dst, std::size_t n, std::string& error) override {
        if (offset > size_ || n > size_ - offset) {
            error = "internal error: read past the end of '" + path_ + "'";
            return false;
        }
        if (n == 0) return true;
        errno = 0;
        if (fseeko(f_, off_t(offset), SEEK_SET) != 0 || std::fread(dst, 1, n, f_) != n) {
            error = "cannot read '" + path_ + "'" + (errno ? std::string(": ") + std::strerror(errno) : "");
            return false;
        }
        return true;
    }

  private:
    std::FILE* f_ = nullptr;
    std::uint64_t size_ = 0;
    std::string path_;
};

// [SECTION] chunk parsing

enum class SampleKind { pcm_unsigned8, pcm_signed, float32, float64 };

struct Format {
    int channels = 0;
    std::uint32_t sample_rate_hz = 0;
    int block_align = 0;
    int bits = 0;             // declared (valid) bits per sample
    int container_bytes = 0;  // bytes per sample in the data
    SampleKind kind = SampleKind::pcm_signed;
    std::string name;
};

struct Layout {
    bool have_fmt = false;
    std::uint8_t fmt[40] = {};  // first 40 bytes of the fmt chunk (zero beyond fmt_size)
    std::uint32_t fmt_size = 0;
    bool have_data = false;
    std::uint64_t data_offset = 0;
    std::uint64_t data_bytes = 0;  // bytes usable: min(declared, present)
    bool data_truncated = false;
};

const char* tag_name(std::uint16_t tag) {
    switch (tag) {
        case 0x0002:
            return " (MS ADPCM)";
        case 0x0006:
            return " (A-law)";
        case 0x0007:
            return " (mu-law)";
        case 0x0011:
            return " (IMA ADPCM)";
        case 0x0031:
            return " (GSM 6.10)";
        case 0x0050:
            return " (MPEG)";
        case 0x0055:
            return " (MP3)";
        default:
            return "";
    }
}

std::string hex4(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%04X", unsigned(v & 0xFFFF));
    return buf;
}

// Walks the chunk list. Stops at the end of the input, or once both fmt and data are known.
bool parse_chunks(ByteSource& src, Layout& lay, std::string& error) {
    const std::uint64_t size = src.size();
    std::uint8_t head[12];
    if (size < 12) {
        if (size >= 4) {
            if (!src.read(0, head, 4, error)) return false;
            if (std::memcmp(head, "RIFF", 4) != 0 && std::memcmp(head, "RF64", 4) != 0) {
                error = "not a RIFF/WAVE file";
                return false;
            }
        }
        error = "truncated header: " + std::to_string(size) + " bytes, a WAV file needs at least 44";
        return false;
    }
    if (!src.read(0, head, 12, error)) return false;
    const bool rf64 = std::memcmp(head, "RF64", 4) == 0;
    if ((std::memcmp(head, "RIFF", 4) != 0 && !rf64) || std::memcmp(head + 8, "WAVE", 4) != 0) {
        // Name the common non-WAV inputs: the browser decodes these itself, the CLI does not.
        if (std::memcmp(head, "fLaC", 4) == 0)
            error = "not a RIFF/WAVE file (this looks like FLAC; convert it to WAV)";
        else if (std::memcmp(head, "ID3", 3) == 0 || (head[0] == 0xFF && (head[1] & 0xE0) == 0xE0))
            error = "not a RIFF/WAVE file (this looks like MP3; convert it to WAV)";
        else if (std::memcmp(head, "OggS", 4) == 0)
            error = "not a RIFF/WAVE file (this looks like Ogg; convert it to WAV)";
        else
            error = "not a RIFF/WAVE file (starts with '" + printable_id(head) + "')";
        return false;
    }

    std::uint64_t ds64_data_bytes = 0;
    bool have_ds64 = false;
    std::uint64_t pos = 12;
    while (size - pos >= 8) {  // pos <= size always holds here
        std::uint8_t ch[8];
        if (!src.read(pos, ch, 8, error)) return false;
        const std::string id = printable_id(ch);
        const std::uint64_t declared = le32(ch + 4);
        const std::uint64_t body = pos + 8;
        const std::uint64_t present = size - body;

        if (std::memcmp(ch, "data", 4) == 0) {
            if (lay.have_data) {  // a second data chunk: keep the first
                if (declared > present) break;
                pos = body + declared + (declared & 1);
                continue;
            }
            std::uint64_t bytes = declared;
            if (rf64 && declared == 0xFFFFFFFFu && have_ds64) bytes = ds64_data_bytes;
            lay.have_data = true;
            lay.data_offset = body;
            if (bytes == 0 || bytes > present) {
                // Unfinished header (streaming writer) or a cut-off file: everything to the end.
                lay.data_bytes = present;
                lay.data_truncated = true;
                break;  // nothing can follow a chunk that runs to the end
            }
            lay.data_bytes = bytes;
            if (lay.have_fmt) break;
            pos = body + bytes + (bytes & 1);
            continue;
        }

        if (declared > present) {
            error = "chunk '" + id + "' at offset " + std::to_string(pos) + " declares " +
                    std::to_string(declared) + " bytes, past the end of the file (" +
                    std::to_string(present) + " bytes left)";
            return false;
        }
        if (std::memcmp(ch, "fmt ", 4) == 0 && !lay.have_fmt) {
            if (declared < 16) {
                error = "fmt chunk too short: " + std::to_string(declared) + " bytes, need at least 16";
                return false;
            }
            lay.have_fmt = true;
            lay.fmt_size = std::uint32_t(declared);
            if (!src.read(body, lay.fmt, std::size_t(std::min<std::uint64_t>(declared, 40)), error))
                return false;
            if (lay.have_data) break;
        } else if (rf64 && std::memcmp(ch, "ds64", 4) == 0 && declared >= 16) {
            std::uint8_t d[16];
            if (!src.read(body, d, 16, error)) return false;
            ds64_data_bytes = le64(d + 8);  // d[0..7]: RIFF size (unused, see wav.h)
            have_ds64 = true;
        }
        pos = body + declared + (declared & 1);
        if (pos > size) break;  // a missing final pad byte
    }

    if (!lay.have_fmt) {
        error = "missing fmt chunk";
        return false;
    }
    if (!lay.have_data) {
        error = "missing data chunk";
        return false;
    }
    return true;
}

bool parse_format(const Layout& lay, Format& fmt, std::string& error) {
    const std::uint8_t* f = lay.fmt;
    std::uint16_t tag = le16(f);
    fmt.channels = le16(f + 2);
    fmt.sample_rate_hz = le32(f + 4);
    fmt.block_align = le16(f + 12);
    const int container_bits = le16(f + 14);
    int valid_bits = container_bits;

    if (tag == kTagExtensible) {
        if (lay.fmt_size < 40 || le16(f + 16) < 22) {
            error = "WAVE_FORMAT_EXTENSIBLE fmt chunk too short: " + std::to_string(lay.fmt_size) +
                    " bytes, need 40";
            return false;
        }
        if (std::memcmp(f + 26, kGuidTail, sizeof kGuidTail) != 0) {
            error = "unsupported WAVE_FORMAT_EXTENSIBLE sub-format (not a PCM or float GUID)";
            return false;
        }
        tag = le16(f + 24);
        const int v = le16(f + 18);
        if (v > container_bits) {
            error = "valid bits per sample " + std::to_string(v) + " exceed the container's " +
                    std::to_string(container_bits);
            return false;
        }
        if (v > 0) valid_bits = v;  // 0 means "all container bits are valid"
    }

    if (fmt.channels == 0) {
        error = "fmt chunk declares 0 channels";
        return false;
    }
    if (fmt.sample_rate_hz == 0 || fmt.sample_rate_hz > std::uint32_t(kMaxSampleRateHz)) {
        error = "sample rate " + std::to_string(fmt.sample_rate_hz) + " Hz is outside 1.." +
                std::to_string(kMaxSampleRateHz) + " Hz";
        return false;
    }
    if (tag == kTagPcm) {
        if (container_bits < 1 || container_bits > 32) {
            error = "unsupported PCM bit depth " + std::to_string(container_bits) + " (supported: 1..32)";
            return false;
        }
        fmt.container_bytes = (container_bits + 7) / 8;
        fmt.kind = fmt.container_bytes == 1 ? SampleKind::pcm_unsigned8 : SampleKind::pcm_signed;
        fmt.name = (fmt.container_bytes == 1 ? "pcm_u" : "pcm_s") + std::to_string(valid_bits);
    } else if (tag == kTagFloat) {
        if (container_bits != 32 && container_bits != 64) {
            error = "unsupported float bit depth " + std::to_string(container_bits) + " (supported: 32, 64)";
            return false;
        }
        fmt.container_bytes = container_bits / 8;
        fmt.kind = container_bits == 32 ? SampleKind::float32 : SampleKind::float64;
        fmt.name = container_bits == 32 ? "float32" : "float64";
    } else {
        error = "unsupported format tag " + hex4(tag) + tag_name(tag) + "; supported: PCM, IEEE float";
        return false;
    }
    fmt.bits = valid_bits;
    const int expect = fmt.channels * fmt.container_bytes;
    if (fmt.block_align != expect) {
        error = "block align " + std::to_string(fmt.block_align) + " does not match " +
                std::to_string(fmt.channels) + " channels x " + std::to_string(fmt.container_bytes) +
                " bytes = " + std::to_string(expect);
        return false;
    }
    return true;
}

// [SECTION] sample decoding

// Sample value before scaling: PCM as an integer, float as is.
inline double raw_sample(const std::uint8_t* p, SampleKind kind, int bytes) {
    switch (kind) {
        case SampleKind::pcm_unsigned8:
            return double(int(p[0]) - 128);
        case SampleKind::pcm_signed: {
            std::uint32_t u = 0;
            for (int b = 0; b < bytes; ++b) u |= std::uint32_t(p[b]) << (8 * b);
            const std::int64_t sign = std::int64_t(1) << (8 * bytes - 1);
            return double((std::int64_t(u) ^ sign) - sign);  // sign-extend
        }
        case SampleKind::float32: {
            const std::uint32_t u = le32(p);
            float v;
            std::memcpy(&v, &u, 4);
            return double(v);
        }
        case SampleKind::float64: {
            const std::uint64_t u = le64(p);
            double v;
            std::memcpy(&v, &u, 8);
            return v;
        }
    }
    return 0.0;
}

bool decode(ByteSource& src, const Layout& lay, const Format& fmt, std::size_t frames, Audio& out,
            std::string& error) {
    const bool is_float = fmt.kind == SampleKind::float32 || fmt.kind == SampleKind::float64;
    double scale = 1.0;  // full scale -> 1
    if (fmt.kind == SampleKind::pcm_unsigned8) scale = 1.0 / 128.0;
    if (fmt.kind == SampleKind::pcm_signed)
        scale = 1.0 / double(std::int64_t(1) << (8 * fmt.container_bytes - 1));
    const double mix = scale / fmt.channels;

    const std::size_t block = std::size_t(fmt.block_align);
    const std::size_t frames_per_read = std::max<std::size_t>(1, (std::size_t(1) << 16) / block);
    std::vector<std::uint8_t> buf(frames_per_read * block);
    out.samples.resize(Eigen::Index(frames));
    out.clipped_samples = 0;
    for (std::size_t f0 = 0; f0 < frames; f0 += frames_per_read) {
        const std::size_t nf = std::min(frames_per_read, frames - f0);
        if (!src.read(lay.data_offset + std::uint64_t(f0) * block, buf.data(), nf * block, error))
            return false;
        for (std::size_t f = 0; f < nf; ++f) {
            const std::uint8_t* p = buf.data() + f * block;
            double sum = 0.0;
            for (int c = 0; c < fmt.channels; ++c) {
                const double v = raw_sample(p + c * fmt.container_bytes, fmt.kind, fmt.container_bytes);
                if (is_float && !std::isfinite(v)) {
                    error = "float sample at frame " + std::to_string(f0 + f) + ", channel " +
                            std::to_string(c) + (std::isnan(v) ? " is NaN" : " is infinite");
                    return false;
                }
                sum += v;  // may overflow to +-inf for huge floats; clamped below
            }
            double m = sum * mix;
            if (m > 1.0 || m < -1.0) {
                m = m > 1.0 ? 1.0 : -1.0;
                ++out.clipped_samples;
            }
            out.samples[Eigen::Index(f0 + f)] = Real(m);
        }
    }
    return true;
}

bool read_source(ByteSource& src, Audio& out, std::string& error, const WavReadOptions& opt) {
    Layout lay;
    Format fmt;
    if (!parse_chunks(src, lay, error) || !parse_format(lay, fmt, error)) return false;

    const std::uint64_t frames64 = lay.data_bytes / std::uint64_t(fmt.block_align);
    if (frames64 == 0) {
        error = lay.data_bytes == 0 ? "data chunk holds no audio (0 samples)"
                                    : "data chunk holds " + std::to_string(lay.data_bytes) +
                                          " bytes, less than one frame of " + std::to_string(fmt.block_align);
        return false;
    }
    const double duration_s = double(frames64) / double(fmt.sample_rate_hz);
    if (duration_s > opt.max_duration_s) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "audio is %.1f s long, more than the %.1f s limit", duration_s,
                      opt.max_duration_s);
        error = buf;
        return false;
    }
    const double decoded_bytes = double(frames64) * double(sizeof(Real));
    if (decoded_bytes > double(opt.max_decoded_bytes)) {
        char buf[200];
        std::snprintf(buf, sizeof buf, "audio is %.1f s at %u Hz: decoding it needs %.0f MB, more than the %.0f MB limit",
                      duration_s, unsigned(fmt.sample_rate_hz), decoded_bytes / 1048576.0,
                      double(opt.max_decoded_bytes) / 1048576.0);
        error = buf;
        return false;
    }
    // frames <= bytes present, so this also fits a 32-bit size_t (wasm).
    if (frames64 > std::uint64_t(std::numeric_limits<Eigen::Index>::max()) ||
        frames64 > std::uint64_t(std::numeric_limits<std::size_t>::max())) {
        error = "data chunk too large for this platform";
        return false;
    }

    Audio a;
    a.sample_rate_hz = int(fmt.sample_rate_hz);
    a.channels = fmt.channels;
    a.bits_per_sample = fmt.bits;
    a.format = fmt.name;
    a.data_truncated = lay.data_truncated;
    if (!decode(src, lay, fmt, std::size_t(frames64), a, error)) return false;
    out = std::move(a);
    return true;
}

}  // namespace

// [SECTION] reading entry points

bool wav_read_memory(const std::uint8_t* data, std::size_t size, Audio& out, std::string& error,
                     const WavReadOptions& opt) {
    error.clear();
    if (!data && size > 0) {
        error = "null buffer";
        return false;
    }
    MemorySource src(data, size);
    return read_source(src, out, error, opt);
}

bool wav_read_file(const std::string& path, Audio& out, std::string& error, const WavReadOptions& opt) {
    error.clear();
    FileSource src;
    if (!src.open(path, error)) return false;
    return read_source(src, out, error, opt);
}

// [SECTION] writing

bool wav_encode(const Real* interleaved, std::size_t frames, int channels, int sample_rate_hz,
                std::vector<std::uint8_t>& out, std::string& error, const WavWriteOptions& opt,
                WavWriteReport* report) {
    error.clear();
    if (channels < 1 || channels > 65535) {
        error = "cannot write " + std::to_string(channels) + " channels (supported: 1..65535)";
        return false;
    }
    if (sample_rate_hz < 1 || sample_rate_hz > kMaxSampleRateHz) {
        error = "cannot write sample rate " + std::to_string(sample_rate_hz) + " Hz (supported: 1.." +
                std::to_string(kMaxSampleRateHz) + ")";
        return false;
    }
    if (frames == 0) {
        error = "no samples to write";
        return false;
    }
    if (!interleaved) {
        error = "null sample buffer";
        return false;
    }
    const bool is_float = opt.format == WavSampleFormat::float32;
    const bool extensible = channels > 2;  // the spec asks for EXTENSIBLE above two channels
    const std::uint32_t bytes_per_sample = is_float ? 4 : 2;
    const std::uint32_t block = std::uint32_t(channels) * bytes_per_sample;
    const std::uint32_t fmt_size = extensible ? 40 : (is_float ? 18 : 16);
    const std::uint32_t header = 12 + 8 + fmt_size + (is_float ? 12 : 0) + 8;
    const std::uint64_t data_bytes = std::uint64_t(frames) * block;
    if (data_bytes > 0xFFFFFFFFull - header) {
        error =
            "too much audio for a WAV file (" + std::to_string(data_bytes) + " bytes, the limit is 4 GiB)";
        return false;
    }
    const std::size_t count = frames * std::size_t(channels);

    WavWriteReport rep;
    if (opt.reject_non_finite) {
        for (std::size_t i = 0; i < count; ++i)
            if (!std::isfinite(interleaved[i])) {
                error = "sample " + std::to_string(i / channels) + " (channel " +
                        std::to_string(i % channels) + ") is " +
                        (std::isnan(interleaved[i]) ? "NaN" : "infinite");
                return false;
            }
    }

    out.clear();
    out.reserve(std::size_t(header + data_bytes));
    put_tag(out, "RIFF");
    put32(out, std::uint32_t(header - 8 + data_bytes));
    put_tag(out, "WAVE");
    put_tag(out, "fmt ");
    put32(out, fmt_size);
    put16(out, extensible ? kTagExtensible : (is_float ? kTagFloat : kTagPcm));
    put16(out, std::uint32_t(channels));
    put32(out, std::uint32_t(sample_rate_hz));
    put32(out, std::uint32_t(sample_rate_hz) * block);
    put16(out, block);
    put16(out, bytes_per_sample * 8);
    if (extensible) {
        put16(out, 22);                    // cbSize
        put16(out, bytes_per_sample * 8);  // valid bits
        put32(out, 0);                     // channel mask: no speaker assignment
        put16(out, is_float ? kTagFloat : kTagPcm);
        out.insert(out.end(), kGuidTail, kGuidTail + sizeof kGuidTail);
    } else if (is_float) {
        put16(out, 0);  // cbSize
    }
    if (is_float) {  // non-PCM formats carry a fact chunk with the frame count
        put_tag(out, "fact");
        put32(out, 4);
        put32(out, std::uint32_t(frames));
    }
    put_tag(out, "data");
    put32(out, std::uint32_t(data_bytes));

    for (std::size_t i = 0; i < count; ++i) {
        double v = double(interleaved[i]);
        if (!std::isfinite(v)) {
            v = 0.0;
            ++rep.non_finite;
        } else if (v > 1.0 || v < -1.0) {
            ++rep.out_of_range;
        }
        if (is_float) {
            const float fv = float(v);  // finite doubles beyond float range become +-inf: clamp
            const float safe = std::isfinite(fv) ? fv
                                                 : (v > 0 ? std::numeric_limits<float>::max()
                                                          : -std::numeric_limits<float>::max());
            std::uint32_t u;
            std::memcpy(&u, &safe, 4);
            put32(out, u);
        } else {
            // Round to nearest; 1.0 maps to 32768, which clips to 32767 (the reader divides by 32768).
            const double s = std::clamp(std::round(v * 32768.0), -32768.0, 32767.0);
            put16(out, std::uint32_t(std::int32_t(s)) & 0xFFFF);
        }
    }
    if (report) *report = rep;
    return true;
}

bool wav_encode(const Vec& mono, int sample_rate_hz, std::vector<std::uint8_t>& out, std::string& error,
                const WavWriteOptions& opt, WavWriteReport* report) {
    return wav_encode(mono.data(), std::size_t(mono.size()), 1, sample_rate_hz, out, error, opt, report);
}

bool wav_write_file(const std::string& path, const Real* interleaved, std::size_t frames, int channels,
                    int sample_rate_hz, std::string& error, const WavWriteOptions& opt,
                    WavWriteReport* report) {
    std::vector<std::uint8_t> bytes;
    if (!wav_encode(interleaved, frames, channels, sample_rate_hz, bytes, error, opt, report)) return false;
    return util::write_file(path, bytes.data(), bytes.size(), error);
}

bool wav_write_file(const std::string& path, const Vec& mono, int sample_rate_hz, std::string& error,
                    const WavWriteOptions& opt, WavWriteReport* report) {
    return wav_write_file(path, mono.data(), std::size_t(mono.size()), 1, sample_rate_hz, error, opt, report);
}

}  // namespace ddsp::dsp
