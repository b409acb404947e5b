// Bad weight files: truncated, corrupt header, unsupported dtype, wrong
// shape, missing tensor, each a one-line error naming the file and tensor.
#include <catch2/catch.hpp>

#include "isa/binary.h"
#include "isa/error.h"
#include "models/weights.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

// tiny-llama's weights with one tensor changed by `edit` (name, shape, values).
std::string writeWeights(const std::string& file,
                         const std::function<void(std::string&, std::vector<int64_t>&, std::vector<float>&)>& edit) {
  const ModelConfig m = loadModel("tiny-llama");
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  std::vector<std::vector<float>> values;
  for (const WeightSpec& s : weightSpecs(m)) {
    std::string name = s.name;
    std::vector<int64_t> shape = s.shape;
    std::vector<float> v(size_t(s.elements()), 0.01f);
    if (name == "model.layers.1.mlp.up_proj.weight") edit(name, shape, v);
    shapes.push_back({name, shape});
    values.push_back(v);
  }
  const std::string path = tempPath(file);
  writeSafetensors(path, shapes, values);
  return path;
}

std::string readAll(const std::string& p) {
  const auto b = readFileBytes(p);
  return std::string(b.begin(), b.end());
}

}  // namespace

TEST_CASE("a valid safetensors file runs: run --model tiny-llama --weights", "[models][cli]") {
  const std::string ok = writeWeights("ok.safetensors", [](auto&, auto&, auto&) {});
  const CliRun r = runCli("run --model tiny-llama --weights " + ok + " --context 8 --json");
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  CHECK(r.out.find("\"predicted_cycles\"") != std::string::npos);
}

TEST_CASE("bad input: malformed safetensors files", "[models][cli][bad-input]") {
  const std::string ok = writeWeights("base.safetensors", [](auto&, auto&, auto&) {});
  const std::string text = readAll(ok);
  auto variant = [&](const std::string& name, const std::string& bytes) {
    const std::string p = tempPath(name);
    writeFile(p, bytes);
    return p;
  };
  checkBadInput("run --model tiny-llama --weights " + variant("short.safetensors", text.substr(0, 5)),
                "truncated: no header length");
  checkBadInput("run --model tiny-llama --weights " + variant("cut.safetensors", text.substr(0, text.size() - 100)),
                "outside the");
  std::string badJson = text;
  badJson[8] = '#';  // the header's opening brace
  checkBadInput("run --model tiny-llama --weights " + variant("json.safetensors", badJson), "header is not valid JSON");
  std::string i64 = text;
  const size_t at = i64.find("\"F32\"");
  i64.replace(at, 5, "\"I64\"");
  checkBadInput("run --model tiny-llama --weights " + variant("dtype.safetensors", i64), "dtype I64 is not supported");
  const std::string shape = writeWeights("shape.safetensors", [](auto&, auto& s, auto& v) {
    s = {512, 255};
    v.resize(512 * 255);
  });
  checkBadInput("run --model tiny-llama --weights " + shape,
                "tensor model.layers.1.mlp.up_proj.weight is [512, 255], the model needs [512, 256]");
  const std::string missing = writeWeights("missing.safetensors", [](auto& n, auto&, auto&) { n = "other"; });
  checkBadInput("run --model tiny-llama --weights " + missing, "missing tensor model.layers.1.mlp.up_proj.weight");
  checkBadInput("run --model tiny-llama --weights /nonexistent.safetensors", "/nonexistent.safetensors: no such file");
}

TEST_CASE("bad input: safetensors shapes whose element count overflows 64 bits", "[models][bad-input]") {
  auto errorOf = [](const std::string& headerJson) {
    std::vector<uint8_t> b;
    for (int i = 0; i < 8; ++i) b.push_back(uint8_t(uint64_t(headerJson.size()) >> (8 * i)));
    b.insert(b.end(), headerJson.begin(), headerJson.end());
    try {
      SafetensorsFile f(b, "bad.safetensors");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // 2^32 x 2^32 elements wrapped to 0, which matched the 0 data bytes.
  CHECK(errorOf(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})") ==
        "bad.safetensors: tensor w: shape [4294967296,4294967296] has more elements than the file's 0 data bytes");
  // A dimension of 2^63 was read as a negative int64.
  CHECK(errorOf(R"({"w":{"dtype":"F16","shape":[9223372036854775808,0],"data_offsets":[0,0]}})") ==
        "bad.safetensors: tensor w: shape dimension 9223372036854775808 exceeds 2^63 - 1");
  // A number past double range threw nlohmann's out_of_range (an internal error).
  CHECK(errorOf(R"({"w":{"dtype":"F32","shape":[1e999],"data_offsets":[0,0]}})") ==
        "bad.safetensors: the header is not valid JSON (a number out of range)");
  CHECK(errorOf(R"({"w":{"dtype":"I8","shape":[1],"data_offsets":[0,0]}})") ==
        "bad.safetensors: tensor w: dtype I8 is not supported (F32, F16, BF16)");
}
