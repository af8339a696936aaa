// The studio's UI module (ddsp_ui.js): Dear ImGui over Emscripten's GLFW emulation and WebGL2.
// web/studio.js creates it with
//   const ui = await createDdspUi({canvas, onUiCommand: (json) => ...});
// and feeds it with the embind functions at the bottom (setTarget, progress, ...). The UI never
// optimises or plays audio: it sends commands (src/app/studio.h lists them) to onUiCommand.
#include "app/studio.h"

#include <GLES3/gl3.h>
#include <GLFW/glfw3.h>
#include <emscripten.h>
#include <emscripten/bind.h>
#include <emscripten/val.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <cmath>
#include <memory>
#include <string>

using emscripten::val;
using namespace ddsp;

namespace {

GLFWwindow* g_window = nullptr;
std::unique_ptr<app::Studio> g_studio;
float g_scale = 1;

// [SECTION] JavaScript glue

// Commands leave through Module.onUiCommand (set by studio.js); exceptions there must not
// unwind into wasm.
EM_JS(void, js_ui_command, (const char* json), {
    const text = UTF8ToString(json);
    try {
        if (Module.onUiCommand) Module.onUiCommand(text);
    } catch (e) {
        console.error("onUiCommand failed:", e);
    }
});

// Sizes the canvas's backing store to its CSS box times devicePixelRatio (sharp on high-DPI
// screens) and returns the ratio. GLFW's emulation reports mouse positions in backing-store
// pixels, so ImGui works in those pixels throughout.
EM_JS(double, js_fit_canvas, (int* width, int* height), {
    const canvas = Module.canvas;
    const dpr = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    const w = Math.max(1, Math.round(rect.width * dpr));
    const h = Math.max(1, Math.round(rect.height * dpr));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    HEAP32[width >> 2] = w;
    HEAP32[height >> 2] = h;
    return dpr;
});

// Emscripten 3.1.6's GLFW hands the scroll callback the browser's raw deltaX/deltaY: the page's
// direction (positive is down), in pixels, lines or pages. ImGui wants steps of a wheel notch,
// positive up (and left): the event being dispatched (window.event: the callback runs inside its
// handler) gives the units. Without this the wheel scrolled ImGui's windows the wrong way, ~100x
// too far.
EM_JS(double, js_wheel_steps, (double raw), {
    const e = window.event;
    const mode = e && e.type === 'wheel' ? e.deltaMode : 0;
    const per_step = mode === 1 ? 3 : mode === 2 ? 1 / 3 : 100;  // lines: 3 a notch; pixels: 100
    return -raw / per_step;
});

void on_scroll(GLFWwindow*, double dx, double dy) {
    ImGuiIO& io = ImGui::GetIO();
    io.MouseWheelH += float(js_wheel_steps(dx));
    io.MouseWheel += float(js_wheel_steps(dy));
}

Vec to_vec(const val& typed_array) {
    const std::vector<float> v = emscripten::convertJSArrayToNumberVector<float>(typed_array);
    Vec out(Eigen::Index(v.size()));
    for (size_t i = 0; i < v.size(); ++i) out[Eigen::Index(i)] = std::isfinite(v[i]) ? Real(v[i]) : Real(0);
    return out;
}

std::vector<float> to_floats(const val& typed_array) {
    if (typed_array.isNull() || typed_array.isUndefined()) return {};
    return emscripten::convertJSArrayToNumberVector<float>(typed_array);
}

// [SECTION] look

void apply_style(float scale) {
    ImGuiStyle& s = ImGui::GetStyle();
    ImGui::StyleColorsDark(&s);
    s.WindowPadding = ImVec2(10, 8);
    s.FramePadding = ImVec2(8, 4);
    s.ItemSpacing = ImVec2(8, 6);
    s.FrameRounding = 4;
    s.GrabRounding = 4;
    s.PopupRounding = 4;
    s.ScrollbarRounding = 6;
    s.ChildRounding = 4;
    ImVec4* c = s.Colors;
    c[ImGuiCol_WindowBg] = ImVec4(0.085f, 0.09f, 0.11f, 1);
    c[ImGuiCol_ChildBg] = ImVec4(0, 0, 0, 0);
    c[ImGuiCol_PopupBg] = ImVec4(0.11f, 0.12f, 0.15f, 0.98f);
    c[ImGuiCol_FrameBg] = ImVec4(0.16f, 0.17f, 0.21f, 1);
    c[ImGuiCol_FrameBgHovered] = ImVec4(0.22f, 0.24f, 0.30f, 1);
    c[ImGuiCol_FrameBgActive] = ImVec4(0.26f, 0.29f, 0.36f, 1);
    c[ImGuiCol_Button] = ImVec4(0.20f, 0.23f, 0.30f, 1);
    c[ImGuiCol_ButtonHovered] = ImVec4(0.28f, 0.33f, 0.44f, 1);
    c[ImGuiCol_ButtonActive] = ImVec4(0.33f, 0.40f, 0.55f, 1);
    c[ImGuiCol_Header] = ImVec4(0.18f, 0.21f, 0.28f, 1);
    c[ImGuiCol_HeaderHovered] = ImVec4(0.25f, 0.30f, 0.40f, 1);
    c[ImGuiCol_HeaderActive] = ImVec4(0.30f, 0.36f, 0.48f, 1);
    c[ImGuiCol_SliderGrab] = ImVec4(0.96f, 0.58f, 0.26f, 1);
    c[ImGuiCol_SliderGrabActive] = ImVec4(1.0f, 0.70f, 0.40f, 1);
    c[ImGuiCol_CheckMark] = ImVec4(0.96f, 0.58f, 0.26f, 1);
    c[ImGuiCol_PlotHistogram] = ImVec4(0.96f, 0.58f, 0.26f, 1);
    c[ImGuiCol_PlotLines] = ImVec4(0.47f, 0.72f, 0.98f, 1);
    s.ScaleAllSizes(scale);
}

// [SECTION] frame

void main_loop_frame() {
    int width = 1, height = 1;
    const double dpr = js_fit_canvas(&width, &height);
    (void)dpr;
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(float(width), float(height));  // backing-store pixels (see js_fit_canvas)
    io.DisplayFramebufferScale = ImVec2(1, 1);
    ImGui::NewFrame();
    g_studio->frame(float(width), float(height), g_scale);
    ImGui::Render();
    g_studio->render_views();
    glViewport(0, 0, width, height);
    glClearColor(0.085f, 0.09f, 0.11f, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

// [SECTION] embind API

void set_examples(const std::string& json) { g_studio->set_examples(json); }
void set_target(const std::string& name, const val& samples, double sample_rate_hz) {
    g_studio->set_target(name, to_vec(samples), sample_rate_hz);
}
void set_recon(const val& samples, double sample_rate_hz) { g_studio->set_recon(to_vec(samples), sample_rate_hz); }
void progress(const std::string& json, const val& history, bool done) { g_studio->on_progress(json, to_floats(history), done); }
void started(int run) { g_studio->on_started(run); }
void set_params(const std::string& json) { g_studio->set_params_json(json); }
void set_target_table(const std::string& json) { g_studio->set_target_table(json); }
void set_status(const std::string& text, bool is_error) { g_studio->set_status(text, is_error); }
void set_level(double peak, double rms, const std::string& slot, bool playing) {
    g_studio->set_level(float(peak), float(rms), slot, playing);
}
void set_landscape(const std::string& json, const val& loss) { g_studio->set_landscape(json, to_floats(loss)); }
void set_compact(bool compact) { g_studio->set_compact(compact); }
void set_compact_view(const std::string& view) { g_studio->set_compact_view(view); }
void reset() { g_studio->reset(); }
double fps() { return g_studio->fps(); }
std::string params_json() { return g_studio->params_json(); }
void set_settings(const std::string& synth, const std::string& method, const std::string& loss, int steps, double time_budget_s,
                  double learning_rate, int seed) {
    app::MatchSettings s = g_studio->settings();  // keeps what this call does not set (population)
    s.synth = synth;
    s.method = method;
    s.loss = loss;
    s.steps = steps;
    s.time_budget_s = float(time_budget_s);
    s.learning_rate = float(learning_rate);
    s.seed = seed;
    g_studio->set_settings(s);
}
// The latent panel (app/latent_panel.h).
void set_latent_info(const std::string& json) { g_studio->latent().set_info(json); }
void set_latent_z(const val& z) { g_studio->latent().set_z(to_floats(z)); }
void set_latent_status(const std::string& text, bool is_error) { g_studio->latent().set_status(text, is_error); }
void set_latent_source(const std::string& source) { g_studio->latent().set_source(source); }
void set_latent_live(bool on) { g_studio->latent().set_live(on); }
void set_live_stats(double latency_ms, double load_mean_percent, double load_max_percent, double input_f0_hz,
                    bool voiced) {
    g_studio->latent().set_live_stats(latency_ms, load_mean_percent, load_max_percent, input_f0_hz, voiced);
}
void set_latent_weights(const std::string& weights, bool tuned_available) {
    g_studio->latent().set_weights(weights, tuned_available);
}
void latent_fine_tune_started(int steps) { g_studio->latent().fine_tune_started(steps); }
void latent_progress(const std::string& json, const val& history, bool done) {
    g_studio->latent().on_fine_tune(json, to_floats(history), done);
}
void latent_open() { g_studio->latent().request_open(); }
std::string latent_layout() { return g_studio->latent().layout_json(); }
// The remap panel (app/remap_panel.h).
void set_remap_presets(const std::string& json) { g_studio->remap().set_presets(json); }
void set_remap_current(bool available) { g_studio->remap().set_current_available(available); }
void set_remap_performance(const std::string& json) { g_studio->remap().set_performance(json); }
void set_remap_model(const std::string& json) { g_studio->remap().set_model(json); }
void set_remap_status(const std::string& text, bool is_error) { g_studio->remap().set_status(text, is_error); }
void remap_train_started(int steps) { g_studio->remap().train_started(steps); }
void remap_progress(const std::string& json, const val& history, bool done) {
    g_studio->remap().on_progress(json, to_floats(history), done);
}
void set_remap_live(bool on) { g_studio->remap().set_live(on); }
void set_remap_live_stats(double onsets, double latency_ms) { g_studio->remap().set_live_stats(onsets, latency_ms); }
std::string remap_layout() { return g_studio->remap().layout_json(); }
int frame_count() { return ImGui::GetFrameCount(); }
// The views' shared time axis (window.ddsp.view).
void set_view(double start_s, double end_s) { g_studio->set_view(start_s, end_s); }
void fit_view() { g_studio->fit_view(); }
std::string view_json() { return g_studio->view_json(); }
std::string views_layout() { return g_studio->views_layout_json(); }

val settings() {
    const app::MatchSettings& s = g_studio->settings();
    val out = val::object();
    out.set("synth", s.synth);
    out.set("method", s.method);
    out.set("loss", s.loss);
    out.set("steps", s.steps);
    out.set("timeBudgetS", s.time_budget_s);
    out.set("learningRate", s.learning_rate);
    out.set("seed", s.seed);
    out.set("population", s.population);
    return out;
}

}  // namespace

EMSCRIPTEN_BINDINGS(ddsp_ui) {
    emscripten::function("setExamples", &set_examples);
    emscripten::function("setTarget", &set_target);
    emscripten::function("setRecon", &set_recon);
    emscripten::function("progress", &progress);
    emscripten::function("started", &started);
    emscripten::function("setParams", &set_params);
    emscripten::function("setTargetTable", &set_target_table);
    emscripten::function("setStatus", &set_status);
    emscripten::function("setLevel", &set_level);
    emscripten::function("setLandscape", &set_landscape);
    emscripten::function("setCompact", &set_compact);
    emscripten::function("setCompactView", &set_compact_view);
    emscripten::function("setSettings", &set_settings);
    emscripten::function("settings", &settings);
    emscripten::function("reset", &reset);
    emscripten::function("fps", &fps);
    emscripten::function("paramsJson", &params_json);
    emscripten::function("setLatentInfo", &set_latent_info);
    emscripten::function("setLatentZ", &set_latent_z);
    emscripten::function("setLatentStatus", &set_latent_status);
    emscripten::function("setLatentSource", &set_latent_source);
    emscripten::function("setLatentLive", &set_latent_live);
    emscripten::function("setLiveStats", &set_live_stats);
    emscripten::function("setLatentWeights", &set_latent_weights);
    emscripten::function("latentFineTuneStarted", &latent_fine_tune_started);
    emscripten::function("latentProgress", &latent_progress);
    emscripten::function("latentOpen", &latent_open);
    emscripten::function("latentLayout", &latent_layout);
    emscripten::function("setRemapPresets", &set_remap_presets);
    emscripten::function("setRemapCurrent", &set_remap_current);
    emscripten::function("setRemapPerformance", &set_remap_performance);
    emscripten::function("setRemapModel", &set_remap_model);
    emscripten::function("setRemapStatus", &set_remap_status);
    emscripten::function("remapTrainStarted", &remap_train_started);
    emscripten::function("remapProgress", &remap_progress);
    emscripten::function("setRemapLive", &set_remap_live);
    emscripten::function("setRemapLiveStats", &set_remap_live_stats);
    emscripten::function("remapLayout", &remap_layout);
    emscripten::function("frameCount", &frame_count);
    emscripten::function("setView", &set_view);
    emscripten::function("fitView", &fit_view);
    emscripten::function("view", &view_json);
    emscripten::function("viewsLayout", &views_layout);
}

int main() {
    if (!glfwInit()) {
        std::puts("ddsp_ui: glfwInit failed");
        return 1;
    }
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    int width = 1, height = 1;
    const double dpr = js_fit_canvas(&width, &height);
    g_window = glfwCreateWindow(width, height, "ddsp.cpp studio", nullptr, nullptr);
    if (!g_window) {
        std::puts("ddsp_ui: WebGL2 is not available");
        return 1;
    }
    glfwMakeContextCurrent(g_window);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // nothing persists between visits; the share link does that
    g_scale = float(std::max(1.0, std::round(dpr * 4) / 4));
    ImFontConfig font;
    font.SizePixels = std::round(13.0f * g_scale);
    font.OversampleH = font.OversampleV = 1;
    font.PixelSnapH = true;
    io.Fonts->AddFontDefault(&font);
    apply_style(g_scale);
    ImGui_ImplGlfw_InitForOpenGL(g_window, true);
    glfwSetScrollCallback(g_window, on_scroll);  // in place of the backend's (see on_scroll)
    ImGui_ImplOpenGL3_Init("#version 300 es");

    g_studio = std::make_unique<app::Studio>([](const std::string& json) { js_ui_command(json.c_str()); });
    std::string error;
    if (!g_studio->init_gl(error)) std::printf("ddsp_ui: %s\n", error.c_str());
    emscripten_set_main_loop(main_loop_frame, 0, false);
    return 0;
}
