// Index
//   [SECTION] helpers
//   [SECTION] inputs
//   [SECTION] panel
//   [SECTION] pad
//   [SECTION] fine-tuning
#include "app/latent_panel.h"

#include "app/loss_curve.h"
#include "util/json.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ddsp::app {

// [SECTION] helpers

namespace {

using util::JsonValue;

const JsonValue* member(const JsonValue* v, const char* key, JsonValue::Type type) {
    if (!v || v->type != JsonValue::Type::object) return nullptr;
    const JsonValue* f = v->find(key);
    return f && f->type == type ? f : nullptr;
}

// A JSON array of numbers of length n (n < 0: any length); false if it is not one.
bool numbers(const JsonValue* v, int n, std::vector<float>& out) {
    out.clear();
    if (!v || v->type != JsonValue::Type::array || (n >= 0 && int(v->array.size()) != n)) return false;
    for (const JsonValue& x : v->array) {
        if (x.type != JsonValue::Type::number || !std::isfinite(x.number)) return false;
        out.push_back(float(x.number));
    }
    return true;
}

float dot(const std::vector<float>& a, const std::vector<float>& b) {
    float s = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) s += a[i] * b[i];
    return s;
}

ImU32 instrument_colour(size_t i) {
    static const ImU32 palette[] = {IM_COL32(250, 160, 80, 255), IM_COL32(120, 180, 250, 255), IM_COL32(140, 220, 110, 255),
                                    IM_COL32(230, 110, 220, 255), IM_COL32(250, 220, 90, 255), IM_COL32(100, 220, 220, 255),
                                    IM_COL32(240, 110, 110, 255), IM_COL32(190, 160, 250, 255)};
    return palette[i % 8];
}

std::string z_json(const std::vector<float>& z) {
    std::string s = "[";
    for (size_t i = 0; i < z.size(); ++i) s += (i ? "," : "") + util::json_number(z[i]);
    return s + "]";
}

}  // namespace

// [SECTION] inputs

void LatentPanel::set_info(const std::string& json) {
    JsonValue v;
    std::string error;
    if (!util::json_parse(json, v, error) || v.type != JsonValue::Type::object) {
        *this = LatentPanel();
        return;
    }
    const JsonValue* dims = member(&v, "zDims", JsonValue::Type::number);
    if (!dims || dims->number < 1 || dims->number > 256) return;
    const bool first = !loaded_;
    loaded_ = true;
    loading_ = false;
    z_dims_ = int(dims->number);
    if (int(z_.size()) != z_dims_) z_.assign(size_t(z_dims_), 0.0f);
    if (!numbers(member(member(&v, "recording", JsonValue::Type::object), "z", JsonValue::Type::array), z_dims_, recording_z_))
        recording_z_.clear();

    // The pad needs two axes, an origin and a scale of the model's size; without them only the
    // sliders are shown.
    have_space_ = false;
    instruments_.clear();
    const JsonValue* space = member(&v, "latentSpace", JsonValue::Type::object);
    const JsonValue* axes = member(space, "axes", JsonValue::Type::array);
    std::vector<float> scale;
    if (axes && axes->array.size() == 2 && numbers(&axes->array[0], z_dims_, axes_[0]) &&
        numbers(&axes->array[1], z_dims_, axes_[1]) && numbers(member(space, "origin", JsonValue::Type::array), z_dims_, origin_) &&
        numbers(member(space, "scale", JsonValue::Type::array), 2, scale) && scale[0] > 0 && scale[1] > 0) {
        // Orthonormalise (Gram-Schmidt), so moving along one axis leaves the other coordinate and
        // every component off the pad's plane as they were.
        const float n0 = std::sqrt(dot(axes_[0], axes_[0]));
        if (n0 > 1e-6f) {
            for (float& x : axes_[0]) x /= n0;
            const float d = dot(axes_[0], axes_[1]);
            for (size_t i = 0; i < axes_[1].size(); ++i) axes_[1][i] -= d * axes_[0][i];
            const float n1 = std::sqrt(dot(axes_[1], axes_[1]));
            if (n1 > 1e-6f) {
                for (float& x : axes_[1]) x /= n1;
                axis_scale_[0] = scale[0];
                axis_scale_[1] = scale[1];
                have_space_ = true;
            }
        }
        if (const JsonValue* list = member(space, "instruments", JsonValue::Type::array))
            for (const JsonValue& e : list->array) {
                const JsonValue* name = member(&e, "name", JsonValue::Type::string);
                Instrument inst;
                if (name && numbers(member(&e, "mean", JsonValue::Type::array), z_dims_, inst.mean)) {
                    inst.name = name->string;
                    instruments_.push_back(std::move(inst));
                }
            }
    }
    if (first) open_request_ = true;  // loaded from elsewhere (window.ddsp.latent.load): show it
}

void LatentPanel::set_z(const std::vector<float>& z) {
    if (loaded_ && int(z.size()) != z_dims_) return;
    for (float x : z)
        if (!std::isfinite(x)) return;
    z_ = z;
    z_dirty_ = false;
}

void LatentPanel::set_status(const std::string& text, bool is_error) {
    status_ = text;
    status_error_ = is_error;
    if (is_error) loading_ = false;
}

void LatentPanel::set_source(const std::string& source) {
    if (source == "recording" || source == "keyboard") source_ = source;
}

void LatentPanel::set_weights(const std::string& weights, bool tuned_available) {
    tuned_available_ = tuned_available;
    weights_ = weights == "tuned" && tuned_available ? "tuned" : "base";
}

void LatentPanel::fine_tune_started(int steps) {
    ft_running_ = true;
    ft_step_ = 0;
    ft_total_ = steps;
    ft_loss_ = ft_initial_loss_ = 0;
    ft_losses_.clear();
}

void LatentPanel::on_fine_tune(const std::string& json, const std::vector<float>& history, bool done) {
    JsonValue v;
    std::string error;
    if (util::json_parse(json, v, error)) {
        auto number = [&](const char* key, double fallback) {
            const JsonValue* f = member(&v, key, JsonValue::Type::number);
            return f ? f->number : fallback;
        };
        ft_step_ = int(number("step", ft_step_));
        ft_total_ = int(number("steps", ft_total_));
        ft_loss_ = number("loss", ft_loss_);
        ft_initial_loss_ = number("initialLoss", ft_initial_loss_);
    }
    for (float l : history)
        if (std::isfinite(l) && l > 0) ft_losses_.push_back(l);
    ft_running_ = !done;
    if (done && ft_step_ > 0) tuned_available_ = true;
}

// [SECTION] panel

float LatentPanel::project(const std::vector<float>& z, int axis) const {
    if (!have_space_ || z.size() != origin_.size()) return 0;
    float s = 0;
    for (size_t i = 0; i < z.size(); ++i) s += (z[i] - origin_[i]) * axes_[axis][i];
    return s / axis_scale_[axis];
}

void LatentPanel::move_on_pad(float x, float y) {
    const float dx = (x - project(z_, 0)) * axis_scale_[0], dy = (y - project(z_, 1)) * axis_scale_[1];
    for (size_t i = 0; i < z_.size(); ++i) z_[i] += dx * axes_[0][i] + dy * axes_[1][i];
    z_dirty_ = true;
}

void LatentPanel::set_live_stats(double latency_ms, double load_mean_percent, double load_max_percent,
                                 double input_f0_hz, bool voiced) {
    have_live_stats_ = true;
    live_latency_ms_ = latency_ms;
    live_load_mean_ = load_mean_percent;
    live_load_max_ = load_max_percent;
    live_f0_hz_ = input_f0_hz;
    live_voiced_ = voiced;
}

void LatentPanel::remember_button(const char* name) {
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    button_rects_.push_back({name, Rect{a.x, a.y, b.x, b.y}});
}

void LatentPanel::draw(float scale, const SendFn& send) {
    slider_rects_.clear();
    button_rects_.clear();
    pad_rect_ = Rect();
    if (open_request_) {
        ImGui::SetNextItemOpen(true);
    }
    open_ = ImGui::CollapsingHeader("Latent space (DDSP autoencoder)");
    remember_button("header");
    if (open_request_ && open_) ImGui::SetScrollHereY(0.0f);  // bring it into view when opened from elsewhere
    open_request_ = false;
    if (!open_) return;
    if (!opened_once_ || (!loaded_ && !loading_ && ImGui::Button("Load the model"))) {
        // The model (~0.5 MB) is fetched the first time the panel opens, not with the page.
        opened_once_ = true;
        if (!loaded_) {
            loading_ = true;
            send("{\"cmd\":\"latentOpen\"}");
        }
    }
    if (!loaded_) {
        ImGui::TextDisabled("%s", loading_ ? "Loading the model..." : "");
        if (!status_.empty()) {
            if (status_error_) ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.40f, 1), "%s", status_.c_str());
            else ImGui::TextDisabled("%s", status_.c_str());
        }
        return;
    }

    ImGui::TextWrapped("A decoder trained on eight instruments. Drag the pad to morph between them; the recording's pitch and "
                       "loudness drive it (timbre transfer), or play it from the keyboard.");
    // Source: what drives the decoder's pitch and loudness.
    ImGui::TextUnformatted("source");
    ImGui::SameLine();
    if (ImGui::RadioButton("recording", source_ == "recording") && source_ != "recording") {
        source_ = "recording";
        send("{\"cmd\":\"latentSource\",\"source\":\"recording\"}");
    }
    remember_button("recording");
    ImGui::SameLine();
    if (ImGui::RadioButton("keyboard", source_ == "keyboard") && source_ != "keyboard") {
        source_ = "keyboard";
        send("{\"cmd\":\"latentSource\",\"source\":\"keyboard\"}");
    }
    remember_button("keyboard");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Keys A..K (Z / X: octave) and MIDI play the decoder at this latent");
    ImGui::SameLine();
    if (ImGui::Button("Play")) send("{\"cmd\":\"latentPlay\"}");
    remember_button("play");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Play the decoder (B); space toggles it with the recording (A)");
    ImGui::SameLine();
    if (recording_z_.empty()) ImGui::BeginDisabled();
    if (ImGui::Button("Recording's latent")) send("{\"cmd\":\"latentRecordingZ\"}");
    remember_button("recordingZ");
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("Back to the latent the encoder gives the recording");
    if (recording_z_.empty()) ImGui::EndDisabled();

    // Live input: the microphone drives the decoder on the audio thread (engine/live.h).
    bool live = live_;
    if (ImGui::Checkbox("Live input", &live)) {
        live_ = live;
        send(std::string("{\"cmd\":\"latentLiveInput\",\"on\":") + (live ? "true" : "false") + "}");
    }
    remember_button("live");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Sing, whistle or play into the microphone: the decoder answers live at this latent");
    if (have_live_stats_ && (live_ || source_ == "keyboard")) {
        ImGui::SameLine();
        ImGui::Text("latency %.1f ms, audio thread %.1f %% (max %.0f %%)", live_latency_ms_, live_load_mean_,
                    live_load_max_);
        if (live_) {
            ImGui::SameLine();
            if (live_voiced_) ImGui::Text("| input %.1f Hz", live_f0_hz_);
            else ImGui::TextUnformatted("| input unvoiced");
        }
    }

    if (source_ == "recording") {
        ImGui::SetNextItemWidth(160 * scale);
        if (ImGui::SliderInt("transpose (semitones)", &transpose_st_, -24, 24))
            send("{\"cmd\":\"latentTranspose\",\"semitones\":" + std::to_string(transpose_st_) + "}");
    }
    draw_pad(scale);

    // One slider per latent dimension; the range grows when the pad goes further.
    ImGui::PushItemWidth(-60 * scale);
    for (int i = 0; i < z_dims_; ++i) {
        char label[16];
        std::snprintf(label, sizeof label, "z%d", i);
        const float range = std::max(3.0f, std::ceil(std::fabs(z_[size_t(i)])));
        if (ImGui::SliderFloat(label, &z_[size_t(i)], -range, range, "%.3f")) z_dirty_ = true;
        const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
        slider_rects_.push_back(Rect{a.x, a.y, b.x, b.y});
    }
    ImGui::PopItemWidth();

    draw_fine_tune(scale, send);

    if (!status_.empty()) {
        if (status_error_) ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.40f, 1), "%s", status_.c_str());
        else ImGui::TextDisabled("%s", status_.c_str());
    }

    // A drag re-renders at most ~15 times a second (studio.js keeps one render in flight).
    const double now = ImGui::GetTime();
    if (z_dirty_ && now - last_z_send_s_ > 0.066) {
        z_dirty_ = false;
        last_z_send_s_ = now;
        send("{\"cmd\":\"latentZ\",\"z\":" + z_json(z_) + "}");
    }
}

// [SECTION] pad

void LatentPanel::draw_pad(float scale) {
    if (!have_space_) {
        ImGui::TextDisabled("(this model has no latent map: use the sliders)");
        return;
    }
    // As wide as the column (the instruments' labels need room), not quite as tall.
    const float w = ImGui::GetContentRegionAvail().x, h = std::min(w * 0.8f, 300 * scale);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("pad", ImVec2(w, h));
    pad_rect_ = Rect{p.x, p.y, p.x + w, p.y + h};
    // The pad spans -1.2 .. 1.2 of the axes' scale (the instruments sit within +-1/1.25 of it).
    const float extent = 1.2f;
    auto to_screen = [&](float x, float y) {
        return ImVec2(p.x + (x / extent * 0.5f + 0.5f) * w, p.y + (0.5f - y / extent * 0.5f) * h);
    };
    if (ImGui::IsItemActive()) {
        const ImVec2 m = ImGui::GetMousePos();
        const float x = std::clamp(((m.x - p.x) / w - 0.5f) * 2 * extent, -extent, extent);
        const float y = std::clamp((0.5f - (m.y - p.y) / h) * 2 * extent, -extent, extent);
        move_on_pad(x, y);
    }
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h), IM_COL32(18, 18, 24, 255), 4);
    const ImVec2 c = to_screen(0, 0);
    dl->AddLine(ImVec2(p.x, c.y), ImVec2(p.x + w, c.y), IM_COL32(50, 50, 60, 255));
    dl->AddLine(ImVec2(c.x, p.y), ImVec2(c.x, p.y + h), IM_COL32(50, 50, 60, 255));
    dl->AddText(ImVec2(p.x + w - ImGui::CalcTextSize("axis 1").x - 4, c.y + 2), IM_COL32(110, 110, 120, 255), "axis 1");
    dl->AddText(ImVec2(c.x + 4, p.y + 2), IM_COL32(110, 110, 120, 255), "axis 2");
    // Similar instruments sit close (the plucked strings): a label that would cover an earlier one
    // moves down a line.
    std::vector<ImVec4> labels;
    for (size_t i = 0; i < instruments_.size(); ++i) {
        const ImVec2 q = to_screen(std::clamp(project(instruments_[i].mean, 0), -extent, extent),
                                   std::clamp(project(instruments_[i].mean, 1), -extent, extent));
        dl->AddCircleFilled(q, 4 * scale, instrument_colour(i));
        const ImVec2 size = ImGui::CalcTextSize(instruments_[i].name.c_str());
        ImVec2 at(q.x + 6 * scale, q.y - 7 * scale);
        for (int tries = 0; tries < 4; ++tries) {
            bool hit = false;
            for (const ImVec4& r : labels)
                hit = hit || (at.x < r.z && at.x + size.x > r.x && at.y < r.w && at.y + size.y > r.y);
            if (!hit) break;
            at.y += size.y;
        }
        labels.push_back(ImVec4(at.x, at.y, at.x + size.x, at.y + size.y));
        if (at.y != q.y - 7 * scale) dl->AddLine(ImVec2(q.x + 2 * scale, q.y), ImVec2(at.x, at.y + size.y * 0.5f), instrument_colour(i));
        dl->AddText(at, instrument_colour(i), instruments_[i].name.c_str());
    }
    if (!recording_z_.empty()) {
        const ImVec2 q = to_screen(std::clamp(project(recording_z_, 0), -extent, extent),
                                   std::clamp(project(recording_z_, 1), -extent, extent));
        dl->AddCircle(q, 6 * scale, IM_COL32(220, 220, 230, 200), 16, 1.5f * scale);
        dl->AddText(ImVec2(q.x + 8 * scale, q.y + 2 * scale), IM_COL32(200, 200, 210, 200), "recording");
    }
    const ImVec2 cur = to_screen(std::clamp(project(z_, 0), -extent, extent), std::clamp(project(z_, 1), -extent, extent));
    dl->AddCircleFilled(cur, 7 * scale, IM_COL32(255, 255, 255, 230));
    dl->AddCircle(cur, 7 * scale, IM_COL32(245, 150, 70, 255), 16, 2 * scale);
    if (ImGui::IsItemHovered() && !ImGui::IsItemActive())
        ImGui::SetTooltip("Drag: z moves in the plane of the two main directions of the training set's latents;\n"
                          "the components off that plane stay as they are.");
}

// [SECTION] fine-tuning

void LatentPanel::draw_fine_tune(float scale, const SendFn& send) {
    ImGui::Separator();
    const bool can = !recording_z_.empty();
    ImGui::PushItemWidth(110 * scale);
    ImGui::InputInt("steps##ft", &ft_steps_, 10, 100);
    ft_steps_ = std::clamp(ft_steps_, 1, 5000);
    ImGui::SameLine();
    ImGui::SliderFloat("learning rate##ft", &ft_learning_rate_, 1e-5f, 1e-2f, "%.0e", ImGuiSliderFlags_Logarithmic);
    ImGui::PopItemWidth();
    if (ft_running_) {
        ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.70f, 0.22f, 0.20f, 1));
        if (ImGui::Button("Stop fine-tuning")) send("{\"cmd\":\"latentStopFineTune\"}");
        remember_button("stopFineTune");
        ImGui::PopStyleColor();
    } else {
        if (!can) ImGui::BeginDisabled();
        if (ImGui::Button("Fine-tune on this recording"))
            send("{\"cmd\":\"latentFineTune\",\"steps\":" + util::json_number(ft_steps_) +
                 ",\"learningRate\":" + util::json_number(ft_learning_rate_) + "}");
        remember_button("fineTune");
        if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
            ImGui::SetTooltip("Adam on the decoder's weights and the recording's latent (the first 4 s), in the worker.\n"
                              "Each run starts from the loaded weights.");
        if (!can) ImGui::EndDisabled();
    }
    ImGui::SameLine();
    const float frac = ft_total_ > 0 ? float(ft_step_) / float(ft_total_) : 0.0f;
    char overlay[64];
    std::snprintf(overlay, sizeof overlay, "%d / %d", ft_step_, ft_total_);
    ImGui::ProgressBar(std::clamp(frac, 0.0f, 1.0f), ImVec2(-1, 0), overlay);

    // Loss per step (log scale).
    char label[96];
    std::snprintf(label, sizeof label, "loss %.4g -> %.4g", ft_initial_loss_, ft_loss_);
    draw_loss_curve(ft_losses_, label, "fine-tuning loss (MR-STFT) per step", 70 * scale, scale);

    // Before / After: the loaded weights or the fine-tuned ones, for every render and the keyboard.
    auto choice = [&](const char* label, const char* name, const char* value, bool enabled) {
        if (!enabled) ImGui::BeginDisabled();
        const bool active = weights_ == value;
        if (active) ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.25f, 0.45f, 0.75f, 1));
        if (ImGui::Button(label) && !active) {
            weights_ = value;
            send(std::string("{\"cmd\":\"latentWeights\",\"weights\":\"") + value + "\"}");
        }
        remember_button(name);
        if (active) ImGui::PopStyleColor();
        if (!enabled) ImGui::EndDisabled();
    };
    choice("Before", "before", "base", true);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("The model as loaded");
    ImGui::SameLine();
    choice("After", "after", "tuned", tuned_available_);
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("The fine-tuned model");
    ImGui::SameLine();
    if (ImGui::Button("Export weights")) send("{\"cmd\":\"latentExport\"}");
    remember_button("export");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("The model (fine-tuned, if it was) as safetensors, with the recording's latent;\n"
                          "`ddsp autoencode --model` reads it");
}

std::string LatentPanel::layout_json() const {
    auto rect = [](const Rect& r) {
        return "[" + util::json_number(r.x0) + "," + util::json_number(r.y0) + "," + util::json_number(r.x1) + "," +
               util::json_number(r.y1) + "]";
    };
    std::string s = std::string("{\"open\":") + (open_ ? "true" : "false") + ",\"loaded\":" + (loaded_ ? "true" : "false");
    s += ",\"pad\":" + rect(pad_rect_) + ",\"sliders\":[";
    for (size_t i = 0; i < slider_rects_.size(); ++i) s += (i ? "," : "") + rect(slider_rects_[i]);
    s += "],\"buttons\":{";
    for (size_t i = 0; i < button_rects_.size(); ++i)
        s += (i ? "," : "") + util::json_quote(button_rects_[i].first) + ":" + rect(button_rects_[i].second);
    return s + "}}";
}

}  // namespace ddsp::app
