// The strict JSON reader and parameter files: malformed JSON is refused with a one-line error
// that points at the byte, wrong types / unknown parameters / non-finite and out-of-range values
// are refused, and what params_to_json writes reads back to the same parameters.
#include <doctest/doctest.h>

#include "engine/notes.h"
#include "match/params_json.h"
#include "nn/autoencoder.h"
#include "nn/checkpoint.h"
#include "nn/ks_autoencoder.h"
#include "nn/remap.h"
#include "util/json.h"
#include "util/text.h"
#include "util/file.h"
#include "util/text.h"


#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

using namespace ddsp;
using util::JsonValue;

namespace {

bool parses(const std::string& text) {
    JsonValue v;
    std::string err;
    return util::json_parse(text, v, err);
}

std::string parse_error(const std::string& text) {
    JsonValue v;
    std::string err;
    if (util::json_parse(text, v, err)) return "";
    return err;
}

std::string param_error(const std::string& text) {
    match::ParamFile f;
    std::string err;
    if (match::params_parse(text, f, err)) return "";
    return err;
}

std::vector<synth::ParamSpec> sine_table() {
    auto s = synth::make_synth("sine");
    REQUIRE(s);
    synth::SynthConfig cfg;
    return s->param_table(cfg);
}

// Parses and validates against the sine synth; returns the error ("" on success).
std::string sine_error(const std::string& text) {
    match::ParamFile f;
    std::string err;
    if (!match::params_parse(text, f, err)) return err;
    Vec u;
    if (!match::params_validate(f, "sine", sine_table(), u, err)) return err;
    return "";
}

}  // namespace

TEST_CASE("JSON: values of every type") {
    JsonValue v;
    std::string err;
    REQUIRE(util::json_parse(R"( {"a": [1, -2.5e3, 0, -0.0, 1E-2], "b": "x\"\\\/\b\f\n\r\tA\u00e9\ud83d\ude00",
                                   "c": true, "d": false, "e": null, "f": {}, "g": []} )",
                              v, err));
    REQUIRE(v.type == JsonValue::Type::object);
    const JsonValue* a = v.find("a");
    REQUIRE(a);
    REQUIRE(a->array.size() == 5);
    CHECK(a->array[1].number == -2500);
    CHECK(a->array[4].number == doctest::Approx(0.01));
    CHECK(v.find("b")->string == "x\"\\/\b\f\n\r\tA\xC3\xA9\xF0\x9F\x98\x80");
    CHECK(v.find("c")->boolean);
    CHECK(v.find("d")->type == JsonValue::Type::boolean);
    CHECK(!v.find("d")->boolean);
    CHECK(v.find("e")->type == JsonValue::Type::null);
    CHECK(v.find("f")->type == JsonValue::Type::object);
    CHECK(v.find("g")->array.empty());
    CHECK(v.find("zz") == nullptr);
    CHECK(parses("\xEF\xBB\xBF{}"));  // byte-order mark
    CHECK(parses("\"caf\xC3\xA9\""));  // raw UTF-8
}

TEST_CASE("JSON: malformed text is refused with the byte offset") {
    const char* bad[] = {
        "",            "   ",          "{",           "[1,]",       "{\"a\":1,}",     "{\"a\" 1}",   "{a:1}",
        "[1 2]",       "01",           "1.",          ".5",         "1e",             "-",           "+1",
        "NaN",         "Infinity",     "-Infinity",   "nan",        "1e999",          "-1e999",      "tru",
        "nul",         "\"abc",        "\"a\\x\"",    "\"\\u12\"",  "\"\\ud800\"",    "\"\\udc00\"", "\"a\tb\"",
        "[1] [2]",     "{} x",         "'a'",         "// c\n{}",   "{\"a\":1,\"a\":2}", "\"\xC3\"",  "\"\xED\xA0\x80\"",
        "\"\xC0\xAF\"", "[\"\xFF\"]",
    };
    for (const char* t : bad) {
        CAPTURE(t);
        const std::string err = parse_error(t);
        CHECK(!err.empty());
        CHECK(err.find('\n') == std::string::npos);
        CHECK(err.rfind("JSON: byte ", 0) == 0);
    }
    CHECK(parse_error("[1, 2, x]").find("byte 7") != std::string::npos);
    // Line and column for people reading the file in an editor.
    CHECK(parse_error("{\n  \"a\": x}").find("byte 9 (line 2, column 8)") != std::string::npos);
    CHECK(parse_error("{\"a\": 1, \"a\": 2}").find("duplicate") != std::string::npos);
    CHECK(parse_error("[1e999]").find("too large") != std::string::npos);
}

TEST_CASE("JSON: depth and size limits") {
    const std::string deep_ok = std::string(60, '[') + std::string(60, ']');
    CHECK(parses(deep_ok));
    const std::string too_deep = std::string(100000, '[') + std::string(100000, ']');  // no stack overflow
    CHECK(parse_error(too_deep).find("nesting") != std::string::npos);
    util::JsonLimits small;
    small.max_bytes = 8;
    JsonValue v;
    std::string err;
    CHECK(!util::json_parse("[1, 2, 3, 4]", v, err, small));
    CHECK(err.find("limit") != std::string::npos);
    // The count of values is limited too (each costs ~100 bytes parsed): 64 MB of "0," would need GBs.
    util::JsonLimits few;
    few.max_values = 4;
    CHECK(util::json_parse("[1, 2, 3]", v, err, few));
    CHECK(!util::json_parse("[1, 2, 3, 4]", v, err, few));
    CHECK(err.find("more than 4 values") != std::string::npos);
    // Nested values count: an array of objects of arrays.
    CHECK(!util::json_parse("[{\"a\": [1, 2]}]", v, err, few));
}

TEST_CASE("JSON: writing quotes and numbers that read back") {
    JsonValue v;
    std::string err;
    const std::string s = std::string("a\"b\\c\n\x01") + "\xC3\xA9";
    REQUIRE(util::json_parse(util::json_quote(s), v, err));
    CHECK(v.string == s);
    for (double x : {0.0, 1.0, -3.0, 16000.0, 0.1, 1e-30, 123456.789, 1e20, -2.5e-7}) {
        CAPTURE(x);
        REQUIRE(util::json_parse(util::json_number(x), v, err));
        CHECK(v.number == doctest::Approx(x).epsilon(1e-8));
        CHECK(float(v.number) == float(x));  // every float round-trips
    }
    CHECK(util::json_number(-0.0) == "0");
    CHECK(util::json_number(16000) == "16000");
    CHECK(util::json_number(std::nan("")) == "null");
}

// What a message may contain when it quotes input: valid UTF-8 with no C0, DEL or C1 control.
bool safe_to_print(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp;
        std::size_t n;
        if (!util::utf8_decode(s, i, cp, n) || util::is_unsafe_code_point(cp)) return false;
        i += n;
    }
    return true;
}

TEST_CASE("text from input: printable() escapes controls, C1 and invalid UTF-8, keeps text") {
    CHECK(util::printable("plain ascii, é, 音") == "plain ascii, é, 音");
    CHECK(util::printable("a\nb\x1B[31m") == "a\\x0Ab\\x1B[31m");
    CHECK(util::printable("\x7F") == "\\x7F");
    CHECK(util::printable("\xC2\x9B") == "\\x9B");           // C1 CSI, valid UTF-8
    CHECK(util::printable("\x9B") == "\\x9B");                // a lone byte: invalid UTF-8
    CHECK(util::printable("\xC3") == "\\xC3");                // truncated sequence
    CHECK(util::printable("\xE2\x80\xAE") == "\\u202E");    // right-to-left override
    CHECK(util::printable("\xC0\xAF") == "\\xC0\\xAF");     // overlong '/'
    CHECK(util::printable("\xED\xA0\x80") == "\\xED\\xA0\\x80");  // a surrogate
    CHECK(util::printable(util::printable("\x9B\x01")) == util::printable("\x9B\x01"));
    // Every byte value alone and after a lead byte: the result is always safe to print.
    for (int a = 0; a < 256; ++a)
        for (int b : {0x00, 0x41, 0x80, 0x9B, 0xBF, 0xC2, 0xFF}) {
            const std::string in{char(a), char(b)};
            CHECK(safe_to_print(util::printable(in)));
            CHECK(safe_to_print(util::json_quote(in)));
        }
}

TEST_CASE("JSON: an unexpected byte from the file is quoted as hex, never echoed") {
    JsonValue v;
    std::string err;
    for (const char* bad : {"[1, \x9B]", "{\"a\": \xC3\xA9}", "[\x01]", "[\x7F]"}) {
        CAPTURE(bad);
        CHECK(!util::json_parse(bad, v, err));
        CHECK(safe_to_print(err));
        CHECK(err.find("unexpected character 0x") != std::string::npos);
    }
    CHECK(!util::json_parse("[1, x]", v, err));
    CHECK(err.find("unexpected character 'x'") != std::string::npos);
}

TEST_CASE("JSON: writing invalid UTF-8 gives valid JSON (U+FFFD)") {
    JsonValue v;
    std::string err;
    REQUIRE(util::json_parse(util::json_quote("a\xFF" "b\xC2\x9B"), v, err));
    CHECK(v.string == "a\xEF\xBF\xBD" "b\xC2\x9B");  // the C1 written as \u009b reads back as itself
}

TEST_CASE("parameter files: structure and types") {
    CHECK(param_error(R"({"synth": "sine", "params": {"amplitude": 0.3}})").empty());
    CHECK(!param_error("[1]").empty());
    CHECK(param_error(R"({"params": {}})").find("missing \"synth\"") != std::string::npos);
    CHECK(param_error(R"({"synth": "sine"})").find("missing \"params\"") != std::string::npos);
    CHECK(!param_error(R"({"synth": 3, "params": {}})").empty());
    CHECK(!param_error(R"({"synth": "", "params": {}})").empty());
    CHECK(!param_error(R"({"synth": "sine", "params": []})").empty());
    CHECK(!param_error(R"({"synth": "sine", "sample_rate": "16000", "params": {}})").empty());
    CHECK(!param_error(R"({"synth": "sine", "sample_rate": -1, "params": {}})").empty());
    CHECK(param_error(R"({"synth": "sine", "sampel_rate": 16000, "params": {}})").find("unknown key") !=
          std::string::npos);
    // values: a number or a non-empty array of numbers
    CHECK(param_error(R"({"synth": "sine", "params": {"amplitude": "0.5"}})").find("'amplitude'") != std::string::npos);
    CHECK(!param_error(R"({"synth": "sine", "params": {"amplitude": null}})").empty());
    CHECK(!param_error(R"({"synth": "sine", "params": {"amplitude": true}})").empty());
    CHECK(!param_error(R"({"synth": "sine", "params": {"amplitude": []}})").empty());
    CHECK(!param_error(R"({"synth": "sine", "params": {"amplitude": [0.1, "x"]}})").empty());
    CHECK(!param_error(R"({"synth": "sine", "params": {"amplitude": [[0.1]]}})").empty());
    CHECK(!param_error(R"({"synth": "sine", "params": {"amplitude": {"v": 1}}})").empty());
    CHECK(!param_error(R"({"synth": "sine", "params": {"amplitude": NaN}})").empty());
    CHECK(!param_error(R"({"synth": "sine", "params": {"amplitude": 1e400}})").empty());

    match::ParamFile f;
    std::string err;
    REQUIRE(match::params_parse(R"({"synth": "ks", "sample_rate": 44100, "seconds": 1.5,
                                    "params": {"f0_hz": 110, "decay_s": [1, 2]}})",
                                f, err));
    CHECK(f.synth == "ks");
    CHECK(f.sample_rate_hz == 44100);
    CHECK(f.seconds == 1.5);
    CHECK(f.values.at("decay_s") == std::vector<double>{1, 2});
    CHECK(f.scalar_names.count("f0_hz") == 1);
    CHECK(f.scalar_names.count("decay_s") == 0);
}

TEST_CASE("parameter files: checked against a synth's table") {
    CHECK(sine_error(R"({"synth": "sine", "params": {"frequency_hz": 440, "amplitude": 0.5}})").empty());
    CHECK(sine_error(R"({"synth": "sine", "params": {}})").empty());  // defaults
    CHECK(sine_error(R"({"synth": "ks", "params": {}})").find("'ks'") != std::string::npos);
    CHECK(sine_error(R"({"synth": "sine", "params": {"freq": 440}})").find("unknown parameter 'freq'") !=
          std::string::npos);
    const std::string range = sine_error(R"({"synth": "sine", "params": {"amplitude": 1.5}})");
    CHECK(range.find("outside") != std::string::npos);
    CHECK(range.find("amplitude") != std::string::npos);
    CHECK(!sine_error(R"({"synth": "sine", "params": {"frequency_hz": 1e300}})").empty());
    CHECK(!sine_error(R"({"synth": "sine", "params": {"frequency_hz": -440}})").empty());
    CHECK(sine_error(R"({"synth": "sine", "params": {"amplitude": [0.1, 0.2]}})").find("needs 1") != std::string::npos);
}

TEST_CASE("parameter files: write, read back, same parameters") {
    auto s = synth::make_synth("ks");
    REQUIRE(s);
    synth::SynthConfig cfg;
    const auto table = s->param_table(cfg);
    // Physical values from a random-ish u, as an optimiser leaves them (including the range ends).
    Vec u(synth::table_size(table));
    for (Eigen::Index i = 0; i < u.size(); ++i) u[i] = Real(std::sin(1.7 * double(i)) * 5);
    u[0] = Real(30);  // saturates at the top of the range
    const synth::ParamValues values = synth::to_physical(table, u);
    const std::string path = "/tmp/ddsp_test_params_" + std::to_string(getpid()) + ".json";
    std::string err;
    REQUIRE(match::params_write_file(path, "ks", 16000, 1.0, values, table, err));
    match::ParamFile f;
    REQUIRE_MESSAGE(match::params_read_file(path, f, err), err);
    CHECK(f.synth == "ks");
    CHECK(f.sample_rate_hz == 16000);
    CHECK(f.seconds == 1.0);
    Vec u2;
    REQUIRE_MESSAGE(match::params_validate(f, "ks", table, u2, err), err);
    for (const auto& kv : values) {  // (no structured binding: clang 14 cannot capture one in CAPTURE)
        const std::string& name = kv.first;
        const std::vector<double>& v = kv.second;
        CAPTURE(name);
        REQUIRE(f.values.at(name).size() == v.size());
        for (size_t i = 0; i < v.size(); ++i) CHECK(f.values.at(name)[i] == doctest::Approx(v[i]).epsilon(1e-8));
    }
    // Writing what was read gives the same bytes (a preset survives any number of round trips).
    std::string first, second;
    REQUIRE(util::read_text_file(path, first, err));
    CHECK(match::params_to_json("ks", 16000, 1.0, f.values, table) == first);
    REQUIRE(match::params_write_file(path, "ks", 16000, 1.0, f.values, table, err));
    REQUIRE(util::read_text_file(path, second, err));
    CHECK(first == second);
    std::remove(path.c_str());

    CHECK(!match::params_read_file(path, f, err));  // gone
    CHECK(err.find(path) != std::string::npos);
    CHECK(!match::params_read_file("/tmp", f, err));  // a directory
}

TEST_CASE("parameter files: a synth's build-time options") {
    // "options" is optional; a file without it stays valid and means the synth's defaults.
    match::ParamFile f;
    std::string err;
    REQUIRE(match::params_parse(R"({"synth": "ks", "params": {}})", f, err));
    CHECK(f.options.empty());
    REQUIRE(match::params_parse(R"({"synth": "ks", "options": {"loop_order": 3, "oversample": 2}, "params": {}})", f, err));
    CHECK(f.options == synth::SynthOptions{{"loop_order", 3}, {"oversample", 2}});
    CHECK(!param_error(R"({"synth": "ks", "options": [3], "params": {}})").empty());
    CHECK(param_error(R"({"synth": "ks", "options": {"loop_order": "3"}, "params": {}})").find("'loop_order'") !=
          std::string::npos);

    // The synth checks names and values: an unknown option names the ones there are.
    auto ks3 = synth::make_synth("ks", f.options, err);
    REQUIRE(ks3);
    CHECK(ks3->options() == f.options);
    synth::SynthConfig cfg;
    const auto table = ks3->param_table(cfg);
    CHECK(std::any_of(table.begin(), table.end(), [](const synth::ParamSpec& p) { return p.name == "loop_tap3"; }));
    CHECK_FALSE(synth::make_synth("ks", {{"loop_ordr", 3}}, err));
    CHECK(err.find("loop_order") != std::string::npos);
    CHECK_FALSE(synth::make_synth("ks", {{"loop_order", 2.5}}, err));
    CHECK_FALSE(synth::make_synth("ks", {{"oversample", 9}}, err));
    CHECK_FALSE(synth::make_synth("sine", {{"loop_order", 3}}, err));
    CHECK(synth::make_synth("ks", {}, err)->options().empty());
    CHECK(synth::make_synth("ks", {{"loop_order", 2}}, err)->options().empty());  // a default is not written

    // Written options read back; no options, no key (existing files keep their bytes).
    const std::string text = match::params_to_json("ks", 16000, 1.0, synth::default_values(table), table, &f.options);
    match::ParamFile back;
    REQUIRE_MESSAGE(match::params_parse(text, back, err), err);
    CHECK(back.options == f.options);
    const synth::SynthOptions none;
    const auto table2 = synth::make_synth("ks")->param_table(cfg);
    CHECK(match::params_to_json("ks", 16000, 1.0, synth::default_values(table2), table2, &none) ==
          match::params_to_json("ks", 16000, 1.0, synth::default_values(table2), table2));
}

// [SECTION] messages about hostile input (found by tests/fuzz/fuzz_inputs)

namespace {

// One line, no C0/DEL/C1 control characters, no invalid UTF-8 lead bytes taken from input, short.
bool clean_message(const std::string& m) {
    if (m.empty() || m.size() > 400) return false;
    for (size_t i = 0; i < m.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(m[i]);
        if (c < 0x20 || c == 0x7F || c == 0xFF || c == 0x80) return false;
        if (c == 0xC2 && i + 1 < m.size() && static_cast<unsigned char>(m[i + 1]) <= 0x9F) return false;  // C1
    }
    return true;
}

}  // namespace

TEST_CASE("quote_input escapes controls and invalid bytes and cuts long text") {
    CHECK(util::quote_input("ks") == "'ks'");
    CHECK(util::quote_input("ks\x1b[31m") == "'ks\\x1B[31m'");
    CHECK(util::quote_input(std::string("a\0b", 3)) == "'a\\x00b'");
    CHECK(util::escape_input("\x7f\xc2\x9b\xff\xc3\xa9") == "\\x7F\\x9B\\xFF\xc3\xa9");  // DEL, C1, bad byte; é kept
    CHECK(util::escape_input("\xed\xa0\x80") == "\\xED\\xA0\\x80");  // a surrogate is not UTF-8
    CHECK(util::escape_input(std::string(1000, 'x')) == std::string(64, 'x') + "...");
}

TEST_CASE("errors about hostile names are clean (model configs, variants, remap files, notes, parameters)") {
    std::string error;
    nn::AutoencoderConfig ae;
    CHECK_FALSE(nn::autoencoder_config_from_json("{\"z\\u0085dims\": 4}", ae, error));
    CHECK_MESSAGE(clean_message(error), error);
    nn::KsAutoencoderConfig ks;
    CHECK_FALSE(nn::parse_ks_autoencoder_config("{\"variant\": \"meta\\u009b\"}", ks, error));
    CHECK_MESSAGE(clean_message(error), error);
    CHECK(error.find("meta") != std::string::npos);

    // A remap model whose "format" is 100 KB: the message stays short.
    nn::TensorFile file;
    file.metadata["format"] = std::string(100000, '[');
    nn::RemapModelFile model;
    CHECK_FALSE(nn::remap_from_file(file, model, error));
    CHECK_MESSAGE(clean_message(error), error);
    file.metadata["format"] = "ddsp.cpp/remap/1";
    for (const char* key : {"preset", "input_mean", "input_scale", "params"}) file.metadata[key] = "{}";
    file.metadata["model"] = "mlp\n\x1b[2J";
    CHECK_FALSE(nn::remap_from_file(file, model, error));
    CHECK_MESSAGE(clean_message(error), error);
    synth::ParamValues values;
    std::string json;
    CHECK_FALSE(nn::remap_preset(std::string(5000, 'x') + "\x07", values, json, error));
    CHECK_MESSAGE(clean_message(error), error);

    std::vector<engine::NoteEvent> notes;
    CHECK_FALSE(engine::notes_parse("[{\"time\\u007f\": 0}]", notes, error));
    CHECK_MESSAGE(clean_message(error), error);

    match::ParamFile pf;
    REQUIRE(match::params_parse("{\"synth\": \"sine\\u001b\", \"params\": {\"f\\u0085\": 1}}", pf, error));
    Vec u;
    CHECK_FALSE(match::params_validate(pf, "sine", synth::make_synth("sine")->param_table({}), u, error));
    CHECK_MESSAGE(clean_message(error), error);
    CHECK_FALSE(match::params_parse("{\"synth\": \"sine\", \"params\": {\"\\u0000\": \"x\"}}", pf, error));
    CHECK_MESSAGE(clean_message(error), error);
}

TEST_CASE("a checkpoint's seed: any uint64, else a one-line error (ddsp train --resume used to throw)") {
    nn::TensorFile file;
    uint64_t seed = 0;
    bool found = true;
    std::string error;
    REQUIRE(nn::checkpoint_seed(file, seed, found, error));
    CHECK_FALSE(found);
    file.metadata["seed"] = "18446744073709551615";
    REQUIRE(nn::checkpoint_seed(file, seed, found, error));
    CHECK(found);
    CHECK(seed == 18446744073709551615ull);
    for (const char* bad : {"18446744073709551616", "-1", "", " 1", "1e3", "0x10", "99999999999999999999999"}) {
        file.metadata["seed"] = bad;
        CAPTURE(bad);
        CHECK_FALSE(nn::checkpoint_seed(file, seed, found, error));
        CHECK(clean_message(error));
    }
}
