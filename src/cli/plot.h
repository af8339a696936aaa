// The CLI's two pictures, drawn into an RGB raster and written as PNG (stb_image_write):
// match's compare.png and landscape's heatmap. Text uses stb_easy_font's quads.
#pragma once

#include "dsp/types.h"

#include <string>
#include <vector>

namespace ddsp::cli {

struct CompareData {
    Vec target, recon;  // same rate; drawn on a shared amplitude and dB scale so levels compare
    double sample_rate_hz = 16000;
    std::vector<int> iterations;  // loss curve, one point per iteration
    std::vector<double> loss, best_loss;
    double initial_loss = 0;  // plotted at iteration 0
    std::string title;
    std::string note;  // without iterations: written where the loss curve would be
};

// Top: target and reconstruction waveforms; middle: their log-magnitude spectrograms side by
// side; bottom: loss and best loss per iteration on a log scale.
bool plot_compare(const std::string& path, const CompareData& data, std::string& error);

struct LandscapeData {
    std::string x_name, y_name, title;
    std::vector<double> xs, ys;  // grid values (physical units), increasing
    bool x_log = false, y_log = false;
    std::vector<double> loss;  // loss[yi * xs.size() + xi]; non-finite cells are drawn grey
    bool has_target = false;
    double target_x = 0, target_y = 0;
};

// Heatmap of log10(loss) with the grid minimum (white cross) and the target (red ring) marked.
bool plot_landscape(const std::string& path, const LandscapeData& data, std::string& error);

}  // namespace ddsp::cli
