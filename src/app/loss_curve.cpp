#include "app/loss_curve.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>

namespace ddsp::app {

void draw_loss_curve(const std::vector<float>& losses, const char* label, const char* empty_text, float height,
                     float scale) {
    const float w = ImGui::GetContentRegionAvail().x, h = height;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h), IM_COL32(18, 18, 24, 255), 4);
    if (losses.size() >= 2) {
        // Log scale over what is positive and finite (the losses are).
        float lo = 0, hi = 0;
        bool any = false;
        for (float l : losses)
            if (std::isfinite(l) && l > 0) {
                lo = any ? std::min(lo, l) : l;
                hi = any ? std::max(hi, l) : l;
                any = true;
            }
        if (any) {
            const float l0 = std::log(lo), l1 = std::max(std::log(hi), l0 + 1e-3f);
            const size_t n = losses.size();
            ImVec2 prev;
            bool have_prev = false;
            for (size_t i = 0; i < n; ++i) {
                if (!(std::isfinite(losses[i]) && losses[i] > 0)) continue;
                const ImVec2 q(p.x + 4 + (w - 8) * float(i) / float(n - 1),
                               p.y + 4 + (h - 8) * (1 - (std::log(losses[i]) - l0) / (l1 - l0)));
                if (have_prev) dl->AddLine(prev, q, IM_COL32(245, 150, 70, 255), 1.5f * scale);
                prev = q;
                have_prev = true;
            }
        }
        dl->AddText(ImVec2(p.x + 6, p.y + 3), IM_COL32(200, 200, 210, 220), label);
    } else {
        dl->AddText(ImVec2(p.x + 6, p.y + 3), IM_COL32(120, 120, 130, 255), empty_text);
    }
    ImGui::Dummy(ImVec2(w, h));
}

}  // namespace ddsp::app
