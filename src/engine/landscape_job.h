// A loss landscape over two parameters on the loaded target, prepared as a match is (synth, rate,
// target, analysis through engine::Target) and computed a few points at a time: the studio's
// landscape panel. (`ddsp landscape` also takes rendered targets and writes files; it drives
// match::Landscape itself.)
#pragma once

#include "engine/synth_job.h"
#include "engine/target.h"
#include "match/landscape.h"

#include <memory>
#include <string>
#include <vector>

namespace ddsp::engine {

struct LandscapeRequest {
    std::string synth;        // may be empty when params names it
    std::string params_text;  // the parameters held fixed off the axes ('' : the synth's guess)
    std::string x, y;         // axes: "name" or "name:index" (match::landscape_axis)
    int steps = 41;           // grid points per axis, 2..401
    match::LossKind loss = match::LossKind::mrstft;
    uint64_t seed = 0;
    bool have_x_range = false, have_y_range = false;  // else each parameter's whole range
    double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
};

struct LandscapeResult {
    std::string x_label, y_label;
    bool x_log = false, y_log = false;
    std::vector<double> x_values, y_values;
    std::vector<double> loss;  // y outer; points whose audio was non-finite hold the largest finite loss
    int invalid = 0;           // how many such points
    double min_x = 0, min_y = 0, min_loss = 0;
    double current_x = 0, current_y = 0;  // where the given parameters sit (first value of a vector axis)
};

class LandscapeJob {
public:
    // A failed start leaves no landscape.
    bool start(const LandscapeRequest& request, Target& target, std::string& error);
    bool started() const { return landscape_ != nullptr; }
    // Computes points for up to `seconds` (at least one); true once every point is done.
    bool run_for(double seconds);
    bool done() const { return landscape_ && landscape_->done(); }
    int points_done() const { return landscape_ ? landscape_->points_done() : 0; }
    int steps() const { return landscape_ ? landscape_->steps() : 0; }
    bool result(LandscapeResult& out, std::string& error) const;

private:
    std::unique_ptr<match::Landscape> landscape_;
    match::LandscapeAxis x_, y_;
    double current_x_ = 0, current_y_ = 0;
};

}  // namespace ddsp::engine
