// Training checkpoints: a model file plus Adam's state, so a run resumes exactly. The model's
// weights stay under their names; the moments go under "adam.m.<name>" / "adam.v.<name>" and the
// step count in the metadata "checkpoint_step" (the autoencoder's, the remap network's and the
// string autoencoder's trainers all write this one layout).
#pragma once

#include "ad/adam.h"
#include "nn/layers.h"
#include "nn/safetensors.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ddsp::nn {

// The seed of a training step's random draws (batches, noise): a function of the run's seed and the
// step alone, so a run resumed at any step draws what it would have drawn.
inline uint64_t step_seed(uint64_t seed, int step) {
    return seed * 0x9E3779B97F4A7C15ull + uint64_t(step) * 0xBF58476D1CE4E5B9ull;
}

// Adds adam's moments (its variables added in `params` order) and step to `file`.
void add_adam_state(const ad::Adam& adam, const std::vector<Param>& params, TensorFile& file);

// The step and moments of a checkpoint, for `params`; false (one line) if the file is not a
// checkpoint or lacks a moment. `weights` gets the file's other tensors (the model's).
bool read_adam_state(const TensorFile& file, const std::vector<Param>& params, int& step, std::vector<Arr>& m,
                     std::vector<Arr>& v, std::map<std::string, Arr>& weights, std::string& error);

// The run's seed a trainer wrote in the metadata "seed" (std::to_string of a uint64_t), for a resume
// that draws what the run would have drawn. found = false when the file has none; false (one line)
// when it is there but not a decimal integer in 0..2^64-1.
bool checkpoint_seed(const TensorFile& file, uint64_t& seed, bool& found, std::string& error);

}  // namespace ddsp::nn
