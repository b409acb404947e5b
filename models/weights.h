// Model weights by checkpoint name: seeded random (the default) or read from
// a .safetensors file (Hugging Face tensor names; header validated). A graph
// names a part of a checkpoint tensor with a NumPy-style view suffix:
// "w[:, 0:768]", "w[3, :, 1::2]", "wpe.weight[1023, :]".
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model_config.h"

namespace lpu {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // Row-major values of a checkpoint tensor as fp32; throws lpu::Error if missing.
  virtual std::vector<float> tensor(const std::string& name) const = 0;
  virtual std::vector<int64_t> shape(const std::string& name) const = 0;
};

// Uniform values: matrices in [-1, 1) / sqrt(fan-in), embeddings in [-1, 1),
// norm weights in [0.8, 1.2), biases and sinks in [-0.1, 0.1). Each tensor's
// stream is seeded from the seed and its name, so a tensor's values do not
// depend on which others are asked for.
class SeededWeights : public WeightSource {
 public:
  SeededWeights(const ModelConfig& m, uint64_t seed);
  std::vector<float> tensor(const std::string& name) const override;
  std::vector<int64_t> shape(const std::string& name) const override;

 private:
  uint64_t seed_;
  std::map<std::string, WeightSpec> specs_;
};

// A .safetensors file: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}}, then the data. F32,
// F16 and BF16 are read. Every entry is checked against the file size, and
// (with check()) against the model's weight list.
class SafetensorsFile : public WeightSource {
 public:
  explicit SafetensorsFile(const std::string& path);
  // The file's contents; `path` names it in messages.
  SafetensorsFile(std::vector<uint8_t> bytes, const std::string& path);
  std::vector<float> tensor(const std::string& name) const override;
  std::vector<int64_t> shape(const std::string& name) const override;
  // Every tensor the model needs is present with its shape.
  void check(const ModelConfig& m) const;
  std::vector<std::string> names() const;  // the tensors in the file, sorted

  struct Entry {
    std::string dtype;
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0;
  };

 private:
  std::string path_;
  std::vector<uint8_t> data_;
  std::map<std::string, Entry> entries_;
};

// Writes tensors (fp32) to a .safetensors file, e.g. for tests.
void writeSafetensors(const std::string& path, const std::vector<std::pair<std::string, std::vector<int64_t>>>& shapes,
                      const std::vector<std::vector<float>>& values);

// The values of a graph weight name, a checkpoint tensor or a view of one,
// checked against the graph's shape.
std::vector<float> viewValues(const WeightSource& w, const std::string& graphName, const std::vector<int64_t>& shape);

}  // namespace lpu
