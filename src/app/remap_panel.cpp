// Index
//   [SECTION] inputs
//   [SECTION] panel
#include "app/remap_panel.h"

#include "app/loss_curve.h"
#include "util/json.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ddsp::app {

namespace {

using util::JsonValue;

const char* const kModels[] = {"linear", "mlp", "mlp-large"};

double number_or(const JsonValue* v, const char* key, double fallback) {
    const JsonValue* f = v ? v->find(key) : nullptr;
    return f && f->type == JsonValue::Type::number && std::isfinite(f->number) ? f->number : fallback;
}

}  // namespace

// [SECTION] inputs

void RemapPanel::set_presets(const std::string& json_names) {
    JsonValue v;
    std::string error;
    if (!util::json_parse(json_names, v, error) || v.type != JsonValue::Type::array) return;
    std::vector<std::string> names;
    for (const JsonValue& x : v.array)
        if (x.type == JsonValue::Type::string && !x.string.empty()) names.push_back(x.string);
    if (names.empty()) return;
    presets_ = std::move(names);
    preset_ = std::min(preset_, int(presets_.size()) - 1);
}

void RemapPanel::set_performance(const std::string& json) {
    JsonValue v;
    std::string error;
    performance_.clear();
    performance_hits_ = 0;
    if (!util::json_parse(json, v, error) || v.type != JsonValue::Type::object) return;
    const JsonValue* name = v.find("name");
    performance_hits_ = int(number_or(&v, "hits", 0));
    char text[160];
    std::snprintf(text, sizeof text, "%.40s: %d hits in %.1f s",
                  name && name->type == JsonValue::Type::string ? name->string.c_str() : "performance", performance_hits_,
                  number_or(&v, "seconds", 0));
    performance_ = text;
}

void RemapPanel::set_model(const std::string& json) {
    JsonValue v;
    std::string error;
    have_model_ = util::json_parse(json, v, error) && v.type == JsonValue::Type::object;
    model_text_.clear();
    if (!have_model_) return;
    const JsonValue* kind = v.find("model");
    const JsonValue* trained = v.find("trained");
    char text[160];
    const bool was_trained = trained && trained->type == JsonValue::Type::boolean && trained->boolean;
    if (was_trained)
        std::snprintf(text, sizeof text, "model: %s, %d steps", kind && kind->type == JsonValue::Type::string ? kind->string.c_str() : "?",
                      int(number_or(&v, "steps", 0)));
    else
        std::snprintf(text, sizeof text, "model: %s (loaded)", kind && kind->type == JsonValue::Type::string ? kind->string.c_str() : "?");
    model_text_ = text;
}

void RemapPanel::set_status(const std::string& text, bool is_error) {
    status_ = text;
    status_error_ = is_error;
}

void RemapPanel::train_started(int steps) {
    training_ = true;
    step_ = 0;
    total_ = steps;
    losses_.clear();
    held_out_.clear();
}

void RemapPanel::on_progress(const std::string& json, const std::vector<float>& history, bool done) {
    JsonValue v;
    std::string error;
    if (!util::json_parse(json, v, error) || v.type != JsonValue::Type::object) return;
    step_ = int(number_or(&v, "step", step_));
    total_ = int(number_or(&v, "steps", total_));
    for (float l : history)
        if (std::isfinite(l)) losses_.push_back(l);
    training_ = !done;
    if (!done) return;
    const JsonValue* held = v.find("heldOut");
    const JsonValue* none = held ? held->find("none") : nullptr;
    const JsonValue* model = held ? held->find("model") : nullptr;
    if (none && model) {
        char text[200];
        std::snprintf(text, sizeof text, "held-out hits: loudness %.2f dB (no modulation %.2f), centroid %.3f oct (%.3f)",
                      number_or(model, "loudness_db", 0), number_or(none, "loudness_db", 0),
                      number_or(model, "centroid_oct", 0), number_or(none, "centroid_oct", 0));
        held_out_ = text;
    }
}

void RemapPanel::set_live_stats(double onsets, double latency_ms) {
    live_onsets_ = onsets;
    live_latency_ms_ = latency_ms;
    have_live_stats_ = true;
}

// [SECTION] panel

void RemapPanel::remember_button(const char* name) {
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    button_rects_.push_back({name, Rect{a.x, a.y, b.x, b.y}});
}

void RemapPanel::draw(float scale, const SendFn& send) {
    button_rects_.clear();
    open_ = ImGui::CollapsingHeader("Remap (a drum plays the 808)");
    remember_button("header");
    if (!open_) return;
    ImGui::TextWrapped("Hit a drum (or beatbox): each hit's first 6 ms set how the 808 preset is modulated, so a harder, "
                       "brighter hit gives a louder, brighter 808. Train on a performance, then play live.");

    // The performance.
    ImGui::TextUnformatted("performance");
    ImGui::SameLine();
    if (ImGui::SmallButton("the recording")) send("{\"cmd\":\"remapPerformance\",\"source\":\"recording\"}");
    remember_button("useRecording");
    ImGui::SameLine();
    if (ImGui::SmallButton("file...")) send("{\"cmd\":\"remapPerformance\",\"source\":\"file\"}");
    remember_button("loadPerformance");
    ImGui::SameLine();
    if (ImGui::SmallButton("record 8 s")) send("{\"cmd\":\"remapPerformance\",\"source\":\"record\"}");
    remember_button("recordPerformance");
    ImGui::TextDisabled("%s", performance_.empty() ? "no performance yet" : performance_.c_str());

    // What to train.
    ImGui::PushItemWidth(150 * scale);
    const bool current = preset_ == int(presets_.size());
    if (ImGui::BeginCombo("preset##remap", current ? "current drum808 match" : presets_[size_t(preset_)].c_str())) {
        for (int i = 0; i < int(presets_.size()); ++i)
            if (ImGui::Selectable(presets_[size_t(i)].c_str(), i == preset_)) preset_ = i;
        if (!current_available_) ImGui::BeginDisabled();
        if (ImGui::Selectable("current drum808 match", current)) preset_ = int(presets_.size());
        if (!current_available_) ImGui::EndDisabled();
        ImGui::EndCombo();
    }
    if (preset_ == int(presets_.size()) && !current_available_) preset_ = 0;
    ImGui::SameLine();
    ImGui::Combo("model##remap", &model_, kModels, 3);
    ImGui::InputInt("steps##remap", &steps_, 50, 200);
    steps_ = std::clamp(steps_, 1, 5000);
    ImGui::PopItemWidth();

    if (training_) {
        ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.70f, 0.22f, 0.20f, 1));
        if (ImGui::Button("Stop##remap")) send("{\"cmd\":\"remapStop\"}");
        remember_button("stop");
        ImGui::PopStyleColor();
    } else {
        const bool can = performance_hits_ >= 4;
        if (!can) ImGui::BeginDisabled();
        if (ImGui::Button("Train")) {
            const std::string preset = preset_ == int(presets_.size()) ? "current" : presets_[size_t(preset_)];
            send("{\"cmd\":\"remapTrain\",\"preset\":" + util::json_quote(preset) + ",\"model\":\"" + kModels[model_] +
                 "\",\"steps\":" + std::to_string(steps_) + "}");
        }
        remember_button("train");
        if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
            ImGui::SetTooltip("Adam through the differentiable 808, in the worker; every 4th hit is held out.\n"
                              "Needs a performance of at least 4 hits.");
        if (!can) ImGui::EndDisabled();
    }
    ImGui::SameLine();
    char overlay[64];
    std::snprintf(overlay, sizeof overlay, "%d / %d", step_, total_);
    ImGui::ProgressBar(total_ > 0 ? std::clamp(float(step_) / float(total_), 0.0f, 1.0f) : 0.0f, ImVec2(-1, 0), overlay);
    char label[64];
    std::snprintf(label, sizeof label, "loss %.3g", losses_.empty() ? 0.0 : double(losses_.back()));
    draw_loss_curve(losses_, label, "remapping loss (scaled feature error) per step", 60 * scale, scale);
    if (!held_out_.empty()) ImGui::TextWrapped("%s", held_out_.c_str());

    // Playing it.
    if (!model_text_.empty()) ImGui::TextDisabled("%s", model_text_.c_str());
    if (!have_model_) ImGui::BeginDisabled();
    bool live = live_;
    if (ImGui::Checkbox("Play live", &live)) {
        live_ = live;
        send(std::string("{\"cmd\":\"remapLive\",\"on\":") + (live ? "true" : "false") + "}");
    }
    remember_button("live");
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("The microphone's onsets play the 808 on the audio thread, modulated per hit");
    ImGui::SameLine();
    if (ImGui::Button("Render A/B")) send("{\"cmd\":\"remapRender\"}");
    remember_button("render");
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("The performance (A) and the 808 playing it (B); space toggles them");
    ImGui::SameLine();
    if (ImGui::Button("Export##remap")) send("{\"cmd\":\"remapExport\"}");
    remember_button("export");
    if (!have_model_) ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Import##remap")) send("{\"cmd\":\"remapImport\"}");
    remember_button("import");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("A model.safetensors from `ddsp remap-train` or Export");
    if (live_ && have_live_stats_) ImGui::Text("live: %d onsets, %.1f ms onset to sound", int(live_onsets_), live_latency_ms_);
    if (!status_.empty()) {
        if (status_error_) ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.40f, 1), "%s", status_.c_str());
        else ImGui::TextDisabled("%s", status_.c_str());
    }
}

std::string RemapPanel::layout_json() const {
    std::string s = std::string("{\"open\":") + (open_ ? "true" : "false") + ",\"buttons\":{";
    for (size_t i = 0; i < button_rects_.size(); ++i) {
        const Rect& r = button_rects_[i].second;
        s += (i ? "," : "") + util::json_quote(button_rects_[i].first) + ":[" + util::json_number(r.x0) + "," +
             util::json_number(r.y0) + "," + util::json_number(r.x1) + "," + util::json_number(r.y1) + "]";
    }
    return s + "}}";
}

}  // namespace ddsp::app
