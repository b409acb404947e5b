// Bad JSON inputs to every loader (config.json, chip, system, graph, the
// safetensors header): a one-line error naming the file and the field before
// anything is allocated or computed, never a crash or an internal error.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "isa/arch/chip_config.h"
#include "isa/error.h"
#include "isa/json_input.h"
#include "models/model_config.h"
#include "models/weights.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

std::string nested(int depth) { return std::string(size_t(depth), '[') + std::string(size_t(depth), ']'); }

// `text` written to a fresh temp file; returns its path.
std::string fileWith(const std::string& name, const std::string& text) {
  const std::string p = tempPath(name);
  writeFile(p, text);
  return p;
}

}  // namespace

TEST_CASE("bad input: JSON nested deeper than 64 is a one-line error in every JSON loader", "[bad-input]") {
  // 100000 nested arrays as a field's value: echoing it in an error message
  // (dump) recursed once per level and overflowed the stack (SIGSEGV).
  const std::string deep = "{\"model_type\": \"llama\", \"vocab_size\": " + nested(100000) + "}";
  const std::string p = fileWith("deep.json", deep);
  const std::string msg = p + ": invalid JSON: nesting deeper than 64 arrays and objects";
  checkBadInput("models --config " + p, msg);
  checkBadInput("run --graph " + p, msg);
  checkBadInput("chips --show " + p, msg);
  checkBadInput("systems --show " + p, msg);
  // The safetensors header is JSON too.
  std::string st;
  for (int i = 0; i < 8; ++i) st += char(uint8_t(uint64_t(deep.size()) >> (8 * i)));
  checkBadInput("run --model tiny-llama --weights " + fileWith("deep.safetensors", st + deep),
                "deep.safetensors: invalid JSON: nesting deeper than 64");
  // Brackets inside strings do not count; 64 levels are fine.
  CHECK_NOTHROW(checkJsonDepth(deep.begin() + 0, deep.begin() + 0, "x"));
  const std::string ok = "{\"a\": \"" + std::string(100, '[') + "\", \"b\": " + nested(63) + "}";
  CHECK_NOTHROW(checkJsonDepth(ok.begin(), ok.end(), "ok.json"));
  const std::string escaped = "{\"a\": \"\\\"" + std::string(100, '{') + "\"}";  // an escaped quote stays in the string
  CHECK_NOTHROW(checkJsonDepth(escaped.begin(), escaped.end(), "escaped.json"));
  const std::string deep65 = "{\"b\": " + nested(64) + "}";
  CHECK_THROWS_WITH(checkJsonDepth(deep65.begin(), deep65.end(), "d.json"),
                    "d.json: invalid JSON: nesting deeper than 64 arrays and objects");
}

TEST_CASE("bad input: a JSON input without end (/dev/zero) is a one-line error, not an endless read", "[bad-input]") {
  // The command line refuses it as its option's value; the loaders themselves stop reading at 256 MiB.
  checkBadInput("models --config /dev/zero", "--config: /dev/zero: not a regular file");
  checkBadInput("chips --show /dev/zero", "--show: /dev/zero: not a regular file");
  CHECK_THROWS_WITH(loadModel("/dev/zero"), Catch::Contains("/dev/zero: larger than 256 MiB: expected a JSON file"));
  CHECK_THROWS_WITH(loadChip("/dev/zero"), Catch::Contains("/dev/zero: larger than 256 MiB"));
}

TEST_CASE("bad input: a control character in a key or name read from JSON is escaped, the error one line",
          "[bad-input]") {
  // A newline inside a key was echoed raw: a two-line "unknown field" error.
  checkBadInput("chips --show " + fileWith("nl-chip.json", R"({"ba\nse": 1})"),
                "field ba\\x0ase: unknown field (see `lpusim chips --fields`)");
  checkBadInput("chips --show " + fileWith("nl-latency.json", R"({"latency": {"mem\tread": 1}})"),
                "field latency.mem\\x09read: unknown latency");
  checkBadInput("chips --show " + fileWith("nl-name.json", R"({"name": "a\nb"})"),
                "field name: expected a string without control characters");
  checkBadInput("chips --show " + fileWith("nl-base.json", R"({"base": "x\ny"})"), "unknown preset \"x\\x0ay\"");
  checkBadInput("systems --show " + fileWith("nl-system.json", R"({"chi\nps": 8})"), "unknown field chi\\x0aps");
  checkBadInput("systems --show " + fileWith("nl-sysname.json", R"({"description": "a\rb"})"),
                "field description: expected a string without control characters");
  checkBadInput("systems --show " + fileWith("nl-chip-ref.json", R"({"chip": "no\npreset"})"),
                "field chip: expected a string without control characters");
  checkBadInput("models --config " + fileWith("nl-model.json", R"({"model_type": "lla\nma"})"),
                "field model_type: \"lla\\x0ama\" is not supported");
  checkBadInput("models --config " + fileWith("nl-act.json", R"({"model_type": "llama", "vocab_size": 100,
      "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
      "hidden_act": "si\nlu"})"),
                "field hidden_act: \"si\\x0alu\" is not supported");
}

TEST_CASE("bad input: a system file whose base names itself, or a cycle of files, is an error, not endless recursion",
          "[bad-input]") {
  // The base was loaded again and again until the stack overflowed.
  const std::string self = tempPath("self.system.json");
  writeFile(self, "{\"base\": \"" + self + "\"}");
  checkBadInput("systems --show " + self,
                "field base: \"" + self + "\" is a file already being read (a cycle: " + self + " -> " + self + ")");
  const std::string a = tempPath("a.system.json"), b = tempPath("b.system.json");
  writeFile(a, "{\"base\": \"" + b + "\", \"chips\": 16}");
  writeFile(b, "{\"base\": \"" + a + "\"}");
  checkBadInput("run --model tiny-llama --system " + a, b + ": field base: \"" + a + "\" is a file already being read");
  // A chain without a cycle still works: b's base is a preset.
  writeFile(b, "{\"base\": \"groq-rack\", \"description\": \"b\"}");
  const CliRun ok = runCli("systems --show " + a);
  REQUIRE(ok.exitCode == 0);
  CHECK(ok.out.find("\"chips\": 16") != std::string::npos);
  CHECK(ok.out.find("\"description\": \"b\"") != std::string::npos);
}

namespace {

// A small Llama config.json with `extra` fields added (or replaced: later keys win).
std::string llamaWith(const std::string& extra) {
  nlohmann::json j = nlohmann::json::parse(R"({"model_type": "llama", "vocab_size": 100, "hidden_size": 64,
      "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64})");
  const nlohmann::json more = nlohmann::json::parse("{" + extra + "}");
  for (const auto& [k, v] : more.items()) j[k] = v;
  return j.dump();
}

void badConfig(const std::string& json, const std::string& mentions) {
  checkBadInput("models --config " + fileWith("bad-config.json", json), mentions);
}

}  // namespace

TEST_CASE("bad input: zero or indivisible head counts in config.json are errors, not a division by zero",
          "[models][bad-input]") {
  badConfig(llamaWith(R"("num_attention_heads": 0)"), "field num_attention_heads: expected a positive integer");
  badConfig(llamaWith(R"("num_key_value_heads": 0)"), "field num_key_value_heads: expected a positive integer");
  badConfig(llamaWith(R"("num_key_value_heads": 8)"),
            "field num_key_value_heads: 8 does not divide num_attention_heads 4");
  badConfig(llamaWith(R"("num_attention_heads": 5)"), "field num_attention_heads: 5 does not divide hidden_size 64");
  badConfig(R"({"model_type": "gpt2", "vocab_size": 100, "n_positions": 64, "n_embd": 64, "n_layer": 2, "n_head": 0})",
            "field n_head: expected a positive integer");
  badConfig(R"({"model_type": "gpt2", "vocab_size": 100, "n_positions": 64, "n_embd": 64, "n_layer": 2, "n_head": 6})",
            "field n_head: 6 does not divide n_embd 64");
}

TEST_CASE("bad input: every integer field of config.json has a documented bound", "[models][bad-input]") {
  // vocab_size 2^40 wrapped the compiler's tile count to a negative int and
  // its embedding read an empty tile list (compiler/embedding.cpp tiles[0]).
  badConfig(llamaWith(R"("vocab_size": 1099511627776)"),
            "field vocab_size: expected a positive integer, at most 1048576 (2^20), got 1099511627776");
  // hidden_size 1e12 printed a wrapped parameter count with exit code 0.
  badConfig(llamaWith(R"("hidden_size": 1000000000000)"),
            "field hidden_size: expected a positive integer, at most 65536 (2^16), got 1000000000000");
  badConfig(llamaWith(R"("intermediate_size": 2000000)"),
            "field intermediate_size: expected a positive integer, at most 1048576 (2^20)");
  // 2^31 layers and 800,000 experts allocated 5-15 GB listing their weights.
  badConfig(llamaWith(R"("num_hidden_layers": 2147483648)"),
            "field num_hidden_layers: expected a positive integer, at most 1024 (2^10)");
  badConfig(llamaWith(R"("num_attention_heads": 2048)"),
            "field num_attention_heads: expected a positive integer, at most 1024 (2^10)");
  badConfig(llamaWith(R"("head_dim": 8192)"), "field head_dim: expected a positive integer, at most 4096 (2^12)");
  badConfig(llamaWith(R"("max_position_embeddings": 100000000)"),
            "field max_position_embeddings: expected a positive integer, at most 16777216 (2^24)");
  const std::string moe = R"("model_type": "mixtral", "num_experts_per_tok": 2, "num_local_experts": )";
  badConfig(llamaWith(moe + "800000"), "field num_local_experts: expected a positive integer, at most 1024 (2^10)");
  badConfig(llamaWith(moe + R"(1024, "num_hidden_layers": 128)"),
            "field num_local_experts: 1024 experts x 128 layers = 131072 expert MLPs, more than 65536 (2^16)");
  badConfig(R"({"model_type": "gpt2", "vocab_size": 100, "n_positions": 64, "n_embd": 64, "n_layer": 2, "n_head": 4,
               "n_inner": 1e9})",
            "field n_inner: expected a positive integer, at most 1048576 (2^20), got 1000000000.0");
  // At the bounds the counts are exact and fit 64 bits.
  const std::string big = fileWith("big.json", llamaWith(R"("vocab_size": 1048576, "hidden_size": 65536,
      "intermediate_size": 1048576, "num_hidden_layers": 1024, "num_attention_heads": 1024, "head_dim": 64)"));
  const CliRun r = runCli("models --json --config " + big);
  REQUIRE(r.exitCode == 0);
  // Per layer: q, k, v, o [1024 heads x 64, 65536] 4 x 2^32; gate, up, down 3 x 2^36; 2 norms 2 x 2^16.
  // Embedding and head 2 x 2^36, final norm 2^16: 2^47.8 parameters.
  const uint64_t layer = 4 * (uint64_t(1) << 32) + 3 * (uint64_t(1) << 36) + 2 * 65536;
  CHECK(nlohmann::json::parse(r.out).at(0)["params"] == 1024 * layer + 2 * (uint64_t(1) << 36) + 65536);
}

TEST_CASE("bad input: a chip or system field of the wrong JSON type names the field", "[bad-input]") {
  // chips 4294967304 was read as an int: 8, accepted.
  checkBadInput("systems --show " + fileWith("wide.json", R"({"chips": 4294967304})"),
                "field chips: expected an integer of 32 bits, got 4294967304");
  checkBadInput("systems --show " + fileWith("str.json", R"({"hop_latency": "300"})"),
                "field hop_latency: expected an integer of 32 bits, got \"300\"");
  checkBadInput("systems --show " + fileWith("arr.json", R"({"name": ["a"]})"),
                "field name: expected a string, got [\"a\"]");
  checkBadInput("chips --show " + fileWith("obj.json", R"({"superlanes": {"a": 1}})"),
                "field superlanes: expected an integer in count");
  checkBadInput("chips --show " + fileWith("lat.json", R"({"latency": [1]})"), "field latency: expected an object");
  checkBadInput("models --config " + fileWith("rope.json", llamaWith(R"("rope_scaling": {"rope_type": "llama3",
                "factor": 8, "original_max_position_embeddings": "8192"})")),
                "field rope_scaling: original_max_position_embeddings: expected a positive number, got \"8192\"");
  checkBadInput("models --config " + fileWith("lt.json", llamaWith(R"("model_type": "gpt_oss", "num_local_experts": 4,
                "num_experts_per_tok": 2, "layer_types": "sliding_attention")")),
                "field layer_types: expected an array of 2 layer types");
}
