// What the golden tests share: reading a golden file (tests/golden/*.safetensors, made by the
// PyTorch references in python/) and finding its tensors, failing the test with the name when
// one is missing.
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

}  // namespace golden
