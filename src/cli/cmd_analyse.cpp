// `ddsp analyse`: frame-wise features of a recording (f0, loudness, spectral centroid) as JSON, the
// conditioning a DDSP-style model trains on.
#include "cli/commands.h"
#include "cli/common.h"

#include "dsp/features.h"
#include "dsp/loudness.h"
#include "dsp/pitch.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace ddsp::cli {

namespace {

// Compact numbers for the frame arrays (6 significant digits: 0.01 Hz at 1 kHz, 1e-4 dB).
std::string short_number(double v) {
    if (!std::isfinite(v)) return "null";
    return fmt("%.6g", v);
}

std::string json_array(const Vec& v) {
    std::string s = "[";
    for (Eigen::Index i = 0; i < v.size(); ++i) s += (i ? ", " : "") + short_number(double(v[i]));
    return s + "]";
}

double median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + long(mid), v.end());
    double m = v[mid];
    if (v.size() % 2 == 0) m = 0.5 * (m + *std::max_element(v.begin(), v.begin() + long(mid)));
    return m;
}


}  // namespace

int cmd_analyse(int argc, char** argv) {
    static const CommandSpec spec = {
        "analyse",
        "analyse --target T.wav [--sr HZ] [--frame-rate HZ] [--max-seconds T] [-o out.json]",
        "Frame-wise features of a recording, as JSON (on stdout without -o): f0 (YIN, with confidence and\n"
        "voicing; unvoiced frames have f0 0), A-weighted loudness in dB (DDSP convention: power average of\n"
        "the A-weighted spectrum, 2048-point frames at 16 kHz; a full-scale 1 kHz sine reads about -3 dB)\n"
        "and spectral centroid. The recording is downmixed to mono and resampled to --sr (default 16000).\n"
        "Frame f is centred on sample f * hop, hop = round(sr / frame-rate): n / hop + 1 frames. Summary:\n"
        "median f0 of the voiced frames (0 if none), voiced fraction, mean and max loudness, duration.",
        {
            {"--target", nullptr, true, "the recording (WAV)", "T.wav"},
            {"--sr", nullptr, true, "analysis sample rate in Hz (integer, 1000..384000; default 16000)", "HZ"},
            {"--frame-rate", nullptr, true, "frames per second (1..1000; default 250)", "HZ"},
            {"--max-seconds", nullptr, true, "analyse at most the first T seconds (0.01..600; default 600)", "T"},
            {"--output", "-o", true, "output JSON file (default: stdout)", "out.json"},
        }};
    const char* cmd = "analyse";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;

    std::string error;
    int sr = 16000;
    double frame_rate_hz = 250.0, max_seconds = 600.0;
    if (!args.require("--target", error) || !args.get_int("--sr", sr, 1000, 384000, error) ||
        !args.get_double("--frame-rate", frame_rate_hz, 1, 1000, error) ||
        !args.get_double("--max-seconds", max_seconds, 0.01, 600, error))
        return fail(cmd, error, kExitUsage);
    const std::string path = args.str("--target");

    Vec x;
    if (!load_target(cmd, path, sr, max_seconds, x, error)) return fail(cmd, error);
    const int n = int(x.size());
    const int hop = dsp::frame_hop(sr, frame_rate_hz);

    dsp::YinParams yin;
    yin.hop = hop;
    dsp::PitchTrack track;
    if (!dsp::yin_track(x, sr, yin, track, error)) return fail(cmd, "pitch: " + error);

    dsp::LoudnessParams lp;
    lp.hop = hop;
    lp.fft_size = dsp::loudness_fft_size_for(sr);
    Vec loudness_db;
    if (!dsp::frame_loudness_db(x, sr, lp, loudness_db, error)) return fail(cmd, "loudness: " + error);

    dsp::SpectralParams sp;
    sp.hop = hop;
    sp.fft_size = lp.fft_size / 2;  // 1024 at 16 kHz
    dsp::SpectralFeatures spectral;
    if (!dsp::spectral_features(x, sr, sp, spectral, error)) return fail(cmd, "spectral features: " + error);

    const int frames = dsp::frame_count(n, hop);
    if (track.f0_hz.size() != frames || loudness_db.size() != frames || spectral.centroid_hz.size() != frames)
        return fail(cmd, "internal error: feature tracks disagree on the frame count");

    std::vector<double> voiced_f0;
    for (int f = 0; f < frames; ++f)
        if (track.voiced[f]) voiced_f0.push_back(double(track.f0_hz[f]));
    const double f0_median_hz = median(voiced_f0);

    std::string voiced = "[";
    for (int f = 0; f < frames; ++f) voiced += std::string(f ? ", " : "") + (track.voiced[f] ? "1" : "0");
    voiced += "]";

    std::string out = "{\n";
    out += "  \"target\": " + util::json_quote(path) + ",\n";
    out += "  \"sample_rate_hz\": " + std::to_string(sr) + ",\n";
    out += "  \"num_samples\": " + std::to_string(n) + ",\n";
    out += "  \"duration_s\": " + util::json_number(double(n) / sr) + ",\n";
    out += "  \"hop\": " + std::to_string(hop) + ",\n";
    out += "  \"frame_rate_hz\": " + util::json_number(double(sr) / hop) + ",\n";
    out += "  \"num_frames\": " + std::to_string(frames) + ",\n";
    out += "  \"f0_median_hz\": " + util::json_number(f0_median_hz) + ",\n";
    out += "  \"voiced_fraction\": " + util::json_number(frames ? double(voiced_f0.size()) / frames : 0.0) + ",\n";
    out += "  \"loudness_mean_db\": " + util::json_number(frames ? double(loudness_db.mean()) : lp.floor_db) + ",\n";
    out += "  \"loudness_max_db\": " + util::json_number(frames ? double(loudness_db.maxCoeff()) : lp.floor_db) + ",\n";
    out += "  \"centroid_mean_hz\": " + util::json_number(spectral.centroid_hz_mean) + ",\n";
    out += "  \"loudness_fft_size\": " + std::to_string(lp.fft_size) + ",\n";
    out += "  \"f0_hz\": " + json_array(track.f0_hz) + ",\n";
    out += "  \"f0_confidence\": " + json_array(track.confidence) + ",\n";
    out += "  \"voiced\": " + voiced + ",\n";
    out += "  \"loudness_db\": " + json_array(loudness_db) + ",\n";
    out += "  \"centroid_hz\": " + json_array(spectral.centroid_hz) + "\n";
    out += "}\n";

    if (!args.has("--output")) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
    }
    const std::string out_path = args.str("--output");
    if (!util::write_text_file(out_path, out, error)) return fail(cmd, error);
    return kExitOk;
}

}  // namespace ddsp::cli
