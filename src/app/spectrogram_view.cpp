#include "app/spectrogram_view.h"

#include "dsp/stft.h"
#include "shaders_generated.h"

#include <GLES3/gl3.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ddsp::app {

namespace {

struct Program {
    GLuint id = 0;
    GLint u_target = -1, u_other = -1, u_mode = -1, u_min_hz = -1, u_nyquist_hz = -1, u_time_range = -1;
    GLuint vertex_array = 0;
};
Program g_program;

GLuint compile(GLenum type, const char* source, std::string& error) {
    const GLuint shader = glCreateShader(type);
    glShaderSource(shader, 1, &source, nullptr);
    glCompileShader(shader);
    GLint ok = 0;
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[1024] = {0};
        glGetShaderInfoLog(shader, sizeof log - 1, nullptr, log);
        error = std::string("spectrogram shader: ") + log;
        glDeleteShader(shader);
        return 0;
    }
    return shader;
}

}  // namespace

bool spectrogram_shaders_init(std::string& error) {
    if (g_program.id) return true;
    const GLuint vs = compile(GL_VERTEX_SHADER, kShader_spectrogram_vert, error);
    if (!vs) return false;
    const GLuint fs = compile(GL_FRAGMENT_SHADER, kShader_spectrogram_frag, error);
    if (!fs) return false;
    const GLuint program = glCreateProgram();
    glAttachShader(program, vs);
    glAttachShader(program, fs);
    glLinkProgram(program);
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = 0;
    glGetProgramiv(program, GL_LINK_STATUS, &ok);
    if (!ok) {
        error = "spectrogram shader: link failed";
        return false;
    }
    g_program.id = program;
    g_program.u_target = glGetUniformLocation(program, "u_target");
    g_program.u_other = glGetUniformLocation(program, "u_other");
    g_program.u_mode = glGetUniformLocation(program, "u_mode");
    g_program.u_min_hz = glGetUniformLocation(program, "u_min_hz");
    g_program.u_nyquist_hz = glGetUniformLocation(program, "u_nyquist_hz");
    g_program.u_time_range = glGetUniformLocation(program, "u_time_range");
    glGenVertexArrays(1, &g_program.vertex_array);
    return true;
}

// [SECTION] Spectrogram

Spectrogram::~Spectrogram() { clear(); }

void Spectrogram::clear() {
    if (texture_) glDeleteTextures(1, &texture_);
    texture_ = 0;
    frames_ = 0;
    ++version_;
}

double Spectrogram::peak_db(const Vec& x, const SpectrogramParams& params) {
    dsp::StftConfig cfg;
    cfg.fft_size = params.fft_size;
    cfg.hop = params.hop;
    Arr mag;
    dsp::stft_magnitude(x.data(), int(x.size()), cfg, mag);
    const double scale = 1.0 / std::max(1e-9, double(dsp::stft_window(cfg).sum()));
    const double peak = mag.size() ? double(mag.maxCoeff()) * scale : 0.0;
    return 20 * std::log10(std::max(peak, 1e-9));
}

void Spectrogram::set(const Vec& x, double sample_rate_hz, const SpectrogramParams& params, int num_frames,
                      double top_db) {
    dsp::StftConfig cfg;
    cfg.fft_size = params.fft_size;
    cfg.hop = params.hop;
    Arr mag;
    dsp::stft_magnitude(x.data(), int(x.size()), cfg, mag);
    const int bins = dsp::stft_num_bins(cfg);
    const double scale = 1.0 / std::max(1e-9, double(dsp::stft_window(cfg).sum()));
    num_frames = std::clamp(num_frames, 1, 4096);  // WebGL2 guarantees 4096-texel textures... at least
    // R8 levels, one row per bin (texture rows are the y axis in the shader), one texel per frame.
    std::vector<unsigned char> texels(size_t(bins) * size_t(num_frames), 0);
    for (int f = 0; f < std::min(num_frames, int(mag.cols())); ++f)
        for (int b = 0; b < bins; ++b) {
            const double v = double(mag(b, f)) * scale;
            const double db = std::isfinite(v) ? 20 * std::log10(std::max(v, 1e-12)) : -300.0;
            const double level = std::clamp((db - (top_db - params.range_db)) / params.range_db, 0.0, 1.0);
            texels[size_t(b) * size_t(num_frames) + size_t(f)] = static_cast<unsigned char>(std::lround(level * 255));
        }
    if (!texture_) glGenTextures(1, &texture_);
    glBindTexture(GL_TEXTURE_2D, texture_);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, num_frames, bins, 0, GL_RED, GL_UNSIGNED_BYTE, texels.data());
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    frames_ = num_frames;
    hop_ = std::max(1, params.hop);
    sample_rate_hz_ = sample_rate_hz;
    ++version_;
}

// [SECTION] SpectrogramView

SpectrogramView::~SpectrogramView() {
    if (framebuffer_) glDeleteFramebuffers(1, &framebuffer_);
    if (texture_) glDeleteTextures(1, &texture_);
}

unsigned SpectrogramView::request(int width_px, int height_px) {
    width_px = std::clamp(width_px, 1, 4096);
    height_px = std::clamp(height_px, 1, 4096);
    if (!texture_) {
        glGenTextures(1, &texture_);
        glGenFramebuffers(1, &framebuffer_);
    }
    if (width_px != width_ || height_px != height_) {
        width_ = width_px;
        height_ = height_px;
        glBindTexture(GL_TEXTURE_2D, texture_);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width_, height_, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
        glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
        glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, texture_, 0);
        glBindFramebuffer(GL_FRAMEBUFFER, 0);
        stale_ = true;
    }
    requested_ = true;
    return texture_;
}

void SpectrogramView::draw(const Spectrogram& a, const Spectrogram* b, int mode, double min_hz, double start_s,
                           double end_s) {
    if (!requested_ || !g_program.id) return;
    requested_ = false;
    const unsigned b_version = b ? b->version() : 0;
    if (!stale_ && drawn_a_ == a.version() && drawn_b_ == b_version && drawn_start_s_ == start_s &&
        drawn_end_s_ == end_s)
        return;
    stale_ = false;
    drawn_a_ = a.version();
    drawn_b_ = b_version;
    drawn_start_s_ = start_s;
    drawn_end_s_ = end_s;
    glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
    glViewport(0, 0, width_, height_);
    glDisable(GL_BLEND);
    glDisable(GL_SCISSOR_TEST);
    // Nothing to show yet (no target, or a difference without a reconstruction): an empty panel.
    if (a.empty() || (mode == 1 && (!b || b->empty()))) {
        glClearColor(0.07f, 0.07f, 0.09f, 1.0f);
        glClear(GL_COLOR_BUFFER_BIT);
    } else {
        glUseProgram(g_program.id);
        glActiveTexture(GL_TEXTURE0);
        glBindTexture(GL_TEXTURE_2D, a.texture());
        glActiveTexture(GL_TEXTURE1);
        glBindTexture(GL_TEXTURE_2D, b && !b->empty() ? b->texture() : a.texture());
        glUniform1i(g_program.u_target, 0);
        glUniform1i(g_program.u_other, 1);
        glUniform1i(g_program.u_mode, b && !b->empty() ? mode : 0);
        glUniform1f(g_program.u_min_hz, float(min_hz));
        glUniform1f(g_program.u_nyquist_hz, float(a.sample_rate_hz() / 2));
        // Both spectrograms have the same frames (the reconstruction's is fitted to the target's).
        glUniform2f(g_program.u_time_range, float(a.u_of(start_s)), float(a.u_of(end_s)));
        glBindVertexArray(g_program.vertex_array);
        glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
        glBindVertexArray(0);
        glActiveTexture(GL_TEXTURE0);
    }
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

}  // namespace ddsp::app
