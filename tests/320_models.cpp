// The model library: parameter counts equal the published ones, configs are
// read from Hugging Face config.json files, and bad configs name the field.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "isa/binary.h"
#include "models/model_config.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

TEST_CASE("bundled models have exactly the published parameter counts", "[models]") {
  // Published: GPT-2 paper/HF card; Llama 2 and 3 model cards; Mixtral paper (46.7B);
  // gpt-oss model card (20.91B and 116.83B total, rounded there).
  CHECK(countParams(loadModel("gpt2")).total == 124439808ull);
  CHECK(countParams(loadModel("llama-2-7b")).total == 6738415616ull);
  CHECK(countParams(loadModel("llama-3.1-8b")).total == 8030261248ull);
  CHECK(countParams(loadModel("llama-3.2-1b")).total == 1235814400ull);
  CHECK(countParams(loadModel("llama-2-70b")).total == 68976648192ull);
  CHECK(countParams(loadModel("mixtral-8x7b")).total == 46702792704ull);
  // Mixtral: 2 of 8 experts per token, 12.9B active (paper).
  CHECK(countParams(loadModel("mixtral-8x7b")).active == 12879925248ull);
  CHECK(countParams(loadModel("gpt-oss-20b")).total == 20914757184ull);
  CHECK(countParams(loadModel("gpt-oss-120b")).total == 116829156672ull);
}

TEST_CASE("lpusim models lists every bundled model, and --config reads a Hugging Face config.json", "[models][cli]") {
  const CliRun all = runCli("models --json");
  REQUIRE(all.exitCode == 0);
  const auto j = nlohmann::json::parse(all.out);
  CHECK(j.size() == bundledModels().size());
  for (const char* name : {"gpt2", "llama-2-7b", "llama-3.1-8b", "llama-3.2-1b", "llama-2-70b", "mixtral-8x7b",
                           "gpt-oss-20b", "gpt-oss-120b", "tiny-llama", "tiny-gpt2", "tiny-moe"}) {
    bool found = false;
    for (const auto& row : j) found |= row["name"] == name;
    CHECK(found);
  }
  // A user's config: GPT-2 medium (355M: 24 layers of 1024).
  const std::string path = tempPath("gpt2-medium.json");
  writeFile(path, R"({"model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": 1024,
                      "n_layer": 24, "n_head": 16})");
  const CliRun one = runCli("models --json --config " + path);
  REQUIRE(one.exitCode == 0);
  const auto m = nlohmann::json::parse(one.out).at(0);
  CHECK(m["params"] == 354823168);  // GPT-2 medium as published by Hugging Face
  CHECK(m["bytes_fp16"] == 2 * 354823168ull);
}

TEST_CASE("bad input: malformed config.json files name the field", "[models][cli][bad-input]") {
  auto bad = [](const std::string& json, const std::string& mentions) {
    const std::string path = tempPath("bad-config.json");
    writeFile(path, json);
    checkBadInput("models --config " + path, mentions);
  };
  bad("{\"model_type\": \"llama\", \"vocab_size\": 10", "not valid JSON");
  bad("[1, 2]", "expected a JSON object");
  bad("{\"model_type\": \"bert\"}", "field model_type: \"bert\" is not supported");
  bad("{\"vocab_size\": 100}", "field model_type: missing");
  bad(R"({"model_type": "llama", "vocab_size": 100, "num_hidden_layers": 2, "num_attention_heads": 4,
          "intermediate_size": 64})",
      "field hidden_size: missing");
  bad(R"({"model_type": "llama", "vocab_size": 100, "hidden_size": -8, "num_hidden_layers": 2,
          "num_attention_heads": 4, "intermediate_size": 64})",
      "field hidden_size: expected a positive integer");
  bad(R"({"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2,
          "num_attention_heads": 4, "num_key_value_heads": 3, "intermediate_size": 64})",
      "field num_key_value_heads: 3 does not divide");
  bad(R"({"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2,
          "num_attention_heads": 4, "intermediate_size": 64, "rope_scaling": {"rope_type": "dynamic", "factor": 2}})",
      "field rope_scaling: rope_type \"dynamic\" is not supported");
  bad(R"({"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2,
          "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "relu"})",
      "field hidden_act");
  bad(R"({"model_type": "mixtral", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2,
          "num_attention_heads": 4, "intermediate_size": 64, "num_local_experts": 2, "num_experts_per_tok": 3})",
      "field num_experts_per_tok: 3 exceeds");
  checkBadInput("models --config /nonexistent/config.json", "not a bundled model");
  checkBadInput("run --model no-such-model", "not a bundled model");
}

TEST_CASE("models/README.md embeds exactly what lpusim models prints", "[models][docs]") {
  checkEmbedsOutput("models/README.md", "models");
}

TEST_CASE("lpusim graph writes the step graph; run --graph on it predicts what run --model does", "[models][cli]") {
  const std::string path = tempPath("tiny.graph.json");
  REQUIRE(runCli("graph --model tiny-llama --context 40 -o " + path).exitCode == 0);
  const CliRun a = runCli("run --graph " + path + " --json"), b = runCli("run --model tiny-llama --context 40 --json");
  REQUIRE(a.exitCode == 0);
  REQUIRE(b.exitCode == 0);
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  CHECK(ja["predicted_cycles"] == jb["predicted_cycles"]);
  CHECK(ja["cycles"] == jb["predicted_cycles"]);
  for (const char* key : {"predicted_cycles", "cycles", "tokens_per_s", "seconds_per_token", "clock_hz", "chips",
                          "sram_bytes", "utilization", "scheduler", "wall_s"})
    CHECK(jb.contains(key));
}
