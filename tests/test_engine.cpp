// The front door (src/engine): the target policy (cut, resample, check), the shared analysis, the
// synth choice, renders with a pitch override for every synth, and a match's stop reasons.
#include <doctest/doctest.h>

#include "dsp/pitch.h"
#include "dsp/resample.h"
#include "engine/match_job.h"
#include "engine/synth_job.h"
#include "engine/target.h"
#include "util/json.h"

#include <cmath>

using namespace ddsp;

namespace {

// A decaying harmonic tone at f_hz: pitched enough for YIN, shaped like a pluck.
Vec pluck(double f_hz, double seconds, double sr) {
    const int n = int(std::lround(seconds * sr));
    Vec v(n);
    for (int i = 0; i < n; ++i) {
        const double t = i / sr;
        double s = 0;
        for (int k = 1; k <= 4; ++k) s += std::sin(2 * kPi * k * f_hz * t) / k;
        v[i] = Real(0.3 * s * std::exp(-3 * t));
    }
    return v;
}

double pitch_hz(const Vec& x, double sr) {
    dsp::YinParams p;
    p.f0_min_hz = 30;
    p.f0_max_hz = 2000;
    double f0 = 0;
    std::string error;
    return dsp::yin_note_f0_hz(x, sr, p, f0, error) ? f0 : 0;
}

}  // namespace

TEST_CASE("the target is cut, then resampled, then checked, once per rate") {
    engine::Target target;
    std::string error;
    const double sr = 44100;
    REQUIRE(target.set(pluck(220, 6.0, sr), sr, error));
    const auto ks = synth::make_synth("ks");  // 1 s by default: a match uses max(1 s, 4 s)
    const Vec* at16k = target.at(*ks, 16000, 0, error);
    REQUIRE(at16k);
    // The policy: the first ceil(4 s x 44100) samples, resampled: exactly what dsp::resample makes of them.
    const Vec expect = dsp::resample(Vec(target.recording().head(Eigen::Index(std::ceil(4.0 * sr)))), sr, 16000);
    REQUIRE(at16k->size() == expect.size());
    CHECK((*at16k - expect).abs().maxCoeff() == 0);
    CHECK(at16k->size() == 64000);
    CHECK(target.at(*ks, 16000, 0, error) == at16k);  // prepared once, then shared

    // The one check refuses what no synth can match, and the previous target stays.
    CHECK_FALSE(target.set(Vec::Zero(8000), 16000, error));
    CHECK(error.find("silent") != std::string::npos);
    Vec nan = pluck(220, 0.5, 16000);
    nan[100] = NAN;
    CHECK_FALSE(target.set(nan, 16000, error));
    CHECK(error.find("NaN") != std::string::npos);
    CHECK_FALSE(target.set(Vec::Constant(10, 0.5f), 16000, error));
    CHECK(error.find("too short") != std::string::npos);
    CHECK_FALSE(target.set(pluck(220, 0.5, 16000), 1e9, error));
    CHECK(target.recording().size() == Eigen::Index(6 * sr));
}

TEST_CASE("a synth's analysis of the target is made once and shared") {
    engine::Target target;
    std::string error;
    REQUIRE(target.set(pluck(196, 1.0, 16000), 16000, error));
    const auto ks = synth::make_synth("ks");
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = 16000;
    cfg.num_samples = 16000;
    synth::AnalysisPtr a, b;
    REQUIRE(target.analysis(*ks, cfg, 0, a, error));
    REQUIRE(target.analysis(*ks, cfg, 0, b, error));
    CHECK(a != nullptr);
    CHECK(a == b);  // the same object, not an equal copy
    // It shapes the table as matching sees it: ks narrows its f0 range around the note.
    auto analysed = synth::make_synth("ks");
    analysed->use_analysis(a);
    const synth::ParamSpec f0 = analysed->param_table(cfg)[0];
    CHECK(f0.name == "f0_hz");
    CHECK(f0.min_value < 196);
    CHECK(f0.max_value > 196);
    CHECK(f0.max_value / f0.min_value < 1.5);
    CHECK(ks->param_table(cfg)[0].max_value / ks->param_table(cfg)[0].min_value > 10);  // unanalysed
}

TEST_CASE("a render plays the pitch asked for, on every synth") {
    for (const std::string name : {"sine", "ks", "drum808", "ddsp"}) {
        CAPTURE(name);
        engine::SynthJob job;
        std::string error;
        // The drum with its first oscillator alone and ringing (the default snare is mostly noise).
        match::ParamFile drum;
        REQUIRE(match::params_parse(R"({"synth": "drum808", "params": {"osc1_freq_hz": 200, "osc1_decay_ms": 2000,
            "osc1_gain_db": 0, "osc2_freq_hz": 300, "osc2_gain_db": -60, "noise_gain_db": -60, "drive_db": -24}})",
                                    drum, error));
        REQUIRE(engine::prepare_synth(name, name == "drum808" ? &drum : nullptr, 0, job, error));
        engine::RenderOptions ro;
        ro.seconds = 0.5;
        ro.f0_hz = 330;
        Vec audio;
        REQUIRE(engine::render(job, ro, nullptr, audio, error));
        REQUIRE(audio.allFinite());
        // drum808's oscillator glides down to its tuning: measure the settled part.
        const Vec tail = audio.segment(audio.size() / 4, audio.size() / 2);
        CHECK(pitch_hz(tail, job.sample_rate_hz) == doctest::Approx(330).epsilon(0.02));
    }
}

TEST_CASE("synth choice: the parameter file names the synth and the rate, and they must agree") {
    match::ParamFile file;
    std::string error;
    REQUIRE(match::params_parse(R"({"synth": "sine", "sample_rate": 22050, "params": {"frequency_hz": 300}})", file,
                                error));
    engine::SynthJob job;
    REQUIRE(engine::prepare_synth("", &file, 0, job, error));
    CHECK(job.name == "sine");
    CHECK(job.sample_rate_hz == 22050);
    REQUIRE(engine::prepare_synth("sine", &file, 8000, job, error));
    CHECK(job.sample_rate_hz == 8000);  // an explicit rate wins
    CHECK_FALSE(engine::prepare_synth("ks", &file, 0, job, error));
    CHECK(error.find("not 'ks'") != std::string::npos);
    CHECK_FALSE(engine::prepare_synth("organ", nullptr, 0, job, error));
    CHECK(error.find("synths: ") != std::string::npos);
    CHECK_FALSE(engine::prepare_synth("sine", nullptr, 1e9, job, error));
}

TEST_CASE("a match reports why it stopped, and resumes") {
    engine::Target target;
    std::string error;
    REQUIRE(target.set(pluck(440, 1.0, 16000), 16000, error));
    engine::MatchRequest req;
    req.synth = "sine";
    req.settings.max_steps = 5;
    req.settings.patience = 1000;
    engine::MatchJob job;
    REQUIRE(job.start(req, target, error));
    while (job.step()) {
    }
    engine::MatchProgress p = job.progress();
    CHECK(p.done);
    CHECK(p.iteration == 5);
    CHECK(p.reason == "steps");
    CHECK(job.take_history().size() == 5);
    CHECK(job.take_history().empty());  // only what is new
    job.resume(3);
    CHECK_FALSE(job.done());
    while (job.step()) {
    }
    CHECK(job.progress().iteration == 8);
    job.resume(0);
    job.stop();
    CHECK(job.reason() == "stopped");

    // A failed start leaves the finished match in place.
    req.params_text = R"({"synth": "sine", "params": {"frequency_hz": -5}})";
    CHECK_FALSE(job.start(req, target, error));
    CHECK(error.rfind("params: ", 0) == 0);
    CHECK(job.progress().iteration == 8);

    // The defaults every front end shows are the session's.
    util::JsonValue d;
    REQUIRE(util::json_parse(engine::defaults_json(), d, error));
    CHECK(d.find("learning_rate")->number == match::MatchParams{}.learning_rate);
    CHECK(d.find("steps")->number == match::MatchParams{}.max_steps);
}
