#include "nn/checkpoint.h"

#include "nn/autoencoder.h"  // tensors_to_state, state_to_tensors
#include "util/json.h"

namespace ddsp::nn {

void add_adam_state(const ad::Adam& adam, const std::vector<Param>& params, TensorFile& file) {
    std::map<std::string, Arr> moments;
    for (size_t i = 0; i < params.size(); ++i) {
        moments["adam.m." + params[i].name] = adam.first_moments()[i];
        moments["adam.v." + params[i].name] = adam.second_moments()[i];
    }
    state_to_tensors(moments, file);
    file.metadata["checkpoint_step"] = std::to_string(adam.steps());
}

bool checkpoint_seed(const TensorFile& file, uint64_t& seed, bool& found, std::string& error) {
    found = false;
    const auto it = file.metadata.find("seed");
    if (it == file.metadata.end()) return true;
    const std::string& text = it->second;
    uint64_t v = 0;
    bool ok = !text.empty() && text.size() <= 20;
    for (size_t i = 0; ok && i < text.size(); ++i) {
        const char c = text[i];
        const uint64_t digit = uint64_t(c - '0');
        if (c < '0' || c > '9' || v > (UINT64_MAX - digit) / 10) ok = false;
        else v = v * 10 + digit;
    }
    if (!ok) {
        error = "checkpoint metadata \"seed\" is not an integer in 0..18446744073709551615";
        return false;
    }
    seed = v;
    found = true;
    return true;
}

bool read_adam_state(const TensorFile& file, const std::vector<Param>& params, int& step, std::vector<Arr>& m,
                     std::vector<Arr>& v, std::map<std::string, Arr>& weights, std::string& error) {
    const auto step_it = file.metadata.find("checkpoint_step");
    long long s = -1;
    if (step_it == file.metadata.end() || !util::parse_integer(step_it->second, s) || s < 0 || s > 1000000000) {
        error = "not a training checkpoint (no checkpoint_step metadata)";
        return false;
    }
    const std::map<std::string, Arr> all = tensors_to_state(file);
    m.clear();
    v.clear();
    for (const Param& p : params) {
        const auto mi = all.find("adam.m." + p.name), vi = all.find("adam.v." + p.name);
        if (mi == all.end() || vi == all.end()) {
            error = "the checkpoint has no Adam moments for " + p.name;
            return false;
        }
        m.push_back(mi->second);
        v.push_back(vi->second);
    }
    weights.clear();
    for (const auto& kv : all)
        if (kv.first.rfind("adam.", 0) != 0) weights[kv.first] = kv.second;
    step = int(s);
    return true;
}

}  // namespace ddsp::nn
