// `ddsp`: the native command line of ddsp.cpp.
//
//   ddsp synths                      every synth and its parameter table (JSON)
//   ddsp render    ... -o out.wav    render a synth from a parameter file
//   ddsp loss      ...               loss (and gradient) of parameters against a recording
//   ddsp match     ... -o DIR        sound matching: params.json, recon.wav, report.json, compare.png
//   ddsp landscape ... -o DIR        the loss over a grid of two parameters
//   ddsp analyse   --target T.wav    frame-wise f0, loudness and spectral centroid (JSON)
//   ddsp train     --data D -o OUT   train the DDSP autoencoder (checkpoints, resume, test report)
//   ddsp autoencode --model M ...    resynthesise a recording through a trained autoencoder
//   ddsp stream    ... -o out.wav    the audio thread's engine, block by block
//   ddsp remap-train / remap          timbre remapping of a drum performance onto the 808
//
// Exit codes: 0 success, 1 bad input (files, parameter values), 2 usage errors. Every error is
// one line on stderr; results go to stdout or files.
#include "cli/args.h"
#include "cli/commands.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct Command {
    const char* name;
    int (*run)(int argc, char** argv);
    const char* summary;
};

const Command kCommands[] = {
    {"synths", ddsp::cli::cmd_synths, "list every synth and its parameter table (JSON on stdout)"},
    {"render", ddsp::cli::cmd_render, "render a synth from a parameter file to a WAV file"},
    {"loss", ddsp::cli::cmd_loss, "loss and gradient of parameters against a target recording (JSON)"},
    {"match", ddsp::cli::cmd_match, "match a synth to a recording (gradient, genetic, cmaes, hybrid)"},
    {"landscape", ddsp::cli::cmd_landscape, "the loss over a grid of two parameters (CSV and PNG)"},
    {"analyse", ddsp::cli::cmd_analyse, "frame-wise f0, A-weighted loudness and spectral centroid of a recording (JSON)"},
    {"train", ddsp::cli::cmd_train, "train the DDSP autoencoder on a dataset (checkpoints, resume, test report)"},
    {"autoencode", ddsp::cli::cmd_autoencode, "resynthesise a recording through a trained autoencoder (timbre transfer)"},
    {"remap-train", ddsp::cli::cmd_remap_train, "train a timbre-remapping network: a drum performance modulates an 808 preset"},
    {"remap", ddsp::cli::cmd_remap, "play a drum performance on the 808 through a remap model"},
    {"kad", ddsp::cli::cmd_kad, "kernel audio distance between two folders of recordings"},
    {"stream", ddsp::cli::cmd_stream, "run the audio-thread engine natively, block by block (synth notes, live decoder)"},
};

void print_usage() {
    std::printf("usage: ddsp COMMAND [options]   (ddsp COMMAND --help for its options)\n\n"
                "Differentiable synthesisers and sound matching.\n\ncommands:\n");
    for (const Command& c : kCommands) std::printf("  %-10s %s\n", c.name, c.summary);
    std::printf("\nExit codes: 0 success, 1 bad input, 2 usage error; errors are one line on stderr.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "ddsp: missing command (try ddsp --help)\n");
        return ddsp::cli::kExitUsage;
    }
    const std::string cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        print_usage();
        return ddsp::cli::kExitOk;
    }
    for (const Command& c : kCommands)
        if (cmd == c.name) return c.run(argc - 2, argv + 2);
    std::fprintf(stderr, "ddsp: unknown command '%.60s' (try ddsp --help)\n", cmd.c_str());
    return ddsp::cli::kExitUsage;
}
