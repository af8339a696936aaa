// Small raster plotting for the CLI (see plot.h).
//
// Index
//   [SECTION] canvas: pixels, lines, text, PNG
//   [SECTION] axes
//   [SECTION] compare.png
//   [SECTION] landscape.png
#include "cli/plot.h"

#include "dsp/stft.h"
#include "util/file.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_easy_font.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace ddsp::cli {

namespace {

// [SECTION] canvas: pixels, lines, text, PNG

struct Rgb {
    uint8_t r, g, b;
};

constexpr Rgb kWhite{255, 255, 255}, kBlack{20, 20, 20}, kGrey{120, 120, 120}, kLight{225, 225, 225},
    kBlue{40, 110, 200}, kOrange{230, 120, 20}, kRed{230, 30, 30}, kPaleBlue{150, 190, 235};

class Canvas {
public:
    Canvas(int w, int h) : w_(w), h_(h), px_(size_t(w) * size_t(h) * 3, 255) {}

    void set(int x, int y, Rgb c) {
        if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
        uint8_t* p = &px_[(size_t(y) * size_t(w_) + size_t(x)) * 3];
        p[0] = c.r;
        p[1] = c.g;
        p[2] = c.b;
    }
    void fill(int x0, int y0, int x1, int y1, Rgb c) {  // [x0, x1) x [y0, y1)
        for (int y = std::max(0, y0); y < std::min(h_, y1); ++y)
            for (int x = std::max(0, x0); x < std::min(w_, x1); ++x) set(x, y, c);
    }
    void line(double x0, double y0, double x1, double y1, Rgb c, int thick = 1) {
        if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1)) return;
        const int steps = std::max(1, int(std::ceil(std::max(std::fabs(x1 - x0), std::fabs(y1 - y0)))));
        if (steps > 100000) return;
        for (int i = 0; i <= steps; ++i) {
            const double t = double(i) / steps;
            const int x = int(std::lround(x0 + t * (x1 - x0))), y = int(std::lround(y0 + t * (y1 - y0)));
            fill(x - thick / 2, y - thick / 2, x - thick / 2 + thick, y - thick / 2 + thick, c);
        }
    }
    void ring(double cx, double cy, double r, Rgb c, int thick = 2) {
        for (int i = 0; i < 64; ++i) {
            const double a0 = 2 * kPi * i / 64, a1 = 2 * kPi * (i + 1) / 64;
            line(cx + r * std::cos(a0), cy + r * std::sin(a0), cx + r * std::cos(a1), cy + r * std::sin(a1), c, thick);
        }
    }
    // Text with its top-left corner at (x, y); stb_easy_font draws each glyph from small quads.
    void text(int x, int y, const std::string& s, Rgb c, int scale = 1) {
        std::vector<char> buf(s.size() * 300 + 64), str(s.begin(), s.end());
        str.push_back('\0');
        const int quads = stb_easy_font_print(0, 0, str.data(), nullptr, buf.data(), int(buf.size()));
        for (int q = 0; q < quads; ++q) {
            const float* v = reinterpret_cast<const float*>(buf.data() + q * 64);  // 4 vertices of 16 bytes
            const float qx0 = v[0], qy0 = v[1], qx1 = v[8], qy1 = v[9];  // opposite corners
            fill(x + int(std::lround(std::min(qx0, qx1) * scale)), y + int(std::lround(std::min(qy0, qy1) * scale)),
                 x + int(std::lround(std::max(qx0, qx1) * scale)), y + int(std::lround(std::max(qy0, qy1) * scale)), c);
        }
    }
    static int text_width(const std::string& s, int scale = 1) {
        std::vector<char> str(s.begin(), s.end());
        str.push_back('\0');
        return stb_easy_font_width(str.data()) * scale;
    }
    bool write_png(const std::string& path, std::string& error) const {
        // Encoded in memory and written by the core's one file writer (stb's own fopen reports no reason).
        std::string png;
        const auto append = [](void* context, void* data, int size) {
            static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
        };
        if (stbi_write_png_to_func(append, &png, w_, h_, 3, px_.data(), w_ * 3) == 0) {
            error = "cannot encode '" + path + "'";
            return false;
        }
        return util::write_text_file(path, png, error);
    }

private:
    int w_, h_;
    std::vector<uint8_t> px_;
};

// Viridis, sampled at six points and interpolated: perceptually ordered, readable in grey.
Rgb colormap(double t) {
    static const double stops[6][3] = {{68, 1, 84},    {65, 68, 135},  {42, 120, 142},
                                       {34, 168, 132}, {122, 209, 81}, {253, 231, 37}};
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 5;
    const int i = std::min(4, int(t));
    const double f = t - i;
    auto mix = [&](int k) { return uint8_t(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]))); };
    return {mix(0), mix(1), mix(2)};
}

std::string label(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", std::fabs(v) < 1e-12 ? 0.0 : v);
    return buf;
}

// [SECTION] axes

// A plot area [x0, x1] x [y0, y1] in pixels and the value range it shows (log: decades).
struct Frame {
    int x0, y0, x1, y1;
    double xlo, xhi, ylo, yhi;
    bool xlog = false, ylog = false;

    static double tr(double v, bool log) { return log ? std::log10(std::max(v, 1e-300)) : v; }
    double px(double x) const {
        return x0 + (tr(x, xlog) - tr(xlo, xlog)) / (tr(xhi, xlog) - tr(xlo, xlog)) * (x1 - x0);
    }
    double py(double y) const {
        return y1 - (tr(y, ylog) - tr(ylo, ylog)) / (tr(yhi, ylog) - tr(ylo, ylog)) * (y1 - y0);
    }
};

// Tick values: 1-2-5 steps on linear axes (about `target` ticks); decades (or 1-2-5 within one
// decade) on log axes.
std::vector<double> ticks(double lo, double hi, bool log, int target = 5) {
    std::vector<double> out;
    if (!(hi > lo)) return {lo};
    if (log && hi / lo >= 10 && hi / lo <= 1000) {  // 1-2-5 in each decade
        for (int e = int(std::floor(std::log10(lo))); e <= int(std::ceil(std::log10(hi))); ++e)
            for (double m : {1.0, 2.0, 5.0}) {
                const double v = m * std::pow(10.0, e);
                if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
            }
        return out;
    }
    if (log && hi / lo >= 10) {
        const int step = std::max(1, int(std::ceil((std::log10(hi) - std::log10(lo)) / target)));
        for (int e = int(std::ceil(std::log10(lo) - 1e-9)); e <= int(std::floor(std::log10(hi) + 1e-9)); e += step)
            out.push_back(std::pow(10.0, e));
        return out;
    }
    const double raw = (hi - lo) / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
    const double first = std::ceil(lo / step - 1e-9) * step;
    for (int i = 0; i < 50 && first + i * step <= hi + 1e-9 * step; ++i) out.push_back(first + i * step);
    return out;
}

void draw_axes(Canvas& c, const Frame& f, const std::string& xlabel, const std::string& ylabel) {
    c.line(f.x0, f.y1, f.x1, f.y1, kBlack);
    c.line(f.x0, f.y0, f.x0, f.y1, kBlack);
    c.line(f.x1, f.y0, f.x1, f.y1, kGrey);
    c.line(f.x0, f.y0, f.x1, f.y0, kGrey);
    for (double v : ticks(f.xlo, f.xhi, f.xlog)) {
        const double x = f.px(v);
        c.line(x, f.y1, x, f.y1 + 4, kBlack);
        const std::string s = label(v);
        c.text(int(x) - Canvas::text_width(s) / 2, f.y1 + 7, s, kBlack);
    }
    for (double v : ticks(f.ylo, f.yhi, f.ylog, 4)) {
        const double y = f.py(v);
        c.line(f.x0 - 4, y, f.x0, y, kBlack);
        const std::string s = label(v);
        c.text(f.x0 - 7 - Canvas::text_width(s), int(y) - 4, s, kBlack);
    }
    c.text((f.x0 + f.x1) / 2 - Canvas::text_width(xlabel) / 2, f.y1 + 20, xlabel, kGrey);
    c.text(f.x0 + 4, f.y0 - 12, ylabel, kGrey);
}

// [SECTION] compare.png

void draw_waveform(Canvas& c, const Frame& f, const Vec& x, double sr) {
    c.fill(f.x0 + 1, f.y0 + 1, f.x1, f.y1, kWhite);
    c.line(f.x0, f.py(0), f.x1, f.py(0), kLight);
    const Eigen::Index n = x.size();
    const double n_shown = f.xhi * sr;
    for (int col = f.x0; col < f.x1; ++col) {
        const Eigen::Index a = Eigen::Index(std::floor((col - f.x0) * n_shown / (f.x1 - f.x0)));
        const Eigen::Index b = std::min(n, Eigen::Index(std::floor((col + 1 - f.x0) * n_shown / (f.x1 - f.x0))) + 1);
        if (a >= n) break;
        double lo = x[a], hi = x[a];
        for (Eigen::Index i = a; i < b; ++i) {
            lo = std::min(lo, double(x[i]));
            hi = std::max(hi, double(x[i]));
        }
        c.line(col, f.py(std::clamp(lo, f.ylo, f.yhi)), col, f.py(std::clamp(hi, f.ylo, f.yhi)), kBlue);
    }
}

struct Spectrogram {
    Arr db;  // bins x frames
    double top_db = -200;
};

Spectrogram spectrogram(const Vec& x, double sr) {
    dsp::StftConfig cfg;
    int fft = 64;
    while (fft < int(0.032 * sr) && fft < 8192) fft *= 2;  // ~32 ms windows
    cfg.fft_size = fft;
    cfg.hop = fft / 4;
    Spectrogram s;
    Arr mag;
    dsp::stft_magnitude(x.data(), int(x.size()), cfg, mag);
    s.db = (20.0 * (mag.cast<double>() + 1e-9).log10()).cast<Real>();
    if (s.db.size() > 0) s.top_db = double(s.db.maxCoeff());
    return s;
}

void draw_spectrogram(Canvas& c, const Frame& f, const Spectrogram& s, double top_db, double range_db) {
    const int bins = int(s.db.rows()), frames = int(s.db.cols());
    if (bins == 0 || frames == 0) return;
    for (int py = f.y0 + 1; py < f.y1; ++py) {
        const int bin = std::clamp(int(double(f.y1 - py) / (f.y1 - f.y0) * bins), 0, bins - 1);
        for (int px = f.x0 + 1; px < f.x1; ++px) {
            const int fr = std::clamp(int(double(px - f.x0) / (f.x1 - f.x0) * frames), 0, frames - 1);
            c.set(px, py, colormap((double(s.db(bin, fr)) - (top_db - range_db)) / range_db));
        }
    }
}

void draw_curve(Canvas& c, const Frame& f, const std::vector<double>& xs, const std::vector<double>& ys, Rgb col,
                int thick) {
    for (size_t i = 1; i < xs.size(); ++i) {
        if (!std::isfinite(ys[i - 1]) || !std::isfinite(ys[i]) || ys[i - 1] <= 0 || ys[i] <= 0) continue;
        c.line(f.px(xs[i - 1]), f.py(std::clamp(ys[i - 1], f.ylo, f.yhi)), f.px(xs[i]),
               f.py(std::clamp(ys[i], f.ylo, f.yhi)), col, thick);
    }
}

}  // namespace

bool plot_compare(const std::string& path, const CompareData& d, std::string& error) {
    const int W = 1200, H = d.iterations.empty() ? 650 : 900, left = 70, mid = 620, right = 1170;
    Canvas c(W, H);
    c.text(left, 12, d.title, kBlack, 2);
    const double sr = d.sample_rate_hz;
    const double seconds = double(std::max(d.target.size(), d.recon.size())) / sr;
    double peak = 1e-6;
    if (d.target.size()) peak = std::max(peak, double(d.target.abs().maxCoeff()));
    if (d.recon.size()) peak = std::max(peak, double(d.recon.abs().maxCoeff()));
    peak *= 1.05;

    // Waveforms on a shared scale.
    const Vec* sigs[2] = {&d.target, &d.recon};
    const char* names[2] = {"target", "reconstruction"};
    for (int k = 0; k < 2; ++k) {
        const int x0 = k == 0 ? left : mid + 50, x1 = k == 0 ? mid - 20 : right;
        Frame f{x0, 60, x1, 220, 0, seconds, -peak, peak};
        draw_waveform(c, f, *sigs[k], sr);
        draw_axes(c, f, "time (s)", std::string(names[k]) + " waveform");
    }
    // Spectrograms on a shared dB scale (80 dB below the louder one's peak).
    const Spectrogram st = spectrogram(d.target, sr), sp = spectrogram(d.recon, sr);
    const double top = std::max(st.top_db, sp.top_db);
    for (int k = 0; k < 2; ++k) {
        const int x0 = k == 0 ? left : mid + 50, x1 = k == 0 ? mid - 20 : right;
        Frame f{x0, 270, x1, 560, 0, seconds, 0, sr / 2000};
        draw_spectrogram(c, f, k == 0 ? st : sp, top, 80);
        draw_axes(c, f, "time (s)", std::string(names[k]) + " spectrogram (kHz, 80 dB range)");
    }
    if (d.iterations.empty()) {
        c.text(left, 620, d.note, kBlack);
        return c.write_png(path, error);
    }
    // Loss curve (log scale) with the initial loss at iteration 0.
    std::vector<double> xs{0}, loss{d.initial_loss}, best{d.initial_loss};
    for (size_t i = 0; i < d.iterations.size(); ++i) {
        xs.push_back(d.iterations[i]);
        loss.push_back(d.loss[i]);
        best.push_back(d.best_loss[i]);
    }
    double lo = 1e300, hi = 0;
    for (double v : loss)
        if (std::isfinite(v) && v > 0) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    if (!(hi > 0)) {
        lo = 0.1;
        hi = 1;
    }
    lo /= 1.2;  // a little room above and below the data
    hi *= 1.2;
    Frame f{left, 610, right, 850, 0, std::max(1.0, xs.back()), lo, hi, false, true};
    draw_curve(c, f, xs, loss, kPaleBlue, 1);
    draw_curve(c, f, xs, best, kOrange, 2);
    draw_axes(c, f, "iteration", "loss (log scale)");
    c.fill(right - 190, 622, right - 175, 626, kPaleBlue);
    c.text(right - 170, 619, "loss of iteration", kBlack);
    c.fill(right - 190, 637, right - 175, 641, kOrange);
    c.text(right - 170, 634, "best so far", kBlack);
    return c.write_png(path, error);
}

// [SECTION] landscape.png

bool plot_landscape(const std::string& path, const LandscapeData& d, std::string& error) {
    const int nx = int(d.xs.size()), ny = int(d.ys.size());
    if (nx < 2 || ny < 2 || d.loss.size() != size_t(nx) * size_t(ny)) {
        error = "landscape plot: bad grid";
        return false;
    }
    const int W = 820, H = 760;
    Canvas c(W, H);
    c.text(70, 12, d.title, kBlack, 2);
    // Axis ranges extend half a cell beyond the grid so every cell has the same width.
    auto padded = [](const std::vector<double>& v, bool log, double& lo, double& hi) {
        const double a = Frame::tr(v.front(), log), b = Frame::tr(v.back(), log), h = 0.5 * (b - a) / (v.size() - 1);
        lo = log ? std::pow(10.0, a - h) : a - h;
        hi = log ? std::pow(10.0, b + h) : b + h;
    };
    Frame f{80, 60, 660, 640, 0, 0, 0, 0, d.x_log, d.y_log};
    padded(d.xs, d.x_log, f.xlo, f.xhi);
    padded(d.ys, d.y_log, f.ylo, f.yhi);
    double lo = 1e300, hi = -1e300;
    int best = -1;
    for (size_t i = 0; i < d.loss.size(); ++i) {
        const double v = d.loss[i];
        if (!std::isfinite(v) || v <= 0) continue;
        lo = std::min(lo, std::log10(v));
        hi = std::max(hi, std::log10(v));
        if (best < 0 || v < d.loss[size_t(best)]) best = int(i);
    }
    if (!(hi > lo)) hi = lo + 1;
    for (int yi = 0; yi < ny; ++yi)
        for (int xi = 0; xi < nx; ++xi) {
            const double v = d.loss[size_t(yi) * size_t(nx) + size_t(xi)];
            const int x0 = f.x0 + (f.x1 - f.x0) * xi / nx, x1 = f.x0 + (f.x1 - f.x0) * (xi + 1) / nx;
            const int y1 = f.y1 - (f.y1 - f.y0) * yi / ny, y0 = f.y1 - (f.y1 - f.y0) * (yi + 1) / ny;
            c.fill(x0, y0, x1, y1, std::isfinite(v) && v > 0 ? colormap((std::log10(v) - lo) / (hi - lo)) : kGrey);
        }
    draw_axes(c, f, d.x_name + (d.x_log ? " (log scale)" : ""), d.y_name + (d.y_log ? " (log scale)" : ""));
    if (best >= 0) {
        const double bx = f.px(d.xs[size_t(best % nx)]), by = f.py(d.ys[size_t(best / nx)]);
        c.line(bx - 7, by - 7, bx + 7, by + 7, kWhite, 3);
        c.line(bx - 7, by + 7, bx + 7, by - 7, kWhite, 3);
    }
    if (d.has_target) c.ring(f.px(d.target_x), f.py(d.target_y), 10, kRed, 3);
    // Colour bar (log10 loss).
    const int bx0 = 690, bx1 = 710;
    for (int y = f.y0; y < f.y1; ++y) c.fill(bx0, y, bx1, y + 1, colormap(double(f.y1 - y) / (f.y1 - f.y0)));
    c.text(bx0 - 4, f.y0 - 14, "loss", kBlack);
    c.text(bx1 + 5, f.y0 - 3, label(std::pow(10.0, hi)), kBlack);
    c.text(bx1 + 5, f.y1 - 5, label(std::pow(10.0, lo)), kBlack);
    c.text(bx0 - 4, f.y1 + 30, "x: grid minimum", kBlack);
    if (d.has_target) c.text(bx0 - 4, f.y1 + 44, "o: target", kRed);
    return c.write_png(path, error);
}

}  // namespace ddsp::cli
