// Index
//   [SECTION] helpers (JSON out, colours, number formatting)
//   [SECTION] state
//   [SECTION] inputs
//   [SECTION] layout
//   [SECTION] toolbar and status
//   [SECTION] signals: waveforms and spectrograms
//   [SECTION] signals: the shared time axis (zoom, pan, fit, ruler)
//   [SECTION] loss curve
//   [SECTION] settings
//   [SECTION] parameter panel
//   [SECTION] loss landscape
#include "app/studio.h"

#include "app/time_axis.h"
#include "dsp/resample.h"
#include "engine/target.h"
#include "match/params_json.h"
#include "util/json.h"


#include <imgui.h>
#include <imgui_internal.h>  // ImGui::SetItemUsingMouseWheel: the wheel zooms a view, not the page

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ddsp::app {

// [SECTION] helpers (JSON out, colours, number formatting)

namespace {

std::string quote(const std::string& s) { return util::json_quote(s); }
std::string num(double v) { return util::json_number(v); }

const char* kMethods[] = {"gradient", "genetic", "cmaes", "hybrid", "amortised", "amortised+gradient"};
const char* kMethodHelp[] = {"Adam through the synth: fast and precise near a good start",
                             "The DiffKS baseline: population 20, crossover and mutation, no gradients",
                             "Covariance-matrix adaptation: a smarter population search",
                             "Global search on pitch-like parameters, then gradient refinement",
                             ("The string in one pass: a trained encoder predicts it from the recording\n"
                              "(the model is fetched the first time)"),
                             "The encoder's prediction, then gradient refinement"};
constexpr int kStringOnlyMethods = 2;  // the last two: ks only
const char* kLosses[] = {"mrstft", "diffks", "linear", "timbre"};
const char* kLossHelp[] = {"Multi-resolution STFT, linear + log magnitude (DDSP)",
                           "A-weighted, gain-invariant multi-resolution STFT (DiffKS)",
                           "Multi-resolution STFT, linear magnitude only",
                           "Loudness, brightness, flatness and temporal centroid (808 paper)"};

// Runs the loss plot keeps (the oldest goes first).
constexpr size_t kMaxTraces = 6;

// One colour per run, so several runs on one target can be compared.
ImU32 trace_colour(int run, float alpha = 1.0f) {
    static const float palette[][3] = {{0.96f, 0.55f, 0.24f}, {0.33f, 0.67f, 0.98f}, {0.55f, 0.85f, 0.40f},
                                       {0.86f, 0.42f, 0.84f}, {0.98f, 0.85f, 0.30f}, {0.40f, 0.85f, 0.85f}};
    const float* c = palette[size_t(run) % 6];
    return ImGui::ColorConvertFloat4ToU32(ImVec4(c[0], c[1], c[2], alpha));
}

std::string format_seconds(double s) {
    char buf[32];
    if (s < 60) std::snprintf(buf, sizeof buf, "%.1f s", s);
    else std::snprintf(buf, sizeof buf, "%d:%04.1f", int(s / 60), std::fmod(s, 60.0));
    return buf;
}

// Viridis-like ramp for the landscape heat map (0 = low loss = bright).
ImU32 heat_colour(float t) {
    t = std::clamp(t, 0.0f, 1.0f);
    const ImVec4 lo(0.99f, 0.91f, 0.15f, 1), mid(0.13f, 0.57f, 0.55f, 1), hi(0.27f, 0.00f, 0.33f, 1);
    const ImVec4 a = t < 0.5f ? lo : mid, b = t < 0.5f ? mid : hi;
    const float u = t < 0.5f ? t * 2 : (t - 0.5f) * 2;
    return ImGui::ColorConvertFloat4ToU32(
        ImVec4(a.x + (b.x - a.x) * u, a.y + (b.y - a.y) * u, a.z + (b.z - a.z) * u, 1));
}

}  // namespace

// [SECTION] state

struct Studio::Impl {
    struct Example {
        std::string file, label, kind;
    };
    std::vector<Example> examples;

    // The target as loaded, and at the synth's rate (what the worker matches).
    std::string target_name;
    engine::Target target_store;  // the recording as loaded; prepared per synth by the engine
    bool values_guessed = false;   // values are the synth's starting guess (replaced by the worker's)
    Vec target;  // at synth_hz, cut to max seconds
    Vec recon;
    double synth_hz = 16000;

    std::unique_ptr<synth::Synth> synth;
    std::vector<synth::ParamSpec> table;
    synth::ParamValues values;
    double seconds = 1;

    SpectrogramParams spec_params;
    Spectrogram target_spec, recon_spec;
    SpectrogramView target_view, recon_view, diff_view;
    bool spectrograms_dirty = true;

    // The time axis every waveform and spectrogram view shows (zoom and pan move them together).
    TimeAxis axis;
    float target_peak = 0, recon_peak = 0;  // the waveforms' scale, found when the signals change
    double recon_sound_end_s = 0;          // where the reconstruction's sound ends (a marker if past the view)
    struct Rect {
        float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    };
    Rect wave_rects[2], spec_rects[3], fit_rect;  // last frame's, in canvas pixels (views_layout_json)

    std::vector<LossTrace> traces;
    std::string status_text = "Drop a recording anywhere, or pick an example.";
    bool status_error = false;

    float level_peak = 0, level_rms = 0;
    std::string level_slot;
    bool playing = false;
    bool loop = false;

    // Loss landscape
    int land_x = 0, land_y = 1, land_steps = 25;
    int land_n = 0;
    std::vector<float> land_loss;
    std::vector<double> land_xs, land_ys;
    std::string land_x_name, land_y_name;
    bool land_pending = false;
    bool land_open = false;  // open the view when a result arrives

    double last_render_request_s = -1;
    bool render_wanted = false;
};

Studio::Studio(CommandFn command) : impl_(std::make_unique<Impl>()), command_(std::move(command)) { rebuild_table(); }
Studio::~Studio() = default;

void Studio::send(const std::string& json) const {
    if (command_) command_(json);
}

bool Studio::init_gl(std::string& error) { return spectrogram_shaders_init(error); }

// [SECTION] inputs

void Studio::set_examples(const std::string& json) {
    util::JsonValue v;
    std::string error;
    impl_->examples.clear();
    if (!util::json_parse(json, v, error) || v.type != util::JsonValue::Type::array) return;
    for (const util::JsonValue& e : v.array) {
        const util::JsonValue* file = e.find("file");
        if (!file || file->type != util::JsonValue::Type::string) continue;
        const util::JsonValue* label = e.find("label");
        const util::JsonValue* kind = e.find("kind");
        impl_->examples.push_back({file->string, label && label->type == util::JsonValue::Type::string ? label->string : file->string,
                                   kind && kind->type == util::JsonValue::Type::string ? kind->string : ""});
    }
}

void Studio::set_target(const std::string& name, const Vec& samples, double sample_rate_hz) {
    Impl& m = *impl_;
    m.target_name = name;
    std::string error;
    if (!m.target_store.set(samples, sample_rate_hz, error)) m.target_store = engine::Target();
    m.recon = Vec();
    m.values.clear();
    params_json_.clear();
    m.traces.clear();
    status_ = MatchStatus{};
    rebuild_table();
    set_status("Loaded " + name + " (" + format_seconds(double(samples.size()) / sample_rate_hz) + "). Press Match.", false);
}

void Studio::set_recon(const Vec& samples, double sample_rate_hz) {
    Impl& m = *impl_;
    if (sample_rate_hz != m.synth_hz && samples.size() > 0)
        m.recon = dsp::resample(samples, sample_rate_hz, m.synth_hz);
    else
        m.recon = samples;
    m.spectrograms_dirty = true;
}

void Studio::set_settings(const MatchSettings& s) {
    const bool synth_changed = s.synth != settings_.synth;
    settings_ = s;
    if (synth_changed) {
        impl_->values.clear();  // the new synth's guess from the target, not the old synth's values
        impl_->recon = Vec();
        params_json_.clear();
        rebuild_table();
    }
}

void Studio::on_started(int run) {
    status_.running = true;
    status_.run = run;
    status_.iteration = 0;
    Impl& m = *impl_;
    LossTrace t;
    t.run = run;
    t.label = settings_.synth + " / " + settings_.method + " / " + settings_.loss;
    m.traces.push_back(std::move(t));
    // The legend stays readable, and a long session holds a bounded history (the plot's title says
    // so; web/studio/match.js keeps as many runs for window.ddsp.state().runs).
    if (m.traces.size() > kMaxTraces) m.traces.erase(m.traces.begin());
}

void Studio::on_progress(const std::string& json, const std::vector<float>& history, bool done) {
    util::JsonValue v;
    std::string error;
    if (!util::json_parse(json, v, error)) return;
    auto number = [&](const char* key, double fallback) {
        const util::JsonValue* f = v.find(key);
        return f && f->type == util::JsonValue::Type::number ? f->number : fallback;
    };
    status_.run = int(number("run", status_.run));
    status_.iteration = int(number("iteration", status_.iteration));
    status_.step_limit = int(number("stepLimit", status_.step_limit));
    status_.loss = number("loss", status_.loss);
    status_.best_loss = number("bestLoss", status_.best_loss);
    status_.elapsed_s = number("elapsedS", status_.elapsed_s);
    status_.iters_per_s = number("itersPerS", status_.iters_per_s);
    status_.running = !done;
    status_.has_result = true;
    Impl& m = *impl_;
    if (m.traces.empty() || m.traces.back().run != status_.run) on_started(status_.run), status_.running = !done;
    LossTrace& t = m.traces.back();
    for (float l : history)
        if (std::isfinite(l)) t.loss.push_back(l);
    if (status_.initial_loss == 0 && !t.loss.empty()) status_.initial_loss = t.loss.front();
    if (const util::JsonValue* p = v.find("params"); p && p->type == util::JsonValue::Type::string)
        set_params_json(p->string);
}

void Studio::set_params_json(const std::string& json) {
    match::ParamFile file;
    std::string error;
    if (!match::params_parse(json, file, error)) {
        set_status("Parameters: " + error, true);
        return;
    }
    if (file.synth != settings_.synth) {
        settings_.synth = file.synth;
        rebuild_table();
    }
    impl_->values = file.values;
    impl_->values_guessed = false;
    params_json_ = json;
}

void Studio::set_target_table(const std::string& json) {
    Impl& m = *impl_;
    util::JsonValue root;
    std::string error;
    if (!util::json_parse(json, root, error) || root.type != util::JsonValue::Type::object) return;
    const util::JsonValue* synth_name = root.find("synth");
    const util::JsonValue* samples = root.find("samples");
    const util::JsonValue* params = root.find("params");
    // A reply to an older request (another synth or target since) is dropped.
    if (!synth_name || synth_name->string != settings_.synth || !samples || samples->number != double(m.target.size()) ||
        !params || params->type != util::JsonValue::Type::array)
        return;
    std::vector<synth::ParamSpec> table;
    for (const util::JsonValue& p : params->array) {
        synth::ParamSpec spec;
        const util::JsonValue *name = p.find("name"), *unit = p.find("unit"), *lo = p.find("min"), *hi = p.find("max"),
                              *def = p.find("default"), *scale = p.find("scale"), *size = p.find("size"),
                              *global = p.find("global");
        if (!name || !unit || !lo || !hi || !def || !scale || !size) return;
        spec.name = name->string;
        spec.unit = unit->string;
        spec.min_value = lo->number;
        spec.max_value = hi->number;
        spec.default_value = def->number;
        spec.scale = scale->string == "log" ? ad::Scale::log : ad::Scale::linear;
        spec.size = int(size->number);
        spec.global = global && global->boolean;
        table.push_back(spec);
    }
    m.table = table;
    match::ParamFile initial;
    const util::JsonValue* initial_json = root.find("initial");
    Vec u;
    if (m.values_guessed && initial_json && match::params_parse(initial_json->string, initial, error))
        m.values = initial.values;
    if (!synth::to_unconstrained(m.table, m.values, u, error)) {
        m.values = synth::default_values(m.table);
        m.values_guessed = true;
    }
}

void Studio::set_status(const std::string& text, bool is_error) {
    impl_->status_text = text;
    impl_->status_error = is_error;
}

void Studio::set_level(float peak, float rms, const std::string& slot, bool playing) {
    impl_->level_peak = std::isfinite(peak) ? peak : 0;
    impl_->level_rms = std::isfinite(rms) ? rms : 0;
    impl_->level_slot = slot;
    impl_->playing = playing;
}

void Studio::set_landscape(const std::string& json, const std::vector<float>& loss) {
    Impl& m = *impl_;
    util::JsonValue v;
    std::string error;
    m.land_pending = false;
    if (!util::json_parse(json, v, error)) return;
    const util::JsonValue* steps = v.find("steps");
    const int n = steps && steps->type == util::JsonValue::Type::number ? int(steps->number) : 0;
    if (n < 2 || loss.size() != size_t(n) * size_t(n)) return;
    auto axis = [&](const char* key, std::vector<double>& out) {
        out.clear();
        if (const util::JsonValue* a = v.find(key); a && a->type == util::JsonValue::Type::array)
            for (const util::JsonValue& x : a->array) out.push_back(x.number);
    };
    axis("xValues", m.land_xs);
    axis("yValues", m.land_ys);
    m.land_n = n;
    m.land_loss = loss;
    // A landscape asked for elsewhere (window.ddsp) names its axes: show them and open the view.
    auto name = [&](const char* key, std::string& out, int& index) {
        const util::JsonValue* a = v.find(key);
        if (!a || a->type != util::JsonValue::Type::string) return;
        out = a->string;
        for (size_t i = 0; i < m.table.size(); ++i)
            if (m.table[i].name == out) index = int(i);
    };
    name("x", m.land_x_name, m.land_x);
    name("y", m.land_y_name, m.land_y);
    m.land_open = true;
}

void Studio::reset() {
    Impl& m = *impl_;
    m.traces.clear();
    m.recon = Vec();
    m.values.clear();
    params_json_.clear();
    status_ = MatchStatus{};
    rebuild_table();
}

// The parameter table and the target at the synth's rate (the worker does the same, so the
// sliders' ranges are the ones the match uses).
void Studio::rebuild_table() {
    Impl& m = *impl_;
    m.synth = synth::make_synth(settings_.synth);
    if (!m.synth) return;
    m.synth_hz = m.synth->default_sample_rate_hz();
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = m.synth_hz;
    cfg.seed = uint64_t(std::max(0, settings_.seed));
    std::string error;
    const Vec* prepared = m.target_store.empty() ? nullptr : m.target_store.at(*m.synth, int(m.synth_hz), 0, error);
    if (prepared) {
        // engine::Target: the same cut and resampling as the worker's match. The table as the
        // target's analysis shapes it (ks narrows its f0 range, ddsp guesses its amplitudes) comes
        // from the worker, which has analysed the target once already (set_target_table); until
        // it arrives the synth's plain table stands in.
        m.target = *prepared;
        cfg.num_samples = int(prepared->size());
        send("{\"cmd\":\"targetTable\",\"synth\":" + util::json_quote(settings_.synth) + "}");
    } else {
        m.target = Vec();
        cfg.num_samples = int(m.synth->default_seconds() * m.synth_hz);
    }
    m.seconds = cfg.num_samples / m.synth_hz;
    m.table = m.synth->param_table(cfg);
    if (m.values.empty()) {
        m.values = m.synth->initial_values(cfg);
        m.values_guessed = true;
    }
    // Keep only values that fit the table (a synth change leaves foreign names behind).
    Vec u;
    if (!synth::to_unconstrained(m.table, m.values, u, error)) m.values = synth::default_values(m.table);
    m.land_x = 0;
    m.land_y = std::min<int>(1, int(m.table.size()) - 1);
    m.land_n = 0;
    m.spectrograms_dirty = true;
}

namespace {

float finite_peak(const Vec& x) {
    float peak = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i)
        if (std::isfinite(x[i])) peak = std::max(peak, std::abs(float(x[i])));
    return peak;
}

}  // namespace

void Studio::rebuild_spectrograms() {
    Impl& m = *impl_;
    m.spectrograms_dirty = false;
    // The shared time axis: the target as matched (else the reconstruction); Fit shows its sound,
    // which ends where it falls below what the spectrogram shows (its 80 dB range).
    const Vec& basis = m.target.size() > 0 ? m.target : m.recon;
    const double clip_s = double(basis.size()) / m.synth_hz;
    m.axis.set_clip(clip_s, fit_end_s(sound_end_s(basis, m.synth_hz, m.spec_params.range_db), clip_s));
    m.target_peak = finite_peak(m.target);
    m.recon_peak = finite_peak(m.recon);
    m.recon_sound_end_s = sound_end_s(m.recon, m.synth_hz, m.spec_params.range_db);
    m.spec_params.fft_size = m.synth_hz > 24000 ? 2048 : 1024;
    // A hop of fft/8, finer for short clips (a 50 ms hit still gets ~200 columns to zoom into) and
    // coarser for long ones (the texture holds at most 4096 columns).
    int hop = m.spec_params.fft_size / 8;
    const Eigen::Index samples = m.target.size();
    while (hop > 16 && samples / hop < 200) hop /= 2;
    while (samples / hop > 4000) hop *= 2;
    m.spec_params.hop = hop;
    if (m.target.size() == 0) {
        m.target_spec.clear();
        m.recon_spec.clear();
        return;
    }
    const int frames = int(m.target.size()) / m.spec_params.hop + 1;
    const double top_db = Spectrogram::peak_db(m.target, m.spec_params);
    m.target_spec.set(m.target, m.synth_hz, m.spec_params, frames, top_db);
    if (m.recon.size() > 0) {
        Vec r = Vec::Zero(m.target.size());
        const Eigen::Index n = std::min(r.size(), m.recon.size());
        r.head(n) = m.recon.head(n);
        m.recon_spec.set(r, m.synth_hz, m.spec_params, frames, top_db);
    } else {
        m.recon_spec.clear();
    }
}

// [SECTION] layout

void Studio::frame(float width_px, float height_px, float scale) {
    Impl& m = *impl_;
    const float dt = ImGui::GetIO().DeltaTime;
    if (dt > 0) fps_ = fps_ == 0 ? 1.0 / dt : 0.95 * fps_ + 0.05 / dt;
    if (m.spectrograms_dirty) rebuild_spectrograms();

    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(width_px, height_px));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowRounding, 0);
    ImGui::Begin("ddsp.cpp studio", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoBringToFrontOnFocus |
                     ImGuiWindowFlags_NoSavedSettings);
    ImGui::PopStyleVar();
    draw_toolbar(scale);
    draw_status(scale);
    ImGui::Separator();

    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const bool narrow = compact_ || avail.x < 900 * scale;
    const float side_w = narrow ? avail.x : std::max(320 * scale, avail.x * 0.34f);
    const float main_w = narrow ? avail.x : avail.x - side_w - ImGui::GetStyle().ItemSpacing.x;

    if (compact_ && compact_latent_) {
        // The latent widget: the panel (pad, sources, fine-tuning) above, the signals below.
        const float signals_h = std::max(110 * scale, avail.y * 0.3f);
        ImGui::BeginChild("latent", ImVec2(avail.x, avail.y - signals_h - ImGui::GetStyle().ItemSpacing.y), false);
        latent_.draw(scale, [this](const std::string& json) { send(json); });
        ImGui::EndChild();
        draw_signals(avail.x, signals_h, scale);
    } else if (compact_) {
        // The widget: signals and the loss curve fill the frame; settings live in the full studio.
        const float loss_h = std::max(90 * scale, avail.y * 0.28f);
        draw_signals(avail.x, avail.y - loss_h - ImGui::GetStyle().ItemSpacing.y, scale);
        draw_loss(avail.x, loss_h, scale);
    } else if (narrow) {
        // One column: signals and loss, then settings and parameters below (the page scrolls).
        ImGui::BeginChild("main", ImVec2(main_w, 0), false);
        draw_signals(main_w, std::max(300 * scale, avail.y * 0.55f), scale);
        draw_loss(main_w, 170 * scale, scale);
        draw_settings(scale);
        draw_params(scale);
        draw_landscape(scale);
        latent_.draw(scale, [this](const std::string& json) { send(json); });
        remap_.draw(scale, [this](const std::string& json) { send(json); });
        ImGui::EndChild();
    } else {
        ImGui::BeginChild("main", ImVec2(main_w, 0), false);
        const float loss_h = std::max(150 * scale, avail.y * 0.26f);
        draw_signals(main_w, avail.y - loss_h - ImGui::GetStyle().ItemSpacing.y, scale);
        draw_loss(main_w, loss_h, scale);
        ImGui::EndChild();
        ImGui::SameLine();
        ImGui::BeginChild("side", ImVec2(side_w, 0), false);
        draw_settings(scale);
        draw_params(scale);
        draw_landscape(scale);
        latent_.draw(scale, [this](const std::string& json) { send(json); });
        remap_.draw(scale, [this](const std::string& json) { send(json); });
        ImGui::EndChild();
    }
    ImGui::End();

    // A slider being dragged asks for a re-render at most ~15 times a second.
    const double now = ImGui::GetTime();
    if (m.render_wanted && now - m.last_render_request_s > 0.066) {
        m.render_wanted = false;
        m.last_render_request_s = now;
        send("{\"cmd\":\"render\",\"params\":" + quote(params_json_) + "}");
    }
}

void Studio::render_views() {
    Impl& m = *impl_;
    const double min_hz = 30, t0 = m.axis.start_s(), t1 = m.axis.end_s();
    m.target_view.draw(m.target_spec, nullptr, 0, min_hz, t0, t1);
    m.recon_view.draw(m.recon_spec, nullptr, 0, min_hz, t0, t1);
    m.diff_view.draw(m.target_spec, &m.recon_spec, 1, min_hz, t0, t1);
}

// [SECTION] toolbar and status

void Studio::draw_toolbar(float scale) {
    Impl& m = *impl_;
    if (!compact_) {
        ImGui::TextColored(ImVec4(0.96f, 0.58f, 0.26f, 1), "ddsp.cpp");
        ImGui::SameLine();
        ImGui::TextDisabled("(?)");
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("Differentiable synths that learn to sound like your recording, in your browser.\n\n"
                              "1. Drop a recording anywhere (or Open, Examples, Record).\n"
                              "2. Pick a synth and a method, press Match, watch the loss fall.\n"
                              "3. Listen: Space toggles A (target) / B (synth); keys A W S E D F T G Y H U J K\n"
                              "   play the matched synth at other pitches (Z / X: octave), as does a MIDI keyboard.\n"
                              "4. Drag the parameters, compute a loss landscape, keep the preset and the audio.");
        ImGui::SameLine();
        if (ImGui::Button("Open...")) send("{\"cmd\":\"open\"}");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Open a recording (WAV, or anything the browser decodes).\nOr drop a file anywhere on the page.");
        ImGui::SameLine();
        if (ImGui::Button("Examples")) ImGui::OpenPopup("examples");
        if (ImGui::BeginPopup("examples")) {
            std::string kind;
            for (const Impl::Example& e : m.examples) {
                if (e.kind != kind) {
                    kind = e.kind;
                    ImGui::TextDisabled("%s", kind.c_str());
                }
                if (ImGui::Selectable(e.label.c_str(), e.label == m.target_name))
                    send("{\"cmd\":\"example\",\"file\":" + quote(e.file) + "}");
            }
            ImGui::EndPopup();
        }
        ImGui::SameLine();
        if (ImGui::Button("Record")) send("{\"cmd\":\"record\"}");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Record a few seconds from the microphone");
        ImGui::SameLine();
        ImGui::TextDisabled("|");
        ImGui::SameLine();
    }

    ImGui::SetNextItemWidth(110 * scale);
    if (ImGui::BeginCombo("##synth", settings_.synth.c_str())) {
        for (const std::string& name : synth::synth_names()) {
            if (ImGui::Selectable(name.c_str(), name == settings_.synth) && name != settings_.synth) {
                settings_.synth = name;
                if (name != "ks" && settings_.method.rfind("amortised", 0) == 0) {  // the string's methods only
                    settings_.method = "gradient";
                    send("{\"cmd\":\"method\",\"name\":\"gradient\"}");
                }
                m.values.clear();
                params_json_.clear();
                m.recon = Vec();
                rebuild_table();
                send("{\"cmd\":\"synth\",\"name\":" + quote(name) + "}");
            }
            if (ImGui::IsItemHovered()) {
                if (auto s = synth::make_synth(name)) ImGui::SetTooltip("%s", s->description().c_str());
            }
        }
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    ImGui::SetNextItemWidth(110 * scale);
    if (ImGui::BeginCombo("##method", settings_.method.c_str())) {
        const int methods = settings_.synth == "ks" ? 6 : 6 - kStringOnlyMethods;
        for (int i = 0; i < methods; ++i) {
            if (ImGui::Selectable(kMethods[i], settings_.method == kMethods[i])) {
                settings_.method = kMethods[i];
                send("{\"cmd\":\"method\",\"name\":" + quote(settings_.method) + "}");
            }
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kMethodHelp[i]);
        }
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    const bool have_target = m.target.size() > 0;
    if (status_.running) {
        ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.70f, 0.22f, 0.20f, 1));
        if (ImGui::Button("  Stop  ")) send("{\"cmd\":\"stop\"}");
        ImGui::PopStyleColor();
    } else {
        if (!have_target) ImGui::BeginDisabled();
        ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.18f, 0.52f, 0.30f, 1));
        ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImVec4(0.24f, 0.64f, 0.38f, 1));
        if (ImGui::Button("  Match  ")) {
            std::string cmd = "{\"cmd\":\"start\",\"synth\":" + quote(settings_.synth) +
                              ",\"method\":" + quote(settings_.method) + ",\"loss\":" + quote(settings_.loss) +
                              ",\"steps\":" + num(settings_.steps) + ",\"timeBudgetS\":" + num(settings_.time_budget_s) +
                              ",\"learningRate\":" + num(settings_.learning_rate) + ",\"seed\":" + num(settings_.seed) +
                              ",\"population\":" + num(settings_.population) +
                              (settings_.synth_options[0] && !synth::synth_option_names(settings_.synth).empty()
                                   ? ",\"synthOptions\":" + quote(settings_.synth_options)
                                   : std::string()) +
                              ",\"params\":" + (!params_json_.empty() ? quote(params_json_) : std::string("null")) +
                              "}";
            send(cmd);
        }
        ImGui::PopStyleColor(2);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Match the synth to the target, starting from the parameters shown\n(a run, an edit or an imported preset; else the synth's guess from the target)");
        if (!have_target) ImGui::EndDisabled();
    }
    ImGui::SameLine();
    if (ImGui::Button("Reset")) {
        reset();
        send("{\"cmd\":\"reset\"}");
    }
    ImGui::SameLine();
    ImGui::TextDisabled("|");
    ImGui::SameLine();
    auto play_button = [&](const char* label, const char* slot, bool enabled) {
        if (!enabled) ImGui::BeginDisabled();
        const bool active = m.playing && m.level_slot == slot;
        if (active) ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.25f, 0.45f, 0.75f, 1));
        if (ImGui::Button(label)) {
            if (active) send("{\"cmd\":\"stopAudio\"}");
            else send(std::string("{\"cmd\":\"play\",\"slot\":\"") + slot + "\",\"loop\":" + (m.loop ? "true" : "false") + "}");
        }
        if (active) ImGui::PopStyleColor();
        if (!enabled) ImGui::EndDisabled();
    };
    play_button("A: target", "target", have_target);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Play the target (space toggles A/B)");
    ImGui::SameLine();
    play_button("B: synth", "recon", m.recon.size() > 0);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Play the reconstruction (space toggles A/B; keys A..K play notes)");
    ImGui::SameLine();
    ImGui::Checkbox("Loop", &m.loop);
    ImGui::SameLine();
    // Output level meter (peak, dBFS).
    {
        const float w = 90 * scale, h = ImGui::GetFrameHeight();
        const ImVec2 p = ImGui::GetCursorScreenPos();
        ImDrawList* dl = ImGui::GetWindowDrawList();
        dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h), IM_COL32(30, 30, 36, 255), 3);
        const float db = 20 * std::log10(std::max(m.level_peak, 1e-6f));
        const float frac = std::clamp((db + 60) / 60, 0.0f, 1.0f);
        const ImU32 col = db > -1 ? IM_COL32(230, 70, 60, 255) : db > -12 ? IM_COL32(230, 200, 60, 255) : IM_COL32(80, 200, 120, 255);
        dl->AddRectFilled(p, ImVec2(p.x + w * frac, p.y + h), col, 3);
        ImGui::Dummy(ImVec2(w, h));
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Output peak %.1f dBFS", db);
    }
    if (!compact_) {
        ImGui::SameLine();
        ImGui::TextDisabled("|");
        ImGui::SameLine();
        if (ImGui::Button("Keep...")) ImGui::OpenPopup("keep");
        if (ImGui::BeginPopup("keep")) {
            if (ImGui::MenuItem("Export parameters (JSON)", nullptr, false, !params_json_.empty())) send("{\"cmd\":\"exportParams\"}");
            if (ImGui::MenuItem("Export reconstruction (WAV)", nullptr, false, m.recon.size() > 0)) send("{\"cmd\":\"exportWav\"}");
            if (ImGui::MenuItem("Import parameters (JSON)...")) send("{\"cmd\":\"importParams\"}");
            if (ImGui::MenuItem("Copy share link")) send("{\"cmd\":\"share\"}");
            ImGui::EndPopup();
        }
    }
}

void Studio::draw_status(float scale) {
    Impl& m = *impl_;
    const MatchStatus& s = status_;
    if (s.has_result || s.running) {
        ImGui::Text("%s  iteration %d  loss %.4g  best %.4g  %.0f it/s  %s", s.running ? "matching" : "done",
                    s.iteration, s.loss, s.best_loss, s.iters_per_s, format_seconds(s.elapsed_s).c_str());
        ImGui::SameLine();
        float progress = 0;
        if (settings_.time_budget_s > 0) progress = float(s.elapsed_s / settings_.time_budget_s);
        if (s.step_limit > 0) progress = std::max(progress, float(s.iteration) / float(s.step_limit));
        if (!s.running) progress = 1;
        ImGui::ProgressBar(std::clamp(progress, 0.0f, 1.0f), ImVec2(160 * scale, 0));
        ImGui::SameLine();
    }
    if (m.status_error) ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.40f, 1), "%s", m.status_text.c_str());
    else ImGui::TextDisabled("%s", m.status_text.c_str());
}

// [SECTION] signals: waveforms and spectrograms

namespace {

// One signal's waveform over the axis' time: min/max per pixel column, or a line through the
// samples when zoomed in further than a sample per column. `peak`: the signal's (quiet sounds are
// shown larger, up to 26 dB).
void draw_waveform(const char* title, const Vec& x, double sample_rate_hz, float peak, const TimeAxis& axis,
                   ImVec2 size, ImU32 colour) {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p, ImVec2(p.x + size.x, p.y + size.y), IM_COL32(18, 18, 24, 255), 4);
    const float mid = p.y + size.y * 0.5f;
    dl->AddLine(ImVec2(p.x, mid), ImVec2(p.x + size.x, mid), IM_COL32(60, 60, 70, 255));
    const int cols = std::max(1, int(size.x));
    const Eigen::Index n = x.size();
    if (n > 0 && !axis.empty() && sample_rate_hz > 0) {
        const float gain = 0.95f / std::max(peak, 0.05f) * size.y * 0.5f;
        auto value = [&](Eigen::Index i) { return std::isfinite(x[i]) ? float(x[i]) : 0.0f; };
        const double samples_per_col = axis.span_s() * sample_rate_hz / cols;
        dl->PushClipRect(p, ImVec2(p.x + size.x, p.y + size.y), true);
        if (samples_per_col < 2) {
            const Eigen::Index first = std::max<Eigen::Index>(0, Eigen::Index(std::floor(axis.start_s() * sample_rate_hz)));
            const Eigen::Index last = std::min<Eigen::Index>(n - 1, Eigen::Index(std::ceil(axis.end_s() * sample_rate_hz)));
            ImVec2 prev;
            for (Eigen::Index i = first; i <= last; ++i) {
                const ImVec2 q(float(axis.x_of(double(i) / sample_rate_hz, p.x, size.x)), mid - value(i) * gain);
                if (i > first) dl->AddLine(prev, q, colour);
                prev = q;
            }
        } else {
            for (int c = 0; c < cols; ++c) {
                const Eigen::Index a = Eigen::Index(std::floor(axis.t_of(p.x + c, p.x, size.x) * sample_rate_hz));
                const Eigen::Index b = std::max(a + 1, Eigen::Index(std::floor(axis.t_of(p.x + c + 1, p.x, size.x) * sample_rate_hz)));
                if (b <= 0 || a >= n) continue;
                float lo = 0, hi = 0;
                for (Eigen::Index i = std::max<Eigen::Index>(a, 0); i < std::min(b, n); ++i) {
                    lo = std::min(lo, value(i));
                    hi = std::max(hi, value(i));
                }
                dl->AddRectFilled(ImVec2(p.x + c, mid - hi * gain), ImVec2(p.x + c + 1, mid - lo * gain + 1), colour);
            }
        }
        dl->PopClipRect();
    }
    char label[96];
    std::snprintf(label, sizeof label, "%s  %.2f s", title, sample_rate_hz > 0 ? double(n) / sample_rate_hz : 0.0);
    dl->AddText(ImVec2(p.x + 6, p.y + 3), IM_COL32(200, 200, 210, 220), label);
}

// [SECTION] signals: the shared time axis (zoom, pan, fit, ruler)

// Tick marks along the bottom of a view, labelled in s or ms where there is room.
void draw_time_ruler(ImVec2 p0, ImVec2 p1, const TimeAxis& axis, float scale) {
    if (axis.empty()) return;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = p1.x - p0.x, text_h = ImGui::GetTextLineHeight();
    const TimeTicks ticks = time_ticks(axis.start_s(), axis.end_s(), w, 80 * scale);
    dl->PushClipRect(p0, p1, true);
    for (double t : ticks.t_s) {
        const float x = float(axis.x_of(t, p0.x, w));
        dl->AddLine(ImVec2(x, p1.y - 6 * scale), ImVec2(x, p1.y), IM_COL32(220, 220, 230, 170));
        const std::string label = format_tick(t, ticks.step_s);
        if (x + ImGui::CalcTextSize(label.c_str()).x + 3 * scale < p1.x)
            dl->AddText(ImVec2(x + 3 * scale, p1.y - text_h - 2 * scale), IM_COL32(220, 220, 230, 170), label.c_str());
    }
    dl->PopClipRect();
}

// The last item (an InvisibleButton covering a view) drives the axis: the wheel (with or without
// Ctrl) zooms around the cursor, Shift+wheel and a horizontal wheel pan, dragging pans, a
// double-click fits. Every view moves the one axis, so they stay in step.
void time_view_input(TimeAxis& axis, ImVec2 p, ImVec2 size) {
    if (axis.empty() || size.x < 1) return;
    ImGui::SetItemUsingMouseWheel();  // the wheel is ours here; the page does not scroll under it
    const ImGuiIO& io = ImGui::GetIO();
    if (ImGui::IsItemHovered()) {
        const float wheel = std::clamp(io.MouseWheel, -5.0f, 5.0f), wheel_h = std::clamp(io.MouseWheelH, -5.0f, 5.0f);
        if (wheel != 0 && io.KeyShift)
            axis.pan(-wheel * 0.1 * axis.span_s());
        else if (wheel != 0)
            axis.zoom(std::pow(0.8, double(wheel)), axis.t_of(io.MousePos.x, p.x, size.x));
        if (wheel_h != 0) axis.pan(-wheel_h * 0.1 * axis.span_s());
        if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) axis.fit();
    }
    if (ImGui::IsItemActive() && io.MouseDelta.x != 0 && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0))
        axis.pan(-double(io.MouseDelta.x) / size.x * axis.span_s());
}

}  // namespace

void Studio::draw_signals(float width, float height, float scale) {
    Impl& m = *impl_;
    TimeAxis& axis = m.axis;
    auto rect_of = [](ImVec2 a, ImVec2 size) { return Impl::Rect{a.x, a.y, a.x + size.x, a.y + size.y}; };
    ImGui::BeginChild("signals", ImVec2(width, height), false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
    const ImGuiStyle& st = ImGui::GetStyle();
    const float wave_h = std::max(50 * scale, height * 0.18f);
    const float half = (width - st.ItemSpacing.x) * 0.5f;
    struct Wave {
        std::string title;
        const Vec* x;
        float peak;
        ImU32 colour;
    } waves[] = {{"A  target: " + (m.target_name.empty() ? std::string("none") : m.target_name), &m.target, m.target_peak,
                  IM_COL32(120, 180, 250, 255)},
                 {"B  reconstruction", &m.recon, m.recon_peak, IM_COL32(245, 150, 70, 255)}};
    for (int i = 0; i < 2; ++i) {
        if (i) ImGui::SameLine();
        const ImVec2 p = ImGui::GetCursorScreenPos(), size(half, wave_h);
        draw_waveform(waves[i].title.c_str(), *waves[i].x, m.synth_hz, waves[i].peak, axis, size, waves[i].colour);
        draw_time_ruler(p, ImVec2(p.x + size.x, p.y + size.y), axis, scale);
        // The reconstruction sounds on past the view: say so at its right edge.
        if (i == 1 && m.recon_sound_end_s > axis.end_s() + 1e-9 && axis.end_s() < axis.clip_s())
            ImGui::GetWindowDrawList()->AddText(ImVec2(p.x + size.x - ImGui::CalcTextSize(">>").x - 4 * scale, p.y + 3),
                                                IM_COL32(245, 150, 70, 255), ">>");
        ImGui::InvisibleButton(i ? "##wave_b" : "##wave_a", size);
        time_view_input(axis, p, size);
        m.wave_rects[i] = rect_of(p, size);
    }

    // The axis' controls: what is shown of the clip, and Fit.
    const float row_y = ImGui::GetCursorPosY();
    {
        const ImVec2 p = ImGui::GetCursorScreenPos();
        if (ImGui::SmallButton("Fit")) axis.fit();
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("Show the sound (trailing silence left out); or double-click a view");
        m.fit_rect = rect_of(p, ImGui::GetItemRectSize());
        ImGui::SameLine();
        if (axis.empty())
            ImGui::TextDisabled("time: no clip");
        else
            ImGui::TextDisabled("%s - %s of %s   wheel: zoom, drag: pan, double-click: fit",
                                format_tick(axis.start_s(), axis.span_s() / 100).c_str(),
                                format_tick(axis.end_s(), axis.span_s() / 100).c_str(),
                                format_tick(axis.clip_s(), axis.clip_s() / 100).c_str());
    }
    const float row_h = ImGui::GetCursorPosY() - row_y;

    const float spec_h = std::max(60 * scale, height - wave_h - row_h - st.ItemSpacing.y * 2 - ImGui::GetTextLineHeight());
    const float third = (width - 2 * st.ItemSpacing.x) / 3;
    struct Pane {
        const char* title;
        const char* id;
        SpectrogramView* view;
    } panes[] = {{"target", "##spec_target", &m.target_view},
                 {"reconstruction", "##spec_recon", &m.recon_view},
                 {"difference (red extra, blue missing)", "##spec_diff", &m.diff_view}};
    for (int i = 0; i < 3; ++i) {
        if (i) ImGui::SameLine();
        ImGui::BeginGroup();
        ImGui::TextDisabled("%s", panes[i].title);
        const ImVec2 size(third, spec_h - ImGui::GetTextLineHeightWithSpacing());
        const ImVec2 p = ImGui::GetCursorScreenPos(), q(p.x + size.x, p.y + size.y);
        const unsigned tex = panes[i].view->request(int(size.x), int(size.y));
        // The framebuffer's first row is the bottom: flip v so low frequencies sit at the bottom.
        ImGui::GetWindowDrawList()->AddImage(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(tex)), p, q,
                                             ImVec2(0, 1), ImVec2(1, 0));
        draw_time_ruler(p, q, axis, scale);
        ImGui::InvisibleButton(panes[i].id, size);
        time_view_input(axis, p, size);
        m.spec_rects[i] = rect_of(p, size);
        if (ImGui::IsItemHovered() && !axis.empty() && !ImGui::IsItemActive()) {
            const ImVec2 mp = ImGui::GetMousePos();
            const double tx = axis.t_of(mp.x, p.x, size.x);
            const double fy = 1 - (mp.y - p.y) / size.y;
            const double f_hz = 30 * std::pow(m.synth_hz / 2 / 30, fy);
            ImGui::SetTooltip("%s, %.0f Hz", format_tick(tx, axis.span_s() / 1000).c_str(), f_hz);
        }
        ImGui::EndGroup();
    }
    ImGui::EndChild();
}

// The axis from outside (window.ddsp.view): what a wheel, a drag or Fit would do.
void Studio::set_view(double start_s, double end_s) {
    if (impl_->spectrograms_dirty) rebuild_spectrograms();  // a target loaded since the last frame
    impl_->axis.set(start_s, end_s);
}

void Studio::fit_view() {
    if (impl_->spectrograms_dirty) rebuild_spectrograms();
    impl_->axis.fit();
}

std::string Studio::view_json() {
    if (impl_->spectrograms_dirty) rebuild_spectrograms();
    const TimeAxis& a = impl_->axis;
    return "{\"startS\":" + num(a.empty() ? 0 : a.start_s()) + ",\"endS\":" + num(a.empty() ? 0 : a.end_s()) +
           ",\"clipS\":" + num(a.clip_s()) + ",\"fitS\":" + num(a.fit_s()) + ",\"fitted\":" + (a.fitted() ? "true" : "false") +
           "}";
}

std::string Studio::views_layout_json() const {
    const Impl& m = *impl_;
    auto rect = [](const Impl::Rect& r) {
        return "[" + num(r.x0) + "," + num(r.y0) + "," + num(r.x1) + "," + num(r.y1) + "]";
    };
    return "{\"waveforms\":{\"target\":" + rect(m.wave_rects[0]) + ",\"recon\":" + rect(m.wave_rects[1]) +
           "},\"spectrograms\":{\"target\":" + rect(m.spec_rects[0]) + ",\"recon\":" + rect(m.spec_rects[1]) +
           ",\"difference\":" + rect(m.spec_rects[2]) + "},\"fit\":" + rect(m.fit_rect) + "}";
}

// [SECTION] loss curve

void Studio::draw_loss(float width, float height, float scale) {
    Impl& m = *impl_;
    ImGui::BeginChild("loss", ImVec2(width, height), false, ImGuiWindowFlags_NoScrollbar);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const ImVec2 size = ImGui::GetContentRegionAvail();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p, ImVec2(p.x + size.x, p.y + size.y), IM_COL32(18, 18, 24, 255), 4);
    dl->AddText(ImVec2(p.x + 6, p.y + 3), IM_COL32(200, 200, 210, 220), "loss (log scale) per iteration, the last 6 runs");

    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    size_t longest = 1;
    for (const LossTrace& t : m.traces) {
        for (float v : t.loss)
            if (v > 0 && std::isfinite(v)) lo = std::min(lo, double(v)), hi = std::max(hi, double(v));
        longest = std::max(longest, t.loss.size());
    }
    const float left = p.x + 48 * scale, right = p.x + size.x - 8 * scale;
    const float top = p.y + 20 * scale, bottom = p.y + size.y - 18 * scale;
    if (hi > 0 && std::isfinite(lo)) {
        double l0 = std::floor(std::log10(lo)), l1 = std::ceil(std::log10(hi));
        if (l1 - l0 < 1) l1 = l0 + 1;
        auto y_of = [&](double v) { return float(bottom - (std::log10(v) - l0) / (l1 - l0) * (bottom - top)); };
        for (double d = l0; d <= l1; d += 1) {
            const float y = y_of(std::pow(10.0, d));
            dl->AddLine(ImVec2(left, y), ImVec2(right, y), IM_COL32(50, 50, 60, 255));
            char buf[32];
            std::snprintf(buf, sizeof buf, "%g", std::pow(10.0, d));
            dl->AddText(ImVec2(p.x + 4, y - 7 * scale), IM_COL32(150, 150, 160, 255), buf);
        }
        char buf[32];
        std::snprintf(buf, sizeof buf, "%zu", longest);
        dl->AddText(ImVec2(right - ImGui::CalcTextSize(buf).x, bottom + 2), IM_COL32(150, 150, 160, 255), buf);
        float legend_y = top;
        for (const LossTrace& t : m.traces) {
            if (t.loss.empty()) continue;
            const ImU32 col = trace_colour(t.run);
            const size_t n = t.loss.size();
            // At most one vertex per pixel column: long genetic runs stay cheap to draw.
            const size_t stride = std::max<size_t>(1, n / size_t(std::max(1.0f, right - left)));
            ImVec2 prev;
            bool have_prev = false;
            double best = std::numeric_limits<double>::infinity();
            for (size_t i = 0; i < n; i += stride) {
                for (size_t k = i; k < std::min(n, i + stride); ++k) best = std::min(best, double(t.loss[k]));
                const float x = left + float(i) / float(std::max<size_t>(1, longest - 1)) * (right - left);
                const ImVec2 pt(x, y_of(std::max(best, lo)));
                if (have_prev) dl->AddLine(prev, pt, col, 2 * scale);
                prev = pt;
                have_prev = true;
            }
            char label[128];
            std::snprintf(label, sizeof label, "%s  best %.4g", t.label.c_str(), best);
            const float tw = ImGui::CalcTextSize(label).x;
            dl->AddRectFilled(ImVec2(right - tw - 22 * scale, legend_y + 4 * scale), ImVec2(right - tw - 10 * scale, legend_y + 12 * scale), col);
            dl->AddText(ImVec2(right - tw - 4 * scale, legend_y), IM_COL32(210, 210, 220, 255), label);
            legend_y += ImGui::GetTextLineHeight();
        }
    } else {
        dl->AddText(ImVec2(left, (top + bottom) / 2), IM_COL32(120, 120, 130, 255), "Press Match to start; each run adds a trace.");
    }
    ImGui::Dummy(size);
    ImGui::EndChild();
}

// [SECTION] settings

void Studio::draw_settings(float scale) {
    if (!ImGui::CollapsingHeader("Match settings", ImGuiTreeNodeFlags_DefaultOpen)) return;
    ImGui::PushItemWidth(-130 * scale);
    int loss_index = 0;
    for (int i = 0; i < 4; ++i)
        if (settings_.loss == kLosses[i]) loss_index = i;
    if (ImGui::Combo("loss", &loss_index, kLosses, 4)) settings_.loss = kLosses[loss_index];
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kLossHelp[loss_index]);
    ImGui::SliderInt("steps", &settings_.steps, 10, 3000, "%d", ImGuiSliderFlags_Logarithmic);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Gradient steps, or generations of a population method");
    ImGui::SliderFloat("time budget (s)", &settings_.time_budget_s, 0, 120, settings_.time_budget_s > 0 ? "%.0f s" : "none");
    ImGui::SliderFloat("learning rate", &settings_.learning_rate, 0.002f, 0.5f, "%.3f", ImGuiSliderFlags_Logarithmic);
    const bool population_method = settings_.method != "gradient";
    if (!population_method) ImGui::BeginDisabled();
    ImGui::SliderInt("population", &settings_.population, 6, 100);
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("Candidates per generation (genetic, cmaes, hybrid's search); the DiffKS baseline used 20");
    if (!population_method) ImGui::EndDisabled();
    ImGui::InputInt("seed", &settings_.seed);
    settings_.seed = std::clamp(settings_.seed, 0, 1 << 30);
    // Build-time options (the string's loop order, excitation length, oversampling ...), for the
    // synths that have them; a bad one is the worker's one-line error when the match starts.
    const std::string option_names = synth::synth_option_names(settings_.synth);
    if (!option_names.empty()) {
        ImGui::InputTextWithHint("synth options", "e.g. exc_ms=40,loop_order=3", settings_.synth_options,
                                 sizeof settings_.synth_options);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("name=value, comma-separated: %s", option_names.c_str());
    }
    ImGui::PopItemWidth();
}

// [SECTION] parameter panel

void Studio::params_edited() {
    Impl& m = *impl_;
    m.values_guessed = false;
    params_json_ = match::params_to_json(settings_.synth, m.synth_hz, m.seconds, m.values, m.table);
    status_.has_result = true;  // the next Match starts from the edited values
    m.render_wanted = true;
}

void Studio::draw_params(float scale) {
    Impl& m = *impl_;
    if (!ImGui::CollapsingHeader("Parameters (physical units)", ImGuiTreeNodeFlags_DefaultOpen)) return;
    if (m.table.empty()) {
        ImGui::TextDisabled("no synth");
        return;
    }
    ImGui::PushItemWidth(-150 * scale);
    for (const synth::ParamSpec& p : m.table) {
        std::vector<double>& v = m.values[p.name];
        if (int(v.size()) != p.size) v.assign(size_t(p.size), p.default_value);
        const bool log_scale = p.scale == ad::Scale::log && p.min_value > 0;
        ImGui::PushID(p.name.c_str());
        if (p.size == 1) {
            float x = float(v[0]);
            const char* fmt = std::abs(p.max_value) >= 100 ? "%.1f" : "%.4g";
            if (ImGui::SliderFloat(p.name.c_str(), &x, float(p.min_value), float(p.max_value), fmt,
                                   log_scale ? ImGuiSliderFlags_Logarithmic : 0)) {
                v[0] = std::clamp(double(x), p.min_value, p.max_value);
                params_edited();
            }
        } else if (p.size <= 4096) {
            // A curve over time: its shape is shown, and one slider moves it as a whole (times a
            // factor on log parameters, plus an offset on linear ones). Released, it re-centres.
            std::vector<float> shown(v.size());
            for (size_t i = 0; i < v.size(); ++i)
                shown[i] = log_scale ? float(std::log(v[i])) : float(v[i]);
            ImGui::PlotLines("##curve", shown.data(), int(shown.size()), 0, nullptr, FLT_MAX, FLT_MAX,
                             ImVec2(ImGui::CalcItemWidth() * 0.35f, ImGui::GetFrameHeight()));
            ImGui::SameLine();
            ImGui::SetNextItemWidth(ImGui::CalcItemWidth() * 0.65f - ImGui::GetStyle().ItemSpacing.x);
            // The drag starts from neutral every frame and applies its change at once.
            float change = log_scale ? 1.0f : 0.0f;
            const float range = float(p.max_value - p.min_value);
            if (ImGui::DragFloat(p.name.c_str(), &change, log_scale ? 0.005f : range / 400, 0, 0,
                                 log_scale ? "drag: x%.3f" : "drag: %+.3g")) {
                for (double& x : v)
                    x = std::clamp(log_scale ? x * double(std::max(change, 0.01f)) : x + double(change), p.min_value, p.max_value);
                params_edited();
            }
        } else {
            ImGui::TextDisabled("%s: %d values (frame-wise; set by matching)", p.name.c_str(), p.size);
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s\n%s, %g .. %g%s", p.description.c_str(), p.unit.empty() ? "no unit" : p.unit.c_str(),
                                                      p.min_value, p.max_value, log_scale ? " (log)" : "");
        ImGui::PopID();
    }
    ImGui::PopItemWidth();
}

// [SECTION] loss landscape

void Studio::draw_landscape(float scale) {
    Impl& m = *impl_;
    if (m.land_open) ImGui::SetNextItemOpen(true);
    m.land_open = false;
    if (!ImGui::CollapsingHeader("Loss landscape")) return;
    ImGui::TextWrapped("The loss over two parameters, the others held where they are. Pitch-like parameters make it rugged: "
                       "gradient descent only finds the valley it starts in.");
    if (m.table.size() < 2) return;
    std::vector<const char*> names;
    for (const synth::ParamSpec& p : m.table) names.push_back(p.name.c_str());
    ImGui::PushItemWidth(-150 * scale);
    ImGui::Combo("x axis", &m.land_x, names.data(), int(names.size()));
    ImGui::Combo("y axis", &m.land_y, names.data(), int(names.size()));
    ImGui::SliderInt("grid", &m.land_steps, 5, 61);
    ImGui::PopItemWidth();
    const bool can = m.target.size() > 0 && m.land_x != m.land_y && !m.land_pending;
    if (!can) ImGui::BeginDisabled();
    if (ImGui::Button(m.land_pending ? "Computing..." : "Compute landscape")) {
        if (params_json_.empty()) params_json_ = match::params_to_json(settings_.synth, m.synth_hz, m.seconds, m.values, m.table);
        m.land_pending = true;
        m.land_x_name = m.table[size_t(m.land_x)].name;
        m.land_y_name = m.table[size_t(m.land_y)].name;
        send("{\"cmd\":\"landscape\",\"x\":" + quote(m.land_x_name) + ",\"y\":" + quote(m.land_y_name) +
             ",\"steps\":" + num(m.land_steps) + ",\"params\":" + quote(params_json_) + "}");
    }
    if (!can) ImGui::EndDisabled();
    if (m.land_n < 2) return;

    const float w = ImGui::GetContentRegionAvail().x, h = std::min(w, 320 * scale);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    int best = 0;
    for (size_t i = 0; i < m.land_loss.size(); ++i) {
        const float v = m.land_loss[i];
        if (!std::isfinite(v)) continue;
        if (v < lo) lo = v, best = int(i);
        hi = std::max(hi, v);
    }
    const int n = m.land_n;
    const float cw = w / n, ch = h / n;
    for (int yi = 0; yi < n; ++yi)
        for (int xi = 0; xi < n; ++xi) {
            const float v = m.land_loss[size_t(yi) * size_t(n) + size_t(xi)];
            const float t = std::isfinite(v) && hi > lo ? std::log(v / lo) / std::log(hi / lo) : 1.0f;
            const ImVec2 a(p.x + xi * cw, p.y + (n - 1 - yi) * ch);
            dl->AddRectFilled(a, ImVec2(a.x + cw + 0.5f, a.y + ch + 0.5f), heat_colour(t));
        }
    const int bx = best % n, by = best / n;
    const ImVec2 c(p.x + (bx + 0.5f) * cw, p.y + (n - 1 - by + 0.5f) * ch);
    dl->AddCircle(c, 5 * scale, IM_COL32(255, 255, 255, 255), 12, 2 * scale);
    ImGui::Dummy(ImVec2(w, h));
    if (ImGui::IsItemHovered()) {
        const ImVec2 mp = ImGui::GetMousePos();
        const int xi = std::clamp(int((mp.x - p.x) / cw), 0, n - 1), yi = std::clamp(n - 1 - int((mp.y - p.y) / ch), 0, n - 1);
        const float v = m.land_loss[size_t(yi) * size_t(n) + size_t(xi)];
        ImGui::SetTooltip("%s = %.4g\n%s = %.4g\nloss %.4g", m.land_x_name.c_str(),
                          size_t(xi) < m.land_xs.size() ? m.land_xs[size_t(xi)] : 0.0, m.land_y_name.c_str(),
                          size_t(yi) < m.land_ys.size() ? m.land_ys[size_t(yi)] : 0.0, v);
    }
    auto range = [](const std::vector<double>& v) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.4g .. %.4g", v.empty() ? 0.0 : v.front(), v.empty() ? 0.0 : v.back());
        return std::string(buf);
    };
    ImGui::TextDisabled("x: %s %s, y: %s %s", m.land_x_name.c_str(), range(m.land_xs).c_str(), m.land_y_name.c_str(),
                        range(m.land_ys).c_str());
    ImGui::TextDisabled("white ring: the lowest loss, %.4g", lo);
}

}  // namespace ddsp::app
