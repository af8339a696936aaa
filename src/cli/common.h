// Pieces shared by the `ddsp` subcommands: error reporting, choosing the synth and its rate,
// loading a target recording, writing small files.
#pragma once

#include "cli/args.h"
#include "engine/synth_job.h"
#include "engine/target.h"
#include "match/params_json.h"
#include "util/file.h"
#include "match/session.h"
#include "nn/safetensors.h"
#include "synth/synth.h"

#include <memory>
#include <string>
#include <vector>

namespace ddsp::cli {

// Prints "ddsp CMD: message" as exactly one line on stderr and returns `code`.
int fail(const char* cmd, const std::string& message, int code = kExitFailure);
// Same format for notes on success paths ("note: ...").
void note(const char* cmd, const std::string& message);
// Control characters, C1 controls and invalid UTF-8 (from a library, a file name or a bad file) escaped.
std::string one_line(const std::string& s);

// Parses a command's options; on --help prints help and sets `exit_code` to 0; on a usage
// error prints it and sets `exit_code` to 2. Returns true when the command should go on.
bool parse_command(const CommandSpec& spec, int argc, char** argv, Args& args, int& exit_code);

// The synth named by --synth and/or by the parameter file given with `params_option` (which must
// agree), through engine::prepare_synth. Reads the parameter file into `file` (have_file tells
// whether there was one).
using SynthChoice = engine::SynthJob;
// --synth-options K=V,K=V (where the command declares it) go over the file's "options".
bool choose_synth(const Args& args, const char* params_option, SynthChoice& out, std::string& error);

// engine::choose_rate with --sr as the override: --sr, else the parameter file's sample_rate,
// else the synth's default.
bool choose_sample_rate(const Args& args, const SynthChoice& choice, int& sample_rate_hz, std::string& error);

// Reads a WAV file (mono downmix) and prepares it with engine::prepare_target (its first
// max_seconds, resampled to sample_rate_hz, checked), with notes on stderr naming the command when
// the file is truncated or cut. Errors name the file.
bool load_target(const char* cmd, const std::string& path, int sample_rate_hz, double max_seconds, Vec& out,
                 std::string& error);

// Reads a WAV file (mono downmix) into an engine::Target, which prepares it for each synth; the
// same notes as load_target (cut at max_seconds). Errors name the file.
bool load_recording(const char* cmd, const std::string& path, double max_seconds, engine::Target& target,
                    std::string& error);

// How much of a target is used by loss, match and landscape: engine::match_seconds_for, or
// --max-seconds.
bool choose_max_seconds(const Args& args, const synth::Synth& synth, double& max_seconds, std::string& error);

// --loss (mrstft by default).
bool choose_loss(const Args& args, match::LossKind& kind, std::string& error);

std::string fmt(const char* format, double v);

// --z V1,V2,...: a latent of exactly z_dims values, each within +-100, into row 0 of z (1 x z_dims).
// Errors are usage errors ("--z: bad value 'x'", "--z needs N values").
bool parse_latent_option(const Args& args, int z_dims, Arr& z, std::string& error);

// The WAV files a path names: the file itself, or every .wav in a folder (sorted by name). An
// empty folder is an error naming it.
bool wav_files(const std::string& path, std::vector<std::string>& files, std::string& error);

// A training log (OUT/log.jsonl) made to match a run at `step`: complete lines whose "step" is at most
// `step` are kept, the rest (a line cut by a kill, lines of steps the resumed run will redo) dropped,
// so a run killed and resumed writes the same log as one that was not. Step 0 starts it anew.
bool trim_training_log(const std::string& path, int step, std::string& error);

// Removes the temporaries util::write_file leaves when killed mid-write ("NAME.tmp-PID-N") in `dir`.
void remove_stale_temporaries(const std::string& dir);

// `ddsp train --model ks-ae` (cmd_train_ks.cpp), with cmd_train's parsed options.
int train_ks_autoencoder(const char* cmd, const Args& args);

// A shipped model (assets/models/<file>, where the build's sources are): its path, or "" when that
// file is not there (a moved or installed binary).
std::string shipped_model(const std::string& file);

}  // namespace ddsp::cli
