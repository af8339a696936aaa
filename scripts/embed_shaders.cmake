# Turns shaders/*.glsl into one C++ header of string constants (run by CMake at build time):
#   cmake -DOUT=header.h -DSHADER_DIR=shaders -P embed_shaders.cmake
# shaders/spectrogram.frag.glsl becomes `kShader_spectrogram_frag`.
set(text "// Generated from shaders/*.glsl by scripts/embed_shaders.cmake. Do not edit.\n#pragma once\n\n")
file(GLOB SHADERS ${SHADER_DIR}/*.glsl)
list(SORT SHADERS)
foreach(path ${SHADERS})
  get_filename_component(name ${path} NAME)
  string(REGEX REPLACE "\\.glsl$" "" name "${name}")
  string(REGEX REPLACE "[^A-Za-z0-9]" "_" name "${name}")
  file(READ ${path} body)
  string(APPEND text "static const char* const kShader_${name} = R\"glsl(${body})glsl\";\n\n")
endforeach()
file(WRITE ${OUT}.tmp "${text}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
