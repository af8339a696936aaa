#include "engine/amortised.h"

#include "dsp/pitch.h"
#include "match/params_json.h"

#include <algorithm>
#include <chrono>

namespace ddsp::engine {

bool amortised_prediction(const nn::KsAutoencoder& model, const Target& target, int sample_rate_hz, double seconds,
                          double f0_hz, bool for_search, AmortisedPrediction& out, std::string& error) {
    const auto t0 = std::chrono::steady_clock::now();
    const double sr = model.config().sample_rate_hz;
    Vec clip;
    if (!prepare_target(target.recording(), target.sample_rate_hz(), int(sr), model.config().seconds, clip, error))
        return false;
    dsp::YinParams yp;
    yp.f0_min_hz = std::max(30.0, model.table()[0].min_value);
    yp.f0_max_hz = std::min(2000.0, model.table()[0].max_value);
    double f0 = f0_hz;
    std::string why;
    if (!(f0 > 0) && (!dsp::yin_note_f0_hz(clip, sr, yp, f0, why) || !(f0 > 0))) {
        error = "no pitch found in the recording, so the string's length is unknown (" + why + ")";
        return false;
    }
    synth::ParamValues values;
    if (!model.predict(clip, f0, values, error)) return false;
    if (for_search) values.erase("residual_mix");
    out.f0_hz = f0;
    out.encoder_ms = 1000 * std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.params_json = match::params_to_json("ks", sample_rate_hz, seconds, values, model.table());
    return true;
}

}  // namespace ddsp::engine
