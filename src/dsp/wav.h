// WAV (RIFF/WAVE, RF64) reading and writing.
//
// Reading accepts what real tools write: PCM integer (8-bit unsigned, 9..32-bit signed in
// 1..4-byte containers), IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE with a PCM or float sub-format,
// any channel count (downmixed to mono by averaging) and any rate in 1..1,000,000 Hz. Unknown
// chunks (LIST, fact, bext, ...) are skipped, odd-sized chunks with their pad byte.
//
// Input is treated as hostile (files come from users and from the browser):
// - every allocation is bounded by the bytes actually present, never by a declared size, so the
//   decoded mono signal never has more samples than the input has bytes;
// - a non-data chunk whose declared size runs past the end of the file is an error;
// - the data chunk is the exception. Streaming writers leave its size as 0 or 0xFFFFFFFF, and
//   downloads get cut off, so a data size of 0 or one past the end of the file means "up to the
//   end of the file": the whole frames present are read (a trailing partial frame is dropped) and
//   Audio::data_truncated is set so a caller can warn. The RIFF size field is ignored for the
//   same reason (it is wrong in many files).
// - NaN or infinite samples in float files are errors; finite float samples beyond +-1 are
//   clamped to +-1 after the downmix and counted in Audio::clipped_samples.
// Every failure returns false with a one-line error naming what is wrong; there are no exceptions.
//
// Writing produces 16-bit PCM (rounded to nearest, clipped to the 16-bit range) or 32-bit float,
// mono or interleaved multi-channel (WAVE_FORMAT_EXTENSIBLE above two channels). A NaN or
// infinite sample never makes a broken file: by default it is written as 0 and counted in
// WavWriteReport::non_finite; set WavWriteOptions::reject_non_finite to fail instead. Everything
// the writer produces, the reader reads back (so it refuses to write zero frames; the reader's
// duration limit still applies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dsp/types.h"

namespace ddsp::dsp {

// [SECTION] reading

struct Audio {
    Vec samples;                      // mono (channel average), each sample in [-1, 1]
    int sample_rate_hz = 0;           // as declared in the file
    int channels = 0;                 // channel count of the file (before the downmix)
    int bits_per_sample = 0;          // declared bits (valid bits for WAVE_FORMAT_EXTENSIBLE)
    std::string format;               // "pcm_u8", "pcm_s16", "pcm_s24", "pcm_s32", "float32", "float64"
    bool data_truncated = false;      // data size was 0 / past end of file: read what is present
    std::size_t clipped_samples = 0;  // float samples whose downmix was clamped to +-1

    double duration_s() const { return sample_rate_hz > 0 ? double(samples.size()) / sample_rate_hz : 0.0; }
};

struct WavReadOptions {
    // Longer files are rejected (before anything is decoded). 20 minutes by default, so ten-minute
    // recordings work; use a larger value (or infinity) to lift the limit.
    double max_duration_s = 20.0 * 60.0;
    // The decoded mono signal may not need more than this (checked before anything is allocated,
    // whatever the duration limit): 1 GiB is 20 minutes at 192 kHz with room to spare. The page's
    // worker passes less (wasm memory is at most 2 GiB and also holds the file's bytes).
    std::size_t max_decoded_bytes = std::size_t(1) << 30;
};

bool wav_read_file(const std::string& path, Audio& out, std::string& error, const WavReadOptions& opt = {});
bool wav_read_memory(const std::uint8_t* data, std::size_t size, Audio& out, std::string& error,
                     const WavReadOptions& opt = {});

// [SECTION] writing

enum class WavSampleFormat { pcm16, float32 };

struct WavWriteOptions {
    WavSampleFormat format = WavSampleFormat::pcm16;
    bool reject_non_finite = false;  // true: NaN/Inf fails the write instead of being written as 0
};

struct WavWriteReport {
    std::size_t non_finite = 0;    // NaN/Inf samples written as 0
    std::size_t out_of_range = 0;  // samples beyond +-1 (clipped in pcm16, kept as is in float32)
};

// Interleaved samples: frames * channels values, channel-fastest.
bool wav_encode(const Real* interleaved, std::size_t frames, int channels, int sample_rate_hz,
                std::vector<std::uint8_t>& out, std::string& error, const WavWriteOptions& opt = {},
                WavWriteReport* report = nullptr);
bool wav_encode(const Vec& mono, int sample_rate_hz, std::vector<std::uint8_t>& out, std::string& error,
                const WavWriteOptions& opt = {}, WavWriteReport* report = nullptr);

bool wav_write_file(const std::string& path, const Real* interleaved, std::size_t frames, int channels,
                    int sample_rate_hz, std::string& error, const WavWriteOptions& opt = {},
                    WavWriteReport* report = nullptr);
bool wav_write_file(const std::string& path, const Vec& mono, int sample_rate_hz, std::string& error,
                    const WavWriteOptions& opt = {}, WavWriteReport* report = nullptr);

}  // namespace ddsp::dsp
