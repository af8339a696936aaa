// The audio thread's cost: engine::LiveEngine (what the studio's AudioWorklet runs) timed per
// 128-sample quantum at 48 kHz, natively and (built with em++) in wasm under node. Run by
// tests/bench/bench_live.mjs beside the same engine inside Chromium's AudioWorklet.
//
// Output: one JSON object per workload per line:
//   {"impl": "native"|"wasm", "bench": NAME, "us_mean": x, "us_p99": y, "us_max": z,
//    "budget_us": 2666.7, "quanta": n}
#include "ad/tape.h"
#include "engine/live.h"
#include "nn/autoencoder.h"
#include "nn/safetensors.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace ddsp;

namespace {

constexpr double kRate = 48000;
constexpr int kQuantum = 128;

const char* impl_name() {
#ifdef __EMSCRIPTEN__
    return "wasm";
#else
    return "native";
#endif
}

synth::StreamPreset preset(const std::string& name, double seconds) {
    match::ParamFile file;
    file.synth = name;
    file.seconds = seconds;
    synth::StreamPreset p;
    std::string error;
    if (!engine::make_stream_preset(file, 0, 0, Vec(), Vec(), p, error)) std::fprintf(stderr, "bench_live: %s\n", error.c_str());
    return p;
}

// Times `quanta` calls of live.process (after 200 warm-up quanta); `before(q)` runs untimed first.
void time_quanta(const char* bench, engine::LiveEngine& live, int quanta, const std::function<void(int)>& before,
                 const Vec* input = nullptr) {
    using clock = std::chrono::steady_clock;
    std::vector<Real> out(kQuantum);
    std::vector<double> us;
    us.reserve(size_t(quanta));
    for (int q = -200; q < quanta; ++q) {
        before(q);
        const Real* in = input ? input->data() + (size_t(q + 200) * kQuantum) % size_t(input->size() - kQuantum) : nullptr;
        const auto t0 = clock::now();
        live.process(in, out.data(), kQuantum);
        const double t = std::chrono::duration<double, std::micro>(clock::now() - t0).count();
        if (q >= 0) us.push_back(t);
    }
    double sum = 0;
    for (double t : us) sum += t;
    std::vector<double> sorted = us;
    std::sort(sorted.begin(), sorted.end());
    std::printf("{\"impl\": \"%s\", \"bench\": \"%s\", \"us_mean\": %.3f, \"us_p99\": %.3f, \"us_max\": %.3f, "
                "\"budget_us\": %.1f, \"quanta\": %d}\n",
                impl_name(), bench, sum / double(us.size()), sorted[size_t(0.99 * double(sorted.size() - 1))], sorted.back(),
                1e6 * kQuantum / kRate, quanta);
    std::fflush(stdout);
}

void bench_voices(const char* bench, const std::string& synth, int voices, double seconds) {
    engine::LiveEngine live;
    std::string error;
    if (!live.init(kRate, kQuantum, error) || !live.load_preset(preset(synth, seconds), error)) {
        std::fprintf(stderr, "bench_live: %s\n", error.c_str());
        return;
    }
    // `voices` notes held (retriggered every 1.5 s so one-shots keep sounding).
    const int retrigger = int(1.5 * kRate / kQuantum);
    time_quanta(bench, live, 3000, [&](int q) {
        if ((q + 200) % retrigger == 0)
            for (int v = 0; v < voices; ++v) live.note_on(48 + 3 * v, 0.7);
    });
}

void bench_decoder(const std::string& model_path) {
    nn::TensorFile file;
    std::string error;
    if (!nn::safetensors_read_file(model_path, file, error)) {
        std::fprintf(stderr, "bench_live: %s\n", error.c_str());
        return;
    }
    ad::Tape tape(ad::Tape::Mode::forward_only);
    auto model = nn::load_autoencoder(tape, file, error);
    engine::LiveEngine live;
    if (!model || !live.init(kRate, kQuantum, error) || !live.load_model(*model, error) ||
        !live.set_source(engine::LiveEngine::Source::decoder_input, error)) {
        std::fprintf(stderr, "bench_live: %s\n", error.c_str());
        return;
    }
    // A sung tone as the microphone (voiced all the time: the decoder's full cost).
    Vec mic(int(2 * kRate));
    double phase = 0;
    for (int i = 0; i < mic.size(); ++i) {
        phase += 2 * kPi * 220 * (1 + 0.01 * std::sin(2 * kPi * 5 * i / kRate)) / kRate;
        mic[i] = Real(0.2 * (std::sin(phase) + 0.5 * std::sin(2 * phase) + 0.3 * std::sin(3 * phase)));
    }
    time_quanta("live_decoder_mic", live, 3000, [](int) {}, &mic);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string model = argc > 1 ? argv[1] : DDSP_SOURCE_DIR "/assets/models/ddsp_gm8.safetensors";
    bench_voices("live_sine_1", "sine", 1, 1.0);
    bench_voices("live_drum808_1", "drum808", 1, 1.0);
    bench_voices("live_ks_1", "ks", 1, 1.0);
    bench_voices("live_ks_8", "ks", 8, 1.0);
    bench_voices("live_ddsp_1", "ddsp", 1, 4.0);
    bench_voices("live_ddsp_8", "ddsp", 8, 4.0);
    bench_decoder(model);
    return 0;
}
