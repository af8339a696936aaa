// Loss landscapes: the loss over a grid of two parameters, the others fixed. `ddsp landscape` and
// the studio's worker compute them with this code, so both draw the same surface.
//
//   match::LandscapeAxis ax, ay;
//   landscape_axis("f0_hz", table, ax, error);  landscape_axis_grid(ax, table, 41, lo, hi);
//   match::Landscape l;
//   if (!l.init(setup, ax, ay, error)) ...;
//   l.run(threads);                        // natively, or
//   while (!l.run_points(8)) yield();      // a few points at a time (the worker, between messages)
//   l.loss();                              // steps * steps, row-major: y outer, x inner
//
// Each grid point is a forward-only evaluation of one synth + loss graph whose u leaf is set in
// place (Tape::mutable_value) and re-run. The graph is rebuilt for every row (and for every point
// when the inner axis is a `global` parameter): synths may fix structure from the values in u at
// build time (ks chooses its loop's lag window around the f0 it is built with), so a graph built
// far from a pitch-like value would render the wrong sound there. Rows are independent, so every
// point's loss is the same whatever the thread count or the order rows are computed in.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "match/session.h"
#include "synth/synth.h"

namespace ddsp::match {

struct LandscapeAxis {
    std::string label;      // "decay_s:3" or "frequency_hz"
    int param = -1;         // index of the parameter in the table
    std::vector<int> dims;  // entries of u this axis sets (all of a vector parameter without :INDEX)
    std::vector<double> values, u_values;  // grid points: physical and unconstrained
    bool log = false;
    bool global = false;  // the parameter is marked global (pitch-like): graphs are rebuilt along it
};

// Resolves NAME or NAME:INDEX in `table` (label, param, dims, log). One-line errors name the
// parameter (unknown names list the table's).
bool landscape_axis(const std::string& text, const std::vector<synth::ParamSpec>& table, LandscapeAxis& axis,
                    std::string& error);
// Fills `steps` (>= 2) grid points over [lo, hi] (inside the parameter's range), spaced per the
// parameter's scale (geometric for log parameters); the last point is exactly hi.
void landscape_axis_grid(LandscapeAxis& axis, const std::vector<synth::ParamSpec>& table, int steps,
                         double lo, double hi);

struct LandscapeSetup {
    std::string synth_name;
    synth::SynthConfig cfg;  // num_samples = target.size()
    Vec target;
    bool analyse = true;  // synths analyse the target first (a recording); false for a rendered target
    synth::AnalysisPtr analysis;  // that analysis, if the caller already made it (else made once in init)
    LossKind loss = LossKind::mrstft;
    Vec u0;  // values of every parameter (the axes' entries are overwritten)
};

class Landscape {
  public:
    Landscape();
    ~Landscape();
    Landscape(const Landscape&) = delete;
    Landscape& operator=(const Landscape&) = delete;

    // Checks the axes (same steps, not overlapping), probes which axes are structural and prepares
    // the grid. One-line errors.
    bool init(const LandscapeSetup& setup, const LandscapeAxis& x, const LandscapeAxis& y,
              std::string& error);
    // Evaluates up to `points` more grid points on the calling thread, row by row. Returns true once
    // every point is done.
    bool run_points(int points);
    // Evaluates every remaining row over `threads` threads (<= 0: every core; always 1 in wasm).
    void run(int threads);

    bool done() const { return next_row_ >= steps_; }
    int steps() const { return steps_; }
    int points_done() const { return next_row_ * steps_ + next_col_; }
    // steps * steps losses, row-major (y outer, x inner); +inf where the synth rendered non-finite
    // audio, and +inf for points not computed yet.
    const std::vector<double>& loss() const { return loss_; }

  private:
    struct Evaluator;
    std::vector<std::unique_ptr<Evaluator>> evaluators_;
    LandscapeSetup setup_;
    synth::AnalysisPtr analysis_;  // shared by every evaluator
    LandscapeAxis x_, y_;
    int steps_ = 0, next_row_ = 0, next_col_ = 0;  // next point: row (outer axis), column (inner)
    Vec cursor_u_;                                 // u of the row run_points is in
    bool x_outer_ = false, rebuild_each_point_ = false;
    std::vector<double> loss_;

    bool add_evaluator(std::string& error);
    bool structural(const LandscapeAxis& a);
    void compute_point(Evaluator& e, Vec& u, int o, int i);
};

}  // namespace ddsp::match
