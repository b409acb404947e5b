// Bad graph JSON: every problem is a one-line error naming the file, the op
// or tensor and what was expected, found before anything is allocated or
// compiled (no division by zero, no read past a shape, no huge allocation).
#include <fmt/format.h>
#include <sys/resource.h>
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "isa/binary.h"
#include "isa/error.h"
#include "models/build_graph.h"
#include "models/graph.h"
#include "models/model_config.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

// A graph with the given tensors and ops (JSON text of the two lists).
nlohmann::json graphOf(const std::string& tensors, const std::string& ops) {
  return nlohmann::json::parse(R"({"format": "lpusim-graph", "version": 1, "name": "g", "tensors": [)" + tensors +
                               R"(], "ops": [)" + ops + "]}");
}

// The error graphFromJson throws, or "" if the graph loads.
std::string loadError(const nlohmann::json& j) {
  try {
    graphFromJson(j, "g.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The JSON text written to a fresh temp file; returns its path.
std::string graphFile(const std::string& name, const nlohmann::json& j) {
  const std::string p = tempPath(name);
  writeFile(p, j.dump());
  return p;
}

const std::string kUnary = R"({"name": "x", "shape": [2, 8], "kind": "input"},
                              {"name": "y", "shape": [2, 8], "kind": "output"})";

}  // namespace

TEST_CASE("bad input: control characters in graph names and keys are escaped or rejected", "[graph][bad-input]") {
  CHECK(loadError(graphOf(R"({"name": "x\ny", "shape": [2], "kind": "input"})", "")) ==
        "g.json: field tensors[0]: name: \"x\\x0ay\": expected a string without control characters");
  CHECK(loadError(graphOf(kUnary, R"({"op": "Re\nlu", "inputs": ["x"], "outputs": ["y"]})")) ==
        "g.json: field ops[0]: op: \"Re\\x0alu\": expected a string without control characters");
  CHECK(loadError(graphOf(kUnary, R"({"op": "Relu", "inputs": ["x"], "outputs": ["y"], "attrs": {"a\nb": 1}})")) ==
        "g.json: op op0 (Relu): attribute a\\x0ab: Relu takes no such attribute (it takes none)");
  CHECK(loadError(graphOf(R"({"name": "x", "shape": [2], "kind": "in\tput"})", "")) ==
        "g.json: field tensors[0]: kind: \"in\\x09put\": expected a string without control characters");
  // Through the CLI: one line.
  checkBadInput("run --graph " + graphFile("nl.graph.json", graphOf(kUnary, R"({"op": "Relu", "name": "a\nb",
                "inputs": ["x"], "outputs": ["y"]})")),
                "field ops[0]: name: \"a\\x0ab\": expected a string without control characters");
}

TEST_CASE("bad input: zero heads or kv_heads in a graph's attention ops is an error, not a division by zero",
          "[graph][bad-input]") {
  // attention.graph.json's scores op with kv_heads 0: `heads % kv_heads` raised SIGFPE.
  nlohmann::json j = nlohmann::json::parse(readFileBytes(sourcePath("examples/graphs/attention.graph.json")));
  auto withAttr = [&](const char* op, const char* attr, int64_t v) {
    nlohmann::json k = j;
    for (auto& o : k["ops"])
      if (o["name"] == op) o["attrs"][attr] = v;
    return k;
  };
  CHECK(loadError(withAttr("scores", "kv_heads", 0)) ==
        "g.json: op scores (AttnScores): attribute kv_heads: 0 is not in 1..65536");
  CHECK(loadError(withAttr("scores", "heads", 0)) ==
        "g.json: op scores (AttnScores): attribute heads: 0 is not in 1..65536");
  CHECK(loadError(withAttr("mix", "kv_heads", 0)) ==
        "g.json: op mix (AttnMix): attribute kv_heads: 0 is not in 1..65536");
  CHECK(loadError(withAttr("mix", "heads", -4)) == "g.json: op mix (AttnMix): attribute heads: -4 is not in 1..65536");
  CHECK(loadError(withAttr("append_k", "kv_heads", 0)) ==
        "g.json: op append_k (KvAppend): attribute kv_heads: 0 is not in 1..65536");
  CHECK(loadError(withAttr("append_v", "head_dim", 64)) ==
        "g.json: op append_v (KvAppend): input vcache must have 128 columns, has 256");
  CHECK(loadError(withAttr("rope_q", "heads", 0)) == "g.json: op rope_q (Rope): attribute heads: 0 is not in 1..65536");
  CHECK(loadError(withAttr("rope_q", "head_dim", 1 << 20)) ==
        "g.json: op rope_q (Rope): attribute head_dim: 1048576 is not in 1..65536");
  CHECK(loadError(withAttr("scores", "heads", 3)) ==
        "g.json: op scores (AttnScores): heads must be a multiple of kv_heads");
  checkBadInput("run --graph " + graphFile("kv0.graph.json", withAttr("scores", "kv_heads", 0)),
                "op scores (AttnScores): attribute kv_heads: 0 is not in 1..65536");
  // Softmax with sinks: heads must divide the rows and give the sinks' shape.
  const std::string sm =
      R"({"name": "s", "shape": [4, 8], "kind": "input"}, {"name": "k", "shape": [2], "kind": "weight"},
                           {"name": "p", "shape": [4, 8], "kind": "output"})";
  CHECK(loadError(graphOf(sm, R"({"op": "Softmax", "inputs": ["s", "k"], "outputs": ["p"], "attrs": {"heads": 0}})")) ==
        "g.json: op op0 (Softmax): attribute heads: 0 is not in 1..65536");
  CHECK(loadError(graphOf(sm, R"({"op": "Softmax", "inputs": ["s", "k"], "outputs": ["p"], "attrs": {"heads": 4}})")) ==
        "g.json: op op0 (Softmax): sinks must be [4]");
  CHECK(loadError(graphOf(sm, R"({"op": "Softmax", "inputs": ["s", "k"], "outputs": ["p"], "attrs": {"heads": 2}})")) ==
        "");
  // MoeFFN: experts 0 made 3 + 0 x 3 inputs; top_k past the experts.
  CHECK(loadError(graphOf(kUnary, R"({"op": "MoeFFN", "inputs": ["x"], "outputs": ["y"],
                  "attrs": {"experts": 0, "top_k": 1, "transpose_w": true}})")) ==
        "g.json: op op0 (MoeFFN): attribute experts: 0 is not in 1..65536");
  CHECK(loadError(graphOf(kUnary, R"({"op": "MoeFFN", "inputs": ["x"], "outputs": ["y"],
                  "attrs": {"experts": 2, "top_k": 3, "transpose_w": true}})")) ==
        "g.json: op op0 (MoeFFN): attribute top_k: 3 is not in 1..2");
}

TEST_CASE("bad input: a Concat of mismatched ranks or dimensions is an error, not a read past a shape",
          "[graph][bad-input]") {
  // b [3] has no dimension 1: the output shape read past it.
  const std::string rank =
      R"({"name": "a", "shape": [2, 4], "kind": "input"}, {"name": "b", "shape": [3], "kind": "input"},
                             {"name": "y", "shape": [2, 7], "kind": "output"})";
  CHECK(loadError(graphOf(rank, R"({"op": "Concat", "name": "c", "inputs": ["a", "b"], "outputs": ["y"],
                  "attrs": {"axis": 1}})")) ==
        "g.json: op c (Concat): input 1 is [3] but input 0 is [2, 4]: they may differ in dimension 1 (axis) only");
  const std::string dims =
      R"({"name": "a", "shape": [2, 4], "kind": "input"}, {"name": "b", "shape": [3, 3], "kind": "input"},
                             {"name": "y", "shape": [2, 7], "kind": "output"})";
  CHECK(loadError(graphOf(dims, R"({"op": "Concat", "name": "c", "inputs": ["a", "b"], "outputs": ["y"],
                  "attrs": {"axis": 1}})")) ==
        "g.json: op c (Concat): input 1 is [3, 3] but input 0 is [2, 4]: they may differ in dimension 1 (axis) only");
  const std::string ok =
      R"({"name": "a", "shape": [2, 4], "kind": "input"}, {"name": "b", "shape": [2, 3], "kind": "input"},
                           {"name": "y", "shape": [2, 7], "kind": "output"})";
  CHECK(loadError(graphOf(ok, R"({"op": "Concat", "name": "c", "inputs": ["a", "b"], "outputs": ["y"],
                  "attrs": {"axis": 1}})")) == "");
  checkBadInput("run --graph " + graphFile("concat.graph.json", graphOf(rank, R"({"op": "Concat", "name": "c",
                "inputs": ["a", "b"], "outputs": ["y"], "attrs": {"axis": 1}})")),
                "op c (Concat): input 1 is [3] but input 0 is [2, 4]");
}

TEST_CASE("bad input: a graph field of the wrong JSON type names the field, never a json.exception",
          "[graph][bad-input]") {
  // Each escaped as "g.json: [json.exception.type_error.302] type must be ..." naming no field.
  auto top = [](const std::string& fields) {
    return nlohmann::json::parse(R"({"format": "lpusim-graph", "version": 1, )" + fields + R"(, "tensors": [)" +
                                 kUnary + R"(], "ops": [{"op": "Relu", "inputs": ["x"], "outputs": ["y"]}]})");
  };
  CHECK(loadError(top(R"("name": 5)")) == "g.json: field name: expected a string");
  CHECK(loadError(top(R"("mode": ["decode"])")) == "g.json: field mode: expected a string");
  CHECK(loadError(top(R"("tokens": "1")")) == "g.json: field tokens: expected an integer in 1..1048576, got \"1\"");
  CHECK(loadError(top(R"("tokens": 1e12)")) ==
        "g.json: field tokens: expected an integer in 1..1048576, got 1000000000000.0");
  CHECK(loadError(top(R"("context": 18446744073709551615)")) ==
        "g.json: field context: expected an integer in 0..16777216, got 18446744073709551615");
  CHECK(loadError(top(R"("batch": 0)")) == "g.json: field batch: expected an integer in 1..4096, got 0");
  CHECK(loadError(nlohmann::json::parse(R"({"format": 1, "version": 1})")) ==
        "g.json: field format: expected \"lpusim-graph\"");
  CHECK(loadError(nlohmann::json::parse(R"({"format": "lpusim-graph", "version": "1"})")) ==
        "g.json: field version: expected 1");
  CHECK(loadError(graphOf(R"({"name": "x", "shape": [2], "kind": "input", "integer": 1})", "")) ==
        "g.json: tensors[0]: field integer: expected true or false, got 1");
  CHECK(loadError(graphOf(kUnary, R"({"op": "Relu", "inputs": ["x"], "outputs": ["y"], "layer": "0"})")) ==
        "g.json: ops[0]: field layer: expected an integer in -1..1048576, got \"0\"");
  CHECK(loadError(graphOf(kUnary, R"({"op": "Relu", "name": 7, "inputs": ["x"], "outputs": ["y"]})")) ==
        "g.json: field ops[0]: name: expected a string");
  CHECK(loadError(graphOf(kUnary, R"({"op": "Relu", "inputs": ["x"], "outputs": ["y"], "attrs": []})")) ==
        "g.json: ops[0]: field attrs: expected an object");
  // An attribute past 64 bits wrapped to a negative count.
  CHECK(loadError(graphOf(
            kUnary, R"({"op": "TopK", "inputs": ["x"], "outputs": ["y"], "attrs": {"k": 18446744073709551615}})")) ==
        "g.json: op op0 (TopK): attribute k: expected a 64-bit integer, got 18446744073709551615");
  // Rope scaling fields the compiler reads with a default: a string factor threw type_error there.
  const std::string rope =
      R"({"name": "q", "shape": [1, 8], "kind": "input"}, {"name": "pos", "shape": [1], "kind": "input",
                             "integer": true}, {"name": "r", "shape": [1, 8], "kind": "output"})";
  auto ropeWith = [&](const std::string& scaling) {
    return loadError(graphOf(rope, R"({"op": "Rope", "inputs": ["q", "pos"], "outputs": ["r"],
                     "attrs": {"heads": 2, "head_dim": 4, "theta": 10000, "scaling": )" +
                                       scaling + "}}"));
  };
  CHECK(ropeWith(R"({"rope_type": "linear", "factor": "2"})") ==
        "g.json: op op0 (Rope): attribute scaling: expected a positive \"factor\"");
  CHECK(ropeWith(R"({"rope_type": "llama3", "factor": 8, "low_freq_factor": "1"})") ==
        "g.json: op op0 (Rope): attribute scaling: low_freq_factor: expected a positive number, got \"1\"");
  CHECK(ropeWith(R"({"rope_type": 3})") == "g.json: op op0 (Rope): attribute scaling: rope_type: expected a string");
  CHECK(ropeWith(R"({"rope_type": "yarn", "factor": 4, "truncate": 0})") ==
        "g.json: op op0 (Rope): attribute scaling: truncate: expected true or false");
  CHECK(ropeWith(R"({"rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 4})") ==
        "g.json: op op0 (Rope): attribute scaling: low_freq_factor must be less than high_freq_factor");
  CHECK(ropeWith(R"({"rope_type": "llama3", "factor": 8})") == "");
}

TEST_CASE("bad input: a graph too large to compile is an error before anything is allocated", "[graph][bad-input]") {
  // x [1, 1e9] @ w [1e9, 16]: the compiler allocated 5 GB of tiles and tasks
  // before failing on SRAM (bad_alloc under a 6 GB limit).
  auto matmul = [](int64_t k, int64_t n) {
    return graphOf(fmt::format(R"({{"name": "x", "shape": [1, {0}], "kind": "input"}},
                                  {{"name": "w", "shape": [{0}, {1}], "kind": "weight"}},
                                  {{"name": "y", "shape": [1, {1}], "kind": "output"}})",
                               k, n),
                   R"({"op": "MatMul", "name": "m", "inputs": ["x", "w"], "outputs": ["y"]})");
  };
  const std::string big = graphFile("big.graph.json", matmul(1000000000, 16));
  checkBadInput("run --graph " + big,
                "tensor x: [1, 1000000000] is too large: 3906250 vectors of 256 elements, at most 524288 (134217728 "
                "elements) for an input, activation or output tensor");
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);  // the largest child so far: lpusim (waited for by its shell)
  INFO("max RSS of lpusim: " << ru.ru_maxrss << " KiB");
  CHECK(ru.ru_maxrss < 256 * 1024);
  // A weight: rows rounded up to whole tiles, 65536 x 128 = 2^23 vectors > 2^22.
  CHECK(loadError(matmul(65536, 32768)) ==
        "g.json: tensor w: [65536, 32768] is too large: 8388608 vectors of 256 elements, at most 4194304 (1073741824 "
        "elements) for a weight or cache tensor");
  CHECK(loadError(matmul(16384, 65536)) == "");  // 2^22 vectors: at the bound
  // Rows of activations: the compiler's tasks grow with them (65536 took 1.7 GB).
  CHECK(loadError(graphOf(R"({"name": "x", "shape": [65536, 256], "kind": "input"},
                             {"name": "y", "shape": [65536, 256], "kind": "output"})",
                          R"({"op": "Relu", "inputs": ["x"], "outputs": ["y"]})")) ==
        "g.json: tensor x: [65536, 256] has 65536 rows, at most 32768 in a graph file");
  // Shapes whose element count overflows 64 bits.
  CHECK(loadError(graphOf(R"({"name": "x", "shape": [4294967296, 4294967296, 4294967296], "kind": "weight"})", "")) ==
        "g.json: tensor x: [4294967296, 4294967296, 4294967296] is too large: 9223372036854775807 vectors of 256 "
        "elements, at most 4194304 (1073741824 elements) for a weight or cache tensor");
  CHECK(loadError(graphOf(R"({"name": "x", "shape": [4294967296, 4294967296, 4294967296], "kind": "input"})", "")) ==
        "g.json: tensor x: [4294967296, 4294967296, 4294967296] has 9223372036854775807 rows, at most 32768 in a graph "
        "file");
  CHECK(tensorVectors({1, 257}, false) == 2);
  CHECK(tensorVectors({300, 16}, true) == 512);  // 2 tiles of 256 rows, one vector each
  CHECK(tensorVectors({2, 3, 512}, false) == 12);
  CHECK(tensorVectors({1000}, true) == 4);  // a bias or norm: one row
  // A built graph (a config at its bounds) takes the same per-weight bound.
  nlohmann::json cfg = {{"model_type", "llama"},        {"vocab_size", 1 << 20},       {"hidden_size", 65536},
                        {"num_hidden_layers", 2},       {"num_attention_heads", 1024}, {"intermediate_size", 64},
                        {"max_position_embeddings", 64}};
  CHECK_THROWS_WITH(
      buildGraph(modelFromJson(cfg, "big", "big.json"), StepRequest{}),
      "big decode, context 64: tensor model.embed_tokens.weight: [1048576, 65536] is too large: 268435456 "
      "vectors of 256 elements, at most 4194304 (1073741824 elements) for a weight or cache tensor");
}
