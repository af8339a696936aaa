// `ddsp match`: runs a MatchSession to completion and writes what it found.
//
//   DIR/params.json   best parameters (parameter-file format, loadable by render/loss/match)
//   DIR/recon.wav     the best parameters rendered (float32, the matched length and rate)
//   DIR/report.json   settings, initial/best loss, wall time and one record per iteration
//   DIR/compare.png   target vs reconstruction: waveforms, spectrograms, loss curve
// Same seed and settings (without --time-budget) give the same params.json and recon.wav bytes.
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/amortised.h"
#include "cli/plot.h"

#include "dsp/wav.h"
#include "engine/match_job.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>

namespace ddsp::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

// amortised: "" or the amortised prediction's fields ("\"amortised_ms\": ..., ") for the report.
std::string report_json(const engine::MatchJob& job, const std::string& method, const std::string& amortised,
                        const std::string& target_path, double wall_s) {
    const match::MatchSession& s = job.session();
    const match::MatchParams& p = s.params();
    const int sr = job.sample_rate_hz(), num_samples = int(job.target().size());
    std::string out = "{\n";
    out += "  \"synth\": " + util::json_quote(s.synth_name()) + ",\n";
    out += "  \"method\": " + util::json_quote(method) + ",\n";
    out += amortised;
    out += "  \"loss_kind\": " + util::json_quote(match::loss_name(p.loss)) + ",\n";
    out += "  \"seed\": " + std::to_string(p.seed) + ",\n";
    out += "  \"target\": " + util::json_quote(target_path) + ",\n";
    out += "  \"sample_rate\": " + std::to_string(sr) + ",\n";
    out += "  \"samples\": " + std::to_string(num_samples) + ",\n";
    out += "  \"seconds\": " + util::json_number(double(num_samples) / sr) + ",\n";
    out += "  \"max_steps\": " + std::to_string(p.max_steps) + ",\n";
    out += "  \"time_budget_s\": " + util::json_number(job.time_budget_s()) + ",\n";
    out += "  \"learning_rate\": " + util::json_number(p.learning_rate) + ",\n";
    out += "  \"initial_loss\": " + util::json_number(s.initial_loss()) + ",\n";
    out += "  \"best_loss\": " + util::json_number(s.best_loss()) + ",\n";
    out += "  \"iterations_run\": " + std::to_string(s.iteration()) + ",\n";
    out += "  \"evaluations\": " + std::to_string(s.evaluations()) + ",\n";
    out += "  \"stopped\": " + util::json_quote(job.reason()) + ",\n";
    out += "  \"compute_time_s\": " + fmt("%.6f", s.elapsed_s()) + ",\n";
    out += "  \"wall_time_s\": " + fmt("%.6f", wall_s) + ",\n";
    out += "  \"iterations\": [";
    const auto& h = s.history();
    for (size_t i = 0; i < h.size(); ++i) {
        out += std::string(i ? ",\n" : "\n") + "    {\"iteration\": " + std::to_string(h[i].iteration) +
               ", \"loss\": " + util::json_number(h[i].loss) + ", \"best_loss\": " + util::json_number(h[i].best_loss) +
               ", \"elapsed_s\": " + fmt("%.6f", h[i].elapsed_s) +
               ", \"evaluations\": " + std::to_string(h[i].evaluations) + "}";
    }
    out += h.empty() ? "]\n}\n" : "\n  ]\n}\n";
    return out;
}

}  // namespace

int cmd_match(int argc, char** argv) {
    // Defaults in the help come from the engine's (match::MatchParams), as the studio's and the page's do.
    static const match::MatchParams defaults;
    static const std::string steps_help =
        "gradient steps or generations (default " + std::to_string(defaults.max_steps) + ")";
    static const std::string lr_help =
        "Adam learning rate on the unconstrained parameters (default " + util::json_number(defaults.learning_rate) + ")";
    static const CommandSpec spec = {
        "match",
        "match --synth S --method M --target T.wav [--steps N] [--time-budget SEC] [--seed K] [--loss L] [--lr X]\n"
        "                  [--params init.json] [--synth-options K=V,...] [--model KS_AE.safetensors] -o DIR",
        "Matches a synth to a recording and writes DIR/params.json (best parameters), DIR/recon.wav (their\n"
        "rendering, float32), DIR/report.json (settings, losses and wall time per iteration) and\n"
        "DIR/compare.png (target vs reconstruction). Methods: gradient (Adam, stops early when the loss\n"
        "stalls), genetic (DiffKS baseline), cmaes, hybrid (CMA-ES on pitch-like parameters, then gradient);\n"
        "for ks with --model (a `ddsp train --model ks-ae` model): amortised (the encoder's one-pass prediction\n"
        "from the recording and its YIN pitch, no search) and amortised+gradient (gradient descent from it);\n"
        "hybrid then starts from the prediction too.\n"
        "The target is downmixed, cut to --max-seconds (default max(synth default, 4 s)) and resampled to\n"
        "the synth's rate. Ctrl-C stops early and still writes the results. Without --time-budget the\n"
        "same seed gives the same params.json and recon.wav.",
        {
            {"--synth", nullptr, true, "synth name (see ddsp synths); optional if --params names one", "S"},
            {"--method", nullptr, true, "gradient (default), genetic, cmaes, hybrid, amortised or amortised+gradient", "M"},
            {"--model", nullptr, true, "ks autoencoder (ddsp train --model ks-ae; amortised default: the shipped one)", "M"},
            {"--f0", nullptr, true, "with --model: the recording's pitch in Hz (default: YIN's)", "HZ"},
            {"--target", nullptr, true, "target recording (WAV)", "T.wav"},
            {"--steps", nullptr, true, steps_help.c_str(), "N"},
            {"--time-budget", nullptr, true, "stop after this many seconds of compute (default: none)", "SEC"},
            {"--seed", nullptr, true, "seed of the search and of the synth's noise (default 0)", "K"},
            {"--loss", nullptr, true, "mrstft (default), linear, diffks or timbre (808 paper features)", "L"},
            {"--lr", nullptr, true, lr_help.c_str(), "X"},
            {"--params", nullptr, true, "start from these parameters (default: the synth's initial guess)", "init.json"},
            {"--synth-options", nullptr, true, "build-time synth options over init.json's, e.g. loop_order=3,oversample=2 (ks)", "K=V,..."},
            {"--sr", nullptr, true, "synth sample rate in Hz (default: init.json's, else the synth's)", "HZ"},
            {"--max-seconds", nullptr, true, "match at most this much of the target", "T"},
            {"--threads", nullptr, true, "threads for population methods (default: every core)", "N"},
            {"--quiet", "-q", false, "no progress lines"},
            {"--output", "-o", true, "output directory (created if needed)", "DIR"},
        }};
    const char* cmd = "match";
    const auto t_start = std::chrono::steady_clock::now();
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;

    std::string error;
    match::MatchParams mp;
    int sr_check = 0;
    double max_check = 0;
    if (!args.get_int("--steps", mp.max_steps, 1, 10000000, error) ||
        !args.get_double("--time-budget", mp.time_budget_s, 0, 1e7, error) || !args.get_u64("--seed", mp.seed, error) ||
        !args.get_double("--lr", mp.learning_rate, 1e-9, 100, error) ||
        !args.get_int("--threads", mp.threads, 1, 256, error) || !args.get_int("--sr", sr_check, 1000, 384000, error) ||
        !args.get_double("--max-seconds", max_check, 0.01, 600, error) || !choose_loss(args, mp.loss, error) ||
        !args.require("--target", error) || !args.require("--output", error))
        return fail(cmd, error, kExitUsage);
    // amortised: the encoder's prediction only; amortised+gradient: gradient descent from it.
    std::string method_label = args.str("--method", "gradient");
    const bool amortised = method_label == "amortised" || method_label == "amortised+gradient";
    if (amortised) mp.method = match::Method::gradient;
    else if (!match::parse_method(method_label, mp.method))
        return fail(cmd, "unknown method '" + method_label +
                             "' (methods: gradient, genetic, cmaes, hybrid, amortised, amortised+gradient)", kExitUsage);
    // amortised defaults to the shipped string model; hybrid uses one only when given.
    const std::string model_path = args.has("--model") ? args.str("--model") : amortised ? shipped_model("ks_ae.safetensors") : "";
    if (amortised && model_path.empty())
        return fail(cmd, method_label + " needs --model (a ks autoencoder: ddsp train --model ks-ae)", kExitUsage);
    double given_f0_hz = 0;
    if (!args.get_double("--f0", given_f0_hz, 20, 20000, error)) return fail(cmd, error, kExitUsage);
    if (args.has("--f0") && model_path.empty()) return fail(cmd, "--f0 is the encoder's pitch: it needs --model", kExitUsage);
    if (!model_path.empty() && args.has("--params"))
        return fail(cmd, "--model starts from the encoder's prediction: give --model or --params, not both", kExitUsage);

    SynthChoice choice;
    if (!choose_synth(args, "--params", choice, error)) return fail(cmd, error);
    engine::MatchRequest request;
    request.synth = choice.name;
    request.params_file = choice.file_or_null();
    request.params_label = args.str("--params");
    request.synth_options = choice.options;
    request.settings = mp;
    request.time_budget_s = mp.time_budget_s;
    int sr = 0;
    if (!choose_sample_rate(args, choice, sr, error) ||
        !choose_max_seconds(args, *choice.synth, request.max_target_seconds, error))
        return fail(cmd, error);
    request.rate_override_hz = sr;
    const std::string target_path = args.str("--target");
    engine::Target target;
    if (!load_recording(cmd, target_path, request.max_target_seconds, target, error)) return fail(cmd, error);
    if (!target.at(*choice.synth, sr, request.max_target_seconds, error)) return fail(cmd, target_path + ": " + error);
    const std::string dir = args.str("--output");
    if (!util::make_dir(dir, error)) return fail(cmd, error);

    // The encoder's prediction as the starting parameters.
    std::string amortised_fields, predicted_json;
    if (!model_path.empty()) {
        if (choice.name != "ks") return fail(cmd, "--model predicts the ks string, not '" + choice.name + "'", kExitUsage);
        nn::TensorFile file;
        ad::Tape tape(ad::Tape::Mode::forward_only);
        std::unique_ptr<nn::KsAutoencoder> model;
        if (!nn::safetensors_read_file(model_path, file, error) || !(model = nn::load_ks_autoencoder(tape, file, error)))
            return fail(cmd, model_path + ": " + error);
        const double seconds = std::min(request.max_target_seconds, double(target.recording().size()) / target.sample_rate_hz());
        engine::AmortisedPrediction pred;
        if (!engine::amortised_prediction(*model, target, sr, seconds, given_f0_hz, method_label != "amortised", pred, error))
            return fail(cmd, target_path + ": " + error);
        predicted_json = pred.params_json;
        request.params_text = predicted_json;
        request.params_file = nullptr;
        request.params_label = "the encoder's prediction";
        amortised_fields = "  \"amortised_ms\": " + fmt("%.3f", pred.encoder_ms) + ",\n  \"amortised_f0_hz\": " +
                           util::json_number(pred.f0_hz) + ",\n  \"model\": " + util::json_quote(model_path) + ",\n";
    }
    const auto t_job = std::chrono::steady_clock::now();
    engine::MatchJob job;
    if (!job.start(request, target, error)) return fail(cmd, error);
    if (method_label == "amortised") job.stop("amortised");  // the prediction is the result
    if (!amortised_fields.empty())  // the prediction's render and loss (the job's initial loss)
        amortised_fields += "  \"amortised_render_ms\": " +
                            fmt("%.3f", 1000 * std::chrono::duration<double>(std::chrono::steady_clock::now() - t_job).count()) +
                            ",\n";
    const match::MatchSession& session = job.session();

    const bool quiet = args.has("--quiet");
    if (!quiet)
        note(cmd, choice.name + " / " + method_label + " / " + match::loss_name(mp.loss) + ", " +
                      fmt("%.2f", double(job.target().size()) / sr) + " s at " + std::to_string(sr) + " Hz, " +
                      std::to_string(session.table().size()) + " parameters (" +
                      std::to_string(synth::table_size(session.table())) + " values), initial loss " +
                      fmt("%.5g", session.initial_loss()));
    g_interrupted = 0;
    auto previous = std::signal(SIGINT, on_interrupt);
    double next_report_s = 2.0;
    while (!job.done()) {
        job.step();
        if (g_interrupted) {
            job.stop("interrupted");
            note(cmd, "interrupted: writing the best result so far");
        }
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        if (!quiet && (t >= next_report_s || job.done())) {
            const engine::MatchProgress p = job.progress();
            note(cmd, "iteration " + std::to_string(p.iteration) + "/" + std::to_string(p.step_limit) + "  loss " +
                          fmt("%.5g", p.loss) + "  best " + fmt("%.5g", p.best_loss) + "  " + fmt("%.1f", t) + " s");
            next_report_s = t + (t < 10 ? 2.0 : 10.0);
        }
    }
    std::signal(SIGINT, previous);

    // Results.
    const synth::ParamValues best = session.best_params();
    const double seconds = double(job.target().size()) / sr;
    if (!match::params_write_file(dir + "/params.json", choice.name, sr, seconds, best, session.table(), error,
                                  &session.synth_options()))
        return fail(cmd, error);
    Vec recon;
    if (!job.best_audio(recon, error)) return fail(cmd, error);
    dsp::WavWriteOptions wopt;
    wopt.format = dsp::WavSampleFormat::float32;
    if (!dsp::wav_write_file(dir + "/recon.wav", recon, sr, error, wopt)) return fail(cmd, error);

    CompareData cd;
    cd.target = job.target();
    cd.recon = recon;
    cd.sample_rate_hz = sr;
    for (const match::IterationRecord& r : session.history()) {
        cd.iterations.push_back(r.iteration);
        cd.loss.push_back(r.loss);
        cd.best_loss.push_back(r.best_loss);
    }
    cd.initial_loss = session.initial_loss();
    cd.title = "ddsp match: " + choice.name + " / " + method_label + " / " + match::loss_name(mp.loss) +
               "  loss " + fmt("%.4g", session.initial_loss()) + " -> " + fmt("%.4g", session.best_loss()) + " in " +
               std::to_string(session.iteration()) + " iterations (seed " + std::to_string(mp.seed) + ")";
    if (!plot_compare(dir + "/compare.png", cd, error)) return fail(cmd, error);

    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    if (!util::write_text_file(dir + "/report.json",
                                report_json(job, method_label, amortised_fields, target_path, wall_s), error))
        return fail(cmd, error);
    if (!quiet)
        note(cmd, "best loss " + fmt("%.5g", session.best_loss()) + " (initial " + fmt("%.5g", session.initial_loss()) +
                      ", " + job.reason() + "); wrote " + dir + "/{params.json,recon.wav,report.json,compare.png}");
    return g_interrupted ? 130 : kExitOk;
}

}  // namespace ddsp::cli
