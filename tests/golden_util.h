// What the golden tests share: reading a golden file (tests/golden/*.safetensors, made by the
// PyTorch references in python/), finding its tensors (failing the test with the name when one is
// missing) and taking out the model file it carries.
#pragma once

#include <doctest/doctest.h>

#include "nn/safetensors.h"

#include <string>

namespace golden {

// The file at DDSP_SOURCE_DIR/<relative_path>, whose metadata "format" must be `format`.
inline ddsp::nn::TensorFile read(const std::string& relative_path, const std::string& format) {
    ddsp::nn::TensorFile file;
    std::string error;
    REQUIRE_MESSAGE(ddsp::nn::safetensors_read_file(std::string(DDSP_SOURCE_DIR) + "/" + relative_path, file, error), error);
    REQUIRE(file.metadata["format"] == format);
    return file;
}

inline const ddsp::nn::Tensor& tensor(const ddsp::nn::TensorFile& file, const std::string& name) {
    const ddsp::nn::Tensor* t = file.find(name);
    REQUIRE_MESSAGE(t != nullptr, "golden: no tensor ", name);
    return *t;
}

// A model file kept inside a golden under a prefix ("model/", "mlp/"): the tensors named
// prefix + tensor_prefix + ... and the metadata keys prefix + ..., with the prefix removed.
inline ddsp::nn::TensorFile unprefixed(const ddsp::nn::TensorFile& file, const std::string& prefix,
                                       const std::string& tensor_prefix = "") {
    ddsp::nn::TensorFile out;
    for (const ddsp::nn::Tensor& t : file.tensors)
        if (t.name.rfind(prefix + tensor_prefix, 0) == 0) {
            ddsp::nn::Tensor w = t;
            w.name = t.name.substr(prefix.size());
            out.tensors.push_back(w);
        }
    for (const auto& kv : file.metadata)
        if (kv.first.rfind(prefix, 0) == 0) out.metadata[kv.first.substr(prefix.size())] = kv.second;
    return out;
}

}  // namespace golden
