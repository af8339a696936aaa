// A small loss-per-step curve (log scale) for the panels that train in the worker (fine-tuning,
// timbre remapping): a dark box, the curve, and a label, or `empty_text` before two steps.
#pragma once

#include <vector>

namespace ddsp::app {

void draw_loss_curve(const std::vector<float>& losses, const char* label, const char* empty_text, float height,
                     float scale);

}  // namespace ddsp::app
